"""Keep file tools inside the folders the user granted.

A path argument is resolved completely before it is checked: `~` becomes the
injected home, a relative path is taken relative to the home folder (the same
folder run_command starts in, and what "Documents/a.pdf" means when said to an
assistant), `..` is folded and every symlink is followed with os.path.realpath.
Only then is it compared with the granted folders (resolved the same way), so a
`..`, a symlink that points out, an absolute path elsewhere or `~other/...` can
never slip through. A refused path is never touched.

For calls that act on a link itself (delete, move, the source of a copy) the last
component is not followed (`follow=False`): deleting a symlink must not delete
what it points to. The link itself must still lie inside a granted folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from app.errors import ToolRefused


@dataclass(frozen=True)
class _Root:
    written: str  # as the user granted it, e.g. "~/Documents"
    real: Path  # fully resolved


class Confinement:
    """The granted folders, and the one way to turn a path argument into a real path."""

    def __init__(self, home: Path, folders: Sequence[str], protected: Iterable[Path] = ()):
        self.home = Path(home)
        self._real_home = Path(os.path.realpath(self.home))
        self.folders: tuple[str, ...] = tuple(folders)
        self._roots = tuple(_Root(f, Path(os.path.realpath(self._expand(f)))) for f in self.folders)
        self._protected = tuple(Path(os.path.realpath(p)) for p in protected)

    # ------------------------------------------------------------ resolving

    def resolve(self, arg: str, *, follow: bool = True, allow_root: bool = True) -> Path:
        """The real path `arg` names, or ToolRefused when it lies outside the granted folders.

        `follow=False` keeps a final symlink as itself (delete, move); `allow_root=False`
        refuses a granted folder itself (you may not delete or move ~/Documents).
        """
        path = self._absolute(arg)
        if follow:
            real = Path(os.path.realpath(path))
        else:
            parent, name = os.path.split(str(path).rstrip(os.sep) or os.sep)
            if name in ("", ".", ".."):
                real = Path(os.path.realpath(path))
            else:
                real = Path(os.path.realpath(parent)) / name
        root = self._root_of(real)
        if root is None:
            raise ToolRefused(self._outside_message(arg, real))
        for protected in self._protected:
            if real == protected or protected in real.parents or real in protected.parents:
                raise ToolRefused(
                    f"{self.display(real)} holds Deskmate's own settings and records; the tools never change them."
                )
        if not allow_root and real == root.real:
            raise ToolRefused(
                f"{self.display(real)} is a granted folder itself; choose something inside it."
            )
        return real

    def expand(self, arg: str) -> Path:
        """`arg` made absolute and real (`~`, relative to home, links followed) WITHOUT the folder check.

        For arguments that are not file-tool targets, e.g. run_command's working folder.
        """
        return Path(os.path.realpath(self._absolute(arg)))

    def contains(self, path: Path) -> bool:
        """Whether a real (already resolved) path lies in a granted folder."""
        return self._root_of(Path(path)) is not None

    def scope(self, real: Path) -> str:
        """The granted folder (as the user wrote it) that holds `real`: the most specific one."""
        root = self._root_of(real)
        return root.written if root else ""

    def display(self, path: Path | str) -> str:
        """'~/Documents/a.pdf' for a path in the home folder, the absolute path otherwise."""
        path = Path(path)
        for home in (self.home, self._real_home):
            if path == home:
                return "~"
            if home in path.parents:
                return "~/" + path.relative_to(home).as_posix()
        return str(path)

    @property
    def roots(self) -> tuple[Path, ...]:
        """The granted folders, fully resolved."""
        return tuple(r.real for r in self._roots)

    # ------------------------------------------------------------ internals

    def _expand(self, arg: str) -> Path:
        """`~`, `~/x`, `$HOME/x` and relative paths, all against the injected home."""
        text = str(arg).strip()
        if "\0" in text:
            raise ToolRefused("That path contains a NUL character; paths cannot contain one.")
        for prefix in ("$HOME", "${HOME}"):
            if text == prefix or text.startswith(prefix + "/"):
                text = "~" + text[len(prefix):]
        if text == "~" or text.startswith("~/") or text.startswith("~" + os.sep):
            return self.home / text[2:] if len(text) > 1 else self.home
        if text.startswith("~"):
            user = text[1:].split("/", 1)[0]
            if user != self.home.name:
                raise ToolRefused(
                    f"{text} is in another user's home folder ({'~' + user}); Deskmate only works in your own (~)."
                )
            rest = text[1 + len(user):].lstrip("/")
            return self.home / rest
        path = Path(text)
        return path if path.is_absolute() else self.home / path

    def _absolute(self, arg: str) -> Path:
        if not isinstance(arg, str) or not arg.strip():
            raise ToolRefused("No path was given.")
        # No lexical folding of ".." here: realpath folds it after following links, as the OS would.
        return self._expand(arg)

    def _root_of(self, real: Path) -> _Root | None:
        best: _Root | None = None
        for root in self._roots:
            if real == root.real or root.real in real.parents:
                if best is None or len(root.real.parts) > len(best.real.parts):
                    best = root
        return best

    def _outside_message(self, arg: str, real: Path) -> str:
        if not self._roots:
            return f"{arg} was refused: no folders are granted to the file tools. Grant a folder first."
        granted = ", ".join(self.folders)
        shown = self.display(real)
        via = f" ({arg} leads to {shown})" if shown != str(arg).strip() else ""
        return (
            f"{shown} is outside the folders you granted ({granted}){via}; it was not touched. "
            "Choose a path inside them, or grant that folder first."
        )

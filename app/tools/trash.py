"""Move files to the desktop trash, and put them back (the undo of delete_path).

On Linux and other freedesktop systems the file goes to the XDG trash
(`$XDG_DATA_HOME/Trash`, or the volume's `.Trash-<uid>` for another disk) through
send2trash's own mover, which writes the `.trashinfo` record the desktop's trash
can needs for "Restore". send2trash reads XDG_DATA_HOME once at import, so the
home trash is worked out here at each call (tests and sandboxes move it). The
trashed file is then found by its `.trashinfo` record, so it can be restored.

On macOS and Windows send2trash hands the file to the system trash; it can be put
back from there ("Put Back"), and undo says so when it cannot find the file itself.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from send2trash.exceptions import TrashPermissionError

from app.errors import DeskmateError


class TrashError(DeskmateError):
    """The trash could not take or give back a file."""


@dataclass(frozen=True)
class Trashed:
    """Where a trashed file went: its file in the trash and the record beside it ('' if unknown)."""

    original: Path
    file: str
    info: str


def _freedesktop() -> bool:
    return sys.platform not in ("darwin", "win32")


def home_trash(home: Path) -> Path:
    """The user's own trash folder, as the freedesktop spec defines it (read now, not at import)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path(home) / ".local" / "share")
    return Path(data_home) / "Trash"


def trash(path: Path, home: Path) -> Trashed:
    """Move `path` (a file, folder or link) to the trash and say where it went."""
    path = Path(path)
    if not os.path.lexists(path):
        raise TrashError(f"{path} does not exist.")
    try:
        if _freedesktop():
            return _trash_freedesktop(path, home)
        from send2trash import send2trash

        send2trash(str(path))
    except TrashPermissionError as exc:
        raise TrashError(f"The trash for {path} cannot be used ({exc}); nothing was deleted.") from None
    except OSError as exc:
        raise TrashError(f"{path} could not be moved to the trash: {exc.strerror or exc}.") from None
    guess = Path(home) / ".Trash" / path.name if sys.platform == "darwin" else None
    return Trashed(path, str(guess) if guess and os.path.lexists(guess) else "", "")


def restore(item: Trashed) -> None:
    """Put a trashed file back where it was; refuse if something else is there now."""
    original = Path(item.original)
    if os.path.lexists(original):
        raise TrashError(f"{original} exists again; move it away first, then undo.")
    if not item.file or not os.path.lexists(item.file):
        raise TrashError(
            f"{original.name} is no longer where Deskmate put it in the trash (was the trash emptied?). "
            "If it is still in the trash, restore it from there."
        )
    original.parent.mkdir(parents=True, exist_ok=True)
    os.rename(item.file, original) if _same_device(Path(item.file), original.parent) else _move(Path(item.file), original)
    if item.info and os.path.exists(item.info):
        os.remove(item.info)


def _trash_freedesktop(path: Path, home: Path) -> Trashed:
    from send2trash import plat_other  # the freedesktop mover; imported late, see the module doc

    trash_dir = home_trash(home)
    data_home = trash_dir.parent
    data_home.mkdir(parents=True, exist_ok=True)
    if _same_device(path, data_home):
        top: Path = data_home
        target = trash_dir
    else:
        top = Path(os.fsdecode(plat_other.find_mount_point(os.fsencode(path.parent))))
        target = Path(os.fsdecode(plat_other.find_ext_volume_trash(os.fsencode(top))))
    plat_other.trash_move(os.fsencode(path), os.fsencode(target), os.fsencode(top))
    return _find_record(path, target, top)


def _find_record(original: Path, trash_dir: Path, top: Path) -> Trashed:
    """The newest .trashinfo in `trash_dir` that records `original`."""
    try:
        relative = os.path.relpath(original, top)
        recorded = {quote(str(original)), quote(relative)} if not relative.startswith("..") else {quote(str(original))}
    except ValueError:
        recorded = {quote(str(original))}
    best: tuple[str, Path] | None = None
    for info in (trash_dir / "info").glob("*.trashinfo"):
        fields = dict(
            line.split("=", 1) for line in info.read_text("utf-8", "replace").splitlines() if "=" in line
        )
        if fields.get("Path") in recorded or unquote(fields.get("Path", "")) == str(original):
            key = fields.get("DeletionDate", "")
            if best is None or key >= best[0]:
                best = (key, info)
    if best is None:
        return Trashed(original, "", "")
    info = best[1]
    return Trashed(original, str(trash_dir / "files" / info.name[: -len(".trashinfo")]), str(info))


def _same_device(a: Path, b: Path) -> bool:
    def device(p: Path) -> int:
        while not os.path.lexists(p) and p != p.parent:
            p = p.parent
        return os.lstat(p).st_dev

    return device(a) == device(b)


def _move(src: Path, dst: Path) -> None:
    import shutil

    shutil.move(str(src), str(dst))

"""Open a file or folder with the desktop's default application, without Qt.

The core never imports Qt, so this uses what each desktop offers: `xdg-open` on
Linux and BSD, `open` on macOS, os.startfile on Windows. The opener is started
detached (its own session, no inherited output) and not waited for: the
application it starts lives on after Deskmate's call returns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from app.errors import DeskmateError


class OpenFailed(DeskmateError):
    """The desktop has no way to open files that Deskmate can find."""


def system_opener(path: Path) -> None:
    """Open `path` with its default application."""
    if sys.platform == "win32":
        os.startfile(str(path))  # type: ignore[attr-defined]  # only exists on Windows
        return
    program = "open" if sys.platform == "darwin" else "xdg-open"
    found = shutil.which(program)
    if found is None:
        raise OpenFailed(
            f"There is no '{program}' on this system, so files cannot be opened in their default "
            "application. Install xdg-utils (Linux) or open the file yourself."
        )
    subprocess.Popen(
        [found, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def command_opener(argv: list[str]):
    """An opener that runs `argv + [path]` and waits for it (tests, or a user's chosen program)."""

    def open_with(path: Path) -> None:
        done = subprocess.run([*argv, str(path)], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or f"exit code {done.returncode}"
            raise OpenFailed(f"{argv[0]} could not open {path}: {message}")

    return open_with


def open_path(path: Path, opener=None) -> None:
    """Open `path` with `opener` (a callable taking the path), or the desktop's default."""
    (opener or system_opener)(Path(path))

"""Start at login: one small file in the place each desktop reads at login (off by default).

Linux: an XDG autostart entry (`~/.config/autostart/deskmate.desktop`); macOS: a
LaunchAgent plist; Windows: a command file in the Startup folder. The entry starts
`deskmate gui --hidden`, which opens only the tray icon. No Qt here: the General
settings page and the tests drive it directly.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

ARGS = ("gui", "--hidden")


def deskmate_command() -> list[str]:
    """How to start this very installation: its `deskmate` script, else `python -m app`."""
    script = Path(sys.executable).with_name("deskmate.exe" if sys.platform == "win32" else "deskmate")
    if script.exists():
        return [str(script)]
    found = shutil.which("deskmate")
    return [found] if found else [sys.executable, "-m", "app"]


def _desktop_exec(argv: Sequence[str]) -> str:
    """Quote for a .desktop Exec line (the spec: double quotes, backslash-escape \\ \" ` $)."""
    def quote(arg: str) -> str:
        if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
            return arg
        return '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return " ".join(quote(a).replace("%", "%%") for a in argv)


def _icon_path() -> str:
    return str(resources.files("app.gui").joinpath("assets", "deskmate.svg"))


@dataclass(frozen=True)
class Autostart:
    """The autostart entry for one platform: where it goes and what it says."""

    entry: Path
    content: str

    @classmethod
    def for_platform(cls, home: Path, env: Mapping[str, str] | None = None, platform: str | None = None,
                     command: Sequence[str] | None = None) -> "Autostart":
        env = os.environ if env is None else env
        platform = platform or sys.platform
        argv = [*(command or deskmate_command()), *ARGS]
        if platform == "darwin":
            items = "\n".join(f"    <string>{a}</string>" for a in argv)
            content = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
                '<plist version="1.0"><dict>\n'
                "  <key>Label</key><string>app.deskmate</string>\n"
                f"  <key>ProgramArguments</key><array>\n{items}\n  </array>\n"
                "  <key>RunAtLoad</key><true/>\n"
                "</dict></plist>\n"
            )
            return cls(home / "Library" / "LaunchAgents" / "app.deskmate.plist", content)
        if platform == "win32":
            appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
            line = " ".join(f'"{a}"' for a in argv)
            return cls(appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup" / "Deskmate.cmd",
                       f'@echo off\r\nstart "" {line}\r\n')
        config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        content = (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Deskmate\n"
            "Comment=On-device desktop assistant (tray icon)\n"
            f"Exec={_desktop_exec(argv)}\n"
            f"Icon={_icon_path()}\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
        )
        return cls(config_home / "autostart" / "deskmate.desktop", content)

    @property
    def enabled(self) -> bool:
        return self.entry.exists()

    def enable(self) -> None:
        self.entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.entry.with_name(self.entry.name + ".tmp")
        tmp.write_text(self.content, encoding="utf-8")
        os.replace(tmp, self.entry)

    def disable(self) -> None:
        self.entry.unlink(missing_ok=True)

    def describe(self) -> str:
        return f"Starts `{' '.join(shlex.quote(a) for a in [*deskmate_command(), *ARGS])}` from {self.entry}."

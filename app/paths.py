"""Where Deskmate keeps things. Injected everywhere so tests never touch the real home.

`AppPaths.for_user()` uses platformdirs; tests and evaluation build one over a
temporary folder. DESKMATE_HOME (a folder) moves everything at once, which is how
the packaged self-test and CI keep to a sandbox.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "deskmate"


def repo_root() -> Path | None:
    """The source checkout this package runs from, if any (None when installed)."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").exists() else None


def bundled_models() -> Path | None:
    """The read-only `models/` folder shipped inside a packaged app (PyInstaller sets
    sys.frozen and sys._MEIPASS), so an installed Deskmate finds its model without a build."""
    if not getattr(sys, "frozen", False):
        return None
    folder = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "models"
    return folder if folder.is_dir() else None


@dataclass(frozen=True)
class AppPaths:
    home: Path  # the user's home folder: what `~` means to the tools
    config: Path  # config.json: grants, remembered decisions, quick commands
    data: Path  # calendar store, audit log, undo backups
    models: Path  # built models, one folder per build name

    @classmethod
    def for_user(cls) -> "AppPaths":
        root = os.environ.get("DESKMATE_HOME")
        if root:
            return cls.under(Path(root))
        checkout = repo_root()
        models = Path(os.environ.get("DESKMATE_MODELS", "")) if os.environ.get("DESKMATE_MODELS") else (
            checkout / "models" / "built" if checkout
            else bundled_models() or Path(platformdirs.user_data_dir(APP)) / "models"
        )
        return cls(
            home=Path.home(),
            config=Path(platformdirs.user_config_dir(APP)),
            data=Path(platformdirs.user_data_dir(APP)),
            models=models,
        )

    @classmethod
    def under(cls, root: Path, home: Path | None = None) -> "AppPaths":
        """Everything inside one folder (tests, self-test); models stay shared unless set."""
        root = Path(root)
        models = Path(os.environ["DESKMATE_MODELS"]) if os.environ.get("DESKMATE_MODELS") else (
            bundled_models() or root / "models")
        return cls(home=home or root / "home", config=root / "config", data=root / "data", models=models)

    def ensure(self) -> "AppPaths":
        for p in (self.config, self.data):
            p.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def config_file(self) -> Path:
        return self.config / "config.json"

    @property
    def calendar_file(self) -> Path:
        return self.data / "calendar.ics"

    @property
    def audit_db(self) -> Path:
        return self.data / "audit.sqlite3"

    @property
    def backups(self) -> Path:
        return self.data / "backups"

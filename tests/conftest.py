"""Test-wide isolation: no test sees the real home, config, calendar or keyring.

Area fixtures live in tests/fixtures/<area>.py, each owned by one part of the code.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = [
    "tests.fixtures.models",
    "tests.fixtures.core",
    "tests.fixtures.gui",
]

FIXED_NOW = datetime(2026, 11, 26, 9, 15)  # a Thursday


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point HOME, XDG folders and the keyring at a throwaway folder for every test."""
    root = tmp_path_factory.mktemp("env")
    home = root / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_RUNTIME_DIR", "run")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(home / sub))
    # A real, file-backed keyring backend (keyrings.alt), inside the throwaway home.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")


@pytest.fixture
def fixed_now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def app_paths(tmp_path: Path):
    """AppPaths over a temporary folder, with a home folder that has the usual subfolders."""
    from app.paths import AppPaths

    paths = AppPaths.under(tmp_path / "deskmate", home=tmp_path / "home").ensure()
    for sub in ("Documents", "Downloads", "Desktop"):
        (paths.home / sub).mkdir(parents=True, exist_ok=True)
    return paths

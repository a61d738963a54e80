"""`deskmate screenshots` renders the real widgets into PNGs (offscreen)."""

from __future__ import annotations

from PySide6.QtGui import QImage

from app.cli import main
from app.gui.screenshots import SIZE


def test_screenshots_command_writes_every_view(qapp, tmp_path):
    out = tmp_path / "shots"
    assert main(["screenshots", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == ["activity.png", "general.png", "main-window.png", "permissions.png", "tray-menu.png"]
    window = QImage(str(out / "main-window.png"))
    assert (window.width(), window.height()) == SIZE
    menu = QImage(str(out / "tray-menu.png"))
    assert 0 < menu.width() < SIZE[0] and menu.height() > 100  # the menu alone, all its entries
    # Not blank: a screenshot of real widgets has many colours.
    colours = {window.pixel(x, y) for x in range(0, window.width(), 13) for y in range(0, window.height(), 13)}
    assert len(colours) > 20

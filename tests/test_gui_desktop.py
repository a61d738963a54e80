"""Desktop integration without a desktop: icons, autostart entries, the shortcut note, the Ask window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from app.gui import icons
from app.gui.ask_popup import AskPopup
from app.gui.autostart import Autostart
from app.gui.shortcut import ASK_COMMAND, support

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("size", icons.PNG_SIZES)
def test_icon_renders_sharp_at_every_size(qapp, size):
    """The rendered icon fills its square: opaque brand colour in the middle, transparent corners."""
    image = icons.render(icons.IconState.NORMAL, size)
    assert (image.width(), image.height()) == (size, size)
    assert image.pixelColor(0, 0).alpha() == 0
    assert image.pixelColor(size // 5, size // 5).alpha() == 255
    assert not icons.icon().isNull()


def test_repository_assets_are_renders_of_the_packaged_svg(qapp):
    """assets/ (for installers) holds the same SVG as the package and a PNG per size made from it."""
    packaged = icons.svg_bytes()
    assert (REPO / "assets" / "deskmate.svg").read_bytes() == packaged
    for size in icons.PNG_SIZES:
        png = QImage(str(REPO / "assets" / f"deskmate-{size}.png"))
        assert (png.width(), png.height()) == (size, size)
        assert png.convertToFormat(QImage.Format.Format_ARGB32) == icons.render(icons.IconState.NORMAL, size).convertToFormat(QImage.Format.Format_ARGB32)


def test_xdg_autostart_entry_is_off_by_default_and_reversible(tmp_path):
    home = tmp_path / "home"
    entry = Autostart.for_platform(home, env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")}, platform="linux",
                                   command=["/opt/Deskmate App/bin/deskmate"])
    assert entry.entry == tmp_path / "cfg" / "autostart" / "deskmate.desktop"
    assert not entry.enabled
    entry.enable()
    text = entry.entry.read_text()
    assert text.startswith("[Desktop Entry]\nType=Application\n")
    assert 'Exec="/opt/Deskmate App/bin/deskmate" gui --hidden\n' in text
    assert entry.enabled
    entry.disable()
    assert not entry.entry.exists() and not entry.enabled


def test_autostart_on_macos_and_windows(tmp_path):
    mac = Autostart.for_platform(tmp_path, env={}, platform="darwin", command=["/usr/local/bin/deskmate"])
    assert mac.entry == tmp_path / "Library" / "LaunchAgents" / "app.deskmate.plist"
    assert "<string>/usr/local/bin/deskmate</string>" in mac.content and "<string>--hidden</string>" in mac.content
    win = Autostart.for_platform(tmp_path, env={"APPDATA": str(tmp_path / "roaming")}, platform="win32",
                                 command=[r"C:\Deskmate\deskmate.exe"])
    assert win.entry.parent == tmp_path / "roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
    assert r'"C:\Deskmate\deskmate.exe" "gui" "--hidden"' in win.content


def test_shortcut_note_explains_wayland_and_offers_the_command():
    note = support(env={"WAYLAND_DISPLAY": "wayland-0", "XDG_CURRENT_DESKTOP": "GNOME"}, platform="linux")
    assert not note.available
    assert "Wayland" in note.note and ASK_COMMAND in note.note and "Custom Shortcuts" in note.note
    x11 = support(env={"DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "KDE"}, platform="linux")
    assert not x11.available and "System Settings" in x11.note and ASK_COMMAND in x11.note
    assert support(env={}, platform="win32").available


def test_ask_popup_hands_over_the_request_and_closes(qtbot):
    popup = AskPopup()
    qtbot.addWidget(popup)
    popup.popup()
    qtbot.waitExposed(popup)
    assert popup.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    qtbot.keyClicks(popup.line, "what's on today?")
    with qtbot.waitSignal(popup.asked) as blocker:
        qtbot.keyClick(popup.line, Qt.Key.Key_Return)
    assert blocker.args == ["what's on today?"]
    assert not popup.isVisible()
    popup.popup()
    qtbot.keyClick(popup.line, Qt.Key.Key_Escape)
    assert not popup.isVisible()

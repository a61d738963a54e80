"""The global "Ask…" shortcut: where the platform lets an app own one, and what to do where not.

Qt has no system-wide hotkeys. Windows lets any app register one (RegisterHotKey),
so Deskmate does that there. X11 needs a key grab on the display connection and
Wayland forbids it by design, macOS needs accessibility permission; on those the
desktop's own "custom shortcut" setting is the reliable way: bind it to
`deskmate ask-popup`, which opens the small Ask window of the running app.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Mapping

from PySide6.QtCore import QAbstractNativeEventFilter, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence

ASK_COMMAND = "deskmate ask-popup"


@dataclass(frozen=True)
class ShortcutSupport:
    """Whether Deskmate itself can own the shortcut here, and what the settings page says."""

    available: bool
    note: str


def desktop_name(env: Mapping[str, str]) -> str:
    return env.get("XDG_CURRENT_DESKTOP", "") or env.get("DESKTOP_SESSION", "")


def support(env: Mapping[str, str] | None = None, platform: str | None = None) -> ShortcutSupport:
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if platform == "win32":
        return ShortcutSupport(True, "Deskmate registers this shortcut with Windows while it runs.")
    how = "It opens the Ask window of the running Deskmate (and starts Deskmate first if needed)."
    if platform == "darwin":
        return ShortcutSupport(False, "macOS does not let Deskmate own a global shortcut without accessibility access. "
                               f"Make one in Shortcuts.app that runs the shell command `{ASK_COMMAND}` "
                               f"and give it a key in System Settings › Keyboard. {how}")
    desktop = desktop_name(env)
    where = {
        "GNOME": "Settings › Keyboard › Keyboard Shortcuts › Custom Shortcuts",
        "KDE": "System Settings › Shortcuts › Custom Shortcuts",
        "XFCE": "Settings › Keyboard › Application Shortcuts",
        "Cinnamon": "System Settings › Keyboard › Shortcuts › Custom Shortcuts",
        "MATE": "Control Center › Keyboard Shortcuts",
    }
    place = next((path for name, path in where.items() if name.lower() in desktop.lower()), "your desktop's keyboard settings")
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        why = "Global shortcuts are not available to apps under Wayland: the desktop owns the keyboard."
    else:
        why = "Qt offers no global shortcuts on Linux desktops, so Deskmate cannot grab one itself."
    return ShortcutSupport(False, f"{why}\n\nAdd a custom shortcut in {place} that runs the command "
                                  f"`{ASK_COMMAND}`, with the key above. {how}")


class WindowsHotkey(QObject, QAbstractNativeEventFilter):
    """A system-wide hotkey on Windows (RegisterHotKey + WM_HOTKEY through Qt's native event filter).

    Signals: triggered() when the user presses the shortcut anywhere.
    """

    triggered = Signal()
    WM_HOTKEY = 0x0312
    HOTKEY_ID = 0xD35C

    def __init__(self):
        QObject.__init__(self)
        QAbstractNativeEventFilter.__init__(self)
        self.registered = False

    def register(self, sequence: str) -> str | None:
        """Register `sequence`; return None, or why it could not be registered."""
        import ctypes

        self.unregister()
        combo = QKeySequence(sequence)
        if combo.isEmpty():
            return f"{sequence!r} is not a key combination."
        key = combo[0].key()
        mods = combo[0].keyboardModifiers()
        vk = _virtual_key(key)
        if vk is None:
            return f"{sequence!r} uses a key Windows shortcuts cannot use; pick a letter, digit, F-key or Space."
        flags = 0x4000  # MOD_NOREPEAT
        for qt_mod, win_mod in ((Qt.KeyboardModifier.AltModifier, 0x1), (Qt.KeyboardModifier.ControlModifier, 0x2),
                                (Qt.KeyboardModifier.ShiftModifier, 0x4), (Qt.KeyboardModifier.MetaModifier, 0x8)):
            if mods & qt_mod:
                flags |= win_mod
        if not ctypes.windll.user32.RegisterHotKey(None, self.HOTKEY_ID, flags, vk):
            return f"{sequence} is already used by another program; choose another."
        self.registered = True
        return None

    def unregister(self) -> None:
        if self.registered:
            import ctypes

            ctypes.windll.user32.UnregisterHotKey(None, self.HOTKEY_ID)
            self.registered = False

    def nativeEventFilter(self, event_type, message):  # noqa: N802 (Qt override)
        if event_type == b"windows_generic_MSG" and self.registered:
            import ctypes.wintypes

            msg = ctypes.wintypes.MSG.from_address(int(message))
            if msg.message == self.WM_HOTKEY and msg.wParam == self.HOTKEY_ID:
                self.triggered.emit()
                return True, 0
        return False, 0


def _virtual_key(key: int) -> int | None:
    if Qt.Key.Key_A.value <= key <= Qt.Key.Key_Z.value or Qt.Key.Key_0.value <= key <= Qt.Key.Key_9.value:
        return key  # Windows VK codes for letters and digits are their ASCII codes
    if Qt.Key.Key_F1.value <= key <= Qt.Key.Key_F12.value:
        return 0x70 + key - Qt.Key.Key_F1.value
    return {Qt.Key.Key_Space.value: 0x20}.get(key)

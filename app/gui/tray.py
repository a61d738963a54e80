"""The tray icon and its menu: quick commands, Ask…, Pause all tools, Open Deskmate, Quit.

A view: it emits what the user picked and shows the state it is told (paused, a
call waiting). Where the desktop has no tray, the menu still exists (tests and
screenshots use it) and the window simply stays the way in.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.gui.icons import IconState, icon


class Tray(QObject):
    """Signals: quick_command(str), ask(), pause_toggled(bool), open_window(), quit(), message_clicked()."""

    quick_command = Signal(str)
    ask = Signal()
    pause_toggled = Signal(bool)
    open_window = Signal()
    quit = Signal()
    message_clicked = Signal()

    def __init__(self, quick_commands: Sequence[str], parent: QObject | None = None):
        super().__init__(parent)
        self._icons = {state: icon(state) for state in IconState}
        self._paused = self._waiting = False
        self.icon = QSystemTrayIcon(self._icons[IconState.NORMAL], self)
        self.icon.setToolTip("Deskmate")
        self.menu = QMenu()
        self.menu.setTitle("Deskmate")
        self.quick_actions: list[QAction] = []
        self._quick_end = self.menu.addSeparator()
        self.ask_action = self.menu.addAction("Ask…", self.ask.emit)
        self.pause_action = self.menu.addAction("Pause all tools")
        self.pause_action.setCheckable(True)
        self.pause_action.toggled.connect(self.pause_toggled.emit)
        self.menu.addSeparator()
        self.open_action = self.menu.addAction("Open Deskmate", self.open_window.emit)
        self.quit_action = self.menu.addAction("Quit", self.quit.emit)
        self.set_quick_commands(quick_commands)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self.message_clicked.emit)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> bool:
        """Show the icon; False when the desktop has no tray."""
        if not self.available():
            return False
        self.icon.show()
        return True

    def hide(self) -> None:
        self.icon.hide()

    def set_quick_commands(self, commands: Sequence[str]) -> None:
        for action in self.quick_actions:
            self.menu.removeAction(action)
            action.deleteLater()
        self.quick_actions = []
        for text in commands:
            action = QAction(text, self.menu)
            action.triggered.connect(lambda _checked=False, t=text: self.quick_command.emit(t))
            self.menu.insertAction(self._quick_end, action)
            self.quick_actions.append(action)
        self._quick_end.setVisible(bool(commands))

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        if self.pause_action.isChecked() != paused:
            self.pause_action.blockSignals(True)
            self.pause_action.setChecked(paused)
            self.pause_action.blockSignals(False)
        self._refresh()

    def set_waiting(self, waiting: bool) -> None:
        self._waiting = waiting
        self._refresh()

    def _refresh(self) -> None:
        state = IconState.WAITING if self._waiting else IconState.PAUSED if self._paused else IconState.NORMAL
        self.icon.setIcon(self._icons[state])
        self.icon.setToolTip({IconState.WAITING: "Deskmate: a call waits for your answer",
                              IconState.PAUSED: "Deskmate: all tools paused",
                              IconState.NORMAL: "Deskmate"}[state])

    def notify(self, title: str, text: str) -> None:
        if self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, text, self._icons[IconState.WAITING], 15000)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_window.emit()

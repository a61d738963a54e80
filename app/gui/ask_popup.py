"""The small always-on-top "Ask Deskmate" window (tray's Ask…, the global shortcut).

It only collects the request: Enter hands it over (`asked`) and closes, the
answer and any approval card appear in the main window. Esc closes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from app.gui import icons, style


class AskPopup(QWidget):
    """Signals: asked(str)."""

    asked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Dialog | Qt.WindowType.WindowStaysOnTopHint)
        self.setWindowTitle("Ask Deskmate")
        self.setWindowIcon(icons.icon())
        title = QLabel("Ask Deskmate")
        title.setFont(style.scaled(self.font(), 1.2, bold=True))
        self.line = QLineEdit()
        self.line.setPlaceholderText("e.g. What's on my calendar tomorrow?")
        self.line.setAccessibleName("Request")
        self.line.returnPressed.connect(self._ask)
        hint = QLabel("Enter to ask · Esc to close · the answer opens in the Deskmate window")
        hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.line)
        layout.addWidget(hint)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)

    def popup(self) -> None:
        """Show in the middle of the screen, above other windows, with the keyboard on the line."""
        self.line.clear()
        self.adjustSize()
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.move(area.center().x() - self.width() // 2, area.top() + area.height() // 4)
        self.show()
        self.raise_()
        self.activateWindow()
        self.line.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def _ask(self) -> None:
        text = self.line.text().strip()
        if text:
            self.hide()
            self.asked.emit(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            return
        super().keyPressEvent(event)

"""The main window: the chat and the settings pages as tabs, and a status bar.

A view: it shows what the controller tells it (model state, speed, memory, pause)
and reports what the user did. Closing it hides it when a tray icon keeps the app
reachable; otherwise it asks the controller to quit.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar, QTabWidget, QToolButton, QWidget

from app.gui import icons
from app.gui.chat import ChatView


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class MainWindow(QMainWindow):
    """Signals: hidden_to_tray() the window closed but the app stays; quit_requested(); resume_requested();
    new_conversation()."""

    hidden_to_tray = Signal()
    new_conversation = Signal()
    quit_requested = Signal()
    resume_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Deskmate")
        self.setWindowIcon(icons.icon())
        self.keep_in_tray = False  # set by the controller when a tray icon is shown
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.chat = ChatView()
        self.tabs.addTab(self.chat, "&Chat")
        self.setCentralWidget(self.tabs)

        bar = self.statusBar()
        self.model_label = QLabel("Model: not loaded")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(self.fontMetrics().averageCharWidth() * 24)
        self.progress.hide()
        self.speed_label = QLabel("")
        self.memory_label = QLabel("")
        self.paused_button = QToolButton()
        self.paused_button.setText("Tools paused · Resume")
        self.paused_button.setToolTip("All tools are paused: nothing runs. Click to resume.")
        self.paused_button.setAutoRaise(True)
        self.paused_button.clicked.connect(self.resume_requested)
        self.paused_button.hide()
        bar.addWidget(self.model_label)
        bar.addWidget(self.progress)
        bar.addPermanentWidget(self.paused_button)
        bar.addPermanentWidget(self.speed_label)
        bar.addPermanentWidget(self.memory_label)

        # Alt+1..9 jump to a tab; Ctrl+L to the request line; Ctrl+N starts over; Ctrl+Q quits.
        for i in range(9):
            action = QAction(self)
            action.setShortcut(QKeySequence(f"Alt+{i + 1}"))
            action.triggered.connect(lambda _c=False, i=i: self.show_tab(i))
            self.addAction(action)
        focus = QAction(self)
        focus.setShortcut(QKeySequence("Ctrl+L"))
        focus.triggered.connect(self.focus_input)
        self.addAction(focus)
        fresh = QAction(self)
        fresh.setShortcut(QKeySequence(QKeySequence.StandardKey.New))
        fresh.triggered.connect(self.new_conversation)
        self.addAction(fresh)
        quit_action = QAction(self)
        quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.quit_requested)
        self.addAction(quit_action)
        self.resize(self.fontMetrics().averageCharWidth() * 110, self.fontMetrics().lineSpacing() * 38)

    def add_page(self, page: QWidget, title: str) -> int:
        return self.tabs.addTab(page, title)

    def show_tab(self, index: int) -> None:
        if 0 <= index < self.tabs.count():
            self.tabs.setCurrentIndex(index)
            self.tabs.currentWidget().setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_input(self) -> None:
        self.tabs.setCurrentWidget(self.chat)
        self.chat.input.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def bring_up(self) -> None:
        """Show, un-minimize and raise the window."""
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()

    # --- status bar -------------------------------------------------------------

    def set_model_status(self, text: str, fraction: float | None = None) -> None:
        """`fraction` in 0..1 shows the progress bar (building, loading); None hides it."""
        self.model_label.setText(text)
        if fraction is None:
            self.progress.hide()
        else:
            self.progress.setValue(round(100 * max(0.0, min(1.0, fraction))))
            self.progress.show()

    def set_speed(self, tokens_per_s: float | None) -> None:
        self.speed_label.setText("" if tokens_per_s is None else f"{tokens_per_s:.1f} tokens/s")

    def set_memory(self, rss_bytes: int) -> None:
        self.memory_label.setText(f"Memory: {format_bytes(rss_bytes)}")

    def set_paused(self, paused: bool) -> None:
        self.paused_button.setVisible(paused)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        event.ignore()
        if self.keep_in_tray:
            self.hide()
            self.hidden_to_tray.emit()
        else:
            self.quit_requested.emit()

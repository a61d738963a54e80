"""The conversation: the user's requests, streamed answers, approval cards, and an input line.

A view only: it shows what it is given and emits what the user asked for
(`submitted`, `stop_requested`); the controller runs the turn.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)



def _text_label(text: str, kind: type[QLabel] = QLabel) -> QLabel:
    label = kind(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return label


class WrapLabel(QLabel):
    """A word-wrapped label as wide as its longest line (up to its maximum width), never clipped."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        metrics = self.fontMetrics()
        natural = max((metrics.horizontalAdvance(line) for line in self.text().splitlines()), default=0)
        width = min(natural + 2 * self.margin() + 2, self.maximumWidth())
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(min(self.sizeHint().width(), self.fontMetrics().averageCharWidth() * 10), self.sizeHint().height())


class Bubble(QFrame):
    """One message; the assistant's grows as text streams in."""

    def __init__(self, text: str, user: bool):
        super().__init__()
        self.setObjectName("bubble-user" if user else "bubble-assistant")
        self.label = _text_label(text, WrapLabel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label)
        self.setAccessibleName("You said" if user else "Deskmate said")

    def text(self) -> str:
        return self.label.text()

    def append(self, delta: str) -> None:
        self.set_text(self.label.text() + delta)

    def set_text(self, text: str) -> None:
        self.label.setText(text)
        self.label.updateGeometry()

    def set_max_width(self, width: int) -> None:
        margins = self.layout().contentsMargins()
        self.label.setMaximumWidth(max(1, width - margins.left() - margins.right()))


class InputLine(QLineEdit):
    """The request line: Enter sends, Esc stops a running turn."""

    escape = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            self.escape.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class ChatView(QWidget):
    """Signals: submitted(str) a request to run; stop_requested() the Stop button or Esc in the input."""

    submitted = Signal(str)
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.column = QWidget()
        self.items = QVBoxLayout(self.column)
        self.items.addStretch(1)
        self.scroll.setWidget(self.column)
        self.scroll.viewport().installEventFilter(self)
        self.answer: Bubble | None = None
        self.bubbles: list[Bubble] = []

        self.input = InputLine()
        self.input.setPlaceholderText("Ask Deskmate… (Enter to send)")
        self.input.setAccessibleName("Request")
        self.input.returnPressed.connect(self._send)
        self.input.escape.connect(self.stop_requested)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self._send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the answer and deny anything still waiting (Esc in the request line)")
        self.input.setToolTip("Enter sends · Esc stops · Ctrl+N starts a new conversation")
        self.stop_button.clicked.connect(self.stop_requested)
        self.stop_button.setEnabled(False)

        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.send_button)
        row.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(row)
        self.setFocusProxy(self.input)

    def _bubble_width(self) -> int:
        return max(self.fontMetrics().averageCharWidth() * 20, int(self.scroll.viewport().width() * 0.8))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.scroll.viewport() and event.type() == QEvent.Type.Resize:
            width = self._bubble_width()
            for bubble in self.bubbles:
                bubble.set_max_width(width)
        return super().eventFilter(watched, event)

    # --- input --------------------------------------------------------------

    def _send(self) -> None:
        text = self.input.text().strip()
        if text and self.send_button.isEnabled():
            self.input.clear()
            self.submitted.emit(text)

    def set_busy(self, busy: bool) -> None:
        """While a turn runs: Send is off (one turn at a time), Stop is on."""
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)

    # --- conversation ---------------------------------------------------------

    def _add(self, widget: QWidget, align: Qt.AlignmentFlag | None = None) -> QWidget:
        """Append to the conversation, shown at once (so a new card can take the keyboard focus)."""
        if align is None:
            self.items.insertWidget(self.items.count() - 1, widget)
        else:  # a bubble: as wide as its text, at most 80% of the view, on its side
            widget.set_max_width(self._bubble_width())
            self.bubbles.append(widget)
            self.items.insertWidget(self.items.count() - 1, widget, 0, align)
        if self.isVisible():
            widget.show()  # a layout would only show it on the next event-loop pass
        self.scroll_to_end()
        return widget

    def add_user(self, text: str) -> Bubble:
        self.answer = None
        return self._add(Bubble(text, user=True), Qt.AlignmentFlag.AlignRight)

    def append_answer(self, delta: str) -> Bubble:
        """Stream a piece of the answer into the current answer bubble (made on first use)."""
        if self.answer is None:
            self.answer = self._add(Bubble("", user=False), Qt.AlignmentFlag.AlignLeft)
        self.answer.append(delta)
        self.scroll_to_end()
        return self.answer

    def finish_answer(self, text: str) -> Bubble | None:
        """The whole answer: replaces what streamed (the core's final text wins)."""
        if not text.strip() and self.answer is None:
            return None
        bubble = self.append_answer("") if self.answer is None else self.answer
        bubble.set_text(text)
        self.answer = None
        return bubble

    def add_card(self, card: QWidget) -> QWidget:
        self.answer = None  # text after a card starts a new bubble
        return self._add(card)

    def add_notice(self, text: str, error: bool = False) -> QLabel:
        label = _text_label(text)
        if error:
            label.setObjectName("error")
        else:
            label.setEnabled(False)  # greyed: a note about the conversation, not part of it
        self.answer = None
        return self._add(label)

    def clear(self) -> None:
        """Remove every message and card (a new conversation)."""
        while self.items.count() > 1:  # keep the stretch at the end
            item = self.items.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.bubbles.clear()
        self.answer = None

    def scroll_to_end(self) -> None:
        bar = self.scroll.verticalScrollBar()
        QTimer.singleShot(0, lambda: bar.setValue(bar.maximum()))

    def reveal(self, widget: QWidget) -> None:
        self.scroll.ensureWidgetVisible(widget)

"""Look and feel: follow the system's light or dark palette, never fix pixel font sizes.

The style sheet only uses palette roles (so a dark system gives a dark app) and a few
accent colours chosen to read on both; sizes are relative to the user's font.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from app.calls import Risk

# Badge colours: white text on these reads on light and dark windows alike.
RISK_COLOURS = {
    Risk.READ: "#2e7d32",
    Risk.WRITE: "#1565c0",
    Risk.DESTRUCTIVE: "#c62828",
    Risk.EXECUTE: "#6a1b9a",
}
RISK_LABELS = {
    Risk.READ: "reads",
    Risk.WRITE: "changes",
    Risk.DESTRUCTIVE: "removes",
    Risk.EXECUTE: "runs code",
}

STYLE_SHEET = """
QFrame#card, QFrame#bubble-assistant, QFrame#notice {
    background: palette(base);
    border: 1px solid palette(mid);
    border-radius: 8px;
}
QFrame#card[pending="true"] { border: 2px solid palette(highlight); }
QFrame#bubble-user {
    background: palette(highlight);
    border-radius: 8px;
}
QFrame#bubble-user QLabel { color: palette(highlighted-text); }
QLabel#badge { color: white; border-radius: 4px; padding: 1px 6px; }
QPushButton#primary {
    background: palette(highlight);
    color: palette(highlighted-text);
    border: 1px solid palette(dark);
    border-radius: 4px;
    padding: 3px 14px;
}
QPushButton#primary:focus { border: 2px solid palette(text); }
QPushButton#primary:disabled { background: palette(button); color: palette(mid); }
QLabel#error { color: #d32f2f; }
QPlainTextEdit#preview, QPlainTextEdit#result { background: palette(alternate-base); }
"""


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the window background is dark (the system's colour scheme when Qt knows it)."""
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hints is not None else Qt.ColorScheme.Unknown
    if scheme != Qt.ColorScheme.Unknown:
        return scheme == Qt.ColorScheme.Dark
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def apply(app: QApplication) -> None:
    """Install the style sheet; re-polish when the system switches between light and dark."""
    app.setStyleSheet(STYLE_SHEET)
    hints = app.styleHints()
    if hints is not None:
        hints.colorSchemeChanged.connect(lambda _scheme: app.setStyleSheet(STYLE_SHEET))


def scaled(font: QFont, factor: float, bold: bool = False) -> QFont:
    """The user's font scaled by `factor`: headings grow with the system text size."""
    result = QFont(font)
    if result.pointSizeF() > 0:
        result.setPointSizeF(result.pointSizeF() * factor)
    else:  # a pixel-sized font from the platform: scale that instead
        result.setPixelSize(max(1, round(result.pixelSize() * factor)))
    result.setBold(bold)
    return result


def monospace(font: QFont) -> QFont:
    """A fixed-pitch font at the user's text size, for commands, diffs and paths."""
    mono = QFont(font)
    mono.setFamilies(["monospace", "DejaVu Sans Mono", "Menlo", "Consolas"])
    mono.setStyleHint(QFont.StyleHint.Monospace)
    mono.setFixedPitch(True)
    return mono


def diff_colours(dark: bool) -> tuple[QColor, QColor]:
    """Backgrounds for added and removed lines in a diff preview."""
    if dark:
        return QColor("#1b4d2b"), QColor("#5c1f1f")
    return QColor("#dcfce7"), QColor("#fee2e2")


def set_risk_badge(label: QWidget, risk: Risk) -> None:
    label.setObjectName("badge")
    label.setStyleSheet(f"background: {RISK_COLOURS[risk]};")



def mark_error(label: QWidget, error: bool) -> None:
    """Show a status line in the error colour (or not), re-polishing it for the style sheet."""
    label.setObjectName("error" if error else "")
    label.style().unpolish(label)
    label.style().polish(label)

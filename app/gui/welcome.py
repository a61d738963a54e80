"""First run: what Deskmate does, what it may touch (grants), and building the model if it is missing.

A view: it reports the groups the user chose (`grants_chosen`) and asks for a
build (`build_requested`); the controller does both and reports progress back.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.gui import icons, style
from app.gui.permissions import GROUP_NOTES
from app.policy.config import GROUPS

INTRO = (
    "Deskmate runs a small language model on this computer: nothing you type leaves it.\n\n"
    "When you ask for something, the assistant proposes a tool call — create an event, move a file, "
    "run a command. You see exactly what it would do on a card in the conversation, and nothing runs "
    "until you approve it. You can edit the call, deny it with a reason, or let calls like it run "
    "without asking (never for deleting, stopping processes or running commands)."
)


class WelcomeDialog(QDialog):
    """Signals: grants_chosen(list) when the user starts; build_requested()."""

    grants_chosen = Signal(list)
    build_requested = Signal()

    def __init__(self, groups: Sequence[str], folders: Sequence[str], model_ready: bool,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Welcome to Deskmate")
        self.setWindowIcon(icons.icon())
        layout = QVBoxLayout(self)
        title = QLabel("Welcome to Deskmate")
        title.setFont(style.scaled(self.font(), 1.5, bold=True))
        layout.addWidget(title)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        grants = QGroupBox("What the assistant may use (change it any time in Permissions)")
        grants_layout = QVBoxLayout(grants)
        self.checks: dict[str, QCheckBox] = {}
        for group in GROUPS:
            check = QCheckBox(f"{group.capitalize()} — {GROUP_NOTES[group]}")
            check.setChecked(group in groups)
            self.checks[group] = check
            grants_layout.addWidget(check)
        folders_label = QLabel("File tools may use: " + (", ".join(folders) if folders else "no folder yet"))
        folders_label.setWordWrap(True)
        folders_label.setEnabled(False)
        grants_layout.addWidget(folders_label)
        layout.addWidget(grants)

        model = QGroupBox("The model")
        model_layout = QVBoxLayout(model)
        row = QHBoxLayout()
        self.model_status = QLabel()
        self.model_status.setWordWrap(True)
        row.addWidget(self.model_status, 1)
        self.build_button = QPushButton("&Build the model")
        self.build_button.setToolTip("Downloads nothing: builds from the installed base package (a few minutes, once)")
        self.build_button.clicked.connect(self.build_requested)
        row.addWidget(self.build_button)
        model_layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        model_layout.addWidget(self.progress)
        layout.addWidget(model)

        buttons = QDialogButtonBox()
        self.start_button = buttons.addButton("&Start using Deskmate", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.accepted.connect(lambda: self.grants_chosen.emit(self.chosen_groups()))
        self.set_model_ready(model_ready)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)

    def chosen_groups(self) -> list[str]:
        return [g for g in GROUPS if self.checks[g].isChecked()]

    def show_building(self) -> None:
        """The build has started (by itself on first run, or from the button after a failure)."""
        self.build_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        self.model_status.setText("Building the model (a few minutes, once); you can choose the grants meanwhile…")

    def set_model_ready(self, ready: bool, text: str | None = None) -> None:
        self.build_button.setVisible(not ready)
        self.build_button.setEnabled(not ready)
        if ready:
            self.progress.hide()
        self.model_status.setText(text or ("The model is built and ready." if ready else
                                           "The model is not built yet. Build it now (a few minutes, once); "
                                           "you can start using the settings meanwhile."))

    def set_progress(self, message: str, fraction: float) -> None:
        self.progress.show()
        self.progress.setValue(round(100 * max(0.0, min(1.0, fraction))))
        self.model_status.setText(message)

    def build_failed(self, message: str) -> None:
        self.progress.hide()
        self.build_button.setEnabled(True)
        self.model_status.setText(f"The build failed: {message}")
        self.model_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

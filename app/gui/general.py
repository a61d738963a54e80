"""Settings › General: start at login, the Ask shortcut, quick commands, approval timeout, the model.

Changes are saved to the config at once; the controller listens for the ones that
other parts of the app show (quick commands in the tray, the shortcut).
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.gui import style
from app.gui.autostart import Autostart
from app.gui.card import readonly_text
from app.gui.shortcut import ASK_COMMAND, ShortcutSupport

EDITABLE = Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled


def manifest_text(model_dir: Path | None) -> str:
    """The model's manifest, pretty-printed, or why there is none."""
    if model_dir is None:
        return "No model is built yet: build it from the welcome screen or with `deskmate model build`."
    path = Path(model_dir) / "manifest.json"
    try:
        return json.dumps(json.loads(path.read_text("utf-8")), indent=2, ensure_ascii=False)
    except FileNotFoundError:
        return f"No model built at {model_dir} yet. Build it from the welcome screen or with `deskmate model build`."
    except (OSError, ValueError) as exc:
        return f"The manifest {path} could not be read ({exc}). Rebuild with `deskmate model build --force`."


class GeneralPage(QScrollArea):
    """Signals: quick_commands_changed(list); shortcut_changed(str)."""

    quick_commands_changed = Signal(list)
    shortcut_changed = Signal(str)

    def __init__(self, session, autostart: Autostart, shortcut: ShortcutSupport, model_dir: Path | None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.autostart = autostart
        self.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        config = session.config.config

        start_box = QGroupBox("Start")
        start_layout = QFormLayout(start_box)
        self.autostart_check = QCheckBox("Start Deskmate in the tray when I log in")
        self.autostart_check.setChecked(autostart.enabled)
        self.autostart_check.setToolTip(f"Adds {autostart.entry}")
        self.autostart_check.toggled.connect(self.set_autostart)
        start_layout.addRow(self.autostart_check)
        self.timeout = QSpinBox()
        self.timeout.setRange(1, 120)
        self.timeout.setSuffix(" min")
        self.timeout.setValue(max(1, round(config.approval_timeout_s / 60)))
        self.timeout.valueChanged.connect(lambda v: self.session.config.update(approval_timeout_s=float(v * 60)))
        start_layout.addRow("Deny a call nobody answered after", self.timeout)
        layout.addWidget(start_box)

        keys_box = QGroupBox("Shortcut for Ask…")
        keys_layout = QVBoxLayout(keys_box)
        row = QHBoxLayout()
        self.shortcut_edit = QKeySequenceEdit(QKeySequence(config.shortcut))
        self.shortcut_edit.setMaximumSequenceLength(1)
        self.shortcut_edit.setAccessibleName("Ask shortcut")
        self.shortcut_edit.editingFinished.connect(self._save_shortcut)
        key_label = QLabel("&Shortcut:" if shortcut.available else "&Suggested key:")
        key_label.setBuddy(self.shortcut_edit)
        row.addWidget(key_label)
        row.addWidget(self.shortcut_edit, 1)
        self.copy_button = QPushButton("&Copy command")
        self.copy_button.setVisible(not shortcut.available)
        self.copy_button.setToolTip(f"Copies `{ASK_COMMAND}` for your desktop's custom shortcut")
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(ASK_COMMAND))
        row.addWidget(self.copy_button)
        keys_layout.addLayout(row)
        self.shortcut_note = QLabel(shortcut.note)
        self.shortcut_note.setWordWrap(True)
        self.shortcut_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        keys_layout.addWidget(self.shortcut_note)
        layout.addWidget(keys_box)

        quick_box = QGroupBox("Quick commands (tray menu)")
        quick_layout = QHBoxLayout(quick_box)
        self.quick = QListWidget()
        self.quick.setAccessibleName("Quick commands")
        self.quick.setMaximumHeight(self.fontMetrics().lineSpacing() * 8)
        self.quick.itemChanged.connect(self._save_quick)
        for text in config.quick_commands:
            self._add_item(text)
        quick_layout.addWidget(self.quick, 1)
        buttons = QVBoxLayout()
        for label, slot in (("&Add", self.add_quick), ("Re&move", self.remove_quick),
                            ("Move &up", lambda: self.move_quick(-1)), ("Move d&own", lambda: self.move_quick(1))):
            button = QPushButton(label)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        quick_layout.addLayout(buttons)
        layout.addWidget(quick_box)

        model_box = QGroupBox("Model in use")
        model_layout = QVBoxLayout(model_box)
        self.model_label = QLabel(str(model_dir) if model_dir else "none")
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_label.setFont(style.monospace(self.font()))
        model_layout.addWidget(self.model_label)
        self.manifest = readonly_text(manifest_text(model_dir), "manifest", max_lines=14)
        self.manifest.setAccessibleName("Model manifest")
        model_layout.addWidget(self.manifest)
        layout.addWidget(model_box)
        layout.addStretch(1)
        self.setWidget(body)

    def set_model(self, model_dir: Path | None) -> None:
        self.model_label.setText(str(model_dir) if model_dir else "none")
        self.manifest.setPlainText(manifest_text(model_dir))

    # --- start at login -------------------------------------------------------------

    def set_autostart(self, on: bool) -> None:
        if on:
            self.autostart.enable()
        else:
            self.autostart.disable()
        self.session.config.update(autostart=on)

    # --- shortcut --------------------------------------------------------------------

    def _save_shortcut(self) -> None:
        text = self.shortcut_edit.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
        if text and text != self.session.config.config.shortcut:
            self.session.config.update(shortcut=text)
            self.shortcut_changed.emit(text)

    # --- quick commands ----------------------------------------------------------------

    def _add_item(self, text: str) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setFlags(EDITABLE)
        self.quick.addItem(item)
        return item

    def commands(self) -> list[str]:
        return [t for i in range(self.quick.count()) if (t := self.quick.item(i).text().strip())]

    def _save_quick(self, *_args) -> None:
        commands = self.commands()
        self.session.config.update(quick_commands=tuple(commands))
        self.quick_commands_changed.emit(commands)

    def add_quick(self) -> None:
        self.quick.blockSignals(True)
        item = self._add_item("New quick command")
        self.quick.blockSignals(False)
        self.quick.setCurrentItem(item)
        self.quick.editItem(item)  # saved when the edit is committed (itemChanged)
        self._save_quick()

    def remove_quick(self) -> None:
        row = self.quick.currentRow()
        if row >= 0:
            self.quick.takeItem(row)
            self._save_quick()

    def move_quick(self, delta: int) -> None:
        row = self.quick.currentRow()
        target = row + delta
        if row < 0 or not 0 <= target < self.quick.count():
            return
        self.quick.blockSignals(True)
        item = self.quick.takeItem(row)
        self.quick.insertItem(target, item)
        self.quick.blockSignals(False)
        self.quick.setCurrentRow(target)
        self._save_quick()

"""Settings › Permissions: tool groups, granted folders, remembered approvals, Pause all tools.

Every change goes straight to the core (ConfigStore, Policy) and the page re-reads
from it, so what is shown is what is in force. Pausing goes through the controller
(`pause_toggled`), which must also deny what is waiting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.errors import DeskmateError
from app.policy.config import GROUPS

GROUP_NOTES = {
    "files": "List, search, read, write, move, copy and trash files — only inside the folders below.",
    "calendar": "Read and change your local calendar.",
    "shell": "Run commands. Every command is shown exactly and always asks first.",
    "system": "Read CPU, memory, disk and battery; list processes; stop a process (always asks).",
}


def display_folder(path: Path, home: Path) -> str:
    """'~/Projects' for folders in the home folder, the absolute path otherwise."""
    path = Path(path)
    try:
        rel = path.resolve().relative_to(Path(home).resolve())
    except ValueError:
        return str(path)
    return "~" if str(rel) == "." else f"~/{rel.as_posix()}"


class PermissionsPage(QScrollArea):
    """Signals: pause_toggled(bool); changed() after grants or rules changed."""

    pause_toggled = Signal(bool)
    changed = Signal()

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.pick_folder: Callable[[], str] = lambda: QFileDialog.getExistingDirectory(
            self, "Grant Deskmate a folder", str(self.session.paths.home))
        self.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)

        self.pause = QCheckBox("&Pause all tools (nothing runs, waiting calls are denied)")
        self.pause.toggled.connect(self.pause_toggled)
        layout.addWidget(self.pause)

        groups_box = QGroupBox("Tool groups Deskmate may offer the assistant")
        grid = QGridLayout(groups_box)
        self.group_checks: dict[str, QCheckBox] = {}
        self.auto_checks: dict[str, QCheckBox] = {}
        descriptions = dict(getattr(session.catalog, "groups", {}))
        for row, group in enumerate(GROUPS):
            check = QCheckBox(group.capitalize())
            tools = ", ".join(t.name for t in session.catalog if t.group == group)
            check.setToolTip(f"{descriptions.get(group, '')}\nTools: {tools}")
            check.toggled.connect(self._save_groups)
            note = QLabel(GROUP_NOTES.get(group, descriptions.get(group, "")))
            note.setWordWrap(True)
            auto = QCheckBox("read-only tools run without asking")
            auto.setToolTip("Reading (listing, searching, status) runs at once; changes still ask.")
            auto.toggled.connect(self._save_groups)
            self.group_checks[group], self.auto_checks[group] = check, auto
            grid.addWidget(check, row, 0)
            grid.addWidget(note, row, 1)
            grid.addWidget(auto, row, 2)
        grid.setColumnStretch(1, 1)
        layout.addWidget(groups_box)

        folders_box = QGroupBox("Folders the file tools may use")
        folders_layout = QHBoxLayout(folders_box)
        self.folders = QListWidget()
        self.folders.setAccessibleName("Granted folders")
        self.folders.setMaximumHeight(self.fontMetrics().lineSpacing() * 7)
        folders_layout.addWidget(self.folders, 1)
        buttons = QVBoxLayout()
        self.add_folder_button = QPushButton("&Add folder…")
        self.add_folder_button.clicked.connect(self.add_folder)
        self.remove_folder_button = QPushButton("&Remove folder")
        self.remove_folder_button.clicked.connect(self.remove_folder)
        buttons.addWidget(self.add_folder_button)
        buttons.addWidget(self.remove_folder_button)
        buttons.addStretch(1)
        folders_layout.addLayout(buttons)
        layout.addWidget(folders_box)

        rules_box = QGroupBox("Remembered approvals")
        rules_layout = QVBoxLayout(rules_box)
        rules_row = QHBoxLayout()
        self.rules = QListWidget()
        self.rules.setAccessibleName("Always allowed")
        self.rules.setMaximumHeight(self.fontMetrics().lineSpacing() * 7)
        rules_row.addWidget(self.rules, 1)
        self.revoke_button = QPushButton("Re&voke")
        self.revoke_button.setToolTip("Ask again next time for the selected approval")
        self.revoke_button.clicked.connect(self.revoke_selected)
        rules_row.addWidget(self.revoke_button, 0, Qt.AlignmentFlag.AlignTop)
        rules_layout.addWidget(QLabel("Always allowed (until you revoke them):"))
        rules_layout.addLayout(rules_row)
        session_row = QHBoxLayout()
        self.session_label = QLabel()
        self.session_label.setWordWrap(True)
        session_row.addWidget(self.session_label, 1)
        self.forget_button = QPushButton("&Forget session approvals")
        self.forget_button.clicked.connect(self.forget_session)
        session_row.addWidget(self.forget_button)
        rules_layout.addLayout(session_row)
        layout.addWidget(rules_box)
        layout.addStretch(1)
        self.setWidget(body)
        self.refresh()

    # --- reading the core ---------------------------------------------------------

    def refresh(self) -> None:
        """Show what is in force now (grants, rules, session approvals, pause)."""
        grants = self.session.config.config.grants
        for group in GROUPS:
            for box, on in ((self.group_checks[group], group in grants.groups),
                            (self.auto_checks[group], group in grants.auto_read)):
                box.blockSignals(True)
                box.setChecked(on)
                box.blockSignals(False)
            self.auto_checks[group].setEnabled(group in grants.groups and group != "shell")
        self.folders.clear()
        self.folders.addItems(list(grants.folders))
        self.rules.clear()
        for rule in self.session.config.rules():
            item = QListWidgetItem(rule.describe() + (f"   (since {rule.created.replace('T', ' ')})" if rule.created else ""))
            item.setData(Qt.ItemDataRole.UserRole, rule.id)
            self.rules.addItem(item)
        self.revoke_button.setEnabled(self.rules.count() > 0)
        approvals = self.session.policy.session_approvals()
        self.session_label.setText(
            "Allowed for this session: " + ", ".join(f"{t} in {s}" if s else t for t, s in approvals)
            if approvals else "Nothing is allowed for this session only.")
        self.forget_button.setEnabled(bool(approvals))
        self.set_paused(self.session.paused)

    def set_paused(self, paused: bool) -> None:
        self.pause.blockSignals(True)
        self.pause.setChecked(paused)
        self.pause.blockSignals(False)

    # --- changing it ------------------------------------------------------------------

    def _apply(self, change: Callable[[], object]) -> None:
        try:
            change()
        except DeskmateError as exc:
            QMessageBox.warning(self, "Deskmate", str(exc))
        self.refresh()
        self.changed.emit()

    def _save_groups(self) -> None:
        groups = [g for g in GROUPS if self.group_checks[g].isChecked()]
        auto = [g for g in GROUPS if self.auto_checks[g].isChecked() and g in groups]
        self._apply(lambda: self.session.config.set_grants(groups=groups, auto_read=auto))

    def _set_folders(self, folders: list[str]) -> None:
        def change() -> None:
            self.session.config.set_grants(folders=folders)
            self.session.refresh()  # the toolbox confines file tools to the new folders
        self._apply(change)

    def add_folder(self) -> None:
        chosen = self.pick_folder()
        if not chosen:
            return
        folder = display_folder(Path(chosen), self.session.paths.home)
        current = list(self.session.config.config.grants.folders)
        if folder not in current:
            self._set_folders(current + [folder])

    def remove_folder(self) -> None:
        item = self.folders.currentItem()
        if item is None:
            return
        self._set_folders([f for f in self.session.config.config.grants.folders if f != item.text()])

    def revoke_selected(self) -> None:
        item = self.rules.currentItem() or (self.rules.item(0) if self.rules.count() == 1 else None)
        if item is not None:
            self._apply(lambda: self.session.config.revoke(item.data(Qt.ItemDataRole.UserRole)))

    def forget_session(self) -> None:
        self._apply(self.session.policy.forget_session)

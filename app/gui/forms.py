"""An argument form generated from a tool's JSON schema, for editing a proposed call.

The form knows nothing about tools: it reads a ToolSpec's schema (types, enums,
defaults, descriptions, required) and hands back a dict that the ToolSpec itself
validates, so the card and the core agree on what is a valid call.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from PySide6.QtCore import Signal
from PySide6.QtGui import QIntValidator, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from app.tools.catalog import ArgumentError, ToolSpec

# Free-text arguments that deserve several lines.
MULTILINE_ARGS = frozenset({"content", "notes"})
UNSET = "(not set)"


LABELS = {"cwd": "Working folder", "timeout_s": "Timeout (seconds)", "pid": "Process id",
          "duration_minutes": "Duration (minutes)", "new_duration_minutes": "New duration (minutes)",
          "modified_within_days": "Changed in the last (days)", "on": "On day"}


def humanize(name: str) -> str:
    """'new_title' -> 'New title' (a few arguments get clearer words)."""
    return LABELS.get(name) or name.replace("_", " ").capitalize()


class SchemaForm(QWidget):
    """One input per schema property, filled with the proposed arguments.

    Signals:
        submitted(dict): Ctrl+Enter (or Enter in a one-line field) with arguments that validate.
    """

    submitted = Signal(dict)

    def __init__(self, spec: ToolSpec, arguments: Mapping[str, Any], parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self._readers: dict[str, Callable[[], Any]] = {}
        self.inputs: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, schema in spec.properties.items():
            widget, reader = self._input_for(name, schema, arguments.get(name))
            label = QLabel(humanize(name) + (" *" if name in spec.required else ""))
            label.setBuddy(widget)
            if schema.get("description"):
                widget.setToolTip(schema["description"])
            widget.setAccessibleName(humanize(name))
            layout.addRow(label, widget)
            self.inputs[name] = widget
            self._readers[name] = reader
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addRow(self.error)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.submit)

    def _input_for(self, name: str, schema: Mapping[str, Any], value: Any) -> tuple[QWidget, Callable[[], Any]]:
        kind = schema.get("type", "string")
        default = schema.get("default")
        if "enum" in schema:
            box = QComboBox()
            optional = name not in self.spec.required and default is None
            choices = ([UNSET] if optional else []) + [str(v) for v in schema["enum"]]
            box.addItems(choices)
            current = value if value is not None else default
            if current is not None and str(current) in choices:
                box.setCurrentText(str(current))
            return box, lambda: None if box.currentText() == UNSET else box.currentText()
        if kind == "boolean":
            check = QCheckBox()
            check.setChecked(bool(value if value is not None else default))
            return check, check.isChecked
        if kind == "string" and name in MULTILINE_ARGS:
            text = QPlainTextEdit("" if value is None else str(value))
            text.setTabChangesFocus(True)  # keyboard users must be able to leave the field
            return text, lambda: text.toPlainText() or None
        line = QLineEdit("" if value is None else str(value))
        if default is not None:
            line.setPlaceholderText(f"default: {default}")
        elif schema.get("description"):
            line.setPlaceholderText(schema["description"])
        line.returnPressed.connect(self.submit)
        if kind == "integer":
            line.setValidator(QIntValidator())
            return line, lambda: int(line.text()) if line.text().strip().lstrip("-").isdigit() else (line.text() or None)
        if kind == "number":
            return line, lambda: float(line.text()) if line.text().strip() else None
        return line, lambda: line.text() if line.text() != "" else None

    def values(self) -> dict[str, Any]:
        """The arguments as typed; empty optional fields are left out."""
        return {name: v for name, read in self._readers.items() if (v := read()) is not None}

    def validated(self) -> dict[str, Any]:
        """The arguments checked against the tool's schema; raises ArgumentError."""
        return self.spec.validate(self.values())

    def submit(self) -> None:
        try:
            arguments = self.validated()
        except ArgumentError as exc:
            self.show_error(str(exc))
            return
        self.error.hide()
        self.submitted.emit(arguments)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

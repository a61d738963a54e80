"""Settings › Activity: the audit log as a searchable table, "Verify log" and "Undo".

The log stores events (request, proposal, decision, result, ...); `activity_rows`
folds them into one row per call, the way a person reads it: when, what was asked,
which tool with which arguments, what was decided, what happened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.errors import DeskmateError
from app.gui import style
from app.tools.catalog import Catalog

COLUMNS = ("Time", "Request", "Tool", "Arguments", "Decision", "Result")
DECISION_WORDS = {"approve_once": "Approved", "approve_session": "Allowed (session)", "always": "Always allowed",
                  "edit": "Edited", "deny": "Denied"}


@dataclass
class ActivityRow:
    time: str
    request: str
    tool: str
    arguments: str
    decision: str = ""
    result: str = ""
    result_entry: int | None = None  # the log entry holding the result (what undo refers to)
    undoable: bool = False
    ok: bool | None = None
    children: list[str] = field(default_factory=list)

    def cells(self) -> tuple[str, ...]:
        return (self.time, self.request, self.tool, self.arguments, self.decision, self.result)


def _args(arguments: Any, order: Sequence[str] = ()) -> str:
    """The arguments as JSON, in the tool's own order (the log stores them sorted)."""
    if isinstance(arguments, str):
        return arguments
    arguments = dict(arguments or {})
    ranked = sorted(arguments, key=lambda k: order.index(k) if k in order else len(order))
    return json.dumps({k: arguments[k] for k in ranked}, ensure_ascii=False)


def _decision(body: dict[str, Any]) -> str:
    words = DECISION_WORDS.get(body.get("decision", ""), body.get("decision", ""))
    by = body.get("by", "user")
    if by == "timeout":
        return "Denied (no answer)"
    if by == "pause":
        return "Denied (paused)"
    if by.startswith("rule:"):
        words += " (remembered)"
    elif by.startswith("auto:"):
        words += " (read, no ask)"
    elif by == "session":
        words += " (this session)"
    reason = body.get("reason")
    return f"{words}: {reason}" if reason and body.get("decision") == "deny" else words


def activity_rows(entries: Iterable[Any], undoable_ids: Iterable[int] = (),
                  catalog: Catalog | None = None) -> list[ActivityRow]:
    """One row per proposed or refused call, and per undo; newest first."""
    undoable = set(undoable_ids)

    def args(tool: str, arguments: Any) -> str:
        order = tuple(catalog.get(tool).properties) if catalog is not None and tool in catalog else ()
        return _args(arguments, order)

    requests: dict[str, str] = {}
    by_proposal: dict[str, ActivityRow] = {}
    rows: list[ActivityRow] = []
    for e in entries:
        time = e.ts.replace("T", " ")
        body = dict(e.body)
        if e.kind == "request":
            requests[e.turn] = body.get("request", e.text)
        elif e.kind == "proposal":
            original = by_proposal.get(body.get("edited_from", ""))
            if original is not None:  # an edit: the same row, now with the arguments that ran
                original.arguments = args(e.tool, body.get("arguments")) + "  (edited)"
                by_proposal[e.proposal_id] = original
                continue
            row = ActivityRow(time, requests.get(e.turn, ""), e.tool, args(e.tool, body.get("arguments")), "Not decided")
            by_proposal[e.proposal_id] = row
            rows.append(row)
        elif e.kind == "decision" and e.proposal_id in by_proposal:
            by_proposal[e.proposal_id].decision = _decision(body)
        elif e.kind == "result" and e.proposal_id in by_proposal:
            row = by_proposal[e.proposal_id]
            row.ok = bool(body.get("ok"))
            row.result = (body.get("text") or "Done") if row.ok else f"Failed: {body.get('error') or ''}"
            row.result_entry = e.id
            row.undoable = e.id in undoable
        elif e.kind == "refused":
            rows.append(ActivityRow(time, requests.get(e.turn, ""), e.tool, args(e.tool, body.get("arguments")),
                                    "Refused", body.get("reason", e.text), ok=False))
        elif e.kind == "undo":
            rows.append(ActivityRow(time, "", e.tool, f"undo of #{body.get('undoes')}", "Undo",
                                    e.text, ok=bool(body.get("ok"))))
    return rows[::-1]


class ActivityPage(QWidget):
    """Signals: undone() after an undo (the chat may want to say so)."""

    undone = Signal(str)

    def __init__(self, session, parent: QWidget | None = None, limit: int = 2000):
        super().__init__(parent)
        self.session = session
        self.limit = limit
        self.rows: list[ActivityRow] = []
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the activity (tool, arguments, decision, result)…")
        self.search.setAccessibleName("Search activity")
        self.search.setClearButtonEnabled(True)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)  # the result takes what is left
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.verify_button = QPushButton("&Verify log")
        self.verify_button.setToolTip("Check that no entry was changed or removed")
        self.verify_button.clicked.connect(self.verify)
        self.undo_button = QPushButton("&Undo")
        self.undo_button.setToolTip("Reverse the selected file action (restore, move back, take out of the trash)")
        self.undo_button.clicked.connect(self.undo_selected)
        self.undo_button.setEnabled(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.refresh_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.verify_button)
        bottom.addWidget(self.undo_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.setFocusProxy(self.search)
        self.refresh()

    def refresh(self) -> None:
        audit = self.session.audit
        undoable = [a.entry_id for a in audit.undoable()]
        self.rows = activity_rows(audit.recent(self.limit), undoable, self.session.catalog)
        self.model.removeRows(0, self.model.rowCount())
        for index, row in enumerate(self.rows):
            items = []
            for text in row.cells():
                item = QStandardItem(text)
                item.setToolTip(text)
                item.setData(index, Qt.ItemDataRole.UserRole)
                items.append(item)
            self.model.appendRow(items)
        cap = self.fontMetrics().averageCharWidth() * 30
        for column in range(len(COLUMNS) - 1):  # the last (result) stretches over what is left
            self.table.resizeColumnToContents(column)
            if column in (1, 3, 4):  # long text: readable columns, the full text in the tooltip
                self.table.setColumnWidth(column, min(self.table.columnWidth(column), cap))
        self._selection_changed()

    def selected_row(self) -> ActivityRow | None:
        indexes = self.table.selectionModel().selectedRows()
        if not indexes:
            return None
        return self.rows[self.proxy.data(indexes[0], Qt.ItemDataRole.UserRole)]

    def _selection_changed(self, *_args) -> None:
        row = self.selected_row()
        self.undo_button.setEnabled(row is not None and row.undoable)

    def select_first(self, predicate) -> bool:
        """Select the first visible row matching `predicate` (keyboard users and tests)."""
        for r in range(self.proxy.rowCount()):
            row = self.rows[self.proxy.data(self.proxy.index(r, 0), Qt.ItemDataRole.UserRole)]
            if predicate(row):
                self.table.selectRow(r)
                return True
        return False

    def verify(self) -> None:
        report = self.session.audit.verify()
        style.mark_error(self.status, not report.ok)
        self.status.setText(("✔ " if report.ok else "✘ ") + report.summary())

    def undo_selected(self) -> None:
        row = self.selected_row()
        if row is None or not row.undoable:
            return
        try:
            _action, result = self.session.undo(row.result_entry)
        except DeskmateError as exc:
            style.mark_error(self.status, True)
            self.status.setText(str(exc))
            return
        message = f"Undone: {result.text or row.result}" if result.ok else f"Undo failed: {result.error}"
        self.refresh()
        style.mark_error(self.status, not result.ok)
        self.status.setText(message)
        self.undone.emit(message)

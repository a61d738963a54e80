"""The approval card: one proposed call, inline in the conversation, and the user's answer.

The card shows what the core resolved (summary, risk, preview) and turns button
presses into a `Decision`; it never decides anything itself. Keys: Enter approves,
Esc asks for an optional reason and a second Esc (or Enter) denies.
Keys reach the card through the focused child (buttons and line edits ignore them).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.calls import Decision, DecisionKind, Proposal, ToolResult
from app.gui import style
from app.gui.forms import SchemaForm, humanize
from app.tools.catalog import ToolSpec

DECISION_TEXT = {
    DecisionKind.APPROVE_ONCE: "Approved",
    DecisionKind.APPROVE_SESSION: "Allowed for this session",
    DecisionKind.ALWAYS: "Always allowed",
    DecisionKind.EDIT: "Approved with your changes",
    DecisionKind.DENY: "Denied",
}


def decision_text(decision: Decision) -> str:
    """The line under a decided card: what was decided and by whom, in words."""
    by, reason = decision.by or "user", decision.reason
    if by == "timeout":
        return "No answer in time: denied"
    if by == "pause":
        return "Denied: tools are paused"
    if by.startswith("rule:"):
        return "Always allowed (remembered; revoke it in Permissions)"
    if by == "session":
        return "Allowed for this session"
    if by.startswith("auto:"):
        return f"Ran without asking (read-only {by.removeprefix('auto:')} tools)"
    text = DECISION_TEXT[decision.kind]
    return f"{text}: {reason}" if reason else text


class DiffHighlighter(QSyntaxHighlighter):
    """Colours added and removed lines of a unified diff."""

    def __init__(self, document, dark: bool):
        super().__init__(document)
        added, removed = style.diff_colours(dark)
        self._added, self._removed = QTextCharFormat(), QTextCharFormat()
        self._added.setBackground(added)
        self._removed.setBackground(removed)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        if text.startswith("+") and not text.startswith("+++"):
            self.setFormat(0, len(text), self._added)
        elif text.startswith("-") and not text.startswith("---"):
            self.setFormat(0, len(text), self._removed)


def looks_like_diff(text: str) -> bool:
    return text.startswith(("--- ", "@@")) or "\n@@ " in text


def readonly_text(text: str, name: str, max_lines: int = 12) -> QPlainTextEdit:
    """A read-only monospace box sized to its text (up to `max_lines`), reachable with Tab."""
    box = QPlainTextEdit(text)
    box.setObjectName(name)
    box.setReadOnly(True)
    box.setTabChangesFocus(True)
    box.setFont(style.monospace(box.font()))
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    lines = min(max(text.count("\n") + 1, 1), max_lines)
    box.setFixedHeight(box.fontMetrics().lineSpacing() * lines + 2 * box.frameWidth() + 12)
    return box


def result_text(result: ToolResult) -> str:
    """What the collapsible result area shows: the error, or the short text and the output."""
    if result.error:
        return result.error
    import json

    parts = [result.text] if result.text else []
    if result.output not in (None, "", [], {}):
        body = result.output if isinstance(result.output, str) else json.dumps(result.output, indent=2, ensure_ascii=False, default=str)
        if body != result.text:
            parts.append(body)
    return "\n\n".join(parts) or "Done."


class ApprovalCard(QFrame):
    """A proposal with Approve / Allow for session / Always allow / Edit / Deny.

    Signals:
        decided(str, object): the proposal id and the user's Decision.
    """

    decided = Signal(str, object)

    def __init__(self, proposal: Proposal, spec: ToolSpec | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.proposal = proposal
        self.spec = spec
        self.decision: Decision | None = None
        self.active = True
        self.setObjectName("card")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(f"Approval needed: {proposal.summary}")
        layout = QVBoxLayout(self)

        header = QHBoxLayout()
        title = QLabel(humanize(proposal.call.name))
        title.setFont(style.scaled(self.font(), 1.1, bold=True))
        header.addWidget(title)
        group = QLabel(proposal.group)
        group.setEnabled(False)  # greyed: context, not content
        header.addWidget(group)
        header.addStretch(1)
        self.badge = QLabel(style.RISK_LABELS[proposal.risk])
        self.badge.setToolTip(f"Risk: {proposal.risk.value}")
        style.set_risk_badge(self.badge, proposal.risk)
        header.addWidget(self.badge)
        layout.addLayout(header)

        self.summary = QLabel(proposal.summary)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)

        self.preview: QPlainTextEdit | None = None
        if proposal.preview:
            self.preview = readonly_text(proposal.preview, "preview", max_lines=14)
            self.preview.setAccessibleName("Preview")
            if looks_like_diff(proposal.preview):
                self._highlighter = DiffHighlighter(self.preview.document(), style.is_dark())
            layout.addWidget(self.preview)

        self.buttons = QWidget()
        row = QHBoxLayout(self.buttons)
        row.setContentsMargins(0, 0, 0, 0)
        self.approve_button = self._button(row, "&Approve", "Run it once (Enter)", lambda: self.decide(DecisionKind.APPROVE_ONCE))
        self.approve_button.setObjectName("primary")
        self.session_button = self._button(row, "Allow for &session", "Run calls like this without asking until Deskmate quits",
                                           lambda: self.decide(DecisionKind.APPROVE_SESSION))
        self.always_button = None
        if proposal.can_remember:
            scope = f" in {proposal.scope}" if proposal.scope else ""
            self.always_button = self._button(row, "Al&ways allow", f"Never ask again for {proposal.call.name}{scope} (revocable in Permissions)",
                                              lambda: self.decide(DecisionKind.ALWAYS))
        self.edit_button = self._button(row, "&Edit…", "Change the arguments before running", self.start_edit)
        self.edit_button.setEnabled(spec is not None)
        row.addStretch(1)
        self.deny_button = self._button(row, "&Deny", "Do not run it (Esc)", self.start_deny)
        layout.addWidget(self.buttons)

        self.reason_row = QWidget()
        reason_layout = QHBoxLayout(self.reason_row)
        reason_layout.setContentsMargins(0, 0, 0, 0)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why not? (optional, told to the assistant)")
        self.reason.setAccessibleName("Reason for denying")
        self.reason.returnPressed.connect(self.confirm_deny)
        reason_layout.addWidget(self.reason, 1)
        confirm = QPushButton("Deny")
        confirm.clicked.connect(self.confirm_deny)
        reason_layout.addWidget(confirm)
        self.reason_row.hide()
        layout.addWidget(self.reason_row)

        self.form: SchemaForm | None = None
        self.form_box = QWidget()
        self.form_layout = QVBoxLayout(self.form_box)
        self.form_layout.setContentsMargins(0, 0, 0, 0)
        self.form_box.hide()
        layout.addWidget(self.form_box)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.hide()
        layout.addWidget(self.status)

        self.result_toggle = QToolButton()
        self.result_toggle.setCheckable(True)
        self.result_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.result_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.result_toggle.setText("Result")
        self.result_toggle.toggled.connect(self._toggle_result)
        self.result_toggle.hide()
        layout.addWidget(self.result_toggle)
        self.result_box: QPlainTextEdit | None = None

        self.setProperty("pending", True)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        """Enter approves, Esc denies; keys a focused child ignores (buttons, line edits) arrive here."""
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.approve_default()
        elif key == Qt.Key.Key_Escape:
            self.escape()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _button(self, row: QHBoxLayout, text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    # --- the user's answer -------------------------------------------------------

    @property
    def pending(self) -> bool:
        return self.decision is None

    def set_active(self, active: bool) -> None:
        """Buttons work only while the agent waits for this answer (not while a rule may still decide)."""
        self.buttons.setEnabled(active)
        self.active = active

    def focus_default(self) -> None:
        """Put the keyboard on the card so Enter approves and Esc denies."""
        self.approve_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def approve_default(self) -> None:
        """Enter: approve, unless the user is typing a reason or editing arguments."""
        if self.pending and self.active and self.buttons.isVisibleTo(self):
            self.decide(DecisionKind.APPROVE_ONCE)

    def escape(self) -> None:
        """Esc: ask for a reason; a second Esc denies; while editing it leaves the form."""
        if not self.pending or not self.active:
            return
        if self.form_box.isVisibleTo(self):
            self.cancel_edit()
        elif self.reason_row.isVisibleTo(self):
            self.confirm_deny()
        else:
            self.start_deny()

    def decide(self, kind: DecisionKind, arguments: dict[str, Any] | None = None, reason: str = "") -> None:
        if not self.pending:
            return
        self.decision = Decision(kind, arguments=arguments, reason=reason)
        self._settle(self.decision)
        self.decided.emit(self.proposal.id, self.decision)

    def start_deny(self) -> None:
        if not self.pending or not self.active:
            return
        self.form_box.hide()
        self.buttons.hide()
        self.reason_row.show()
        self.reason.setFocus(Qt.FocusReason.OtherFocusReason)

    def confirm_deny(self) -> None:
        self.decide(DecisionKind.DENY, reason=self.reason.text().strip())

    def start_edit(self) -> None:
        if not self.pending or not self.active or self.spec is None:
            return
        if self.form is None:
            self.form = SchemaForm(self.spec, self.proposal.call.arguments)
            self.form.submitted.connect(lambda args: self.decide(DecisionKind.EDIT, arguments=args))
            self.form_layout.addWidget(self.form)
            row = QHBoxLayout()
            run = QPushButton("&Run with these arguments")
            run.setToolTip("Checks the arguments again, then runs (Ctrl+Enter)")
            run.clicked.connect(self.form.submit)
            back = QPushButton("Cancel edit")
            back.clicked.connect(self.cancel_edit)
            row.addStretch(1)
            row.addWidget(back)
            row.addWidget(run)
            self.form_layout.addLayout(row)
        self.buttons.hide()
        self.form_box.show()
        first = next(iter(self.form.inputs.values()), None)
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def cancel_edit(self) -> None:
        self.form_box.hide()
        self.buttons.show()
        self.focus_default()

    # --- what the core did with it ------------------------------------------------

    def _settle(self, decision: Decision) -> None:
        self.decision = decision
        self.buttons.hide()
        self.reason_row.hide()
        self.form_box.hide()
        self.status.setText(decision_text(decision))
        self.status.show()
        self.setProperty("pending", False)
        self.style().unpolish(self)
        self.style().polish(self)

    def show_decision(self, decision: Decision) -> None:
        """The core's record of the decision (the user's, a remembered rule's, or a timeout)."""
        self._settle(decision)

    def show_refused(self, reason: str) -> None:
        if self.pending:
            self._settle(Decision(DecisionKind.DENY, reason="", by="policy"))
        self.show_result(ToolResult(ok=False, error=reason))

    def show_result(self, result: ToolResult) -> None:
        """Put the result under the card, collapsed unless it failed."""
        body = result_text(result)
        if self.result_box is None:
            self.result_box = readonly_text(body, "result", max_lines=12)
            self.result_box.setAccessibleName("Result")
            self.layout().addWidget(self.result_box)
        else:
            self.result_box.setPlainText(body)
        line = result.text or ("Done" if result.ok else "Failed")
        self.result_toggle.setText(("Result: " if result.ok else "Failed: ") + line.splitlines()[0][:120])
        self.result_toggle.show()
        self.result_toggle.setChecked(not result.ok)
        self._toggle_result(not result.ok)

    def _toggle_result(self, shown: bool) -> None:
        self.result_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        if self.result_box is not None:
            self.result_box.setVisible(shown)

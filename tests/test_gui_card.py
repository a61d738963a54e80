"""The approval card and the schema form, driven by keys and clicks like a user would (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit

from app.calls import DecisionKind, Proposal, Risk, ToolCall, ToolResult
from app.gui.card import ApprovalCard, DiffHighlighter
from app.gui.forms import SchemaForm
from app.tools.catalog import Catalog

CATALOG = Catalog.builtin()
DIFF = "--- ~/Documents/todo.txt\n+++ ~/Documents/todo.txt\n@@ -1,2 +1,2 @@\n-buy eggs\n+buy milk\n keep"


def proposal(name="write_file", risk=Risk.WRITE, **arguments):
    arguments = arguments or {"path": "~/Documents/todo.txt", "content": "buy milk\n", "mode": "overwrite"}
    return Proposal(ToolCall(name, arguments), CATALOG.get(name).group, risk,
                    f"Do {name}", DIFF if name == "write_file" else "", "~/Documents")


@pytest.fixture
def card(qtbot):
    def make(p=None):
        p = p or proposal()
        widget = ApprovalCard(p, CATALOG.get(p.call.name))
        qtbot.addWidget(widget)
        widget.show()
        qtbot.waitExposed(widget)
        widget.focus_default()
        return widget
    return make


def test_enter_approves_once(card, qtbot):
    """Enter on the focused card approves the call once."""
    c = card()
    with qtbot.waitSignal(c.decided) as blocker:
        qtbot.keyClick(c.approve_button, Qt.Key.Key_Return)
    proposal_id, decision = blocker.args
    assert proposal_id == c.proposal.id
    assert decision.kind is DecisionKind.APPROVE_ONCE
    assert not c.pending and not c.buttons.isVisible()
    assert c.status.text() == "Approved"


def test_escape_asks_for_a_reason_then_denies_with_it(card, qtbot):
    c = card()
    qtbot.keyClick(c.approve_button, Qt.Key.Key_Escape)
    assert c.reason_row.isVisible() and c.pending
    qtbot.keyClicks(c.reason, "not that file")
    with qtbot.waitSignal(c.decided) as blocker:
        qtbot.keyClick(c.reason, Qt.Key.Key_Return)
    decision = blocker.args[1]
    assert decision.kind is DecisionKind.DENY and decision.reason == "not that file"
    assert "not that file" in c.status.text()


def test_double_escape_denies_without_reason(card, qtbot):
    c = card()
    qtbot.keyClick(c.approve_button, Qt.Key.Key_Escape)
    with qtbot.waitSignal(c.decided) as blocker:
        qtbot.keyClick(c.reason, Qt.Key.Key_Escape)
    assert blocker.args[1].kind is DecisionKind.DENY and blocker.args[1].reason == ""


def test_always_allow_only_where_it_may_be_remembered(card):
    assert card().always_button is not None
    for name, risk in (("delete_path", Risk.DESTRUCTIVE), ("run_command", Risk.EXECUTE), ("kill_process", Risk.DESTRUCTIVE)):
        args = {"path": "~/a"} if name == "delete_path" else {"command": "ls"} if name == "run_command" else {"pid": 1}
        assert card(proposal(name, risk, **args)).always_button is None


def test_session_and_always_buttons_give_their_decision(card, qtbot):
    for button, kind in (("session_button", DecisionKind.APPROVE_SESSION), ("always_button", DecisionKind.ALWAYS)):
        c = card()
        with qtbot.waitSignal(c.decided) as blocker:
            qtbot.mouseClick(getattr(c, button), Qt.MouseButton.LeftButton)
        assert blocker.args[1].kind is kind


def test_inactive_card_ignores_keys(card, qtbot):
    """Before the agent asks (a rule may still decide), Enter does nothing."""
    c = card()
    c.set_active(False)
    with qtbot.assertNotEmitted(c.decided):
        qtbot.keyClick(c, Qt.Key.Key_Return)
    assert c.pending


def test_edit_revalidates_and_sends_the_edited_arguments(card, qtbot):
    c = card(proposal("create_event", Risk.WRITE, title="Lunch", start="tomorrow at 12:30"))
    qtbot.mouseClick(c.edit_button, Qt.MouseButton.LeftButton)
    form = c.form
    assert form is not None and c.form_box.isVisible() and not c.buttons.isVisible()
    title = form.inputs["title"]
    assert isinstance(title, QLineEdit) and title.text() == "Lunch"
    # An empty required field is refused by the tool's own schema: no decision.
    title.clear()
    with qtbot.assertNotEmitted(c.decided):
        qtbot.keyClick(title, Qt.Key.Key_Return)
    assert form.error.isVisible() and "title" in form.error.text()
    qtbot.keyClicks(title, "Lunch with Sam")
    form.inputs["duration_minutes"].setText("90")
    with qtbot.waitSignal(c.decided) as blocker:
        qtbot.keyClick(title, Qt.Key.Key_Return)
    decision = blocker.args[1]
    assert decision.kind is DecisionKind.EDIT
    assert decision.arguments == {"title": "Lunch with Sam", "start": "tomorrow at 12:30", "duration_minutes": 90}


def test_escape_while_editing_returns_to_the_buttons(card, qtbot):
    c = card()
    c.start_edit()
    qtbot.keyClick(c.form.inputs["path"], Qt.Key.Key_Escape)
    assert c.pending and c.buttons.isVisible() and not c.form_box.isVisible()


def test_diff_preview_is_shown_highlighted(card):
    c = card()
    assert c.preview is not None and c.preview.toPlainText() == DIFF
    assert isinstance(c._highlighter, DiffHighlighter)
    assert c.preview.isReadOnly()


def test_result_is_collapsible_and_failures_open(card, qtbot):
    c = card()
    c.decide(DecisionKind.APPROVE_ONCE)
    c.show_result(ToolResult(ok=True, output={"written": 9}, text="Wrote 9 characters"))
    assert c.result_toggle.isVisible() and "Wrote 9 characters" in c.result_toggle.text()
    assert not c.result_box.isVisible()
    qtbot.mouseClick(c.result_toggle, Qt.MouseButton.LeftButton)
    assert c.result_box.isVisible() and '"written": 9' in c.result_box.toPlainText()
    failed = card()
    failed.decide(DecisionKind.APPROVE_ONCE)
    failed.show_result(ToolResult(ok=False, error="Disk full: free some space."))
    assert failed.result_box.isVisible() and failed.result_box.toPlainText() == "Disk full: free some space."


def test_form_widgets_follow_the_schema(qtbot):
    spec = CATALOG.get("write_file")
    form = SchemaForm(spec, {"path": "~/a.txt", "content": "x\ny"})
    qtbot.addWidget(form)
    assert isinstance(form.inputs["mode"], QComboBox)
    assert form.inputs["mode"].currentText() == "create"  # the schema default
    assert isinstance(form.inputs["content"], QPlainTextEdit)
    form.inputs["mode"].setCurrentText("append")
    assert form.validated() == {"path": "~/a.txt", "content": "x\ny", "mode": "append"}


def test_form_leaves_empty_optional_fields_out(qtbot):
    form = SchemaForm(CATALOG.get("list_processes"), {})
    qtbot.addWidget(form)
    assert form.inputs["sort_by"].currentText() == "cpu"
    assert form.values() == {"sort_by": "cpu"}
    form.inputs["limit"].setText("5")
    assert form.validated() == {"sort_by": "cpu", "limit": 5}

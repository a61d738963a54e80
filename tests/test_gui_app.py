"""The desktop app against the real core: cards, tray, pause, quit — through real widgets, offscreen.

Each test builds the real session (the Agent with a ScriptedModel, the real Toolbox
over a tmp home, real SQLite audit log, real keyrings.alt keyring) and the real
Controller; the agent runs on its QThread and waits for the card like it does for a user.
"""

from __future__ import annotations

import json
import re

import pytest
from PySide6.QtCore import Qt

from app.gui.controller import Controller

WRITE_NOTE = 'call:write_file{"path": "~/Documents/note.txt", "content": "hello"}'
WAIT_MS = 15000


@pytest.fixture
def gui(make_controller):
    """make(outputs, **grants) -> a started Controller over a real session; shut down afterwards."""
    return make_controller


def ask_and_wait_card(qtbot, c: Controller, request: str):
    c.ask(request)
    qtbot.waitUntil(lambda: bool(c.waiting), timeout=WAIT_MS)
    card = next(iter(c.waiting.values()))
    assert card.active and card.buttons.isEnabled()
    return card


def wait_turn(qtbot, c: Controller) -> None:
    qtbot.waitUntil(lambda: not c.busy, timeout=WAIT_MS)


def decisions(session):
    return [(e.body["decision"], e.body["by"]) for e in session.audit.entries() if e.kind == "decision"]


def tool_turns(session, index=-1):
    return [json.loads(m.content) for m in session.model.conversations[index].messages if m.role == "tool"]


# -- each decision through the card -----------------------------------------------------

def test_approve_with_enter_runs_the_call_and_shows_the_result(gui, qtbot, app_paths):
    c = gui([WRITE_NOTE, "Saved your note."])
    card = ask_and_wait_card(qtbot, c, "Write hello to note.txt")
    assert card.proposal.call.name == "write_file"
    assert card.approve_button.hasFocus()  # the keyboard lands on the card: Enter approves
    qtbot.keyClick(card.approve_button, Qt.Key.Key_Return)
    wait_turn(qtbot, c)
    assert (app_paths.home / "Documents" / "note.txt").read_text().rstrip("\n") == "hello"
    assert card.status.text() == "Approved"
    assert card.result_toggle.isVisible() and card.result_toggle.text().startswith("Result")
    assert c.chat.bubbles[-1].text() == "Saved your note."
    assert decisions(c.session) == [("approve_once", "user")]
    assert c.chat.send_button.isEnabled() and not c.chat.stop_button.isEnabled()
    assert not c.tray.pause_action.isChecked()


def test_always_allow_is_remembered_and_revocable_in_permissions(gui, qtbot, app_paths):
    again = 'call:write_file{"path": "~/Documents/note.txt", "content": "again", "mode": "overwrite"}'
    c = gui([WRITE_NOTE, "Saved.", again, "Saved again."])
    card = ask_and_wait_card(qtbot, c, "Write hello to note.txt")
    qtbot.mouseClick(card.always_button, Qt.MouseButton.LeftButton)
    wait_turn(qtbot, c)
    rules = c.session.config.rules()
    assert [(r.tool, r.scope) for r in rules] == [("write_file", "~/Documents")]
    # The same call again runs without asking; its card says why.
    c.ask("Write again")
    wait_turn(qtbot, c)
    assert (app_paths.home / "Documents" / "note.txt").read_text().rstrip("\n") == "again"
    second = list(c.cards.values())[-1]
    assert "remembered" in second.status.text()
    assert decisions(c.session)[-1][1] == f"rule:{rules[0].id}"
    # Permissions lists the rule; revoking it removes it from the config file.
    page = c.permissions
    page.refresh()
    assert page.rules.count() == 1 and "write_file in ~/Documents" in page.rules.item(0).text()
    page.rules.setCurrentRow(0)
    qtbot.mouseClick(page.revoke_button, Qt.MouseButton.LeftButton)
    assert c.session.config.rules() == ()
    assert json.loads(app_paths.config_file.read_text())["rules"] == []


def test_edit_runs_the_revalidated_arguments(gui, qtbot, app_paths):
    from app.tools.calendar_store import CalendarStore

    c = gui(['call:create_event{"title": "Lunch", "start": "tomorrow at 12:30"}', "Added."])
    card = ask_and_wait_card(qtbot, c, "Lunch tomorrow 12:30")
    qtbot.mouseClick(card.edit_button, Qt.MouseButton.LeftButton)
    title = card.form.inputs["title"]
    title.clear()
    qtbot.keyClicks(title, "Lunch with Sam")
    card.form.inputs["duration_minutes"].setText("abc")  # not a number: refused by the schema, nothing sent
    qtbot.keyClick(title, Qt.Key.Key_Return)
    assert card.pending and card.form.error.isVisible()
    card.form.inputs["duration_minutes"].setText("45")
    qtbot.keyClick(title, Qt.Key.Key_Return)
    wait_turn(qtbot, c)
    events = CalendarStore(app_paths.calendar_file).events()
    assert [(e.title, e.duration_minutes) for e in events] == [("Lunch with Sam", 45)]
    assert decisions(c.session) == [("edit", "user")]
    assert card.result_toggle.isVisible()  # the result of the edited call lands on the same card


def test_deny_with_a_reason_runs_nothing_and_tells_the_model(gui, qtbot, app_paths):
    marker = app_paths.home / "Documents" / "made-by-command"
    c = gui([f'call:run_command{{"command": "touch {marker}"}}', "OK, I did not run it."])
    card = ask_and_wait_card(qtbot, c, "make a file")
    assert card.always_button is None  # execute risk: never remembered
    assert str(marker) in card.summary.text() + (card.preview.toPlainText() if card.preview else "")
    qtbot.keyClick(card.approve_button, Qt.Key.Key_Escape)
    qtbot.keyClicks(card.reason, "not now")
    qtbot.keyClick(card.reason, Qt.Key.Key_Return)
    wait_turn(qtbot, c)
    assert not marker.exists()
    assert decisions(c.session) == [("deny", "user")]
    assert tool_turns(c.session) == [{"denied": True, "reason": "not now"}]
    assert card.status.text() == "Denied: not now"


def test_no_answer_in_time_is_a_deny(gui, qtbot, app_paths):
    c = gui([WRITE_NOTE, "Nothing was written."])
    c.session.config.update(approval_timeout_s=0.3)
    card = ask_and_wait_card(qtbot, c, "Write hello")
    wait_turn(qtbot, c)
    assert not (app_paths.home / "Documents" / "note.txt").exists()
    assert decisions(c.session) == [("deny", "timeout")]
    assert card.status.text() == "No answer in time: denied"
    assert not card.buttons.isVisible()


def test_stop_denies_the_waiting_call_and_ends_the_turn(gui, qtbot, app_paths):
    c = gui([WRITE_NOTE, "Stopped."])
    card = ask_and_wait_card(qtbot, c, "Write hello")
    qtbot.mouseClick(c.chat.stop_button, Qt.MouseButton.LeftButton)
    wait_turn(qtbot, c)
    assert not (app_paths.home / "Documents" / "note.txt").exists()
    assert decisions(c.session)[0][0] == "deny"
    assert card.status.text().startswith("Denied")


# -- tray, pause, notifications, quit ------------------------------------------------------

def test_quick_command_from_the_tray_menu_runs_in_the_window(gui, qtbot):
    c = gui(['call:list_events{"start": "today"}', "Nothing on today."])
    c.window.hide()
    action = next(a for a in c.tray.quick_actions if a.text() == "What's on today?")
    action.trigger()
    qtbot.waitUntil(lambda: bool(c.waiting), timeout=WAIT_MS)
    assert c.window.isVisible()
    assert c.chat.bubbles[0].text() == "What's on today?"
    card = next(iter(c.waiting.values()))
    assert card.proposal.call.name == "list_events"
    qtbot.keyClick(card.approve_button, Qt.Key.Key_Return)
    wait_turn(qtbot, c)
    assert c.chat.bubbles[-1].text() == "Nothing on today."


def test_pause_from_the_tray_denies_the_waiting_call_and_refuses_new_ones(gui, qtbot, app_paths):
    # A pause ends the turn without asking the model again; the next turn gets the next reply.
    c = gui([WRITE_NOTE, WRITE_NOTE, "Still paused."])
    card = ask_and_wait_card(qtbot, c, "Write hello")
    c.tray.pause_action.trigger()
    wait_turn(qtbot, c)
    assert c.session.paused
    assert decisions(c.session) == [("deny", "pause")]
    assert not (app_paths.home / "Documents" / "note.txt").exists()
    assert card.status.text().startswith("Denied")
    assert c.window.paused_button.isVisible() and c.permissions.pause.isChecked()
    # A new request while paused: the call is refused before any card.
    c.ask("Write hello again")
    wait_turn(qtbot, c)
    assert len(c.cards) == 1
    assert any(e.kind == "refused" for e in c.session.audit.entries())
    # Resume from the status bar.
    qtbot.mouseClick(c.window.paused_button, Qt.MouseButton.LeftButton)
    assert not c.session.paused and not c.tray.pause_action.isChecked() and not c.permissions.pause.isChecked()


def test_pause_checkbox_in_permissions_pauses_everything(gui, qtbot):
    c = gui(["Hi."])
    c.window.tabs.setCurrentWidget(c.permissions)
    qtbot.mouseClick(c.permissions.pause, Qt.MouseButton.LeftButton)
    assert c.session.paused and c.tray.pause_action.isChecked() and c.window.paused_button.isVisible()


def test_notification_click_opens_the_waiting_card(gui, qtbot):
    c = gui([WRITE_NOTE, "Done."])
    c.window.hide()
    card = ask_and_wait_card(qtbot, c, "Write hello")
    c.window.hide()  # the request came from the window; the user hid it before the card arrived
    assert c.tray.icon.toolTip() == "Deskmate: a call waits for your answer"  # the tray shows it too
    c.tray.message_clicked.emit()
    assert c.window.isVisible() and c.window.tabs.currentWidget() is c.chat
    qtbot.waitUntil(lambda: card.approve_button.hasFocus(), timeout=2000)
    qtbot.keyClick(card.approve_button, Qt.Key.Key_Return)
    wait_turn(qtbot, c)
    assert decisions(c.session) == [("approve_once", "user")]
    assert c.tray.icon.toolTip() == "Deskmate"


def test_quitting_with_a_waiting_call_asks_first(gui, qtbot, app_paths):
    c = gui([WRITE_NOTE, "Done."])
    ask_and_wait_card(qtbot, c, "Write hello")
    questions = []
    c.confirm_quit = lambda q: questions.append(q) or False
    assert c.quit() is False and len(questions) == 1 and c.waiting
    c.confirm_quit = lambda q: True
    assert c.quit() is True
    assert not c.busy or c.worker.cancel_flag.is_set()
    assert not (app_paths.home / "Documents" / "note.txt").exists()


def test_closing_the_window_keeps_the_app_in_the_tray_once_noticed(gui, qtbot):
    c = gui(["Hi."])
    c.window.keep_in_tray = True
    c.window.close()
    assert not c.window.isVisible() and c.state.value("tray_notice_shown", type=bool)
    quits = []
    c.window.keep_in_tray = False
    c.window.quit_requested.connect(lambda: quits.append(True))
    c.window.show()
    c.window.close()
    assert quits == [True]


def test_requests_while_busy_are_queued(gui, qtbot):
    c = gui([WRITE_NOTE, "First done.", "Second answer."])
    card = ask_and_wait_card(qtbot, c, "Write hello")
    c.ask("And then?")
    assert list(c.queue) == ["And then?"]
    qtbot.keyClick(card.approve_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not c.busy and not c.queue, timeout=WAIT_MS)
    assert [b.text() for b in c.chat.bubbles][-2:] == ["And then?", "Second answer."]


def test_streamed_words_appear_and_status_bar_shows_memory(gui, qtbot):
    c = gui(["Hello there, nothing to do."])
    c.ask("hi")
    wait_turn(qtbot, c)
    assert c.chat.bubbles[-1].text() == "Hello there, nothing to do."
    # The test process may hold models from other tests: MB or GB, but a real figure.
    assert re.fullmatch(r"Memory: [\d.]+ (MB|GB)", c.window.memory_label.text())
    assert c.window.model_label.text() == "Model: ready"


def test_ctrl_n_starts_a_new_conversation(gui, qtbot):
    c = gui(["First answer.", "Second answer."])
    c.ask("one")
    wait_turn(qtbot, c)
    assert [m.content for m in c.session.history] == ["one", "First answer."]
    qtbot.keyClick(c.chat.input, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert c.session.history == [] and c.chat.bubbles == []
    c.ask("two")
    wait_turn(qtbot, c)
    assert [m.content for m in c.session.model.conversations[-1].messages] == ["two"]


def test_a_failed_turn_is_explained_in_the_chat(gui, qtbot, app_paths):
    c = gui(['call:write_file{"path": "~/Documents/a.txt"'])  # cut off: malformed, never executed
    c.ask("write a")
    wait_turn(qtbot, c)
    notices = [w for w in c.chat.findChildren(type(c.window.model_label)) if w.objectName() == "error"]
    assert notices and "Nothing was run" in notices[-1].text()
    assert not (app_paths.home / "Documents" / "a.txt").exists()
    assert c.chat.send_button.isEnabled()

"""The agent loop end to end: scripted model, real Toolbox over a tmp home, real SQLite, real keyring.

Each decision kind, every refusal gate, and every way a turn can end.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import pytest

from app.agent.approval import ApprovalBroker
from app.agent.backends import EngineModel, ScriptedModel
from app.agent.events import Answer, Decided, Executed, Failed, Proposed, Refused, TextDelta
from app.agent.session import NothingToUndo, build_session
from app.calls import Decision, DecisionKind
from app.errors import ModelMissing
from app.policy.config import ConfigStore
from app.prompt.render import Message

WRITE_NOTE = 'call:write_file{"path": "~/Documents/note.txt", "content": "hello"}'


def write(name: str, content: str, folder: str = "~/Documents") -> str:
    return "call:write_file" + json.dumps({"path": f"{folder}/{name}", "content": content})


class Approver:
    """A front end that answers from a list and remembers what it was asked."""

    def __init__(self, *decisions: Decision):
        self.decisions = list(decisions)
        self.asked = []

    def __call__(self, proposal):
        self.asked.append(proposal)
        return self.decisions.pop(0)


def once() -> Decision:
    return Decision(DecisionKind.APPROVE_ONCE)


def run(session, request, approve):
    return list(session.ask(request, approve))


def kinds(events):
    return [type(e).__name__ for e in events]


def tool_turns(model: ScriptedModel, index: int = -1) -> list[dict]:
    """What the model was shown as tool results in its `index`-th conversation."""
    return [json.loads(m.content) for m in model.conversations[index].messages if m.role == "tool"]


def audit_kinds(session):
    return [e.kind for e in session.audit.entries()]


# -- each decision kind -------------------------------------------------------------

def test_approve_once_runs_and_logs(make_session, app_paths):
    s = make_session([WRITE_NOTE, "I wrote the note."])
    approver = Approver(once())
    events = run(s, "write hello to note.txt", approver)
    assert kinds(events) == ["Proposed", "Decided", "Executed", "TextDelta", "TextDelta", "TextDelta", "TextDelta",
                             "Answer"]
    assert (app_paths.home / "Documents" / "note.txt").read_text().rstrip("\n") == "hello"
    proposal = approver.asked[0]
    assert proposal.call.name == "write_file" and "note.txt" in proposal.summary and proposal.scope
    assert events[-1] == Answer("I wrote the note.")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "I wrote the note."
    assert audit_kinds(s) == ["request", "proposal", "decision", "result", "answer"]
    assert tool_turns(s.model)[0] != {}  # the result went back to the model as a tool turn
    assert s.audit.verify().ok
    # once means once: the same call asks again
    s.model.outputs += [write("again.txt", "again"), "Done."]
    again = Approver(once())
    run(s, "again", again)
    assert len(again.asked) == 1


def test_approve_for_session(make_session, app_paths, ticking_clock):
    s = make_session([WRITE_NOTE, "ok", write("second.txt", "second"), "ok"])
    run(s, "write it", Approver(Decision(DecisionKind.APPROVE_SESSION)))
    nobody = Approver()
    events = run(s, "write it again", nobody)
    assert nobody.asked == []
    decided = next(e for e in events if isinstance(e, Decided))
    assert decided.decision.by == "session" and decided.decision.kind is DecisionKind.APPROVE_SESSION
    assert (app_paths.home / "Documents" / "second.txt").read_text().rstrip("\n") == "second"
    assert ConfigStore(app_paths, ticking_clock).rules() == ()  # a session approval is not saved
    fresh = build_session(app_paths, clock=ticking_clock, model=ScriptedModel([write("third.txt", "3"), "ok"]))
    asked = Approver(once())
    run(fresh, "write it", asked)
    assert len(asked.asked) == 1
    fresh.close()


def test_always_allow_remembered_and_revocable(make_session, app_paths, ticking_clock):
    s = make_session([WRITE_NOTE, "ok"])
    run(s, "write it", Approver(Decision(DecisionKind.ALWAYS)))
    [rule] = ConfigStore(app_paths, ticking_clock).rules()
    assert rule.tool == "write_file" and rule.scope == "~/Documents"
    s.close()
    # a new session (a restart) runs it without asking, citing the rule
    s2 = build_session(app_paths, clock=ticking_clock, model=ScriptedModel([write("hi.txt", "hi"), "ok"]))
    nobody = Approver()
    events = run(s2, "write it", nobody)
    assert nobody.asked == [] and (app_paths.home / "Documents" / "hi.txt").read_text().rstrip("\n") == "hi"
    assert next(e for e in events if isinstance(e, Decided)).decision.by == f"rule:{rule.id}"
    # ...but only in that folder
    s2.model.outputs += ['call:write_file{"path": "~/Downloads/x.txt", "content": "x"}', "ok"]
    other = Approver(once())
    run(s2, "write in downloads", other)
    assert len(other.asked) == 1
    # revoked: it asks again
    s2.config.revoke(rule.id)
    s2.model.outputs += [write("after.txt", "x"), "ok"]
    asked = Approver(Decision(DecisionKind.DENY))
    run(s2, "write it", asked)
    assert len(asked.asked) == 1
    s2.close()


def test_edit_runs_the_edited_arguments(make_session, app_paths):
    s = make_session([WRITE_NOTE, "Done."])
    edited = {"path": "~/Documents/other.txt", "content": "edited"}
    events = run(s, "write hello", Approver(Decision(DecisionKind.EDIT, arguments=edited)))
    assert not (app_paths.home / "Documents" / "note.txt").exists()
    assert (app_paths.home / "Documents" / "other.txt").read_text().rstrip("\n") == "edited"
    executed = next(e for e in events if isinstance(e, Executed))
    assert executed.proposal.call.arguments["content"] == "edited"
    entries = s.audit.entries()
    decision = next(e for e in entries if e.kind == "decision")
    assert decision.body["decision"] == "edit" and decision.body["arguments"] == edited
    assert [e.kind for e in entries].count("proposal") == 2  # the edited call was proposed (validated) again
    assert any(e.body.get("edited_from") for e in entries if e.kind == "proposal")


@pytest.mark.parametrize("bad, words", [
    ({"path": "~/Documents/note.txt", "content": 5}, "content"),  # wrong type
    ({"path": "/etc/deskmate-test.txt", "content": "x"}, "outside"),  # escapes the granted folders
    ({"path": "~/Documents/../../escape.txt", "content": "x"}, "outside"),
    ({"content": "x"}, "path"),  # required argument removed
])
def test_bad_edit_is_refused_not_run(make_session, app_paths, bad, words):
    s = make_session([WRITE_NOTE, "Sorry."])
    events = run(s, "write hello", Approver(Decision(DecisionKind.EDIT, arguments=bad)))
    refused = next(e for e in events if isinstance(e, Refused))
    assert "edited arguments were not accepted" in refused.reason and words in refused.reason.lower()
    assert not any(isinstance(e, Executed) for e in events)
    assert not (app_paths.home / "Documents" / "note.txt").exists()
    assert not (app_paths.home.parent / "escape.txt").exists()
    assert tool_turns(s.model)[0]["ok"] is False
    assert "result" not in audit_kinds(s)


def test_deny_reason_fed_back_to_model(make_session, app_paths):
    s = make_session([WRITE_NOTE, "Understood, I left it alone."])
    events = run(s, "write hello", Approver(Decision(DecisionKind.DENY, reason="not in that folder")))
    assert not (app_paths.home / "Documents" / "note.txt").exists()
    assert not any(isinstance(e, Executed) for e in events)
    assert tool_turns(s.model) == [{"denied": True, "reason": "not in that folder"}]
    assert events[-1] == Answer("Understood, I left it alone.")
    decision = next(e for e in s.audit.entries() if e.kind == "decision")
    assert decision.body == {"decision": "deny", "by": "user", "reason": "not in that folder"}


def test_a_failed_commands_output_reaches_the_model(make_session):
    """The error alone ("exited with code 1") gives the model nothing to explain the failure with."""
    command = f"{sys.executable} -c \"import sys; sys.exit('no such branch: main')\""
    s = make_session(["call:run_command" + json.dumps({"command": command}), "It failed: there is no branch main."])
    events = run(s, "switch to main", Approver(once()))
    (turn,) = tool_turns(s.model)
    assert turn["ok"] is False and "code 1" in turn["error"]
    assert turn["exit_code"] == 1 and "no such branch: main" in turn["stderr"]
    assert events[-1] == Answer("It failed: there is no branch main.")


def test_no_answer_is_a_deny(make_session, app_paths):
    s = make_session([WRITE_NOTE, "Nobody answered, so I did nothing."])
    shown = []
    broker = ApprovalBroker(shown.append, timeout_s=0.05)  # a card nobody clicks
    events = run(s, "write hello", broker)
    assert len(shown) == 1 and broker.pending() == ()
    decided = next(e for e in events if isinstance(e, Decided))
    assert decided.decision.kind is DecisionKind.DENY and decided.decision.by == "timeout"
    assert not (app_paths.home / "Documents" / "note.txt").exists()
    assert tool_turns(s.model)[0]["denied"] is True
    # a front end that returns nothing at all is no approval either
    s.model.outputs += [WRITE_NOTE, "ok"]
    events = run(s, "again", lambda p: None)
    assert next(e for e in events if isinstance(e, Decided)).decision.kind is DecisionKind.DENY
    assert not (app_paths.home / "Documents" / "note.txt").exists()


def test_broker_answer_from_another_thread(make_session, app_paths):
    s = make_session([WRITE_NOTE, "ok"])
    broker = ApprovalBroker(lambda p: threading.Thread(target=broker.answer, args=(p.id, once())).start(),
                            timeout_s=30)
    run(s, "write hello", broker)
    assert (app_paths.home / "Documents" / "note.txt").read_text().rstrip("\n") == "hello"
    assert broker.answer("gone", once()) is False


# -- refusals before the user sees anything -----------------------------------------------

def test_ungranted_tool_refused_before_approval(make_session):
    s = make_session(['call:run_command{"command": "echo hi"}', "I can't run commands."], groups=("calendar",))
    approver = Approver()
    events = run(s, "run echo hi", approver)
    assert approver.asked == []
    assert kinds(events)[0] == "Refused" and "not granted" in events[0].reason
    assert not any(isinstance(e, (Proposed, Executed)) for e in events)
    assert tool_turns(s.model)[0]["ok"] is False
    assert {t.name for t in s.model.conversations[0].tools} == {
        "list_events", "create_event", "update_event", "delete_event", "find_free_time"}  # only granted offered
    assert audit_kinds(s) == ["request", "refused", "answer"]


def test_invalid_arguments_refused_and_fed_back(make_session):
    s = make_session(['call:list_events{"start": "today", "colour": "red"}', "Sorry."])
    approver = Approver()
    events = run(s, "what's on", approver)
    assert approver.asked == [] and isinstance(events[0], Refused) and "colour" in events[0].reason


def test_path_outside_folders_refused(make_session, app_paths):
    secret = app_paths.home / "secret.txt"
    secret.write_text("keep out")
    s = make_session(['call:read_file{"path": "~/secret.txt"}', "I can't."])
    approver = Approver()
    events = run(s, "read my secret", approver)
    assert approver.asked == [] and isinstance(events[0], Refused)
    assert "keep out" not in json.dumps(tool_turns(s.model))


def test_destructive_never_remembered(make_session, app_paths, ticking_clock):
    for name in ("a.txt", "b.txt"):
        (app_paths.home / "Documents" / name).write_text(name)
    s = make_session(['call:delete_path{"path": "~/Documents/a.txt"}', "Deleted.",
                      'call:delete_path{"path": "~/Documents/b.txt"}', "Deleted."])
    events = run(s, "delete a", Approver(Decision(DecisionKind.ALWAYS)))
    decided = next(e for e in events if isinstance(e, Decided))
    assert decided.decision.kind is DecisionKind.APPROVE_ONCE  # 'always' counted once
    assert not (app_paths.home / "Documents" / "a.txt").exists()
    assert ConfigStore(app_paths, ticking_clock).rules() == () and s.policy.session_approvals() == ()
    asked = Approver(Decision(DecisionKind.APPROVE_SESSION))
    run(s, "delete b", asked)
    assert len(asked.asked) == 1 and not asked.asked[0].can_remember


def test_read_tools_auto_per_group(make_session):
    s = make_session(['call:system_status{}', "Your system is fine."], auto_read=("system",))
    nobody = Approver()
    events = run(s, "system status", nobody)
    assert nobody.asked == []
    assert next(e for e in events if isinstance(e, Decided)).decision.by == "auto:system"
    assert next(e for e in events if isinstance(e, Executed)).result.ok


# -- how turns end -----------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ['call:write_file{"path": "~/Documents/x.txt", "content": }',
                                 'call:write_file["~/Documents/x.txt"]',
                                 'call:write_file"just text"'])
def test_malformed_output_is_a_logged_error_never_run(make_session, app_paths, raw):
    s = make_session([raw])
    approver = Approver()
    events = run(s, "write x", approver)
    assert kinds(events) == ["Failed"] and "Nothing was run" in events[0].message
    assert approver.asked == [] and not (app_paths.home / "Documents" / "x.txt").exists()
    error = s.audit.entries()[-1]
    assert error.kind == "error" and error.body["raw"] == raw


def test_step_bound(make_session):
    s = make_session(['call:list_events{"start": "today"}'] * 10, max_steps=3, auto_read=("calendar",))
    events = run(s, "loop forever", Approver())
    assert isinstance(events[-1], Failed) and "Stopped after 3 model steps" in events[-1].message
    assert len(s.model.conversations) == 3 and len(s.model.outputs) == 7


def test_model_error_ends_turn_in_words(make_session):
    s = make_session([])
    events = run(s, "hello", Approver())
    assert kinds(events) == ["Failed"] and "no more replies" in events[0].message
    assert s.audit.entries()[-1].kind == "error"


def test_cancel(make_session):
    s = make_session(["Hello there."])
    cancel = threading.Event()
    cancel.set()
    events = list(s.ask("hi", Approver(), cancel=cancel))
    assert kinds(events) == ["Failed"] and "Cancelled" in events[0].message
    assert len(s.model.conversations) == 0


def test_call_text_is_not_streamed(make_session):
    s = make_session(['call:list_events{"start": "today"}', "Nothing today."])
    events = run(s, "today?", Approver(once()))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Nothing today."


def test_history_carries_words_between_turns(make_session):
    s = make_session(["Hi! How can I help?", "You said hello."])
    run(s, "hello", Approver())
    run(s, "what did I say?", Approver())
    assert s.model.conversations[1].messages[:2] == (Message("user", "hello"), Message("assistant", "Hi! How can I help?"))


# -- pause ----------------------------------------------------------------------------------------

def test_pause_denies_pending_and_refuses_new_calls(make_session, app_paths):
    s = make_session([WRITE_NOTE, 'call:list_events{"start": "today"}'])
    shown = threading.Event()
    broker = ApprovalBroker(lambda p: shown.set(), timeout_s=60)
    s.on_pause(broker.deny_all)
    events = []
    worker = threading.Thread(target=lambda: events.extend(s.ask("write hello", broker)))
    worker.start()
    assert shown.wait(30)
    s.pause()  # while the card is open
    worker.join(30)
    assert not worker.is_alive()
    decided = next(e for e in events if isinstance(e, Decided))
    assert decided.decision.kind is DecisionKind.DENY and decided.decision.by == "pause"
    assert isinstance(events[-1], Failed) and "paused" in events[-1].message
    assert not (app_paths.home / "Documents" / "note.txt").exists()
    # new calls are refused while paused, before anyone is asked
    approver = Approver()
    events = run(s, "today?", approver)
    assert approver.asked == [] and isinstance(events[0], Refused) and "paused" in events[0].reason
    s.resume()
    s.model.outputs += [WRITE_NOTE, "ok"]
    run(s, "write hello", Approver(once()))
    assert (app_paths.home / "Documents" / "note.txt").exists()


def test_pause_while_the_user_answers(make_session, app_paths):
    s = make_session([WRITE_NOTE])

    def approve_but_pause_first(proposal):
        s.pause()
        return once()

    events = run(s, "write hello", approve_but_pause_first)
    assert next(e for e in events if isinstance(e, Decided)).decision.by == "pause"
    assert not (app_paths.home / "Documents" / "note.txt").exists()


# -- undo ---------------------------------------------------------------------------------------------

def test_undo_overwrite_from_the_log(make_session, app_paths):
    note = app_paths.home / "Documents" / "note.txt"
    note.write_text("original")
    s = make_session(['call:write_file{"path": "~/Documents/note.txt", "content": "new", "mode": "overwrite"}', "ok"])
    run(s, "overwrite note", Approver(once()))
    assert note.read_text().rstrip("\n") == "new"
    [action] = s.undoable()
    assert action.tool == "write_file"
    undone, result = s.undo()
    assert result.ok, result.error
    assert undone == action and note.read_text().rstrip("\n") == "original"
    assert s.audit.entries()[-1].kind == "undo" and s.undoable() == []
    with pytest.raises(NothingToUndo):
        s.undo()
    assert s.audit.verify().ok


# -- composition -----------------------------------------------------------------------------------------

def test_session_without_model_names_the_build_command(app_paths, ticking_clock, monkeypatch):
    monkeypatch.delenv("DESKMATE_MODELS", raising=False)
    s = build_session(app_paths, clock=ticking_clock)
    assert s.model is None and "deskmate model build" in s.model_problem
    assert s.model_problem in s.warnings
    with pytest.raises(ModelMissing, match="deskmate model build"):
        list(s.ask("hi", Approver()))
    s.close()
    with pytest.raises(ModelMissing, match="deskmate model build"):
        EngineModel(app_paths.models / "nope")


def test_session_with_no_keyring_keeps_working(app_paths, ticking_clock, no_keyring):
    s = build_session(app_paths, clock=ticking_clock, model=ScriptedModel([WRITE_NOTE, "ok"]))
    assert any("No keyring" in w for w in s.warnings)
    run(s, "write hello", Approver(once()))
    assert (app_paths.home / "Documents" / "note.txt").exists()
    assert s.audit.verify().ok and s.audit.verify().unkeyed == len(s.audit.entries())
    s.close()


def test_session_with_corrupt_config_warns_and_works(app_paths, ticking_clock):
    app_paths.config_file.write_text("{oops")
    s = build_session(app_paths, clock=ticking_clock, model=ScriptedModel(['call:list_events{"start": "today"}', "ok"]))
    assert any("could not be read" in w for w in s.warnings)
    events = run(s, "today?", Approver(once()))
    assert isinstance(events[-1], Answer)
    s.close()


def test_folders_granted_in_settings_apply_to_the_next_turn(make_session, app_paths):
    (app_paths.home / "Projects").mkdir()
    s = make_session([write("plan.txt", "v1", "~/Projects"), "Can't.", write("plan.txt", "v1", "~/Projects"), "Done."])
    events = run(s, "write the plan", Approver())
    assert isinstance(events[0], Refused)
    s.config.set_grants(folders=("~/Documents", "~/Projects"))  # what the GUI's settings page does
    run(s, "write the plan", Approver(once()))
    assert (app_paths.home / "Projects" / "plan.txt").exists()


def test_pause_kills_a_running_command(make_session):
    import dataclasses

    import psutil

    from app.tools.base import ToolContext

    if "cancel" not in {f.name for f in dataclasses.fields(ToolContext)}:
        pytest.skip("app.tools.base.ToolContext has no `cancel` yet (requested from the tools)")
    marker = "deskmate-pause-test-sleeper"
    command = f"{sys.executable} -c 'import time; time.sleep(120)' {marker}"
    s = make_session(["call:run_command" + json.dumps({"command": command, "timeout_s": 300}), "It was stopped."])
    events = []
    worker = threading.Thread(target=lambda: events.extend(s.ask("sleep", Approver(once()))))
    worker.start()

    def sleeper():
        for child in psutil.Process().children(recursive=True):
            try:
                if marker in " ".join(child.cmdline()):
                    return child
            except psutil.Error:
                pass
        return None

    child = None
    while child is None and worker.is_alive():
        child = sleeper()
        time.sleep(0.05)
    assert child is not None, command
    s.pause()
    worker.join(60)
    assert not worker.is_alive()
    executed = next(e for e in events if isinstance(e, Executed))
    assert not executed.result.ok and "paused" in executed.result.error
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE


def test_cancel_between_calls_runs_no_more(make_session, app_paths):
    s = make_session([write("one.txt", "1") + "\n" + write("two.txt", "2")])
    cancel = threading.Event()

    def approve_then_stop(proposal):
        cancel.set()  # the user pressed Stop while answering the first card
        return once()

    events = list(s.ask("write both", approve_then_stop, cancel=cancel))
    assert (app_paths.home / "Documents" / "one.txt").exists()
    assert not (app_paths.home / "Documents" / "two.txt").exists()
    assert isinstance(events[-1], Failed) and "Cancelled" in events[-1].message

"""Nothing leaves the machine: full agent turns over every tool group open no network connection.

The watcher records every attempt to connect, send or resolve a name, and refuses it.
It wraps the socket module, not our code, so anything in the core that tried would show.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from app.agent.events import Answer, Executed
from app.calls import Decision, DecisionKind


@pytest.fixture
def network_watch(monkeypatch):
    attempts: list[str] = []

    def refuse(what):
        def blocked(*args, **kwargs):
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise OSError(f"network blocked by test: {what}")
        return blocked

    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.{name}"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, refuse(name))
    return attempts


def _call(name, **args):
    return f"call:{name}{json.dumps(args)}"


def test_watcher_sees_an_attempt(network_watch):
    """The watcher itself works: a real connection attempt is recorded and refused."""
    with pytest.raises(OSError):
        socket.create_connection(("example.com", 80), timeout=1)
    with pytest.raises(OSError):
        socket.socket().connect(("127.0.0.1", 9))
    assert len(network_watch) == 2


def test_full_turns_over_every_group_open_no_connection(make_session, app_paths, network_watch):
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    opened = []
    docs = app_paths.home / "Documents"
    (docs / "report.txt").write_text("quarterly numbers")
    turns = [
        ("files", [_call("list_directory", path="~/Documents"),
                   _call("search_files", query="report"),
                   _call("read_file", path="~/Documents/report.txt"),
                   _call("file_info", path="~/Documents/report.txt"),
                   _call("create_folder", path="~/Documents/archive"),
                   _call("write_file", path="~/Documents/todo.txt", content="milk"),
                   ]),
        ("files", [_call("copy_path", source="~/Documents/todo.txt", destination="~/Documents/archive/todo.txt"),
                   _call("move_path", source="~/Documents/report.txt", destination="~/Downloads/report.txt"),
                   _call("delete_path", path="~/Documents/todo.txt"),
                   _call("open_path", path="~/Downloads/report.txt")]),
        ("calendar", [_call("create_event", title="Lunch with Sam", start="tomorrow at 12:30"),
                      _call("list_events", start="tomorrow"),
                      _call("update_event", event="Lunch with Sam", new_location="Cafe"),
                      _call("find_free_time", day="tomorrow"),
                      _call("delete_event", event="Lunch with Sam")]),
        ("shell", [_call("run_command", command="echo offline")]),
        ("system", [_call("system_status"), _call("list_processes", sort_by="memory", limit=5),
                    _call("kill_process", pid=victim.pid)]),
    ]
    try:
        replies = []
        for _, calls in turns:
            replies += ["\n".join(calls), "Done."]
        session = make_session(replies, opener=opened.append)
        approve = lambda proposal: Decision(DecisionKind.APPROVE_ONCE)  # noqa: E731
        ran = []
        for group, calls in turns:
            events = list(session.ask(f"do the {group} things", approve))
            assert isinstance(events[-1], Answer), events[-1]
            ran += [e for e in events if isinstance(e, Executed)]
        failed = [(e.proposal.call.name, e.result.error) for e in ran if not e.result.ok]
        assert failed == []
        assert len(ran) == sum(len(c) for _, c in turns) == 19  # every tool of the catalog ran for real
        assert (app_paths.home / "Downloads" / "report.txt").exists() and opened
        assert victim.wait(timeout=30) is not None
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    assert network_watch == []


@pytest.mark.slow
def test_engine_turn_opens_no_connection(tiny_model_dir, app_paths, ticking_clock, network_watch):
    """The same turn through the real ONNX engine (tiny random weights, real tokenizer and grammar)."""
    from app.agent.backends import EngineModel
    from app.agent.events import Failed
    from app.agent.session import build_session

    model = EngineModel(tiny_model_dir, threads=1)
    session = build_session(app_paths, clock=ticking_clock, model=model, max_steps=2)
    session.config.set_grants(groups=["files", "calendar", "shell", "system"], folders=["~/Documents"])
    deny = lambda proposal: Decision(DecisionKind.DENY, reason="privacy test")  # noqa: E731  random calls never run
    events = list(session.ask("what's on my calendar tomorrow?", deny))
    session.close()
    assert isinstance(events[-1], (Answer, Failed))
    assert not any(isinstance(e, Executed) for e in events)
    assert model.loaded and model.last_output is not None and model.last_output.new_tokens > 0
    assert network_watch == []

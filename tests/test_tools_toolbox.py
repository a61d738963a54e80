"""The Toolbox: the catalog covered, proposals with everything resolved, runs that never raise."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.calls import Risk, ToolCall, ToolResult, UndoRecord
from app.errors import ToolRefused
from app.tools.catalog import ArgumentError, Catalog
from app.tools.toolbox import TOOLS, Tool, ToolContext, Toolbox


def test_every_catalog_tool_is_implemented() -> None:
    catalog = Catalog.builtin()
    assert len(catalog) == 19
    assert sorted(TOOLS) == sorted(spec.name for spec in catalog)


def test_a_catalog_tool_without_implementation_is_refused_at_start(tool_ctx) -> None:
    with pytest.raises(ValueError, match="No implementation"):
        Toolbox(tool_ctx, tools={k: v for k, v in TOOLS.items() if k != "kill_process"})


def test_proposal_carries_group_risk_scope_and_validated_arguments(toolbox, app_paths) -> None:
    (app_paths.home / "Documents" / "a.txt").write_text("x")
    proposal = toolbox.propose(ToolCall("read_file", {"path": "~/Documents/a.txt"}))
    assert (proposal.group, proposal.risk, proposal.scope) == ("files", Risk.READ, "~/Documents")
    assert proposal.summary == "Read ~/Documents/a.txt"
    coerced = toolbox.propose(ToolCall("run_command", {"command": "ls", "timeout_s": "45"}))
    assert coerced.call.arguments == {"command": "ls", "timeout_s": 45}
    assert coerced.group == "shell" and coerced.scope == ""


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (ToolCall("format_disk", {}), "no tool called"),
        (ToolCall("read_file", {}), "'path' is a required property"),
        (ToolCall("read_file", {"path": "~/x", "verbose": True}), "no argument 'verbose'"),
        (ToolCall("list_processes", {"sort_by": "name"}), "is not one of"),
        (ToolCall("read_file", {"path": "~/Documents/missing.txt"}), "does not exist"),
    ],
)
def test_bad_calls_are_argument_errors(toolbox, call: ToolCall, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        toolbox.propose(call)
    result = toolbox.run(call)
    assert not result.ok and message.strip("'") .split("'")[0] in result.error


@pytest.mark.parametrize("path", ["/etc/passwd", "~/Documents/../../etc/passwd", "~root/.profile", "~/.ssh/id_rsa"])
def test_escapes_are_refused_at_proposal_and_run(toolbox, path: str) -> None:
    with pytest.raises(ToolRefused):
        toolbox.propose(ToolCall("read_file", {"path": path}))
    result = toolbox.run(ToolCall("delete_path", {"path": path}))
    assert not result.ok and result.undo is None


def test_run_checks_again_after_approval(toolbox, app_paths, outside: Path) -> None:
    """A folder swapped for a link to elsewhere between the card and the run is caught."""
    folder = app_paths.home / "Documents" / "work"
    folder.mkdir()
    (folder / "secret.txt").write_text("mine")
    proposal = toolbox.propose(ToolCall("delete_path", {"path": "~/Documents/work/secret.txt"}))
    (folder / "secret.txt").unlink()
    folder.rmdir()
    folder.symlink_to(outside)
    result = toolbox.run(proposal.call)
    assert not result.ok and "outside" in result.error
    assert (outside / "secret.txt").read_text() == "top secret\n"


def test_summaries_from_the_issue(toolbox, app_paths) -> None:
    (app_paths.home / "Downloads" / "a.pdf").write_text("x")
    assert toolbox.propose(ToolCall("create_event", {"title": "Lunch with Sam", "start": "tomorrow at 12:30"})).summary \
        == "Create event 'Lunch with Sam' Fri 27 Nov 12:30–13:30"
    assert toolbox.propose(ToolCall("move_path", {"source": "~/Downloads/a.pdf", "destination": "~/Documents/a.pdf"})).summary \
        == "Move ~/Downloads/a.pdf → ~/Documents/a.pdf"
    assert toolbox.propose(ToolCall("run_command", {"command": "du -sh ~"})).summary == "Run `du -sh ~` in ~"


def test_run_never_raises_and_times_itself(tool_ctx) -> None:
    def broken(ctx, **_):
        raise RuntimeError("boom")

    tools = dict(TOOLS, system_status=Tool(broken, TOOLS["system_status"].describe))
    result = Toolbox(tool_ctx, tools=tools).run(ToolCall("system_status", {}))
    assert not result.ok and "failed unexpectedly (RuntimeError: boom)" in result.error
    ok = Toolbox(tool_ctx).run(ToolCall("list_events", {"start": "today"}))
    assert isinstance(ok, ToolResult) and ok.ok and ok.duration_s >= 0


def test_undo_of_unknown_or_broken_records(toolbox) -> None:
    assert "does not know how to undo" in toolbox.undo(UndoRecord("reformat", {})).error
    assert "missing" in toolbox.undo(UndoRecord("move_back", {})).error


def test_nothing_granted_means_no_file_tool_runs(app_paths, fixed_now) -> None:
    box = Toolbox(ToolContext(app_paths, (), lambda: fixed_now))
    result = box.run(ToolCall("list_directory", {"path": "~"}))
    assert not result.ok and "no folders are granted" in result.error

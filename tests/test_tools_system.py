"""System tools against this test's own child processes only."""

from __future__ import annotations

import os
import uuid

import psutil
import pytest

from app.calls import ToolCall
from app.tools.catalog import ArgumentError


def call(toolbox, tool: str, **arguments):
    return toolbox.run(ToolCall(tool, arguments))


def unique_name() -> str:
    return "dmk" + uuid.uuid4().hex[:8]  # short enough for the kernel's 15-character process name


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_system_status(toolbox) -> None:
    result = call(toolbox, "system_status")
    assert result.ok
    out = result.output
    assert 0 <= out["cpu_percent"] <= 100 and out["cpu_count"] >= 1
    assert out["memory"]["total_gb"] > 0 and 0 <= out["memory"]["percent"] <= 100
    assert out["disk"]["path"] == "~" and out["disk"]["total_gb"] > 0
    assert out["uptime"].endswith("min")
    assert "battery" not in out or 0 <= out["battery"]["percent"] <= 100
    assert result.text.startswith("CPU ")


def test_list_processes_sorted_and_filtered(toolbox, spawn) -> None:
    name = unique_name()
    child = spawn.named(name)
    found = call(toolbox, "list_processes", name=name)
    assert found.ok and [p["pid"] for p in found.output["processes"]] == [child.pid]
    assert found.output["processes"][0]["name"] == name
    top = call(toolbox, "list_processes", sort_by="memory", limit=5)
    memory = [p["memory_mb"] for p in top.output["processes"]]
    assert len(memory) == 5 and memory == sorted(memory, reverse=True)
    assert "between 1 and" in call(toolbox, "list_processes", limit=0).error


def test_kill_by_pid(toolbox, spawn) -> None:
    child = spawn.named(unique_name())
    proposal = toolbox.propose(ToolCall("kill_process", {"pid": child.pid}))
    assert proposal.summary.startswith(f"Stop process {child.pid} (dmk") and str(child.pid) in proposal.preview
    result = toolbox.run(proposal.call)
    assert result.ok, result.error
    assert not alive(child.pid)


def test_kill_by_unique_name(toolbox, spawn) -> None:
    name = unique_name()
    child = spawn.named(name)
    result = call(toolbox, "kill_process", name=name)
    assert result.ok and result.output["pid"] == child.pid
    assert not alive(child.pid)


def test_several_matches_are_listed_and_nothing_is_killed(toolbox, spawn) -> None:
    name = unique_name()
    first, second = spawn.named(name), spawn.named(name)
    proposal = toolbox.propose(ToolCall("kill_process", {"name": name}))
    assert "2 match" in proposal.summary and "nothing will be stopped" in proposal.summary
    assert str(first.pid) in proposal.preview and str(second.pid) in proposal.preview
    result = toolbox.run(proposal.call)
    assert not result.ok and "Say which one by its pid" in result.error
    assert str(first.pid) in result.error and str(second.pid) in result.error
    assert alive(first.pid) and alive(second.pid)
    assert call(toolbox, "kill_process", pid=second.pid).ok
    assert alive(first.pid) and not alive(second.pid)


def test_never_kills_itself_or_init(toolbox) -> None:
    own = call(toolbox, "kill_process", pid=os.getpid())
    assert not own.ok and "Deskmate itself" in own.error
    parent = call(toolbox, "kill_process", pid=os.getppid())
    # A run started detached (`nohup pytest &`) has init as its parent, which the init rule refuses first.
    expected = "first process (init)" if os.getppid() == 1 else "Deskmate runs inside of"
    assert not parent.ok and expected in parent.error
    init = call(toolbox, "kill_process", pid=1)
    assert not init.ok and ("init" in init.error or "runs inside of" in init.error)
    assert alive(os.getpid()) and alive(1)


def test_bad_targets(toolbox, spawn) -> None:
    free_pid = next(p for p in range(4_000_000, 4_100_000) if not psutil.pid_exists(p))
    assert f"No process with pid {free_pid}" in call(toolbox, "kill_process", pid=free_pid).error
    assert "No running process is called" in call(toolbox, "kill_process", name=unique_name()).error
    child = spawn.named(unique_name())
    mismatch = call(toolbox, "kill_process", pid=child.pid, name="firefox")
    assert not mismatch.ok and "not 'firefox'" in mismatch.error and alive(child.pid)
    with pytest.raises(ArgumentError, match="Say which process"):
        toolbox.propose(ToolCall("kill_process", {}))

"""run_command with real child processes: output, folders, caps, and a time limit that kills the whole tree."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from app.calls import ToolCall
from app.tools import shell


def call(toolbox, **arguments):
    return toolbox.run(ToolCall("run_command", arguments))


def gone(pid: int) -> bool:
    """Dead, or a zombie nobody has reaped yet (it runs nothing any more)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def pids_in(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("git status", False),
        ("git commit -m 'weekly notes'", False),
        ("npm run build", False),
        ("du -sh ~", True),
        ("ls *.txt", True),
        ("find . -name '*.jpg' | wc -l", True),
        ("git add -A && git commit -m x", True),
        ("echo $HOME", True),
        ("echo hi > out.txt", True),
        ("FOO=1 env", True),
        ("cd src", True),
        ("echo 'unbalanced", True),
    ],
)
def test_needs_shell(command: str, expected: bool) -> None:
    assert shell.needs_shell(command) is expected


def test_plain_command_runs_without_a_shell(toolbox) -> None:
    result = call(toolbox, command="echo hello   world")
    assert result.ok and result.output["stdout"] == "hello world\n" and result.output["exit_code"] == 0
    quoted = call(toolbox, command="printf %s 'two words'")
    assert quoted.output["stdout"] == "two words"


def test_default_folder_is_home_and_tilde_is_that_home(toolbox, app_paths) -> None:
    real_home = os.path.realpath(app_paths.home)
    assert call(toolbox, command="pwd").output["stdout"].strip() == real_home
    assert call(toolbox, command="echo ~").output["stdout"].strip() == str(app_paths.home)
    docs = call(toolbox, command="pwd", cwd="~/Documents")
    assert docs.output["stdout"].strip() == os.path.join(real_home, "Documents") and docs.output["cwd"] == "~/Documents"


def test_proposal_shows_command_and_folder(toolbox) -> None:
    proposal = toolbox.propose(ToolCall("run_command", {"command": "du -sh ~"}))
    assert proposal.summary == "Run `du -sh ~` in ~" and proposal.risk.value == "execute"
    assert "$ du -sh ~" in proposal.preview and "through the shell" in proposal.preview
    direct = toolbox.propose(ToolCall("run_command", {"command": "git status", "cwd": "~/Documents", "timeout_s": 5}))
    assert direct.summary == "Run `git status` in ~/Documents"
    assert "without a shell" in direct.preview and "after 5 s" in direct.preview


def test_missing_folder_unknown_program_and_failure(toolbox) -> None:
    assert "does not exist" in call(toolbox, command="ls", cwd="~/nowhere").error
    assert "no program called 'surely-not-a-program-xyz'" in call(toolbox, command="surely-not-a-program-xyz").error
    failed = call(toolbox, command="ls /surely/not/here")
    assert not failed.ok and failed.output["exit_code"] != 0 and "exited with code" in failed.error
    assert failed.output["stderr"]
    assert "between 1 and" in call(toolbox, command="ls", timeout_s=0).error
    assert "No command" in call(toolbox, command="  ").error


def test_no_stdin(toolbox) -> None:
    result = call(toolbox, command="cat", timeout_s=20)  # would wait forever for a keyboard
    assert result.ok and not result.output["timed_out"] and result.output["stdout"] == ""


def test_output_is_capped_to_its_tail(toolbox) -> None:
    result = call(toolbox, command="seq 1 200000")
    out = result.output["stdout"]
    assert result.ok and result.output["truncated"]
    assert len(out) <= shell.MAX_OUTPUT_CHARS and out.endswith("199999\n200000\n")


def test_hanging_command_is_killed_on_time(toolbox, tmp_path: Path, python_exe: str) -> None:
    pidfile = tmp_path / "pid"
    script = tmp_path / "hang.py"
    script.write_text("import os, sys, time\nopen(sys.argv[1], 'w').write(str(os.getpid()))\ntime.sleep(60)\n")
    result = call(toolbox, command=f"{python_exe} {script} {pidfile}", timeout_s=2)
    assert not result.ok and result.output["timed_out"]
    assert "longer than 2 s" in result.error and "every process it started" in result.error
    assert gone(pids_in(pidfile)[0])


def test_pipeline_and_its_children_are_all_killed(toolbox, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    command = (f"sleep 61 | sleep 62 & echo $! > {pids}; "
               f"setsid sleep 63 & echo $! >> {pids}; "  # its own process group: found as a descendant
               f"sh -c 'sleep 64 & echo $! >> {pids}; wait' & "
               f"echo $$ >> {pids}; wait")
    result = call(toolbox, command=command, timeout_s=2)
    assert result.output["timed_out"]
    found = pids_in(pids)
    assert len(found) == 4
    assert all(gone(pid) for pid in found), [p for p in found if not gone(p)]


def test_leftover_background_processes_are_stopped(toolbox, tmp_path: Path) -> None:
    pidfile = tmp_path / "bg"
    result = call(toolbox, command=f"sleep 45 & echo $! > {pidfile}; echo started", timeout_s=20)
    assert result.ok and result.output["stdout"] == "started\n" and not result.output["timed_out"]
    assert gone(pids_in(pidfile)[0])


def test_kill_tree_of_a_spawned_child(spawn) -> None:
    proc = spawn(["sh", "-c", "sleep 70 & sleep 71 & wait"], start_new_session=True)
    parent = psutil.Process(proc.pid)
    for _ in range(50):
        if len(parent.children()) == 2:
            break
        psutil.wait_procs([], timeout=0.1)
    children = [c.pid for c in parent.children()]
    assert len(children) == 2
    shell.kill_tree(proc.pid)
    proc.wait(timeout=10)
    assert all(gone(pid) for pid in children)


def test_cancel_stops_a_running_command_and_its_tree(tool_ctx, tmp_path: Path) -> None:
    import dataclasses
    import threading

    from app.tools.toolbox import Toolbox

    cancel = threading.Event()
    box = Toolbox(dataclasses.replace(tool_ctx, cancel=cancel))
    pids = tmp_path / "pids"
    results = []
    worker = threading.Thread(target=lambda: results.append(
        box.run(ToolCall("run_command", {"command": f"sleep 90 & echo $! > {pids}; wait", "timeout_s": 300}))))
    worker.start()
    while not (pids.exists() and pids.read_text().strip()):
        worker.join(0.05)
    cancel.set()
    worker.join(30)
    assert not worker.is_alive()
    [result] = results
    assert not result.ok and "paused" in result.error and not result.output["timed_out"]
    assert gone(pids_in(pids)[0])

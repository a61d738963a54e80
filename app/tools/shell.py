"""run_command: one command, in a folder, with a time limit that stops everything it started.

Decisions:
- No shell unless the command needs one: a plain command ("git status", quotes
  included) is split with shlex and run directly; pipes, redirects, globs, `&&`,
  `$VAR`, `~`, `VAR=x cmd` and shell builtins (cd, export...) go through `/bin/sh -c`.
  The approval card shows the exact text either way, and which of the two it is.
- The working folder defaults to the home folder; a given one must exist. It is not
  limited to the granted folders: the command itself can reach anything the user
  can, which is why run_command always asks and shows the command and folder.
- `~` in a command means the same home folder the card shows (HOME is set to it).
- No standard input (DEVNULL), so nothing waits for a keyboard. Output is capped:
  the last few thousand characters of each stream come back.
- The command runs in its own session (process group). When the time runs out, or
  ToolContext.cancel is set ("Pause all tools"), the whole tree is killed: every descendant psutil finds, and the process group. When
  the command ends on its own, leftovers still holding its output (`sleep 99 &`)
  are stopped the same way: a command's run ends when the command does.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from app.calls import ToolResult
from app.tools.base import Description, ToolContext, ToolFailed

DEFAULT_TIMEOUT_S = 30
MAX_TIMEOUT_S = 3600
MAX_OUTPUT_CHARS = 4000  # per stream, the tail, back to the model
KEEP_BYTES = 64 * 1024  # per stream, kept while the command runs
SHELL_CHARS = frozenset("|&;<>()$`*?[]{}\n#")
SHELL_BUILTINS = frozenset({
    "cd", "export", "source", ".", "alias", "unalias", "set", "unset", "ulimit", "umask", "exec", "eval",
    "type", "command", "wait", "jobs", "fg", "bg", "trap", "read", "shift", "pushd", "popd", "exit",
})
POSIX = os.name == "posix"


def needs_shell(command: str) -> bool:
    """Whether `command` uses anything only a shell understands."""
    if any(c in SHELL_CHARS for c in command):
        return True
    try:
        words = shlex.split(command)
    except ValueError:
        return True  # unbalanced quotes: let the shell report it in its own words
    if not words:
        return False
    if "=" in words[0] and not words[0].startswith("="):
        return True  # VAR=value command
    return words[0] in SHELL_BUILTINS or any(w.startswith("~") for w in words)


def _argv(command: str) -> list[str]:
    if needs_shell(command):
        return ["/bin/sh", "-c", command] if POSIX else ["cmd.exe", "/c", command]
    return shlex.split(command)


def _folder(ctx: ToolContext, cwd: str | None) -> Path:
    folder = ctx.confinement.expand(cwd) if cwd and cwd.strip() else ctx.confinement.expand("~")
    if not folder.exists():
        raise ToolFailed(f"The folder {ctx.confinement.display(folder)} does not exist.")
    if not folder.is_dir():
        raise ToolFailed(f"{ctx.confinement.display(folder)} is a file, not a folder to run a command in.")
    return folder


def _timeout(timeout_s: int | None) -> int:
    value = DEFAULT_TIMEOUT_S if timeout_s is None else int(timeout_s)
    if not 1 <= value <= MAX_TIMEOUT_S:
        raise ToolFailed(f"timeout_s must be between 1 and {MAX_TIMEOUT_S} seconds.")
    return value


def _check_command(command: str) -> None:
    if not command.strip():
        raise ToolFailed("No command was given.")
    if "\0" in command:
        raise ToolFailed("The command contains a NUL character.")


# ---------------------------------------------------------------- output capture


@dataclass
class _Tail:
    """Keeps the last KEEP_BYTES of a stream and counts all of it."""

    chunks: list[bytes] = field(default_factory=list)
    kept: int = 0
    total: int = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        self.chunks.append(data)
        self.kept += len(data)
        while self.kept - len(self.chunks[0]) >= KEEP_BYTES:
            self.kept -= len(self.chunks.pop(0))

    def text(self) -> tuple[str, bool]:
        data = b"".join(self.chunks)
        text = data.decode("utf-8", "replace")
        cut = len(text) > MAX_OUTPUT_CHARS or self.total > len(data)
        return (text[-MAX_OUTPUT_CHARS:] if len(text) > MAX_OUTPUT_CHARS else text), cut


def _pump(stream, tail: _Tail) -> None:
    try:
        for block in iter(lambda: stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536), b""):
            tail.add(block)
    except (OSError, ValueError):
        pass
    finally:
        try:
            stream.close()
        except OSError:
            pass


# ---------------------------------------------------------------- stopping a tree


def kill_tree(pid: int, *, group: bool = True) -> None:
    """Kill process `pid`, every descendant psutil can see, and (POSIX) its process group."""
    try:
        root = psutil.Process(pid)
        family = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        family = []
    if POSIX and group:
        try:
            os.killpg(pid, signal.SIGKILL)  # the command runs as its own session: pgid == pid
        except (ProcessLookupError, PermissionError):
            pass
    for proc in family:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=5)


def _wait(proc: subprocess.Popen, limit: float, cancel: threading.Event | None) -> int | None:
    """The exit code, or None when the time ran out or `cancel` was set first."""
    if cancel is None:
        try:
            return proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            return None
    deadline = time.monotonic() + limit
    while not cancel.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            return proc.wait(timeout=min(0.1, left))
        except subprocess.TimeoutExpired:
            continue
    return None


# ---------------------------------------------------------------- the tool


def describe_run_command(ctx: ToolContext, command: str, cwd: str | None = None,
                         timeout_s: int | None = None) -> Description:
    _check_command(command)
    folder = _folder(ctx, cwd)
    limit = _timeout(timeout_s)
    shown = ctx.confinement.display(folder)
    how = "through the shell (/bin/sh -c)" if needs_shell(command) and POSIX else "directly, without a shell"
    preview = "\n".join([
        f"$ {command}",
        f"Folder: {shown}" + (f" ({folder})" if shown != str(folder) else ""),
        f"Runs {how}; stopped after {limit} s with everything it started.",
    ])
    return Description(f"Run `{command}` in {shown}", preview)


def run_command(ctx: ToolContext, command: str, cwd: str | None = None, timeout_s: int | None = None) -> ToolResult:
    _check_command(command)
    folder = _folder(ctx, cwd)
    limit = _timeout(timeout_s)
    argv = _argv(command)
    env = dict(os.environ, HOME=str(ctx.paths.home), PAGER="cat", GIT_PAGER="cat", GIT_TERMINAL_PROMPT="0")
    try:
        proc = subprocess.Popen(
            argv, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=POSIX,
            creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if not POSIX else 0,
        )
    except FileNotFoundError:
        raise ToolFailed(f"There is no program called '{argv[0]}' on this computer (or it is not on the PATH).") from None
    except PermissionError:
        raise ToolFailed(f"'{argv[0]}' cannot be run: permission denied.") from None
    out, err = _Tail(), _Tail()
    readers = [threading.Thread(target=_pump, args=(proc.stdout, out), daemon=True),
               threading.Thread(target=_pump, args=(proc.stderr, err), daemon=True)]
    for reader in readers:
        reader.start()
    started = time.monotonic()
    timed_out = cancelled = False
    try:
        code = _wait(proc, limit, ctx.cancel)
        if code is None:
            cancelled = ctx.cancel is not None and ctx.cancel.is_set()
            timed_out = not cancelled
            kill_tree(proc.pid)
            code = proc.wait()
    finally:
        if proc.poll() is None:  # interrupted (KeyboardInterrupt...): never leave the tree behind
            kill_tree(proc.pid)
    for reader in readers:
        reader.join(timeout=1.0)
    if any(r.is_alive() for r in readers):  # leftovers still hold the output open
        kill_tree(proc.pid)
        for reader in readers:
            reader.join(timeout=5.0)
    stdout, cut_out = out.text()
    stderr, cut_err = err.text()
    elapsed = time.monotonic() - started
    output = {
        "command": command, "cwd": ctx.confinement.display(folder), "exit_code": code,
        "stdout": stdout, "stderr": stderr, "timed_out": timed_out, "truncated": cut_out or cut_err,
    }
    if cancelled:
        error = "Stopped: all tools were paused. The command and every process it started were ended."
        return ToolResult(ok=False, output=output, text=f"Stopped `{command}` (paused)", error=error)
    if timed_out:
        error = f"The command ran longer than {limit} s and was stopped, with every process it started."
        return ToolResult(ok=False, output=output, text=f"Stopped `{command}` after {limit} s", error=error)
    if code != 0:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        error = f"The command exited with code {code}" + (f": {last}" if last else ".")
        return ToolResult(ok=False, output=output, text=f"`{command}` exited with code {code}", error=error)
    return ToolResult(ok=True, output=output, text=f"Ran `{command}` ({elapsed:.1f} s)")

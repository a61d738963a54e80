"""The system tools: status, processes, and stopping one (psutil).

kill_process never guesses: a name that fits several processes fails with the
list (the approval card shows it too) and asks for a pid. It refuses Deskmate
itself, the processes that started it, and pid 0/1, whatever the call says.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psutil

from app.calls import ToolResult
from app.tools.base import Description, ToolContext, ToolFailed

CPU_SAMPLE_S = 0.2
MAX_LIMIT = 100
TERMINATE_WAIT_S = 3.0


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    name: str
    user: str
    cpu_percent: float
    memory_mb: float
    command: str

    def line(self) -> str:
        user = f" ({self.user})" if self.user else ""
        return f"{self.pid:>7}  {self.name[:24]}{user}  {self.memory_mb:.0f} MB  {self.command[:80]}"

    def as_output(self) -> dict[str, object]:
        return {"pid": self.pid, "name": self.name, "user": self.user, "cpu_percent": round(self.cpu_percent, 1),
                "memory_mb": round(self.memory_mb, 1), "command": self.command[:200]}


def _gb(value: float) -> float:
    return round(value / 1024**3, 1)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours or days else []
    return " ".join(parts + [f"{minutes} min"])


# ---------------------------------------------------------------- system_status


def describe_system_status(ctx: ToolContext) -> Description:
    return Description("Show CPU, memory, disk, battery and uptime")


def system_status(ctx: ToolContext) -> ToolResult:
    cpu = psutil.cpu_percent(interval=CPU_SAMPLE_S)
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(ctx.paths.home))
    uptime = time.time() - psutil.boot_time()  # a property of the machine, not of the user's clock
    output: dict[str, object] = {
        "cpu_percent": cpu,
        "cpu_count": psutil.cpu_count(),
        "memory": {"total_gb": _gb(memory.total), "used_gb": _gb(memory.total - memory.available),
                   "available_gb": _gb(memory.available), "percent": memory.percent},
        "disk": {"path": "~", "total_gb": _gb(disk.total), "used_gb": _gb(disk.used), "free_gb": _gb(disk.free),
                 "percent": disk.percent},
        "uptime": _duration(uptime),
    }
    if hasattr(os, "getloadavg"):
        output["load_average"] = [round(x, 2) for x in os.getloadavg()]
    battery = _battery()
    if battery is not None:
        output["battery"] = battery
    power = f", battery {battery['percent']}%{' charging' if battery['plugged_in'] else ''}" if battery else ""
    text = (f"CPU {cpu:.0f}%, memory {memory.percent:.0f}% used ({_gb(memory.available)} GB free), "
            f"disk {disk.percent:.0f}% used ({_gb(disk.free)} GB free){power}, up {output['uptime']}")
    return ToolResult(ok=True, output=output, text=text)


def _battery() -> dict[str, object] | None:
    try:
        battery = psutil.sensors_battery()
    except (AttributeError, NotImplementedError, OSError, RuntimeError):
        return None
    if battery is None:
        return None
    info: dict[str, object] = {"percent": round(battery.percent), "plugged_in": bool(battery.power_plugged)}
    if battery.secsleft not in (psutil.POWER_TIME_UNLIMITED, psutil.POWER_TIME_UNKNOWN) and battery.secsleft:
        info["time_left"] = _duration(battery.secsleft)
    return info


# ---------------------------------------------------------------- processes


def _matches(proc: psutil.Process, name: str) -> bool:
    """A name fits when it is part of the process name or of its program's file name (case-insensitive)."""
    wanted = name.casefold().strip()
    try:
        pname = (proc.info.get("name") if hasattr(proc, "info") else proc.name()) or ""
        cmdline = (proc.info.get("cmdline") if hasattr(proc, "info") else proc.cmdline()) or []
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    program = os.path.basename(cmdline[0]) if cmdline else ""
    return bool(wanted) and (wanted in pname.casefold() or wanted in program.casefold())


def _snapshot(name: str | None = None, sample: bool = True) -> list[ProcessInfo]:
    """Running processes (optionally those fitting `name`), with a CPU share measured over a short sample."""
    procs = []
    for proc in psutil.process_iter(["pid", "name", "username", "cmdline"]):
        if name and not _matches(proc, name):
            continue
        try:
            proc.cpu_percent(None)  # first call starts the measurement
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        procs.append(proc)
    if sample and procs:
        time.sleep(CPU_SAMPLE_S)
    found = []
    for proc in procs:
        try:
            with proc.oneshot():
                cpu = proc.cpu_percent(None) if sample else 0.0
                rss = proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        cmdline = proc.info.get("cmdline") or []
        found.append(ProcessInfo(pid=proc.info["pid"], name=proc.info.get("name") or "?",
                                 user=proc.info.get("username") or "", cpu_percent=cpu,
                                 memory_mb=rss / 1024**2, command=" ".join(cmdline)))
    return found


def _limit(limit: int | None) -> int:
    value = 10 if limit is None else int(limit)
    if not 1 <= value <= MAX_LIMIT:
        raise ToolFailed(f"limit must be between 1 and {MAX_LIMIT}.")
    return value


def describe_list_processes(ctx: ToolContext, sort_by: str = "cpu", limit: int | None = None,
                            name: str | None = None) -> Description:
    which = f" named like '{name}'" if name else ""
    return Description(f"List the top {_limit(limit)} processes{which} by {'memory' if sort_by == 'memory' else 'CPU'}")


def list_processes(ctx: ToolContext, sort_by: str = "cpu", limit: int | None = None,
                   name: str | None = None) -> ToolResult:
    count = _limit(limit)
    if sort_by not in ("cpu", "memory"):
        raise ToolFailed("sort_by must be 'cpu' or 'memory'.")
    procs = _snapshot(name)
    key = (lambda p: (p.cpu_percent, p.memory_mb)) if sort_by == "cpu" else (lambda p: (p.memory_mb, p.cpu_percent))
    procs.sort(key=key, reverse=True)
    shown = procs[:count]
    which = f" matching '{name}'" if name else ""
    text = f"{len(procs)} process{'es' if len(procs) != 1 else ''}{which}" + (
        f"; top {len(shown)} by {sort_by}" if shown else "")
    return ToolResult(ok=True, output={"sort_by": sort_by, "total": len(procs),
                                       "processes": [p.as_output() for p in shown]}, text=text)


# ---------------------------------------------------------------- kill_process


def _protected() -> dict[int, str]:
    """Processes kill_process never stops: pid 0 and 1, Deskmate itself and the processes that started it."""
    protected = {0: "the system's own process", 1: "the system's first process (init)"}
    me = psutil.Process(os.getpid())
    protected[me.pid] = "Deskmate itself"
    for parent in me.parents():
        protected.setdefault(parent.pid, "a process that Deskmate runs inside of")
    return protected


def _targets(pid: int | None, name: str | None) -> list[ProcessInfo]:
    if pid is None and not (name and name.strip()):
        raise ToolFailed("Say which process: its pid, or its name.")
    if pid is not None:
        found = [p for p in _snapshot(sample=False) if p.pid == pid]
        if not found:
            raise ToolFailed(f"No process with pid {pid} is running.")
        if name and not _matches(psutil.Process(pid), name):
            raise ToolFailed(f"Process {pid} is {found[0].name}, not '{name}'. Check the pid.")
        return found
    found = _snapshot(name, sample=False)
    found = [p for p in found if p.pid != os.getpid()]
    if not found:
        raise ToolFailed(f"No running process is called '{name}'.")
    return sorted(found, key=lambda p: p.pid)


def describe_kill_process(ctx: ToolContext, pid: int | None = None, name: str | None = None) -> Description:
    targets = _targets(pid, name)
    protected = _protected()
    preview = "\n".join(p.line() + (f"   (refused: {protected[p.pid]})" if p.pid in protected else "")
                        for p in targets)
    if len(targets) > 1:
        return Description(
            f"Stop a process named '{name}': {len(targets)} match, so a pid is needed (nothing will be stopped)",
            preview,
        )
    target = targets[0]
    return Description(f"Stop process {target.pid} ({target.name})", preview)


def kill_process(ctx: ToolContext, pid: int | None = None, name: str | None = None) -> ToolResult:
    targets = _targets(pid, name)
    if len(targets) > 1:
        listed = "; ".join(f"{p.pid} {p.name}" for p in targets[:10])
        more = f" and {len(targets) - 10} more" if len(targets) > 10 else ""
        raise ToolFailed(f"Several processes are called '{name}': {listed}{more}. "
                         "Say which one by its pid; Deskmate does not guess.")
    target = targets[0]
    protected = _protected()
    if target.pid in protected:
        raise ToolFailed(f"Process {target.pid} is {protected[target.pid]}; Deskmate will not stop it.")
    try:
        proc = psutil.Process(target.pid)
        proc.terminate()
        try:
            proc.wait(timeout=TERMINATE_WAIT_S)
            how = "stopped"
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=TERMINATE_WAIT_S)
            how = "killed (it did not stop when asked)"
    except psutil.NoSuchProcess:
        how = "stopped"
    except psutil.AccessDenied:
        raise ToolFailed(f"Process {target.pid} ({target.name}) belongs to another user; "
                         "Deskmate is not allowed to stop it.") from None
    return ToolResult(ok=True, output={"pid": target.pid, "name": target.name, "stopped": True},
                      text=f"Process {target.pid} ({target.name}) {how}")

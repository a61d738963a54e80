"""The Toolbox: the one door from a validated call to a tool, for the approval card and the run.

`propose` validates a call against the catalog and describes it with every path and
time resolved, so the user approves exactly what will happen. `run` checks it all
again (the grants or the disk may have changed since) and never raises for a
problem the user can act on: it returns ToolResult(ok=False, error=...). `undo`
reverses a file or calendar action from its UndoRecord.

Each tool is a plain typed function `tool(ctx, **arguments) -> ToolResult` with a
`describe_tool(ctx, **arguments) -> Description` twin; TOOLS below registers them
by name, and must cover the catalog exactly (checked when a Toolbox is built).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Callable, Mapping

from app.calls import Proposal, ToolCall, ToolResult, UndoRecord
from app.errors import DeskmateError, ToolRefused
from app.tools import calendar, files, shell, system
from app.tools.base import Description, ToolContext, ToolFailed
from app.tools.catalog import ArgumentError, Catalog

__all__ = ["ToolContext", "Toolbox", "Tool", "TOOLS", "ToolFailed", "Description"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tool:
    """One tool's two functions: what it does, and what it would do in words."""

    run: Callable[..., ToolResult]
    describe: Callable[..., Description]


TOOLS: Mapping[str, Tool] = {
    "list_directory": Tool(files.list_directory, files.describe_list_directory),
    "search_files": Tool(files.search_files, files.describe_search_files),
    "read_file": Tool(files.read_file, files.describe_read_file),
    "file_info": Tool(files.file_info, files.describe_file_info),
    "write_file": Tool(files.write_file, files.describe_write_file),
    "create_folder": Tool(files.create_folder, files.describe_create_folder),
    "move_path": Tool(files.move_path, files.describe_move_path),
    "copy_path": Tool(files.copy_path, files.describe_copy_path),
    "delete_path": Tool(files.delete_path, files.describe_delete_path),
    "open_path": Tool(files.open_path, files.describe_open_path),
    "list_events": Tool(calendar.list_events, calendar.describe_list_events),
    "create_event": Tool(calendar.create_event, calendar.describe_create_event),
    "update_event": Tool(calendar.update_event, calendar.describe_update_event),
    "delete_event": Tool(calendar.delete_event, calendar.describe_delete_event),
    "find_free_time": Tool(calendar.find_free_time, calendar.describe_find_free_time),
    "run_command": Tool(shell.run_command, shell.describe_run_command),
    "system_status": Tool(system.system_status, system.describe_system_status),
    "list_processes": Tool(system.list_processes, system.describe_list_processes),
    "kill_process": Tool(system.kill_process, system.describe_kill_process),
}


class Toolbox:
    """Proposes, runs and undoes the catalog's tools in one ToolContext."""

    def __init__(self, ctx: ToolContext, catalog: Catalog | None = None, tools: Mapping[str, Tool] = TOOLS):
        self.ctx = ctx
        self.catalog = catalog if catalog is not None else Catalog.builtin()
        self.tools = dict(tools)
        missing = [spec.name for spec in self.catalog if spec.name not in self.tools]
        if missing:
            raise ValueError(f"No implementation for the catalog's tools: {', '.join(missing)}")

    # ------------------------------------------------------------ propose

    def propose(self, call: ToolCall) -> Proposal:
        """The call validated and described; raises ArgumentError (bad call) or ToolRefused (outside the grants)."""
        spec = self.catalog.get(call.name)
        valid = spec.validate(call.arguments)
        try:
            described = self.tools[call.name].describe(self.ctx, **valid)
        except ToolRefused:
            raise
        except (ToolFailed, ValueError) as exc:  # a missing file, an ambiguous event, an unreadable time...
            raise ArgumentError(str(exc)) from None
        except DeskmateError as exc:  # e.g. a corrupt calendar, kept aside: the user must see it
            raise ArgumentError(str(exc)) from None
        except OSError as exc:
            raise ArgumentError(_os_message(exc)) from None
        return Proposal(
            call=ToolCall(call.name, valid),
            group=spec.group,
            risk=spec.risk,
            summary=described.summary,
            preview=described.preview,
            scope=described.scope,
        )

    # ------------------------------------------------------------ run

    def run(self, call: ToolCall) -> ToolResult:
        """Run a call (already approved). Problems come back as ToolResult(ok=False, error=...)."""
        started = time.monotonic()
        try:
            valid = self.catalog.get(call.name).validate(call.arguments)
            result = self.tools[call.name].run(self.ctx, **valid)
        except (DeskmateError, ArgumentError) as exc:
            result = ToolResult(ok=False, error=str(exc))
        except ValueError as exc:
            result = ToolResult(ok=False, error=str(exc))
        except OSError as exc:
            result = ToolResult(ok=False, error=_os_message(exc))
        except Exception as exc:  # a bug must not take the assistant down; it is logged in full
            log.exception("tool %s failed", call.name)
            result = ToolResult(ok=False, error=f"{call.name} failed unexpectedly ({type(exc).__name__}: {exc}).")
        return _timed(result, started)

    # ------------------------------------------------------------ undo

    def undo(self, record: UndoRecord) -> ToolResult:
        """Reverse a file or calendar action. Problems come back as ToolResult(ok=False, error=...)."""
        started = time.monotonic()
        try:
            if record.action in files.FILE_UNDO_ACTIONS:
                result = files.undo(self.ctx, record)
            elif record.action in calendar.CALENDAR_UNDO_ACTIONS:
                result = calendar.undo(self.ctx, record)
            else:
                raise ToolFailed(f"Deskmate does not know how to undo '{record.action}'.")
        except (DeskmateError, ValueError, KeyError) as exc:
            result = ToolResult(ok=False, error=str(exc) if not isinstance(exc, KeyError) else
                                f"The undo record is missing {exc}.")
        except OSError as exc:
            result = ToolResult(ok=False, error=_os_message(exc))
        return _timed(result, started)


def _timed(result: ToolResult, started: float) -> ToolResult:
    return replace(result, duration_s=round(time.monotonic() - started, 4))


def _os_message(exc: OSError) -> str:
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    return f"{exc.strerror or exc}{where}."


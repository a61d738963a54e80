"""What every tool receives and returns: the context it runs in and how it describes a call.

Tools are plain typed functions `tool(ctx, **arguments) -> ToolResult`, each with a
`describe_*` twin that says, before anything runs, what the call will do in words
(the approval card). Both get the same ToolContext, so the card and the run resolve
paths and times the same way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import cached_property
from pathlib import Path
from typing import Callable

from app.errors import DeskmateError
from app.paths import AppPaths
from app.tools.paths import Confinement

Opener = Callable[[Path], None]


class ToolFailed(DeskmateError):
    """A tool could not do what was asked (missing file, ambiguous event...); the message says why."""


@dataclass(frozen=True)
class ToolContext:
    """Everything a tool may depend on, injected: never the real home, clock or desktop by accident.

    `folders` are the granted folders as the user wrote them ("~/Documents");
    `opener` opens a path in its default application (None: the desktop's own,
    see app.tools.opener); `work_hours` bound find_free_time; setting `cancel`
    ("Pause all tools") stops a running command and everything it started.
    """

    paths: AppPaths
    folders: tuple[str, ...] = ("~",)
    clock: Callable[[], datetime] = datetime.now
    opener: Opener | None = None
    work_hours: tuple[time, time] = (time(9), time(18))
    protected: tuple[Path, ...] = field(default=())  # extra folders no tool may touch
    cancel: threading.Event | None = field(default=None, compare=False)

    @cached_property
    def confinement(self) -> Confinement:
        # Deskmate's own config and data (audit log, backups, calendar) are never tool targets.
        return Confinement(self.paths.home, self.folders, protected=(self.paths.config, self.paths.data, *self.protected))

    def now(self) -> datetime:
        """The current local time, to the minute (what time expressions resolve against)."""
        return self.clock().replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Description:
    """A call in words, before it runs: the approval card's summary, preview and scope."""

    summary: str
    preview: str = ""
    scope: str = ""

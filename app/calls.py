"""The things that travel between the model, the policy, the front ends and the tools.

Every boundary in the core passes these typed values, never loose dicts, so a
front end (GUI, tray, terminal) and the audit log see exactly what the policy saw.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Any


class Risk(str, enum.Enum):
    """How much a tool can change; decides what approval may be remembered."""

    READ = "read"
    WRITE = "write"
    DESTRUCTIVE = "destructive"
    EXECUTE = "execute"

    @property
    def rememberable(self) -> bool:
        """Only read and write calls may ever be set to 'always allow'."""
        return self in (Risk.READ, Risk.WRITE)


@dataclass(frozen=True)
class ToolCall:
    """A call as the model (or a user's edit) wrote it: a tool name and its arguments."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Proposal:
    """A validated call waiting for the user's decision.

    `summary` is what the approval card shows, with times and paths already
    resolved ("Create event 'Lunch with Sam' Fri 27 Nov 12:30–13:30").
    `preview` holds what the user must see before approving a risky call: a diff
    for an overwrite, the exact command and folder, the matching processes.
    """

    call: ToolCall
    group: str
    risk: Risk
    summary: str
    preview: str = ""
    scope: str = ""  # the granted folder a file call falls in; "" for other groups
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def can_remember(self) -> bool:
        return self.risk.rememberable


class DecisionKind(str, enum.Enum):
    APPROVE_ONCE = "approve_once"
    APPROVE_SESSION = "approve_session"
    ALWAYS = "always"
    EDIT = "edit"
    DENY = "deny"


@dataclass(frozen=True)
class Decision:
    """A front end's answer to a Proposal.

    `by` records who decided: "user", "session" or "rule:<id>" for a remembered
    approval, "timeout" when nobody answered (which is always a deny).
    `arguments` holds the edited arguments for EDIT; they are validated again.
    """

    kind: DecisionKind
    arguments: dict[str, Any] | None = None
    reason: str = ""
    by: str = "user"

    @property
    def approves(self) -> bool:
        return self.kind is not DecisionKind.DENY


@dataclass(frozen=True)
class UndoRecord:
    """What it takes to reverse a file action: kept in the audit log for `deskmate undo`."""

    action: str  # "restore_backup" | "move_back" | "restore_from_trash" | "remove_created"
    data: dict[str, str]


@dataclass(frozen=True)
class ToolResult:
    """What a tool run produced.

    `output` is JSON-serializable and goes back to the model; `text` is a short
    human-readable line for cards and logs; `error` is set when the call failed
    or was refused, in words the user can act on.
    """

    ok: bool
    output: Any = None
    text: str = ""
    error: str | None = None
    undo: UndoRecord | None = None
    duration_s: float = 0.0

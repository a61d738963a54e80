"""What the agent loop tells a front end, one typed event at a time.

The loop is a generator of these events so the terminal, the GUI and the tests
all watch the same turn unfold: streamed words, each proposal, the decision that
was taken on it (by the user or a remembered rule), the result, and how it ended.
A turn ends with exactly one Answer or Failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from app.calls import Decision, Proposal, ToolCall, ToolResult


@dataclass(frozen=True)
class TextDelta:
    """A piece of the model's answer in words, as it is generated (never call text)."""

    text: str


@dataclass(frozen=True)
class Proposed:
    """A validated call that is about to be decided (by a rule or by asking the user)."""

    proposal: Proposal


@dataclass(frozen=True)
class Decided:
    """The decision taken on a proposal; `decision.by` says who took it."""

    proposal: Proposal
    decision: Decision


@dataclass(frozen=True)
class Executed:
    """A tool ran (or failed while running); `result.error` says why when it failed."""

    proposal: Proposal
    result: ToolResult


@dataclass(frozen=True)
class Refused:
    """A call that never reached the user: ungranted, paused, invalid arguments, path outside."""

    call: ToolCall
    reason: str


@dataclass(frozen=True)
class Answer:
    """The model's final answer in words; the turn is over."""

    text: str


@dataclass(frozen=True)
class Failed:
    """The turn stopped without an answer: malformed output, too many steps, paused, cancelled, model error."""

    message: str


AgentEvent = Union[TextDelta, Proposed, Decided, Executed, Refused, Answer, Failed]

__all__ = ["AgentEvent", "Answer", "Decided", "Executed", "Failed", "Proposed", "Refused", "TextDelta"]

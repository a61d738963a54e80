"""Parse what the model wrote into tool calls or a plain answer.

A malformed call is a ParseError with a message fit for the user and the log; it
is never executed. Constrained decoding makes these rare, but the parser is the
last gate and also reads unconstrained output (evaluation, the torch backend).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from app.calls import ToolCall
from app.prompt.render import CALL_PREFIX, END

_CALL = re.compile(r"^call:\s*([A-Za-z_][\w.\-]*)\s*(\{.*\})\s*$", re.S)


class ParseError(ValueError):
    """The model's output looked like a tool call but could not be read as one."""


@dataclass(frozen=True)
class Reply:
    """A parsed model turn: calls, or text, never both acted on."""

    calls: tuple[ToolCall, ...]
    text: str
    raw: str


def parse_reply(raw: str) -> Reply:
    text = raw.split(END, 1)[0].strip()
    # Only "\n" ends a line: argument strings may hold U+2028, U+0085... raw (ensure_ascii=False).
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if not lines or not lines[0].startswith(CALL_PREFIX):
        return Reply((), text, raw)
    calls = []
    for line in lines:
        if not line.startswith(CALL_PREFIX):
            break  # words after the calls are ignored; the calls are what gets proposed
        match = _CALL.match(line)
        if not match:
            raise ParseError(f"The model wrote a tool call that could not be read: {line[:200]!r}")
        name, args_text = match.groups()
        try:
            args = json.loads(args_text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"The arguments of {name} are not valid JSON ({exc.msg}): {args_text[:200]!r}") from None
        if not isinstance(args, dict):
            raise ParseError(f"The arguments of {name} must be an object, got {args_text[:200]!r}")
        call = ToolCall(name, args)
        if call not in calls:  # the same call twice in one reply would run twice: it is proposed once
            calls.append(call)
    return Reply(tuple(calls), "", raw)

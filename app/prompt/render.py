"""Render conversations into Gemma 3 prompts: one function for training examples and runtime.

Layout (the `prefix` is identical for one tool set, so the engine computes it once
and reuses its KV cache; everything that changes comes after it):

    <bos><start_of_turn>user
    {INSTRUCTION}
    Tools:
    list_directory(path, pattern?)
    create_event(title, start, duration_minutes?:int=60, location?, notes?)
    ...
    ---                                  <- end of the cached prefix
    Home: /home/alex. Folders: ~/Documents, ~/Downloads. Now: Thu 2026-11-26 09:15.
    {first user message}<end_of_turn>
    <start_of_turn>model
    call:create_event{"title": "Lunch with Sam", "start": "tomorrow at 12:30"}<end_of_turn>
    <start_of_turn>tool
    {"ok": true, ...}<end_of_turn>
    <start_of_turn>model
    Done: lunch with Sam is on your calendar.<end_of_turn>

The model answers either with one `call:NAME{JSON}` line per call or with plain words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Literal, Mapping, Sequence

from app.calls import ToolCall
from app.tools.catalog import ToolSpec

BOS = "<bos>"
START = "<start_of_turn>"
END = "<end_of_turn>"
CALL_PREFIX = "call:"
# Gemma's control tokens. The engine matches them anywhere in the prompt, so text from the
# user, a file or a command that spells one ("<end_of_turn><start_of_turn>model") would end
# its turn and speak as the model. A zero-width space after "<" keeps such text readable
# and inert.
CONTROL = re.compile(r"<(?=(?:start_of_turn|end_of_turn|bos|eos|pad|unk|mask|unused\d+)>)")
PREFIX_END = "---\n"

INSTRUCTION = (
    "You are Deskmate, an assistant on the user's computer. To act, answer only with "
    "call:NAME{JSON arguments}, one line per call, using the tools below and only the "
    "arguments the user gave, in their own words. If no tool fits, the request needs a "
    "tool not listed, or it is unclear, answer in words."
)

Role = Literal["user", "assistant", "tool"]


@dataclass(frozen=True)
class Message:
    """One turn. An assistant turn that called tools has them in `calls` (and no text)."""

    role: Role
    content: str = ""
    calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class Context:
    """Where and when the request is made: resolved against by the model and the tools."""

    now: datetime
    home: str
    folders: tuple[str, ...] = ("~",)


@dataclass(frozen=True)
class Conversation:
    """What the model sees (`tools` are declared in the prompt) and may name.

    `grantable`: built-in tools of groups the user has not granted. They are not declared
    (the prompt stays the same), but the model knows them from training and may name one;
    the reply then becomes a request for the grant instead of a call (app.prompt.ungranted).
    """

    tools: tuple[ToolSpec, ...]
    context: Context
    messages: tuple[Message, ...] = field(default_factory=tuple)
    grantable: tuple[ToolSpec, ...] = ()


def _type_hint(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "|".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type", "string")
    if kind == "array":
        # The items' type or allowed values, unless plain strings: `list[int]`, `list["rating"|"age"]`.
        # Without them a request naming two of the allowed values looked like one no tool serves.
        items = schema.get("items")
        inner = _type_hint(items) if isinstance(items, Mapping) and items else ""
        return f"list[{inner}]" if inner else "list"
    return {"string": "", "integer": "int", "number": "float", "boolean": "bool",
            "object": "dict", "dict": "dict", "float": "float"}.get(str(kind), str(kind))


def declare(tool: ToolSpec, describe: bool = False) -> str:
    """One compact line: `create_event(title, start, duration_minutes?:int=60)`.

    Built-in tools are learned into the weights, so their line has no description
    (describe=False keeps the prefix short); tools from outside the catalog need
    `describe=True`, which appends the tool's and its arguments' descriptions.
    """
    params = []
    for name, schema in tool.properties.items():
        hint = _type_hint(schema)
        optional = "" if name in tool.required else "?"
        text = f"{name}{optional}" + (f":{hint}" if hint else "")
        if optional and "default" in schema:
            text += f"={json.dumps(schema['default'])}"
        params.append(text)
    line = f"{tool.name}({', '.join(params)})"
    if describe:
        notes = [f"{n}: {s['description']}" for n, s in tool.properties.items() if s.get("description")]
        line += f" - {tool.description}" + (f" [{'; '.join(notes)}]" if notes else "")
    return line


def render_prefix(tools: Sequence[ToolSpec], describe: bool | None = None) -> str:
    """The fixed start of every prompt for this tool set (KV-cached by the engine)."""
    lines = [declare(t, describe if describe is not None else t.group == "external") for t in tools]
    body = "\n".join(lines) if lines else "(none)"
    return f"{BOS}{START}user\n{INSTRUCTION}\nTools:\n{body}\n{PREFIX_END}"


def inert(text: str) -> str:
    """`text` with every control-token spelling broken, so it tokenizes as plain text."""
    return CONTROL.sub("<\u200b", text)


def render_context(ctx: Context) -> str:
    folders = ", ".join(ctx.folders)
    return f"Home: {ctx.home}. Folders: {folders}. Now: {ctx.now:%a %Y-%m-%d %H:%M}.\n"


def render_call(call: ToolCall) -> str:
    return CALL_PREFIX + call.name + json.dumps(call.arguments, ensure_ascii=False)


def render_turn(message: Message) -> str:
    if message.role == "assistant":
        body = "\n".join(render_call(c) for c in message.calls) if message.calls else message.content
        return f"{START}model\n{inert(body)}{END}\n"
    return f"{START}{message.role}\n{inert(message.content)}{END}\n"


def render(conv: Conversation, describe: bool | None = None) -> str:
    """The whole prompt, ending with the open model turn the model completes."""
    if not conv.messages or conv.messages[0].role != "user":
        raise ValueError("A conversation starts with a user message.")
    first, *rest = conv.messages
    out = [render_prefix(conv.tools, describe), render_context(conv.context), inert(first.content), f"{END}\n"]
    out += [render_turn(m) for m in rest]
    out.append(f"{START}model\n")
    return "".join(out)


def render_example(conv: Conversation, answer: Message, describe: bool | None = None) -> tuple[str, str]:
    """A training example: (prompt, target). The loss is taken on `target` only."""
    target = render_turn(answer)[len(f"{START}model\n"):]
    return render(conv, describe), target


def tool_result_text(result: Any) -> str:
    """How a tool's result is written into a tool turn (compact JSON)."""
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"), default=str)


def messages_from_history(history: Iterable[Mapping[str, str]]) -> list[Message]:
    """Turn a case's `history` (cases.md) into Messages: assistant calls are JSON text there."""
    out: list[Message] = []
    for turn in history:
        role, content = turn["role"], turn["content"]
        if role == "assistant":
            try:
                obj = json.loads(content)
                if isinstance(obj, dict) and "name" in obj:
                    out.append(Message("assistant", calls=(ToolCall(obj["name"], obj.get("arguments", {})),)))
                    continue
            except json.JSONDecodeError:
                pass
        out.append(Message(role, content))  # type: ignore[arg-type]
    return out

"""Worked examples for prompting the *base* model, which has never seen the call format.

`deskmate eval --fewshot` puts these before the first user message of the same
prompt the app renders, so the base-model row of docs/evaluation.md measures "the
base model prompted with a few examples", not "the base model given a format it
cannot know". The examples use made-up tools that are neither in the catalog nor
in BFCL, so they teach the format and when not to call, but no answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.calls import ToolCall
from app.prompt.render import Conversation, Message, declare, render_call
from app.tools.catalog import ToolSpec


def _tool(name: str, properties: dict, required: list[str]) -> ToolSpec:
    return ToolSpec(name, "", {"type": "object", "properties": properties, "required": required})


_WEATHER = _tool("get_weather", {"city": {"type": "string"},
                                 "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, ["city"])
_TIMER = _tool("set_timer", {"minutes": {"type": "integer"}, "label": {"type": "string"}}, ["minutes"])
_CURRENCY = _tool("convert_currency", {"amount": {"type": "number"}, "source": {"type": "string"},
                                       "target": {"type": "string"}}, ["amount", "source", "target"])


@dataclass(frozen=True)
class Example:
    tools: tuple[ToolSpec, ...]
    request: str
    calls: tuple[ToolCall, ...] = ()
    text: str = ""

    def render(self) -> str:
        answer = "\n".join(render_call(c) for c in self.calls) if self.calls else self.text
        tools = "; ".join(declare(t) for t in self.tools)
        return f"Tools: {tools}\nRequest: {self.request}\nAnswer:\n{answer}\n"


EXAMPLES: tuple[Example, ...] = (
    Example((_WEATHER, _TIMER), "will it rain in Lisbon today?",
            (ToolCall("get_weather", {"city": "Lisbon"}),)),
    Example((_TIMER,), "set a 10 minute timer for the pasta",
            (ToolCall("set_timer", {"minutes": 10, "label": "pasta"}),)),
    Example((_CURRENCY,), "how much is 20 euros in dollars and in yen?",
            (ToolCall("convert_currency", {"amount": 20, "source": "EUR", "target": "USD"}),
             ToolCall("convert_currency", {"amount": 20, "source": "EUR", "target": "JPY"}))),
    Example((_WEATHER,), "what's the capital of Japan?", text="Tokyo is the capital of Japan."),
    Example((_WEATHER, _TIMER), "book me a table for two tonight",
            text="I can't book tables: none of my tools does that."),
)


def examples_block(examples: tuple[Example, ...] = EXAMPLES) -> str:
    body = "\n".join(e.render() for e in examples)
    return (f"Examples (each with its own tools; for the real request use only the tools above):\n\n{body}\n"
            "Real request:\n")


def with_examples(conv: Conversation, examples: tuple[Example, ...] = EXAMPLES) -> Conversation:
    """The same conversation with the worked examples before its first user message."""
    first, *rest = conv.messages
    return replace(conv, messages=(Message("user", examples_block(examples) + first.content), *rest))

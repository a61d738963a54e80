"""Worked examples for prompting the *base* model, which has never seen the call format.

`deskmate eval --fewshot` puts these as earlier turns of the same prompt the app
renders, so the base-model row of docs/evaluation.md measures "the
base model prompted with a few examples", not "the base model given a format it
cannot know". The examples use made-up tools that are neither in the catalog nor
in BFCL, so they teach the format and when not to call, but no answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.calls import ToolCall
from app.prompt.render import Conversation, Message, declare
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

    def messages(self) -> tuple[Message, Message]:
        """The example as a user turn (naming its own tools) and the model turn that answers it."""
        tools = "; ".join(declare(t) for t in self.tools)
        return (Message("user", f"(Example; its tools: {tools}) {self.request}"),
                Message("assistant", self.text, self.calls))


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


def with_examples(conv: Conversation, examples: tuple[Example, ...] = EXAMPLES) -> Conversation:
    """The same conversation with the worked examples as earlier turns.

    As turns, the examples show the base model the whole pattern it has to continue
    (`<start_of_turn>model` followed by `call:...` or words), right before its own turn;
    the system part of the prompt (instruction, the real tools) is unchanged.
    """
    turns = tuple(m for e in examples for m in e.messages())
    return replace(conv, messages=(*turns, *conv.messages))

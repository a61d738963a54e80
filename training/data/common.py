"""Shared pieces of the data generator: the Example record and random context.

Every example is a Conversation plus the assistant's answer, rendered by the app's
own `render_example`, so training prompts can never drift from runtime prompts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.calls import ToolCall
from app.prompt.render import Context, Conversation, Message, render_example
from app.tools.catalog import Catalog, ToolSpec

GROUPS = ("files", "calendar", "shell", "system")
GROUP_WORDS = {"files": "Files", "calendar": "Calendar", "shell": "Shell", "system": "System"}

USERS = ("alex", "priya", "kenji", "fatima", "tomasz", "hana", "diego", "mei", "jonas", "aisha", "ben",
         "sofia", "raj", "yuki", "ines", "oskar", "kwame", "lucia", "nkechi", "mike", "tariq", "marta",
         "zoë", "björn", "chloé", "sam", "li", "ana", "omar", "eva", "noah", "léa", "mateus", "ivan")
FOLDERS = ("~/Documents", "~/Downloads", "~/Desktop", "~/Pictures", "~/Music", "~/Videos", "~/Projects",
           "~/code", "~/work", "~/notes", "~/Work", "~/src", "~/Dropbox", "~/School")


@dataclass(frozen=True)
class Example:
    """One training example before rendering; `source` says where it came from (for the mix report)."""

    conv: Conversation
    answer: Message
    source: str  # seed | catalog | nocall | history | seal | seal-irrelevant | glaive
    id: str

    @property
    def is_call(self) -> bool:
        return bool(self.answer.calls)

    def rendered(self) -> tuple[str, str]:
        return render_example(self.conv, self.answer)

    def validate(self) -> None:
        """Every call must name an offered tool and fit its schema (ArgumentError otherwise)."""
        offered = {t.name: t for t in self.conv.tools}
        for call in self.answer.calls:
            if call.name not in offered:
                raise ValueError(f"{self.id}: {call.name} is not offered")
            offered[call.name].validate(call.arguments)


def random_home(rng: random.Random) -> str:
    user = rng.choice(USERS)
    return rng.choice(("/home/", "/home/", "/Users/")) + user


def random_now(rng: random.Random) -> datetime:
    start = datetime(2025, 1, 1, 0, 0)
    day = start + timedelta(days=rng.randrange(0, 3 * 365))
    hour = rng.choice((7, 8, 8, 9, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 22))
    return day.replace(hour=hour, minute=rng.choice((0, 5, 12, 15, 20, 30, 40, 45, 55)))


def home_context(rng: random.Random) -> Context:
    """A random time and home with the whole home granted: the context of external-tool examples."""
    return Context(random_now(rng), random_home(rng), ("~",))


def random_folders(rng: random.Random, must: tuple[str, ...] = ()) -> tuple[str, ...]:
    if rng.random() < 0.2 and not must:
        return ("~",)
    picks = list(dict.fromkeys(list(must) + rng.sample(FOLDERS, rng.randint(1, 3))))
    rng.shuffle(picks)
    return tuple(picks[:4])


def random_groups(rng: random.Random, need: str | None) -> tuple[str, ...]:
    """Granted groups, always containing `need` (when given): a full grant is the common case."""
    if rng.random() < 0.45:
        chosen = set(GROUPS)
    else:
        chosen = {g for g in GROUPS if rng.random() < 0.5}
    if need:
        chosen.add(need)
    if not chosen:
        chosen.add(rng.choice(GROUPS))
    return tuple(g for g in GROUPS if g in chosen)


def conversation(catalog: Catalog, groups: tuple[str, ...], ctx: Context, messages: list[Message]) -> Conversation:
    return Conversation(catalog.for_groups(groups).tools, ctx, tuple(messages))


def call(tool: str, /, **arguments) -> Message:
    return Message("assistant", calls=(ToolCall(tool, dict(arguments)),))


def calls(*pairs: tuple[str, dict]) -> Message:
    return Message("assistant", calls=tuple(ToolCall(n, dict(a)) for n, a in pairs))


def say(text: str) -> Message:
    return Message("assistant", text)


NO_FIT = (  # a request none of the offered tools serves
    "None of the available tools can do that, so I can't help with it here.",
    "I can't do that with the tools I have: none of them fits this request.",
    "Sorry, no available tool handles that.",
)


def not_granted_text(rng: random.Random, group: str) -> str:
    g = GROUP_WORDS[group]
    return rng.choice((
        f"I can't do that: Deskmate has no access to the {g} tools. You can grant the {g} group in Settings.",
        f"That needs the {g} group, which isn't granted. Grant it in Settings and ask again.",
        f"I don't have {g} access here. If you want me to do this, grant the {g} group in Settings first.",
        f"Sorry, the {g} tools aren't granted, so I can't do that. You can turn them on in Settings.",
    ))


__all__ = ["Example", "ToolSpec", "GROUPS", "random_home", "random_now", "home_context", "random_folders", "random_groups",
           "conversation", "call", "calls", "say", "not_granted_text", "NO_FIT"]

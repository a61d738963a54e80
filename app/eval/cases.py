"""Tool-call cases (../shared/spec/cases.md): loading them and deciding whether a reply matches.

The matcher compares arguments by their kind rather than as raw strings, so that a
model which writes "Tomorrow at 12:30" for "tomorrow at 12:30pm", or
"/home/alex/Documents/" for "~/Documents", is not marked wrong: the app would do
the same thing with either. Everything the app would do differently is a miss.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Sequence

from app.calls import ToolCall
from app.errors import DeskmateError
from app.prompt.render import Context, Conversation, Message, messages_from_history
from app.tools.catalog import PATH_ARGS, TIME_ARGS, Catalog, ToolSpec
from app.tools.timeparse import has_time_of_day, resolve_time

Kind = Literal["time", "path", "integer", "text"]


class CaseError(DeskmateError):
    """A cases file could not be read; the message names the file, the line and what is wrong."""


@dataclass(frozen=True)
class Case:
    """One request and the calls a correct assistant makes first (`expected == ()` means: no call)."""

    id: str
    now: datetime
    home: str
    granted: tuple[str, ...]
    folders: tuple[str, ...]
    request: str
    expected: tuple[ToolCall, ...]
    history: tuple[Message, ...] = ()
    note: str = ""

    def conversation(self, catalog: Catalog) -> Conversation:
        """The conversation the app would render for this request: only granted tools offered."""
        tools = catalog.for_groups(self.granted).tools
        messages = (*self.history, Message("user", self.request))
        return Conversation(tools, Context(self.now, self.home, self.folders), messages, catalog.others(tools))


def _case_from_json(obj: Any) -> Case:
    if not isinstance(obj, dict):
        raise ValueError("a case must be a JSON object")
    missing = [k for k in ("id", "now", "home", "granted", "request", "expected") if k not in obj]
    if missing:
        raise ValueError(f"missing field(s) {', '.join(missing)}")
    try:
        now = datetime.fromisoformat(obj["now"])
    except (TypeError, ValueError):
        raise ValueError(f"'now' is not an ISO 8601 time: {obj['now']!r}") from None
    expected = []
    if not isinstance(obj["expected"], list):
        raise ValueError("'expected' must be a list of calls")
    for call in obj["expected"]:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str) or not isinstance(call.get("arguments", {}), dict):
            raise ValueError(f"an expected call must be {{'name': str, 'arguments': object}}, got {call!r}")
        expected.append(ToolCall(call["name"], dict(call.get("arguments", {}))))
    history = obj.get("history") or []
    if not isinstance(history, list) or not all(isinstance(t, dict) and "role" in t and "content" in t for t in history):
        raise ValueError("'history' must be a list of {'role', 'content'} turns")
    return Case(
        id=str(obj["id"]),
        now=now,
        home=str(obj["home"]),
        granted=tuple(obj["granted"]),
        folders=tuple(obj.get("folders") or ("~",)),
        request=str(obj["request"]),
        expected=tuple(expected),
        history=tuple(messages_from_history(history)),
        note=str(obj.get("note", "")),
    )


def load_cases(path: Path) -> list[Case]:
    """Read a JSON Lines cases file; a bad line is a CaseError naming it, ids must be unique."""
    path = Path(path)
    try:
        lines = path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        raise CaseError(f"No cases file at {path}. Pass a JSON Lines file of cases (see spec/cases.md).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"Could not read the cases file {path}: {exc}") from None
    cases: list[Case] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case = _case_from_json(json.loads(line))
        except (json.JSONDecodeError, ValueError) as exc:
            raise CaseError(f"{path}, line {number}: {exc}. Fix or remove that line.") from None
        if case.id in seen:
            raise CaseError(f"{path}, line {number}: the id {case.id!r} is used twice; ids must be unique.")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise CaseError(f"The cases file {path} holds no cases.")
    return cases


# ---- comparing values by kind ---------------------------------------------------------------

def arg_kind(name: str, spec: ToolSpec | None) -> Kind:
    """Which rule of cases.md compares this argument (decided by its name, then by its schema type)."""
    if name in TIME_ARGS:
        return "time"
    if name in PATH_ARGS:
        return "path"
    if spec is not None and spec.properties.get(name, {}).get("type") == "integer":
        return "integer"
    return "text"


def normalize_text(value: Any) -> str:
    """Case folded, white space collapsed, trailing '.'/'!' dropped."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(text.casefold().split()).rstrip(".!").rstrip()


def normalize_path(value: str, home: str) -> str:
    """`~` expanded to home, '\\' read as '/', repeated and trailing slashes dropped, '.'/'..' folded."""
    text = value.strip().replace("\\", "/")
    if text == "~" or text.startswith("~/"):
        text = home.replace("\\", "/").rstrip("/") + text[1:]
    text = re.sub(r"/+", "/", text)
    return posixpath.normpath(text) if text else text


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    return None


def same_time(expected: str, actual: str, now: datetime) -> bool:
    """Both resolve to the same minute; an expected expression without a time of day needs only the same day.

    The leniency is one way: the model may add a time to a day the user named
    ("Friday" -> "Friday at 9am" lists the same day), but dropping a time the
    user gave ("tomorrow at 12:30" -> "tomorrow") changes what the app would do.
    """
    if normalize_text(expected) == normalize_text(actual):
        return True
    try:
        want, got = resolve_time(expected, now), resolve_time(actual, now)
    except ValueError:
        return False
    if not has_time_of_day(expected):
        return want.date() == got.date()
    if not has_time_of_day(actual):
        return False
    return want.replace(second=0, microsecond=0) == got.replace(second=0, microsecond=0)


def same_value(kind: Kind, expected: Any, actual: Any, *, now: datetime, home: str) -> bool:
    """One expected value (possibly {"any_of": [...]}) against what the model wrote."""
    if isinstance(expected, dict) and set(expected) == {"any_of"}:
        return any(same_value(kind, option, actual, now=now, home=home) for option in expected["any_of"])
    if kind == "time" and isinstance(expected, str) and isinstance(actual, str):
        return same_time(expected, actual, now)
    if kind == "path" and isinstance(expected, str) and isinstance(actual, str):
        return normalize_path(expected, home) == normalize_path(actual, home)
    want, got = _as_int(expected), _as_int(actual)
    if (kind == "integer" or isinstance(expected, int)) and want is not None and got is not None:
        return want == got
    return normalize_text(expected) == normalize_text(actual)


# ---- matching calls and cases ---------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """Whether a reply passes, and if not, the first reason (written into the predictions file)."""

    passed: bool
    reason: str = ""


def match_call(expected: ToolCall, actual: ToolCall, catalog: Catalog, *, now: datetime, home: str) -> Verdict:
    if expected.name != actual.name:
        return Verdict(False, f"called {actual.name}, expected {expected.name}")
    spec = catalog.get(actual.name) if actual.name in catalog else None
    for name, want in expected.arguments.items():
        if name not in actual.arguments:
            return Verdict(False, f"{actual.name}: missing argument {name}")
        if not same_value(arg_kind(name, spec), want, actual.arguments[name], now=now, home=home):
            return Verdict(False, f"{actual.name}: {name}={actual.arguments[name]!r}, expected {want!r}")
    for name, got in actual.arguments.items():
        if name in expected.arguments:
            continue
        default = spec.default(name) if spec is not None else None
        if default is None or not same_value(arg_kind(name, spec), default, got, now=now, home=home):
            return Verdict(False, f"{actual.name}: argument {name}={got!r} was not asked for")
    return Verdict(True)


def match_calls(expected: Sequence[ToolCall], actual: Sequence[ToolCall], catalog: Catalog, *,
                now: datetime, home: str) -> Verdict:
    """One for one, in order, no extra calls; `expected == []` passes only when nothing was called."""
    if not expected:
        return Verdict(not actual, "" if not actual else f"called {actual[0].name}, expected no call")
    if len(actual) != len(expected):
        return Verdict(False, f"{len(actual)} call(s), expected {len(expected)}")
    for want, got in zip(expected, actual):
        verdict = match_call(want, got, catalog, now=now, home=home)
        if not verdict.passed:
            return verdict
    return Verdict(True)


def match_case(case: Case, actual: Sequence[ToolCall], catalog: Catalog) -> Verdict:
    return match_calls(case.expected, actual, catalog, now=case.now, home=case.home)


def groups_of(calls: Sequence[ToolCall], catalog: Catalog) -> tuple[str, ...]:
    """The catalog groups of these calls, in first-seen order ('none' for an expected no-call)."""
    if not calls:
        return ("none",)
    seen: dict[str, None] = {}
    for call in calls:
        seen[catalog.get(call.name).group if call.name in catalog else "unknown"] = None
    return tuple(seen)


"""The evaluation runner: each case through the app's own prompt and parser, scored, written down.

A backend only turns a Conversation into raw text, exactly like the model behind the
app; rendering happens inside it (app.prompt.render, via the Assistant or the torch
backend) and parsing here (app.prompt.parse), so what is measured is what ships.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence, TextIO

from app.calls import ToolCall
from app.eval.bfcl import BfclEntry, check_entry
from app.eval.cases import Case, groups_of, match_case
from app.eval.fewshot import with_examples
from app.eval.metrics import Outcome, Report, summarize
from app.prompt.parse import ParseError, parse_reply
from app.prompt.render import CALL_PREFIX, END, Conversation
from app.tools.catalog import ArgumentError, Catalog, ToolSpec

Progress = Callable[[int, int, bool], None]  # (done, total, last passed)


class Backend(Protocol):
    """What the runner needs of a model: the raw reply to a conversation, streamed if it can."""

    def reply(self, conv: Conversation, *, on_text: Callable[[str], None] | None = None) -> str: ...


@dataclass(frozen=True)
class Prediction:
    """One reply, parsed as the app parses it, with its timings."""

    calls: tuple[ToolCall, ...]
    text: str
    latency_s: float  # request -> whole reply
    first_call_s: float | None  # request -> first call line complete (None without a parsed call)
    attempted_call: bool  # the reply started with `call:`
    parse_error: str | None

    def as_json(self, case_id: str) -> dict[str, Any]:
        return {"id": case_id, "calls": [{"name": c.name, "arguments": c.arguments} for c in self.calls],
                "text": self.text, "latency_s": round(self.latency_s, 4),
                "first_call_s": None if self.first_call_s is None else round(self.first_call_s, 4),
                "error": self.parse_error}


def _first_call_end(raw: str) -> int:
    """Where the first call line of a reply ends (it is parsed once its line is complete)."""
    body = raw.split(END, 1)[0]
    start = body.find(CALL_PREFIX)
    newline = body.find("\n", start)
    return newline if newline != -1 else len(body)


def predict(backend: Backend, conv: Conversation, clock: Callable[[], float] = time.perf_counter) -> Prediction:
    """Ask the backend, time it, parse the reply; a malformed call becomes an error, never a crash."""
    stream: list[tuple[float, int]] = []  # (seconds since start, characters received so far)
    received = 0
    start = clock()

    def on_text(delta: str) -> None:
        nonlocal received
        received += len(delta)
        stream.append((clock() - start, received))

    raw = backend.reply(conv, on_text=on_text)
    latency = clock() - start
    stripped = raw.split(END, 1)[0].strip()
    attempted = stripped.startswith(CALL_PREFIX)
    try:
        reply = parse_reply(raw)
    except ParseError as exc:
        return Prediction((), stripped, latency, None, attempted, str(exc))
    first_call = None
    if reply.calls:
        end = _first_call_end(raw)
        first_call = next((t for t, n in stream if n >= end), latency)
    return Prediction(reply.calls, reply.text, latency, first_call, attempted, None)


def well_formed(prediction: Prediction, tools: Sequence[ToolSpec]) -> bool:
    """A reply that tried to call parsed, and every call names an offered tool with valid arguments."""
    if not prediction.attempted_call or prediction.parse_error:
        return False
    offered = Catalog(tools)
    try:
        for call in prediction.calls:
            offered.validate(call)
    except ArgumentError:
        return False
    return True


def _names(calls: Iterable[ToolCall]) -> list[str]:
    return [c.name for c in calls]


def _write(out: TextIO, record: dict[str, Any]) -> None:
    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()  # a long run can be watched, and a crash keeps what was done


def evaluate_cases(cases: Sequence[Case], backend: Backend, out: TextIO, *, catalog: Catalog | None = None,
                   fewshot: bool = False, progress: Progress | None = None) -> Report:
    """Run and score tool-call cases; one predictions line per case goes to `out`."""
    catalog = catalog or Catalog.builtin()
    outcomes = []
    for done, case in enumerate(cases, 1):
        conv = case.conversation(catalog)
        pred = predict(backend, with_examples(conv) if fewshot else conv)
        # A malformed call fails even a no-call case: the user gets an error, not an answer.
        verdict = match_case(case, pred.calls, catalog) if pred.parse_error is None else None
        passed = verdict is not None and verdict.passed
        why = pred.parse_error if verdict is None else verdict.reason
        outcomes.append(Outcome(
            id=case.id,
            groups=groups_of(case.expected, catalog),
            tools=tuple(dict.fromkeys(_names(case.expected))) or ("none",),
            expects_call=bool(case.expected),
            passed=passed,
            right_tools=pred.parse_error is None and _names(pred.calls) == _names(case.expected),
            attempted_call=pred.attempted_call,
            well_formed=well_formed(pred, conv.tools),
            first_call_s=pred.first_call_s,
        ))
        _write(out, {**pred.as_json(case.id), "passed": passed, "why": why})
        if progress:
            progress(done, len(cases), passed)
    return summarize(outcomes)


def evaluate_bfcl(entries: Sequence[BfclEntry], backend: Backend, out: TextIO, *, fewshot: bool = False,
                  progress: Progress | None = None) -> Report:
    """Run and check BFCL entries, each offered its own functions; grouped by BFCL category."""
    outcomes = []
    for done, entry in enumerate(entries, 1):
        conv = entry.conversation()
        pred = predict(backend, with_examples(conv) if fewshot else conv)
        check = check_entry(entry, None if pred.parse_error else pred.calls)
        expected_names = sorted(_names(entry.answer or ()))
        outcomes.append(Outcome(
            id=entry.id,
            groups=(entry.category,),
            tools=(),  # BFCL's hundreds of function names would only be noise
            expects_call=entry.answer is not None,
            passed=check.valid,
            right_tools=pred.parse_error is None and sorted(_names(pred.calls)) == expected_names,
            attempted_call=pred.attempted_call,
            well_formed=well_formed(pred, conv.tools),
            first_call_s=pred.first_call_s,
        ))
        _write(out, {**pred.as_json(entry.id), "passed": check.valid, "why": check.error})
        if progress:
            progress(done, len(entries), check.valid)
    return summarize(outcomes)


def open_predictions(path: Path) -> TextIO:
    """The predictions file, its folder created; written line by line as cases finish."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w", encoding="utf-8")

"""Scores of an evaluation (../shared/spec/cases.md, "What an evaluation reports").

Each case becomes one Outcome; `summarize` aggregates them overall, by group and by
tool. A rate whose denominator is empty is None (JSON null), never a made-up 0 or 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

import numpy as np


@dataclass(frozen=True)
class Outcome:
    """How one case went.

    `groups` and `tools` are the buckets the case counts in (the expected calls'
    groups and tool names, "none" for an expected no-call; a BFCL category).
    `attempted_call` is true when the reply started with `call:`; `well_formed`
    when it then parsed and every call named an offered tool with valid arguments.
    """

    id: str
    groups: tuple[str, ...]
    tools: tuple[str, ...]
    expects_call: bool
    passed: bool
    right_tools: bool
    attempted_call: bool
    well_formed: bool
    first_call_s: float | None


@dataclass(frozen=True)
class Scores:
    n: int
    exact: float | None  # cases passed / cases
    tool_selection: float | None  # the called tool names (in order) were the expected ones
    no_call: float | None  # passed / cases expecting no call
    call: float | None  # passed / cases expecting calls
    well_formed: float | None  # well-formed / replies that attempted a call
    first_call_p50_s: float | None  # request -> first parsed call, over replies with a call
    first_call_p95_s: float | None
    n_no_call: int
    n_call: int
    n_attempted: int


@dataclass(frozen=True)
class Report:
    overall: Scores
    by_group: dict[str, Scores]
    by_tool: dict[str, Scores]

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": asdict(self.overall),
            "by_group": {k: asdict(v) for k, v in self.by_group.items()},
            "by_tool": {k: asdict(v) for k, v in self.by_tool.items()},
        }


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _percentile(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 4) if values else None


def scores(outcomes: Sequence[Outcome]) -> Scores:
    no_call = [o for o in outcomes if not o.expects_call]
    call = [o for o in outcomes if o.expects_call]
    attempted = [o for o in outcomes if o.attempted_call]
    times = [o.first_call_s for o in outcomes if o.first_call_s is not None]
    return Scores(
        n=len(outcomes),
        exact=_rate(sum(o.passed for o in outcomes), len(outcomes)),
        tool_selection=_rate(sum(o.right_tools for o in outcomes), len(outcomes)),
        no_call=_rate(sum(o.passed for o in no_call), len(no_call)),
        call=_rate(sum(o.passed for o in call), len(call)),
        well_formed=_rate(sum(o.well_formed for o in attempted), len(attempted)),
        first_call_p50_s=_percentile(times, 50),
        first_call_p95_s=_percentile(times, 95),
        n_no_call=len(no_call),
        n_call=len(call),
        n_attempted=len(attempted),
    )


def _bucketed(outcomes: Iterable[Outcome], key: str) -> dict[str, Scores]:
    buckets: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        for name in getattr(outcome, key):
            buckets.setdefault(name, []).append(outcome)
    return {name: scores(items) for name, items in sorted(buckets.items())}


def summarize(outcomes: Sequence[Outcome]) -> Report:
    """Overall, by group and by tool (a case with calls of two tools counts in both)."""
    outcomes = list(outcomes)
    return Report(scores(outcomes), _bucketed(outcomes, "groups"), _bucketed(outcomes, "tools"))

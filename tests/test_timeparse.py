"""Time expressions as users type them, resolved against a fixed Thursday morning."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.tools.catalog import TIME_ARGS
from app.tools.timeparse import (
    format_day,
    format_span,
    format_when,
    has_time_of_day,
    parse_when,
    resolve_span,
    resolve_time,
)

NOW = datetime(2026, 11, 26, 9, 15, 33)  # Thursday; seconds are dropped
SEED = Path(__file__).resolve().parents[2] / "shared" / "data" / "seed"  # ../shared beside the checkout


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("tomorrow at 12:30", at(11, 27, 12, 30)),
        ("today at 2pm", at(11, 26, 14)),
        ("in 2 hours", at(11, 26, 11, 15)),
        ("in 30 minutes", at(11, 26, 9, 45)),
        ("in half an hour", at(11, 26, 9, 45)),
        ("in an hour and a half", at(11, 26, 10, 45)),
        ("2026-12-01 09:30", at(12, 1, 9, 30)),
        ("2026-12-01T09:30:00", at(12, 1, 9, 30)),
        ("now", at(11, 26, 9, 15)),
        ("noon", at(11, 26, 12)),
        ("tonight", at(11, 26, 20)),
        ("this afternoon", at(11, 26, 15)),
        ("this evening at 8", at(11, 26, 20)),
        ("tomorrow morning", at(11, 27, 9)),
        ("eod", at(11, 26, 17)),
        ("end of day today", at(11, 26, 17)),
        ("midnight", at(11, 27)),
        ("Friday", at(11, 27)),
        ("friday at 10am", at(11, 27, 10)),
        ("Friday 10", at(11, 27, 10)),
        ("thursdy", at(12, 3)),  # a bare weekday is the next one after today
        ("this Thursday", at(11, 26)),
        ("next Friday", at(12, 4)),  # the Friday of next week
        ("Friday next week", at(12, 4)),
        ("next Monday at 9am", at(11, 30, 9)),
        ("Thursday next week at 5pm", at(12, 3, 17)),
        ("last Tuesday", at(11, 24)),
        ("yesterday", at(11, 25)),
        ("the day after tomorrow at 11am", at(11, 28, 11)),
        ("Dec 3", at(12, 3)),
        ("Dec 3 at 9:30am", at(12, 3, 9, 30)),
        ("Nov 26", at(11, 26)),  # today, not next year
        ("Nov 25", at(11, 25, year=2027)),  # yesterday's date: the next one
        ("11/14", at(11, 14, year=2027)),
        ("24.12.2026 18:00", at(12, 24, 18)),
        ("December 24, 2026 at 18:00", at(12, 24, 18)),
        ("June 3rd, 2027, 10:00", at(6, 3, 10, year=2027)),
        ("the 14th", at(12, 14)),  # the next 14th, not the one that passed
        ("the 26th", at(11, 26)),
        ("the 4th at 2pm", at(12, 4, 14)),
        ("the 31st", at(12, 31)),
        ("the twenty-second", at(12, 22)),
        ("the 1st of next month", at(12, 1)),
        ("Christmas Eve", at(12, 24)),
        ("New Year's Day", at(1, 1, year=2027)),
        ("a week from today", at(12, 3)),
        ("in 7 days", at(12, 3)),
        ("in 3 days at 9am", at(11, 29, 9)),
        ("next week", at(11, 30)),
        ("end of next week", at(12, 6)),
        ("at 3", at(11, 26, 15)),  # a bare 1-6 is afternoon
        ("at 8", at(11, 27, 8)),  # 08:00 has passed today: tomorrow
        ("May 20 at 06:15", at(5, 20, 6, 15, year=2027)),  # zero-padded: 24-hour clock
        ("half past four", at(11, 26, 16, 30)),
        ("quarter to nine on friday morning", at(11, 27, 8, 45)),
        ("tuesday 15 o'clock", at(12, 1, 15)),
        ("tmrw 9am", at(11, 27, 9)),
        ("at 17.30 today", at(11, 26, 17, 30)),
        ("Feb 29", at(2, 29, year=2028)),
        ("2 hours", at(11, 26, 11, 15)),
        ("3 days", at(11, 29)),
        ("Mon 30 Nov", at(11, 30)),
        ("10 december at 10", at(12, 10, 10)),
    ],
)
def test_resolves(expr: str, expected: datetime) -> None:
    assert resolve_time(expr, NOW) == expected


@pytest.mark.parametrize(
    ("expr", "timed"),
    [
        ("tomorrow", False), ("Friday", False), ("the 14th", False), ("next week", False),
        ("in 7 days", False), ("2026-12-01", False),
        ("tomorrow at 3pm", True), ("noon", True), ("in 2 hours", True), ("now", True),
        ("tonight", True), ("eod", True), ("2026-12-01 09:30", True), ("in 2 days at 9am", True),
        ("25:00", False), ("", False),
    ],
)
def test_has_time_of_day(expr: str, timed: bool) -> None:
    assert has_time_of_day(expr) is timed


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("asdf", "couldn't understand"),
        ("", "No time was given"),
        ("   ", "No time was given"),
        ("25:00", "not a time of day"),
        ("13pm", "not a time of day"),
        ("feb 30", "February has no day 30"),
        ("the 32nd", "no month has a day 32"),
        ("2026", "couldn't understand"),
    ],
)
def test_rejects_with_a_clear_message(expr: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as info:
        resolve_time(expr, NOW)
    assert "Try something like" in str(info.value)


def test_day_has_its_whole_span_and_a_part_of_day_its_hours() -> None:
    friday = parse_when("Friday", NOW)
    assert not friday.has_time and friday.span == (at(11, 27), at(11, 28))
    afternoon = parse_when("this afternoon", NOW)
    assert afternoon.at == at(11, 26, 15) and afternoon.span == (at(11, 26, 12), at(11, 26, 18))
    exact = parse_when("tomorrow at 3pm", NOW)
    assert exact.span == (exact.at, exact.at) and not exact.is_period


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("today", None, (at(11, 26), at(11, 27))),
        ("now", None, (at(11, 26, 9, 15), at(11, 27))),
        ("today at 2pm", "today at 5pm", (at(11, 26, 14), at(11, 26, 17))),
        ("today", "Friday", (at(11, 26), at(11, 28))),  # an end day is included
        ("next week", None, (at(11, 30), at(12, 7))),
        ("next Monday", "end of next week", (at(11, 30), at(12, 7))),
        ("Saturday", "Sunday", (at(11, 28), at(11, 30))),
        ("this afternoon", None, (at(11, 26, 12), at(11, 26, 18))),
        ("now", "in 2 hours", (at(11, 26, 9, 15), at(11, 26, 11, 15))),
    ],
)
def test_resolve_span(start: str, end: str | None, expected: tuple[datetime, datetime]) -> None:
    assert resolve_span(start, end, NOW) == expected


def test_span_end_before_start_is_refused() -> None:
    with pytest.raises(ValueError, match="not after the start"):
        resolve_span("tomorrow at 5pm", "tomorrow at 9am", NOW)


def test_keeps_the_time_zone_of_now() -> None:
    aware = NOW.replace(tzinfo=timezone(timedelta(hours=1)))
    assert resolve_time("tomorrow at 12:30", aware) == datetime(2026, 11, 27, 12, 30, tzinfo=aware.tzinfo)


def test_formats() -> None:
    assert format_when(at(11, 27, 12, 30)) == "Fri 27 Nov 12:30"
    assert format_when(at(1, 4, 9, 5, year=2027), NOW) == "Mon 4 Jan 2027 09:05"
    assert format_day(at(11, 27).date()) == "Fri 27 Nov"
    assert format_span(at(11, 27, 12, 30), at(11, 27, 13, 30)) == "Fri 27 Nov 12:30–13:30"
    assert format_span(at(11, 27), at(11, 28)) == "Fri 27 Nov"
    assert format_span(at(11, 30), at(12, 7)) == "Mon 30 Nov – Sun 6 Dec"
    assert format_span(at(11, 27, 23), at(11, 28, 1)) == "Fri 27 Nov 23:00 – Sat 28 Nov 01:00"


def _seed_time_arguments() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(SEED.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            case = json.loads(line)
            for call in case["expected"]:
                for name, value in call["arguments"].items():
                    if name in TIME_ARGS:
                        for option in value["any_of"] if isinstance(value, dict) else [value]:
                            found.append((case["id"], case["now"], option))
    return found


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed cases are not on this machine")
def test_every_seed_time_argument_resolves() -> None:
    """Every time expression of the seed cases resolves; alternatives of one argument agree on the day."""
    arguments = _seed_time_arguments()
    assert len(arguments) > 250
    failures = []
    for case_id, now, expr in arguments:
        try:
            resolve_time(expr, datetime.fromisoformat(now))
        except ValueError as exc:
            failures.append(f"{case_id}: {exc}")
    assert failures == []


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed cases are not on this machine")
def test_seed_alternatives_agree() -> None:
    """Where a case lists alternatives for a time ("next Monday" / "Monday next week"), they mean the same day."""
    for path in sorted(SEED.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            case = json.loads(line)
            now = datetime.fromisoformat(case["now"])
            for call in case["expected"]:
                for name, value in call["arguments"].items():
                    if name in TIME_ARGS and isinstance(value, dict):
                        days = {resolve_time(v, now).date() for v in value["any_of"]}
                        assert len(days) == 1, (case["id"], value)

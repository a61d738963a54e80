"""Resolve the time expressions users type ("tomorrow at 12:30", "next Friday", "the 14th").

The model copies the user's own words into time arguments; this module turns them
into local datetimes against an injected `now`, for the calendar tools, the approval
card and the evaluation matcher, so all three agree on what an expression means.

dateparser alone gets several everyday forms wrong or not at all ("the 14th" lands
in the past, "the 4th at 2pm" in April, "Thursday next week", "end of day", holidays,
"Nov 26" asked on Nov 26 jumps a year). So an expression is split into a time of day
and a day part; both are read by the small grammar below, and dateparser is the
fallback for day parts the grammar does not know.

Conventions (the approval card always shows the resolved time, so a user can correct it):
- A bare weekday ("Friday") is the next one after today; "this Friday" may be today.
- "next Friday" and "Friday next week" are the Friday of next week (weeks start on Monday);
  "last Friday" is the most recent one before today.
- A date without a year ("Dec 3", "11/14", "the 14th") is the next one from today on.
- A clock time without a day ("noon", "at 3pm") is the next one from now on.
- A bare hour from 1 to 6 with no am/pm ("at 3") is in the afternoon; "tonight at 8"
  and "this evening at 8" are pm too.
- Parts of the day: morning 09:00, afternoon 15:00, evening 18:00, tonight 20:00,
  end of day ("eod", "end of day") 17:00, midnight the end of the day it names.
- Results are truncated to the minute and keep `now`'s tzinfo (naive stays naive).
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import dateparser

__all__ = [
    "When",
    "parse_when",
    "resolve_time",
    "resolve_span",
    "has_time_of_day",
    "format_when",
    "format_day",
    "format_span",
]

HELP = "Try something like 'tomorrow at 3pm', 'next Friday', 'Dec 3' or '2026-12-01 09:30'."

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")

_WEEKDAY_ALIASES = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    **{d[:3]: i for i, d in enumerate(WEEKDAYS)},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3, "thu": 3,
}
_MONTH_ALIASES = {
    **{m: i + 1 for i, m in enumerate(MONTHS)},
    **{m[:3]: i + 1 for i, m in enumerate(MONTHS)},
    "sept": 9,
}
_WD = r"(" + "|".join(sorted(_WEEKDAY_ALIASES, key=len, reverse=True)) + r")"
_MON = r"(?P<mon>" + "|".join(sorted(_MONTH_ALIASES, key=len, reverse=True)) + r")\.?"

# Fixed-date holidays people name instead of a date.
_HOLIDAYS = {
    "christmas eve": (12, 24), "christmas day": (12, 25), "christmas": (12, 25), "xmas": (12, 25),
    "boxing day": (12, 26), "new year's eve": (12, 31), "new years eve": (12, 31),
    "new year's day": (1, 1), "new years day": (1, 1), "new year's": (1, 1), "new year": (1, 1),
    "valentine's day": (2, 14), "valentines day": (2, 14), "halloween": (10, 31),
    "independence day": (7, 4), "st patrick's day": (3, 17), "st. patrick's day": (3, 17),
}

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "forty-five": 45, "ninety": 90, "a couple of": 2, "a few": 3,
}
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
_TENS = {"twenty": 20, "thirty": 30}
_SUFFIX = {1: "st", 2: "nd", 3: "rd"}

# Words kept as they are when correcting typos ("thursdy" -> "thursday").
_VOCABULARY = set(WEEKDAYS) | set(MONTHS) | {
    "today", "tomorrow", "yesterday", "tonight", "morning", "afternoon", "evening", "night",
    "noon", "midnight", "next", "last", "this", "week", "weekend", "month", "year", "after",
    "before", "from", "minutes", "hours", "days", "weeks", "months",
}

# Part of the day: (default time, period start hour, period end hour).
_PARTS = {
    "morning": (time(9), 5, 12),
    "afternoon": (time(15), 12, 18),
    "evening": (time(18), 18, 24),
    "tonight": (time(20), 18, 24),
    "night": (time(20), 18, 24),
}
_EOD = time(17)


@dataclass(frozen=True)
class When:
    """A resolved expression.

    `at` is the moment it names (midnight of the day when it names no time of day).
    `span` is the period it names, end exclusive: the whole day for "Friday",
    12:00-18:00 for "this afternoon", Monday to Monday for "next week"; an exact
    moment ("tomorrow at 3pm") has an empty span (at, at).
    """

    at: datetime
    has_time: bool
    span: tuple[datetime, datetime]

    @property
    def is_period(self) -> bool:
        return self.span[1] > self.span[0]


@dataclass(frozen=True)
class _Clock:
    """The time-of-day part of an expression."""

    at: time
    period: tuple[int, int] | None = None  # a part of the day's span in hours, e.g. (12, 18)
    next_day: bool = False  # midnight: the end of the named day
    implies_today: bool = False  # "tonight", "this afternoon": today even if the time has passed


@dataclass(frozen=True)
class _Day:
    """The day part: a first day and the day after the period it names."""

    first: date
    end: date  # exclusive


class _NotUnderstood(ValueError):
    pass


# ---------------------------------------------------------------- public API


def parse_when(expr: str, now: datetime) -> When:
    """Resolve `expr` against `now`; raise ValueError with a message the user can act on."""
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError(f"No time was given. {HELP}")
    now = now.replace(second=0, microsecond=0)
    text = _normalize(expr)
    try:
        return _parse(text, now)
    except _NotUnderstood as exc:
        detail = f" ({exc})" if str(exc) else ""
        raise ValueError(f"I couldn't understand the time {expr.strip()!r}{detail}. {HELP}") from None


def resolve_time(expr: str, now: datetime) -> datetime:
    """The moment `expr` names, e.g. 'tomorrow at 12:30' -> 2026-11-27 12:30."""
    return parse_when(expr, now).at


def resolve_span(start: str, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The time range from `start` to `end` (exclusive), as list_events reads it.

    Without `end`, the range is the period `start` names ("next week", "this
    afternoon"), or from `start` to the end of its day. An `end` that names a whole
    day ("Friday") includes that day.
    """
    first = parse_when(start, now)
    begin = first.span[0]
    if end is None or not str(end).strip():
        finish = first.span[1] if first.is_period else _next_midnight(first.at)
    else:
        last = parse_when(end, now)
        finish = last.span[1]
    if finish <= begin:
        raise ValueError(
            f"The end ({format_when(finish)}) is not after the start ({format_when(begin)}). "
            "Give an end time later than the start."
        )
    return begin, finish


def has_time_of_day(expr: str) -> bool:
    """Whether `expr` names a time of day ("tomorrow at 3pm", "in 2 hours", "now") or only a day."""
    if not isinstance(expr, str):
        return False
    text = _normalize(expr)
    if _NOW.match(text):
        return True
    try:
        found = _relative_match(text)
        if found:
            rel = found[0]
            unit = rel.group("unit")
            if unit.startswith(("m", "h")) and not unit.startswith("mo"):
                return True
            return _find_clock(rel.group("rest") or "")[0] is not None
        return _find_clock(text)[0] is not None
    except _NotUnderstood:
        return False  # "25:00": not a time of day (resolve_time says why)


def format_stamp(dt: datetime) -> str:
    """'2026-11-27 12:30': how tool outputs write a time (the model reads and copies these)."""
    return f"{dt:%Y-%m-%d %H:%M}"


def format_day(d: date, now: datetime | None = None) -> str:
    """'Fri 27 Nov' (with the year when it is not `now`'s year)."""
    text = f"{d:%a} {d.day} {d:%b}"
    return f"{text} {d.year}" if now is not None and d.year != now.year else text


def format_when(dt: datetime, now: datetime | None = None) -> str:
    """'Fri 27 Nov 12:30' (with the year when it is not `now`'s year)."""
    return f"{format_day(dt.date(), now)} {dt:%H:%M}"


def format_span(start: datetime, end: datetime, now: datetime | None = None) -> str:
    """'Fri 27 Nov 12:30–13:30', 'Fri 27 Nov' (a whole day), 'Mon 30 Nov – Sun 6 Dec'."""
    midnight = time(0)
    if start.time() == midnight and end.time() == midnight and end > start:
        last = (end - timedelta(days=1)).date()
        if last == start.date():
            return format_day(start.date(), now)
        return f"{format_day(start.date(), now)} – {format_day(last, now)}"
    if end.date() == start.date() or (end.time() == midnight and end - start <= timedelta(days=1)):
        return f"{format_when(start, now)}–{end:%H:%M}"
    return f"{format_when(start, now)} – {format_when(end, now)}"


# ---------------------------------------------------------------- normalization


def _normalize(expr: str) -> str:
    text = expr.strip().lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-").replace("\u2014", "-")
    text = re.sub(r"\ba\.m\.?", "am", text)
    text = re.sub(r"\bp\.m\.?", "pm", text)
    text = re.sub(r"[!?;]+", " ", text)
    text = re.sub(r"\s+", " ", text).strip(" .,")
    text = re.sub(r"\b(tmrw|tmr|tmrow|tommorow|tommorrow|tomorow|2morrow)\b", "tomorrow", text)
    text = re.sub(r"\btonite\b", "tonight", text)
    text = re.sub(r"\b(\d{4}-\d{1,2}-\d{1,2})t(\d)", r"\1 \2", text)  # ISO 8601 "2026-12-01T09:30"
    text = re.sub(r"\b(this|the) coming\b", "coming", text)
    text = _ordinal_words(text)
    text = _fix_typos(text)
    text = re.sub(r"^(on|for|by|from|starting|until|till|before|after)\s+(?=\S)", "", text)
    return text.strip(" ,")


def _ordinal_words(text: str) -> str:
    """'the twenty-second' -> 'the 22nd' so one rule reads both."""

    def number(value: int) -> str:
        suffix = "th" if 10 <= value % 100 <= 20 else _SUFFIX.get(value % 10, "th")
        return f"{value}{suffix}"

    def compound(m: re.Match[str]) -> str:
        return number(_TENS[m.group(1)] + _ORDINAL_WORDS[m.group(2)])

    units = "|".join(k for k, v in _ORDINAL_WORDS.items() if v < 10)
    text = re.sub(rf"\b(twenty|thirty)[- ]({units})\b", compound, text)
    names = "|".join(sorted(_ORDINAL_WORDS, key=len, reverse=True))
    # "second" is also a unit of time: only read it as an ordinal after "the".
    return re.sub(rf"\b(the )({names})\b|\b({'|'.join(n for n in _ORDINAL_WORDS if n != 'second')})\b",
                  lambda m: (m.group(1) or "") + number(_ORDINAL_WORDS[m.group(2) or m.group(3)]), text)


def _fix_typos(text: str) -> str:
    """Correct a misspelt weekday or month ('thursdy', 'febuary'); other words stay."""
    known = set(_VOCABULARY) | set(_WEEKDAY_ALIASES) | set(_MONTH_ALIASES)
    targets = list(WEEKDAYS) + list(MONTHS)

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if word in known or len(word) < 5:
            return word
        close = difflib.get_close_matches(word, targets, n=1, cutoff=0.8)
        return close[0] if close else word

    return re.sub(r"[a-z]+", fix, text)


# ---------------------------------------------------------------- the grammar

_NOW = re.compile(r"^(right )?now$|^immediately$|^asap$")
_UNITS = r"(?P<unit>minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|months?|years?|yrs?)"
_AMOUNT = r"(?P<n>\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty-five|forty|ninety|a couple of|a few|half an?)"
_RELATIVE = re.compile(
    rf"^(?:in )?{_AMOUNT} ?{_UNITS}(?: and a half)?(?: (?:from (?:now|today)|later|time))?(?:,? (?P<rest>.+))?$"
)
_AGO = re.compile(rf"^{_AMOUNT} ?{_UNITS} ago(?:,? (?P<rest>.+))?$")


def _parse(text: str, now: datetime) -> When:
    if _NOW.match(text):
        return When(now, True, (now, now))
    relative = _relative(text, now)
    if relative is not None:
        return relative
    clock, day_text = _find_clock(text)
    day = _day(day_text, now) if day_text else None
    if day is None and day_text:
        raise _NotUnderstood()
    return _combine(day, clock, now)


def _relative_match(text: str) -> tuple[re.Match[str], int] | None:
    """The match of a relative expression and its direction (+1 ahead, -1 ago), if it is one."""
    m = _RELATIVE.match(text)
    if m and (text.startswith("in ") or " from " in text or " later" in text or " time" in text
              or m.group("rest") is None):  # a bare "2 hours" means from now, too
        return m, 1
    m = _AGO.match(text)
    return (m, -1) if m else None


def _relative(text: str, now: datetime) -> When | None:
    """'in 2 hours', 'in 3 days at 9am', 'a week from today', '2 days ago'."""
    found = _relative_match(text)
    if found is None:
        return None
    m, sign = found
    raw = m.group("n")
    amount = 0.5 if raw.startswith("half") else float(_NUMBER_WORDS.get(raw, raw) if not raw[0].isdigit() else raw)
    if "and a half" in text:
        amount += 0.5
    unit = m.group("unit")
    rest = m.group("rest") or ""
    if unit.startswith("mo") or unit.startswith("y"):
        months = int(round(amount * (12 if unit.startswith("y") else 1))) * sign
        target = _add_months(now.date(), months)
    elif unit.startswith(("m", "h")):
        if rest:
            raise _NotUnderstood(f"unexpected {rest!r}")
        delta = timedelta(minutes=amount) if unit.startswith("m") else timedelta(hours=amount)
        at = (now + sign * delta).replace(second=0, microsecond=0)
        return When(at, True, (at, at))
    else:
        days = amount * (7 if unit.startswith("w") else 1)
        target = now.date() + timedelta(days=sign * int(round(days)))
    clock, leftover = _find_clock(rest)
    if leftover:
        raise _NotUnderstood(f"unexpected {leftover!r}")
    return _combine(_Day(target, target + timedelta(days=1)), clock, now)


def _combine(day: _Day | None, clock: _Clock | None, now: datetime) -> When:
    tz = now.tzinfo
    if clock is None:
        assert day is not None
        at = datetime.combine(day.first, time(0), tzinfo=tz)
        return When(at, False, (at, datetime.combine(day.end, time(0), tzinfo=tz)))
    if day is None:
        first = now.date()
        if not clock.implies_today and not clock.next_day and datetime.combine(first, clock.at, tzinfo=tz) < now:
            first += timedelta(days=1)  # "at 3pm" said at 4pm: tomorrow
    else:
        first = day.first
    if clock.next_day:
        at = datetime.combine(first + timedelta(days=1), time(0), tzinfo=tz)
        return When(at, True, (at, at))
    at = datetime.combine(first, clock.at, tzinfo=tz)
    if clock.period is None:
        return When(at, True, (at, at))
    midnight = datetime.combine(first, time(0), tzinfo=tz)
    return When(at, True, (midnight + timedelta(hours=clock.period[0]), midnight + timedelta(hours=clock.period[1])))


# ---- time of day

_HOUR_WORDS = {w: n for w, n in _NUMBER_WORDS.items() if w in (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")}
_H = r"(?P<h>\d{1,2}|" + "|".join(_HOUR_WORDS) + r")"
_CLOCK_PATTERNS = (
    ("fraction", re.compile(rf"\b(?:at )?(?P<frac>half past|quarter past|quarter to) {_H}(?: ?(?P<ampm>am|pm))?\b")),
    ("hm", re.compile(r"\b(?:at )?(?P<h>\d{1,2})[:h](?P<m>\d{2})(?::\d{2}(?:\.\d+)?)?(?: ?(?P<ampm>am|pm))?(?: ?h)?\b")),
    ("h_ampm", re.compile(r"\b(?:at )?(?P<h>\d{1,2}) ?(?P<ampm>am|pm)\b")),
    ("oclock", re.compile(rf"\b(?:at )?{_H} ?o'?clock(?: (?P<ampm>am|pm))?\b")),
    ("dot", re.compile(r"(?:\bat )?(?<![\d.])(?P<h>[01]?\d|2[0-3])\.(?P<m>[0-5]\d)(?![\d.])(?: ?(?P<ampm>am|pm))?")),
    # "at 3", and "Friday 10" / "tomorrow 9": a bare hour right after a day word
    ("bare", re.compile(rf"(?:\bat |(?<=day )|(?<=tomorrow )|(?<=tonight ))\b{_H}\b(?!(?:st|nd|rd|th)\b|[/.:-]\d| ?(?:{'|'.join(MONTHS)}|{'|'.join(m[:3] for m in MONTHS)})\b)")),
)
_NAMED = (
    (re.compile(r"\b(?:at )?(?:noon|midday|lunchtime|lunch time)\b"), time(12), False),
    (re.compile(r"\b(?:at )?midnight\b"), time(0), True),
    (re.compile(r"\b(?:at |by )?(?:the )?(?:eod|cob|eob|end of (?:the )?(?:work(?:ing)? |business )?day|"
                r"close of business|end of business)\b"), _EOD, False),
)
_PART = re.compile(r"\b(?:(?P<this>this|in the) )?(?P<part>morning|afternoon|evening|tonight|night)\b")


def _find_clock(text: str) -> tuple[_Clock | None, str]:
    """Split off the time of day: (the clock or None, the remaining day text)."""
    part_match = _PART.search(text)
    part = part_match.group("part") if part_match else None
    if part_match:
        text = _cut(text, part_match)
    clock: _Clock | None = None
    for kind, pattern in _CLOCK_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        hour, minute = _read_hm(kind, m)
        padded = m.group("h").startswith("0")  # "06:15" is a 24-hour time, never pm
        hour = _apply_meridiem(hour, m.groupdict().get("ampm"), part, guess=not padded)
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise _NotUnderstood(f"{m.group(0).strip()!r} is not a time of day")
        clock = _Clock(time(hour, minute))
        text = _cut(text, m)
        break
    if clock is None:
        for pattern, at, next_day in _NAMED:
            m = pattern.search(text)
            if m:
                clock = _Clock(at, next_day=next_day)
                text = _cut(text, m)
                break
    if part is not None:
        default, start_h, end_h = _PARTS[part]
        implies_today = part == "tonight" or bool(part_match and part_match.group("this") == "this")
        if clock is None:
            clock = _Clock(default, period=(start_h, end_h), implies_today=implies_today)
        else:
            clock = _Clock(clock.at, next_day=clock.next_day, implies_today=implies_today)
    text = re.sub(r"\b(at|on|in|the day of)\s*$", "", text.strip(" ,")).strip(" ,-")
    text = re.sub(r"^(at|on)\b\s*", "", text).strip(" ,-")
    return clock, text


def _cut(text: str, m: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", (text[: m.start()] + " " + text[m.end():])).strip(" ,")


def _read_hm(kind: str, m: re.Match[str]) -> tuple[int, int]:
    raw = m.group("h")
    hour = int(raw) if raw.isdigit() else _HOUR_WORDS[raw]
    if kind == "fraction":
        frac = m.group("frac")
        if frac == "quarter to":
            return hour - 1, 45
        return hour, 30 if frac == "half past" else 15
    if kind in ("hm", "dot"):
        return hour, int(m.group("m"))
    return hour, 0


def _apply_meridiem(hour: int, ampm: str | None, part: str | None, *, guess: bool) -> int:
    if ampm:
        if not 1 <= hour <= 12:
            raise _NotUnderstood(f"{hour}{ampm} is not a time of day")
        return hour % 12 + (12 if ampm == "pm" else 0)
    if hour < 12 and part in ("afternoon", "evening", "tonight", "night"):
        return hour + 12
    if guess and 1 <= hour <= 6 and part != "morning":
        return hour + 12  # "at 3": people mean 15:00, not 03:00
    return hour


# ---- day part


def _day(text: str, now: datetime) -> _Day | None:
    today = now.date()
    text = re.sub(r"^(on|the day of)\s+", "", text).strip(" ,")
    for reader in (_relative_day, _weekday, _week_or_month, _ordinal_day, _holiday, _calendar_date):
        found = reader(text, today)
        if found is not None:
            return found
    return _dateparser_day(text, now)


def _one(d: date) -> _Day:
    return _Day(d, d + timedelta(days=1))


def _relative_day(text: str, today: date) -> _Day | None:
    offsets = {
        "today": 0, "this day": 0, "this": 0, "tomorrow": 1, "yesterday": -1,
        "day after tomorrow": 2, "the day after tomorrow": 2, "overmorrow": 2,
        "day before yesterday": -2, "the day before yesterday": -2,
    }
    return _one(today + timedelta(days=offsets[text])) if text in offsets else None


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


_WEEKDAY_FORMS = (
    (re.compile(rf"^(?:this coming|coming|upcoming) {_WD}$"), "coming"),
    (re.compile(rf"^{_WD}$"), "coming"),
    (re.compile(rf"^this {_WD}$"), "this"),
    (re.compile(rf"^{_WD},? this week$"), "this_week"),
    (re.compile(rf"^(?:next {_WD}|{_WD},? next week|next week,? {_WD})$"), "next_week"),
    (re.compile(rf"^(?:{_WD} after next|{_WD},? (?:in )?(?:the )?week after next)$"), "after_next"),
    (re.compile(rf"^(?:last|past|previous) {_WD}$"), "last"),
    (re.compile(rf"^(?:{_WD},? last week|last week,? {_WD})$"), "last_week"),
)


def _weekday(text: str, today: date) -> _Day | None:
    for pattern, form in _WEEKDAY_FORMS:
        m = pattern.match(text)
        if not m:
            continue
        wd = _WEEKDAY_ALIASES[next(g for g in m.groups() if g)]
        ahead = (wd - today.weekday()) % 7
        if form == "coming":
            d = today + timedelta(days=ahead or 7)
        elif form == "this":
            d = today + timedelta(days=ahead)
        elif form == "this_week":
            d = _monday(today) + timedelta(days=wd)
        elif form == "next_week":
            d = _monday(today) + timedelta(days=7 + wd)
        elif form == "after_next":
            d = _monday(today) + timedelta(days=14 + wd)
        elif form == "last":
            d = today - timedelta(days=(today.weekday() - wd) % 7 or 7)
        else:
            d = _monday(today) - timedelta(days=7) + timedelta(days=wd)
        return _one(d)
    return None


def _week_or_month(text: str, today: date) -> _Day | None:
    monday = _monday(today)
    month_start = today.replace(day=1)
    saturday = monday + timedelta(days=5)
    weeks = {
        "this week": _Day(today, monday + timedelta(days=7)),
        "next week": _Day(monday + timedelta(days=7), monday + timedelta(days=14)),
        "the week after next": _Day(monday + timedelta(days=14), monday + timedelta(days=21)),
        "week after next": _Day(monday + timedelta(days=14), monday + timedelta(days=21)),
        "last week": _Day(monday - timedelta(days=7), monday),
        "end of the week": _one(monday + timedelta(days=6)),
        "end of this week": _one(monday + timedelta(days=6)),
        "end of week": _one(monday + timedelta(days=6)),
        "end of next week": _one(monday + timedelta(days=13)),
        "start of next week": _one(monday + timedelta(days=7)),
        "beginning of next week": _one(monday + timedelta(days=7)),
        "this month": _Day(today, _add_months(month_start, 1)),
        "next month": _Day(_add_months(month_start, 1), _add_months(month_start, 2)),
        "last month": _Day(_add_months(month_start, -1), month_start),
        "end of the month": _one(_add_months(month_start, 1) - timedelta(days=1)),
        "end of this month": _one(_add_months(month_start, 1) - timedelta(days=1)),
        "end of month": _one(_add_months(month_start, 1) - timedelta(days=1)),
        "end of next month": _one(_add_months(month_start, 2) - timedelta(days=1)),
        "start of next month": _one(_add_months(month_start, 1)),
        "beginning of next month": _one(_add_months(month_start, 1)),
    }
    if text in weeks:
        return weeks[text]
    if text in ("weekend", "the weekend", "this weekend", "over the weekend", "coming weekend"):
        if today.weekday() >= 5:
            return _Day(today, monday + timedelta(days=7))
        return _Day(saturday, saturday + timedelta(days=2))
    if text in ("next weekend",):
        return _Day(saturday + timedelta(days=7), saturday + timedelta(days=9))
    return None


_ORDINAL = re.compile(
    r"^(?:the )?(?P<d>\d{1,2})(?:st|nd|rd|th)(?: of (?P<which>this|next|the next|last) month)?$"
)


def _ordinal_day(text: str, today: date) -> _Day | None:
    """'the 14th' (the next 14th from today on), 'the 1st of next month'."""
    m = _ORDINAL.match(text)
    if not m:
        return None
    day = int(m.group("d"))
    if not 1 <= day <= 31:
        raise _NotUnderstood(f"no month has a day {day}")
    which = m.group("which")
    month_start = today.replace(day=1)
    if which:
        offset = {"this": 0, "next": 1, "the next": 1, "last": -1}[which]
        start = _add_months(month_start, offset)
        if day > calendar.monthrange(start.year, start.month)[1]:
            raise _NotUnderstood(f"{start:%B} has no day {day}")
        return _one(start.replace(day=day))
    for offset in range(0, 13):
        start = _add_months(month_start, offset)
        if day <= calendar.monthrange(start.year, start.month)[1] and start.replace(day=day) >= today:
            return _one(start.replace(day=day))
    return None  # unreachable: every 12 months hold a 31st


def _holiday(text: str, today: date) -> _Day | None:
    key = re.sub(r"^(on )?(the )?", "", text)
    m = re.match(r"^(?P<name>.+?)(?: (?P<year>\d{4}))?$", key)
    if not m or m.group("name") not in _HOLIDAYS:
        return None
    month, day = _HOLIDAYS[m.group("name")]
    return _one(_next_date(today, month, day, int(m.group("year")) if m.group("year") else None))


_DATE_FORMS = (
    re.compile(rf"^{_MON} (?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,? (?P<y>\d{{4}}))?$"),
    re.compile(rf"^(?:the )?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?: of)? {_MON}(?:,? (?P<y>\d{{4}}))?$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?:(?P<y>\d{4})|(?P<yy>\d{2}))?$"),
)
_SLASH = re.compile(r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?:(?P<y>\d{4})|(?P<yy>\d{2})))?$")


def _calendar_date(text: str, today: date) -> _Day | None:
    """'Dec 3', '3rd of December 2026', '2026-12-01', '24.12.2026', '11/14' (month first unless impossible)."""
    text = re.sub(rf"^{_WD},? (?=\d|the |{_MON})", "", text.replace("'", ""))  # "Mon 30 Nov": the date decides
    for pattern in _DATE_FORMS:
        m = pattern.match(text)
        if m:
            parts = m.groupdict()
            month = _MONTH_ALIASES[parts["mon"]] if parts.get("mon") else int(parts["m"])
            year = _year(parts)
            return _one(_next_date(today, month, int(parts["d"]), year))
    m = _SLASH.match(text)
    if m:
        a, b = int(m.group("a")), int(m.group("b"))
        month, day = (b, a) if a > 12 >= b else (a, b)
        return _one(_next_date(today, month, day, _year(m.groupdict())))
    return None


def _year(parts: dict[str, str | None]) -> int | None:
    if parts.get("y"):
        return int(parts["y"])  # type: ignore[arg-type]
    if parts.get("yy"):
        return 2000 + int(parts["yy"])  # type: ignore[arg-type]
    return None


def _next_date(today: date, month: int, day: int, year: int | None) -> date:
    """The date with this month and day: in `year`, or the next one from today on."""
    if not 1 <= month <= 12:
        raise _NotUnderstood(f"there is no month {month}")
    if year is not None:
        try:
            return date(year, month, day)
        except ValueError:
            raise _NotUnderstood(f"{calendar.month_name[month]} {year} has no day {day}") from None
    for y in range(today.year, today.year + 9):  # 9 years always hold a 29 February
        try:
            candidate = date(y, month, day)
        except ValueError:
            if day > 29 or month != 2:
                raise _NotUnderstood(f"{calendar.month_name[month]} has no day {day}") from None
            continue
        if candidate >= today:
            return candidate
    raise _NotUnderstood(f"{calendar.month_name[month]} {day}")


def _dateparser_day(text: str, now: datetime) -> _Day | None:
    """The fallback for day parts the grammar above does not know ('3 weeks from Friday'...)."""
    if not re.search(r"[a-z0-9]", text):
        return None
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
        "PARSERS": ["relative-time", "custom-formats", "absolute-time"],
    }
    found = dateparser.parse(text, languages=["en"], settings=settings)
    if found is None or text.isdigit():  # a lone number is not a day
        return None
    return _one(found.date())


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return d.replace(year=year, month=month + 1, day=min(d.day, calendar.monthrange(year, month + 1)[1]))


def _next_midnight(dt: datetime) -> datetime:
    return datetime.combine(dt.date() + timedelta(days=1), time(0), tzinfo=dt.tzinfo)

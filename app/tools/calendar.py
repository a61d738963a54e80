"""The calendar tools over the local .ics store (app.tools.calendar_store).

Time arguments are the user's own words, resolved by app.tools.timeparse against
the injected clock. An event is found by (part of) its title and, when given, its
day; when several events fit, the call fails with the list so the user (or the
model) can say which one, rather than Deskmate guessing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.calls import ToolResult, UndoRecord
from app.tools.base import Description, ToolContext, ToolFailed
from app.tools.calendar_store import CalendarStore, Event, events_text
from app.tools.timeparse import When, format_day, format_span, format_stamp, parse_when, resolve_span

DEFAULT_DURATION = 60
MAX_DURATION_MINUTES = 14 * 24 * 60
MAX_FREE_TIME_DAYS = 14
MAX_LISTED_MATCHES = 6


def store(ctx: ToolContext) -> CalendarStore:
    return CalendarStore(ctx.paths.calendar_file, clock=ctx.clock)


def _when(ctx: ToolContext, expr: str) -> When:
    try:
        return parse_when(expr, ctx.now())
    except ValueError as exc:
        raise ToolFailed(str(exc)) from None


def _event_output(event: Event, now: datetime) -> dict[str, object]:
    item: dict[str, object] = {
        "title": event.title,
        "start": event.start.strftime("%Y-%m-%d") if event.all_day else format_stamp(event.start),
        "end": (event.end - timedelta(days=1)).strftime("%Y-%m-%d") if event.all_day else format_stamp(event.end),
        "when": _span_text(event, now),
    }
    if event.all_day:
        item["all_day"] = True
    if event.location:
        item["location"] = event.location
    if event.notes:
        item["notes"] = event.notes
    if event.recurring:
        item["repeats"] = True
    return item


def _span_text(event: Event, now: datetime | None = None) -> str:
    return format_span(event.start, event.end, now)


def _duration(minutes: int | None) -> int:
    value = DEFAULT_DURATION if minutes is None else minutes
    if value <= 0:
        raise ToolFailed("The duration must be at least 1 minute.")
    if value > MAX_DURATION_MINUTES:
        raise ToolFailed("An event can last at most 14 days.")
    return value


# ---------------------------------------------------------------- list_events


def _span(ctx: ToolContext, start: str, end: str | None) -> tuple[datetime, datetime]:
    try:
        return resolve_span(start, end, ctx.now())
    except ValueError as exc:
        raise ToolFailed(str(exc)) from None


def describe_list_events(ctx: ToolContext, start: str, end: str | None = None) -> Description:
    begin, finish = _span(ctx, start, end)
    return Description(f"List events {format_span(begin, finish, ctx.now())}")


def list_events(ctx: ToolContext, start: str, end: str | None = None) -> ToolResult:
    begin, finish = _span(ctx, start, end)
    now = ctx.now()
    events = store(ctx).between(begin, finish)
    when = format_span(begin, finish, now)
    text = f"{len(events)} event{'s' if len(events) != 1 else ''} {when}" if events else f"No events {when}"
    return ToolResult(
        ok=True,
        output={"from": format_stamp(begin), "to": format_stamp(finish),
                "events": [_event_output(e, now) for e in events]},
        text=text,
    )


# ---------------------------------------------------------------- create_event


def _new_times(ctx: ToolContext, start: str, duration_minutes: int | None) -> tuple[datetime, datetime, bool]:
    """(start, end, all_day) for a new event."""
    when = _when(ctx, start)
    if not when.has_time:
        if duration_minutes is not None:
            raise ToolFailed(
                f"Say what time on {format_day(when.at.date())} it starts, e.g. '{start} at 10am'; "
                "without a time it would be an all-day event."
            )
        first = when.at
        return first, first + timedelta(days=1), True
    return when.at, when.at + timedelta(minutes=_duration(duration_minutes)), False


def _create_summary(ctx: ToolContext, title: str, begin: datetime, finish: datetime, all_day: bool,
                    location: str | None) -> str:
    kind = "all-day event" if all_day else "event"
    where = f" at {location}" if location else ""
    return f"Create {kind} '{title}' {format_span(begin, finish, ctx.now())}{where}"


def describe_create_event(ctx: ToolContext, title: str, start: str, duration_minutes: int | None = None,
                          location: str | None = None, notes: str | None = None) -> Description:
    if not title.strip():
        raise ToolFailed("The event needs a title.")
    begin, finish, all_day = _new_times(ctx, start, duration_minutes)
    clashes = [e for e in store(ctx).between(begin, finish) if not e.all_day] if not all_day else []
    preview_lines = []
    if notes:
        preview_lines.append(f"Notes: {notes}")
    if clashes:
        preview_lines.append(f"Overlaps: {events_text(clashes)}")
    return Description(_create_summary(ctx, title.strip(), begin, finish, all_day, location), "\n".join(preview_lines))


def create_event(ctx: ToolContext, title: str, start: str, duration_minutes: int | None = None,
                 location: str | None = None, notes: str | None = None) -> ToolResult:
    if not title.strip():
        raise ToolFailed("The event needs a title.")
    begin, finish, all_day = _new_times(ctx, start, duration_minutes)
    event = store(ctx).add(title.strip(), begin, finish, all_day=all_day, location=location or "", notes=notes or "")
    return ToolResult(
        ok=True,
        output={"created": _event_output(event, ctx.now())},
        text=f"Added '{event.title}' {_span_text(event, ctx.now())}",
        undo=UndoRecord("delete_event", {"uid": event.uid}),
    )


# ---------------------------------------------------------------- finding an event


def _title_matches(events: list[Event], query: str) -> list[Event]:
    """Exact title first, then titles containing the query, then titles holding all its words."""
    wanted = " ".join(query.casefold().split())
    exact = [e for e in events if " ".join(e.title.casefold().split()) == wanted]
    if exact:
        return exact
    contains = [e for e in events if wanted in " ".join(e.title.casefold().split())]
    if contains:
        return contains
    words = wanted.split()
    return [e for e in events if words and all(w in e.title.casefold() for w in words)]


def find_event(ctx: ToolContext, query: str, on: str | None = None) -> Event:
    """The one event `query` (and `on`) names; ToolFailed listing them when none or several fit."""
    if not query.strip():
        raise ToolFailed("Say which event: part of its title.")
    calendar = store(ctx)
    now = ctx.now()
    if on:
        when = _when(ctx, on)
        day_start = datetime.combine(when.at.date(), time(0))
        day_end = when.span[1] if when.is_period and not when.has_time else day_start + timedelta(days=1)
        pool = calendar.between(day_start, day_end)
        where = f" on {format_span(day_start, day_end, now)}"
    else:
        pool = calendar.events()
        where = ""
    matches = _title_matches(pool, query)
    if len(matches) > 1 and not on:
        upcoming = [e for e in matches if e.end > now]
        matches = upcoming or matches
    if not matches:
        others = f" Events{where}: {events_text(pool[:MAX_LISTED_MATCHES])}." if on and pool else ""
        raise ToolFailed(f"No event matching '{query}'{where}.{others}")
    if len(matches) > 1:
        listed = events_text(matches[:MAX_LISTED_MATCHES])
        more = f" and {len(matches) - MAX_LISTED_MATCHES} more" if len(matches) > MAX_LISTED_MATCHES else ""
        hint = "Give its full title." if on else "Say which day (on), or give its full title."
        raise ToolFailed(f"Several events match '{query}'{where}: {listed}{more}. {hint}")
    event = matches[0]
    if event.recurring:
        raise ToolFailed(
            f"'{event.title}' repeats; Deskmate does not change or delete repeating events. "
            "Change it in the calendar program it came from."
        )
    return event


# ---------------------------------------------------------------- update_event


def _updated_times(ctx: ToolContext, event: Event, new_start: str | None,
                   new_duration_minutes: int | None) -> tuple[datetime, datetime, bool]:
    begin, finish, all_day = event.start, event.end, event.all_day
    if new_start:
        when = _when(ctx, new_start)
        if when.has_time:
            begin, all_day = when.at, False
            length = event.end - event.start if not event.all_day else timedelta(minutes=DEFAULT_DURATION)
        else:  # a day only: same time of day, new date
            begin = datetime.combine(when.at.date(), event.start.time())
            length = event.end - event.start
        finish = begin + length
    if new_duration_minutes is not None:
        if all_day:
            raise ToolFailed(
                f"'{event.title}' is an all-day event; give it a start time (new_start) to set its length."
            )
        finish = begin + timedelta(minutes=_duration(new_duration_minutes))
    return begin, finish, all_day


def _changes(ctx: ToolContext, event: Event, new_title: str | None, new_start: str | None,
             new_duration_minutes: int | None, new_location: str | None) -> tuple[str, dict[str, object]]:
    if all(v is None for v in (new_title, new_start, new_duration_minutes, new_location)):
        raise ToolFailed("Say what to change: a new title, start, duration or location.")
    begin, finish, all_day = _updated_times(ctx, event, new_start, new_duration_minutes)
    now = ctx.now()
    summary = f"Change event '{event.title}' {_span_text(event, now)}"
    moved = (begin, finish, all_day) != (event.start, event.end, event.all_day)
    if moved:
        summary += f" → {format_span(begin, finish, now)}"
    parts = []
    if new_title is not None and new_title.strip() and new_title.strip() != event.title:
        parts.append(f"title → '{new_title.strip()}'")
    if new_location is not None and new_location != event.location:
        parts.append(f"location → {new_location or '(none)'}")
    if parts:
        summary += ("; " if moved else ": ") + "; ".join(parts)
    elif not moved:
        summary += " (no change)"
    changes: dict[str, object] = {"start": begin, "end": finish, "all_day": all_day}
    if new_title is not None and new_title.strip():
        changes["title"] = new_title.strip()
    if new_location is not None:
        changes["location"] = new_location
    return summary, changes


def describe_update_event(ctx: ToolContext, event: str, on: str | None = None, new_title: str | None = None,
                          new_start: str | None = None, new_duration_minutes: int | None = None,
                          new_location: str | None = None) -> Description:
    found = find_event(ctx, event, on)
    summary, _ = _changes(ctx, found, new_title, new_start, new_duration_minutes, new_location)
    return Description(summary)


def update_event(ctx: ToolContext, event: str, on: str | None = None, new_title: str | None = None,
                 new_start: str | None = None, new_duration_minutes: int | None = None,
                 new_location: str | None = None) -> ToolResult:
    found = find_event(ctx, event, on)
    summary, changes = _changes(ctx, found, new_title, new_start, new_duration_minutes, new_location)
    calendar = store(ctx)
    before = calendar.component_text(found.uid)
    updated = calendar.update(found.uid, **changes)  # type: ignore[arg-type]
    return ToolResult(
        ok=True,
        output={"updated": _event_output(updated, ctx.now())},
        text=f"Changed '{updated.title}': now {_span_text(updated, ctx.now())}",
        undo=UndoRecord("restore_event", {"uid": found.uid, "ics": before}),
    )


# ---------------------------------------------------------------- delete_event


def describe_delete_event(ctx: ToolContext, event: str, on: str | None = None) -> Description:
    found = find_event(ctx, event, on)
    where = f" at {found.location}" if found.location else ""
    return Description(f"Delete event '{found.title}' {_span_text(found, ctx.now())}{where}")


def delete_event(ctx: ToolContext, event: str, on: str | None = None) -> ToolResult:
    found = find_event(ctx, event, on)
    calendar = store(ctx)
    before = calendar.component_text(found.uid)
    calendar.delete(found.uid)
    return ToolResult(
        ok=True,
        output={"deleted": _event_output(found, ctx.now())},
        text=f"Deleted '{found.title}' {_span_text(found, ctx.now())}",
        undo=UndoRecord("restore_event", {"uid": found.uid, "ics": before}),
    )


# ---------------------------------------------------------------- find_free_time


def _free_days(ctx: ToolContext, day: str) -> list[tuple[datetime, datetime]]:
    """The working-hours windows to search: one per day the expression covers, from now on."""
    when = _when(ctx, day)
    now = ctx.now()
    first = when.span[0].date()
    last = (when.span[1] - timedelta(minutes=1)).date() if when.is_period and not when.has_time else first
    if (last - first).days >= MAX_FREE_TIME_DAYS:
        raise ToolFailed(f"Ask for at most {MAX_FREE_TIME_DAYS} days at a time.")
    start_time, end_time = ctx.work_hours
    windows = []
    d: date = first
    while d <= last:
        begin = datetime.combine(d, start_time)
        finish = datetime.combine(d, end_time)
        if when.has_time and not when.is_period and d == first:
            begin = max(begin, when.at)
        if d == now.date():
            rounded = now + timedelta(minutes=(-now.minute) % 15)
            begin = max(begin, rounded)
        if begin < finish:
            windows.append((begin, finish))
        d += timedelta(days=1)
    return windows


def describe_find_free_time(ctx: ToolContext, day: str, duration_minutes: int | None = None) -> Description:
    minutes = _duration(duration_minutes)
    when = _when(ctx, day)
    start_time, end_time = ctx.work_hours
    hours = f"{start_time:%H:%M}–{end_time:%H:%M}"
    span = when.span if when.is_period and not when.has_time else (
        datetime.combine(when.at.date(), time(0)), datetime.combine(when.at.date(), time(0)) + timedelta(days=1))
    return Description(f"Find free {minutes}-minute slots {format_span(*span, ctx.now())} ({hours})")


def find_free_time(ctx: ToolContext, day: str, duration_minutes: int | None = None) -> ToolResult:
    minutes = _duration(duration_minutes)
    length = timedelta(minutes=minutes)
    calendar = store(ctx)
    now = ctx.now()
    slots: list[tuple[datetime, datetime]] = []
    all_day: list[Event] = []
    windows = _free_days(ctx, day)
    for begin, finish in windows:
        busy = []
        for event in calendar.between(begin, finish):
            (all_day if event.all_day else busy).append(event)
        cursor = begin
        for event in sorted(busy, key=lambda e: e.start):
            if event.start - cursor >= length:
                slots.append((cursor, event.start))
            cursor = max(cursor, event.end)
        if finish - cursor >= length:
            slots.append((cursor, finish))
    output: dict[str, object] = {
        "duration_minutes": minutes,
        "slots": [{"start": format_stamp(a), "end": format_stamp(b), "when": format_span(a, b, now)} for a, b in slots],
    }
    if all_day:
        output["all_day_events"] = [e.title for e in dict.fromkeys(all_day)]
    if not windows:
        text = "No working hours left in that time"
    elif slots:
        text = f"{len(slots)} free slot{'s' if len(slots) != 1 else ''} of {minutes} minutes: " + ", ".join(
            format_span(a, b, now) for a, b in slots)
    else:
        text = f"No free {minutes}-minute slot in working hours"
    return ToolResult(ok=True, output=output, text=text)


# ---------------------------------------------------------------- undo

CALENDAR_UNDO_ACTIONS = frozenset({"delete_event", "restore_event"})


def undo(ctx: ToolContext, record: UndoRecord) -> ToolResult:
    calendar = store(ctx)
    if record.action == "delete_event":
        uid = record.data["uid"]
        if uid not in {e.uid for e in calendar.events()}:
            return ToolResult(ok=True, output={"uid": uid}, text="That event is already gone")
        removed = calendar.delete(uid)
        return ToolResult(ok=True, output={"deleted": removed.title}, text=f"Removed '{removed.title}' again")
    if record.action == "restore_event":
        restored = calendar.restore(record.data["ics"])
        return ToolResult(ok=True, output={"restored": restored.title},
                          text=f"Restored '{restored.title}' {_span_text(restored, ctx.now())}")
    raise ToolFailed(f"Deskmate does not know how to undo '{record.action}'.")


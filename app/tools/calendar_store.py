"""The user's local calendar: one iCalendar (.ics) file in the app's data folder.

A plain .ics file keeps the calendar readable by every other calendar program
(import_ics / export_ics move events in and out). Events Deskmate creates use
floating local times, as a desk calendar would; imported events with a time zone
are shown in local time, and repeating events (RRULE) are expanded when listed
(recurring-ical-events).

A file that cannot be read is never written over: it is renamed to
`calendar.ics.corrupt-<timestamp>` beside it and CalendarCorrupt says so; the next
call starts from an empty calendar. Writes are atomic (temp file, then replace).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable

import icalendar
import recurring_ical_events

from app.errors import DeskmateError

PRODID = "-//Deskmate//Deskmate calendar//EN"


class CalendarCorrupt(DeskmateError):
    """The calendar file could not be read; it was kept aside and a new one starts."""


class CalendarError(DeskmateError):
    """An event could not be found, imported or changed."""


@dataclass(frozen=True)
class Event:
    """One event (or one occurrence of a repeating one), in local time; `end` is exclusive."""

    uid: str
    title: str
    start: datetime
    end: datetime
    all_day: bool = False
    location: str = ""
    notes: str = ""
    recurring: bool = False

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


class CalendarStore:
    """Read and change the .ics file at `path`; each call reads it fresh, so nothing goes stale."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = datetime.now):
        self.path = Path(path)
        self._clock = clock

    # ------------------------------------------------------------ reading

    def events(self) -> list[Event]:
        """Every stored event as written (a repeating event once, at its first occurrence)."""
        return sorted((_event(c) for c in self._load().walk("VEVENT") if "RECURRENCE-ID" not in c),
                      key=lambda e: e.start)

    def between(self, start: datetime, end: datetime) -> list[Event]:
        """Events (and occurrences of repeating ones) that overlap [start, end), by start time."""
        calendar = self._load()
        repeating = {str(c.get("UID")) for c in calendar.walk("VEVENT") if "RRULE" in c or "RDATE" in c}
        found = []
        for component in recurring_ical_events.of(calendar).between(start, end):
            event = _event(component)
            event = replace(event, recurring=event.uid in repeating)
            if event.end > start and event.start < end or event.start == event.end and start <= event.start < end:
                found.append(event)
        return sorted(found, key=lambda e: (e.start, e.title.casefold()))

    def get(self, uid: str) -> Event:
        return _event(self._component(self._load(), uid))

    def component_text(self, uid: str) -> str:
        """The event's VEVENT as iCalendar text (kept by undo to restore it exactly)."""
        return self._component(self._load(), uid).to_ical().decode("utf-8")

    # ------------------------------------------------------------ changing

    def add(self, title: str, start: datetime | date, end: datetime | date, *, all_day: bool = False,
            location: str = "", notes: str = "") -> Event:
        calendar = self._load()
        component = icalendar.Event()
        component.add("uid", f"{uuid.uuid4()}@deskmate")
        component.add("dtstamp", datetime.now(timezone.utc))
        component.add("summary", title)
        if all_day:
            component.add("dtstart", _as_date(start))
            component.add("dtend", _as_date(end))
        else:
            component.add("dtstart", start)
            component.add("dtend", end)
        if location:
            component.add("location", location)
        if notes:
            component.add("description", notes)
        calendar.add_component(component)
        self._save(calendar)
        return _event(component)

    def update(self, uid: str, *, title: str | None = None, start: datetime | None = None,
               end: datetime | None = None, all_day: bool | None = None, location: str | None = None) -> Event:
        """Change an event; a repeating event is refused (change it in its own calendar program)."""
        calendar = self._load()
        component = self._component(calendar, uid)
        if "RRULE" in component or "RDATE" in component:
            raise CalendarError(
                f"'{component.get('SUMMARY', '')}' repeats; Deskmate does not change repeating events. "
                "Change it in the calendar program it came from."
            )
        current = _event(component)
        new_start = start if start is not None else current.start
        new_end = end if end is not None else current.end
        whole_day = current.all_day if all_day is None else all_day
        if title is not None:
            _set(component, "summary", title)
        if location is not None:
            _set(component, "location", location) if location else component.pop("LOCATION", None)
        if start is not None or end is not None or all_day is not None:
            component.pop("DURATION", None)
            _set(component, "dtstart", _as_date(new_start) if whole_day else new_start)
            _set(component, "dtend", _as_date(new_end) if whole_day else new_end)
        _bump_sequence(component)
        self._save(calendar)
        return _event(component)

    def delete(self, uid: str) -> Event:
        calendar = self._load()
        component = self._component(calendar, uid)
        event = _event(component)
        calendar.subcomponents = [c for c in calendar.subcomponents
                                  if not (c.name == "VEVENT" and str(c.get("UID")) == uid)]
        self._save(calendar)
        return event

    def restore(self, component_text: str) -> Event:
        """Put back an event exactly as it was (undo of an update or delete)."""
        restored = icalendar.Event.from_ical(component_text)
        calendar = self._load()
        uid = str(restored.get("UID"))
        calendar.subcomponents = [c for c in calendar.subcomponents
                                  if not (c.name == "VEVENT" and str(c.get("UID")) == uid)]
        calendar.add_component(restored)
        self._save(calendar)
        return _event(restored)

    # ------------------------------------------------------------ import / export

    def import_ics(self, source: Path) -> int:
        """Add the events of another .ics file; ones already here (same UID) are replaced. Returns how many."""
        source = Path(source)
        try:
            incoming = icalendar.Calendar.from_ical(source.read_bytes())
            events = [c for c in incoming.walk("VEVENT")]
            for component in events:
                _event(component)  # every event must be readable before anything is added
        except OSError as exc:
            raise CalendarError(f"{source} could not be read: {exc.strerror or exc}.") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise CalendarError(f"{source} is not a valid iCalendar file ({exc}); nothing was imported.") from None
        calendar = self._load()
        uids = {str(c.get("UID")) for c in events}
        calendar.subcomponents = [c for c in calendar.subcomponents
                                  if not (c.name == "VEVENT" and str(c.get("UID")) in uids)]
        have_zones = {str(c.get("TZID")) for c in calendar.walk("VTIMEZONE")}
        for zone in incoming.walk("VTIMEZONE"):
            if str(zone.get("TZID")) not in have_zones:
                calendar.add_component(zone)
        for component in events:
            if "UID" not in component:
                component.add("uid", f"{uuid.uuid4()}@deskmate")
            calendar.add_component(component)
        self._save(calendar)
        return len(events)

    def export_ics(self, target: Path, *, overwrite: bool = False) -> int:
        """Write the whole calendar to another .ics file. Returns how many events it holds."""
        target = Path(target)
        if target.exists() and not overwrite:
            raise CalendarError(f"{target} already exists; choose another file name.")
        calendar = self._load()
        _atomic_write(target, calendar.to_ical())
        return len(calendar.walk("VEVENT"))

    # ------------------------------------------------------------ the file

    def _load(self) -> icalendar.Calendar:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return _empty()
        raw = self.path.read_bytes()
        try:
            calendar = icalendar.Calendar.from_ical(raw)
            if getattr(calendar, "name", "") != "VCALENDAR":
                raise ValueError("it does not start with BEGIN:VCALENDAR")
            for component in calendar.walk("VEVENT"):
                _event(component)
        except Exception as exc:  # any parse failure: keep the file aside, never write over it
            kept = self._keep_aside()
            raise CalendarCorrupt(
                f"Your calendar file could not be read ({_short(exc)}). It was kept as {kept.name} in "
                f"{kept.parent}, untouched, and a new empty calendar is used from now on. "
                "Fix that file and import it again to get its events back."
            ) from None
        return calendar

    def _keep_aside(self) -> Path:
        stamp = self._clock().strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        counter = 1
        while target.exists():
            counter += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{counter}")
        os.replace(self.path, target)
        return target

    def _save(self, calendar: icalendar.Calendar) -> None:
        _atomic_write(self.path, calendar.to_ical())

    @staticmethod
    def _component(calendar: icalendar.Calendar, uid: str) -> icalendar.Event:
        for component in calendar.walk("VEVENT"):
            if str(component.get("UID")) == uid and "RECURRENCE-ID" not in component:
                return component
        raise CalendarError("That event is no longer in the calendar.")


# ---------------------------------------------------------------- helpers


def _empty() -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    return calendar


def _local(value: datetime | date) -> datetime:
    """A naive local datetime: time-zoned values converted, dates at midnight."""
    if isinstance(value, datetime):
        return value.astimezone().replace(tzinfo=None) if value.tzinfo else value
    return datetime.combine(value, time(0))


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _event(component: icalendar.cal.Component) -> Event:
    """An Event from a VEVENT; ValueError when its times cannot be read."""
    raw_start = component.decoded("DTSTART")
    if not isinstance(raw_start, (date, datetime)):
        raise ValueError(f"event {component.get('SUMMARY', '')!r} has an unreadable start")
    all_day = not isinstance(raw_start, datetime)
    start = _local(raw_start)
    if "DTEND" in component:
        raw_end = component.decoded("DTEND")
        if not isinstance(raw_end, (date, datetime)):
            raise ValueError(f"event {component.get('SUMMARY', '')!r} has an unreadable end")
        end = _local(raw_end)
    elif "DURATION" in component:
        end = start + component.decoded("DURATION")
    else:
        end = start + (timedelta(days=1) if all_day else timedelta(0))
    return Event(
        uid=str(component.get("UID", "")),
        title=str(component.get("SUMMARY", "")),
        start=start,
        end=max(end, start),
        all_day=all_day,
        location=str(component.get("LOCATION", "")),
        notes=str(component.get("DESCRIPTION", "")),
        recurring="RRULE" in component or "RDATE" in component,
    )


def _set(component: icalendar.cal.Component, name: str, value: object) -> None:
    component.pop(name.upper(), None)
    component.add(name, value)


def _bump_sequence(component: icalendar.cal.Component) -> None:
    sequence = int(component.get("SEQUENCE", 0)) + 1
    _set(component, "sequence", sequence)
    _set(component, "dtstamp", datetime.now(timezone.utc))


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def events_text(events: Iterable[Event]) -> str:
    """Events as lines, for messages that list them."""
    from app.tools.timeparse import format_span

    return "; ".join(f"{format_span(e.start, e.end)} {e.title}" for e in events)

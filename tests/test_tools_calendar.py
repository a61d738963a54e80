"""The calendar: a real .ics file, the tools over it, a corrupt file kept aside, undo."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from app.calls import ToolCall
from app.tools.calendar_store import CalendarCorrupt, CalendarError, CalendarStore

# fixed_now is Thursday 2026-11-26 09:15


def call(toolbox, name: str, **arguments):
    return toolbox.run(ToolCall(name, arguments))


@pytest.fixture
def store(app_paths, fixed_now) -> CalendarStore:
    return CalendarStore(app_paths.calendar_file, clock=lambda: fixed_now)


def add(store: CalendarStore, title: str, start: datetime, minutes: int = 60, **kw):
    return store.add(title, start, start + timedelta(minutes=minutes), **kw)


# ---------------------------------------------------------------- the store


def test_store_round_trips_through_a_real_ics_file(store: CalendarStore, app_paths) -> None:
    event = add(store, "Lunch with Sam", datetime(2026, 11, 27, 12, 30), location="Cafe", notes="bring book")
    raw = app_paths.calendar_file.read_bytes()
    parsed = icalendar.Calendar.from_ical(raw)  # another program can read it
    [component] = parsed.walk("VEVENT")
    assert str(component["SUMMARY"]) == "Lunch with Sam" and component.decoded("DTSTART") == datetime(2026, 11, 27, 12, 30)
    again = CalendarStore(app_paths.calendar_file).events()
    assert again == [event] and again[0].location == "Cafe" and again[0].notes == "bring book"


def test_between_expands_repeating_events_and_converts_zones(store: CalendarStore, app_paths, tmp_path: Path) -> None:
    source = tmp_path / "work.ics"
    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//EN")
    cal.add("version", "2.0")
    standup = icalendar.Event()
    standup.add("uid", "standup@work")
    standup.add("summary", "Standup")
    standup.add("dtstart", datetime(2026, 11, 23, 9, 30))
    standup.add("dtend", datetime(2026, 11, 23, 9, 45))
    standup.add("rrule", {"freq": "daily", "count": 30})
    cal.add_component(standup)
    holiday = icalendar.Event()
    holiday.add("uid", "off@work")
    holiday.add("summary", "Day off")
    holiday.add("dtstart", date(2026, 11, 27))
    holiday.add("dtend", date(2026, 11, 28))
    cal.add_component(holiday)
    source.write_bytes(cal.to_ical())
    assert store.import_ics(source) == 2
    friday = store.between(datetime(2026, 11, 27), datetime(2026, 11, 28))
    assert [(e.title, e.all_day, e.recurring) for e in friday] == [("Day off", True, False), ("Standup", False, True)]
    assert friday[1].start == datetime(2026, 11, 27, 9, 30)


def test_import_again_replaces_by_uid_and_export_writes_a_copy(store: CalendarStore, tmp_path: Path) -> None:
    add(store, "Dentist", datetime(2026, 12, 1, 10))
    exported = tmp_path / "out.ics"
    assert store.export_ics(exported) == 1
    with pytest.raises(CalendarError, match="already exists"):
        store.export_ics(exported)
    assert store.import_ics(exported) == 1
    assert [e.title for e in store.events()] == ["Dentist"]  # same UID: replaced, not doubled


def test_import_of_a_broken_file_adds_nothing(store: CalendarStore, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ics"
    bad.write_text("this is not a calendar")
    with pytest.raises(CalendarError, match="not a valid iCalendar file"):
        store.import_ics(bad)
    assert store.events() == []


def test_corrupt_calendar_is_reported_and_kept_aside(store: CalendarStore, app_paths, toolbox) -> None:
    app_paths.calendar_file.write_text("BEGIN:VCALENDAR\nthis line is broken\n")
    broken = app_paths.calendar_file.read_bytes()
    result = call(toolbox, "create_event", title="Lunch", start="tomorrow at noon")
    assert not result.ok
    assert "could not be read" in result.error and "calendar.ics.corrupt-20261126T091500" in result.error
    kept = app_paths.data / "calendar.ics.corrupt-20261126T091500"
    assert kept.read_bytes() == broken  # never overwritten
    assert not app_paths.calendar_file.exists()
    # the next call works on a fresh calendar; the kept file is still untouched
    assert call(toolbox, "create_event", title="Lunch", start="tomorrow at noon").ok
    assert kept.read_bytes() == broken and [e.title for e in store.events()] == ["Lunch"]


def test_corrupt_event_times_count_as_corrupt(store: CalendarStore, app_paths) -> None:
    app_paths.calendar_file.write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nSUMMARY:Bad\nDTSTART:2026zz\nEND:VEVENT\nEND:VCALENDAR\n")
    with pytest.raises(CalendarCorrupt, match="kept as calendar.ics.corrupt-"):
        store.events()
    assert list(app_paths.data.glob("calendar.ics.corrupt-*"))


# ---------------------------------------------------------------- the tools


def test_create_event_summary_and_effect(toolbox, store: CalendarStore) -> None:
    proposal = toolbox.propose(ToolCall("create_event", {"title": "Lunch with Sam", "start": "tomorrow at 12:30"}))
    assert proposal.summary == "Create event 'Lunch with Sam' Fri 27 Nov 12:30–13:30"
    result = toolbox.run(proposal.call)
    assert result.ok
    [event] = store.events()
    assert (event.title, event.start, event.end) == ("Lunch with Sam", datetime(2026, 11, 27, 12, 30),
                                                     datetime(2026, 11, 27, 13, 30))
    assert toolbox.undo(result.undo).ok and store.events() == []


def test_create_event_without_a_time_is_all_day(toolbox, store: CalendarStore) -> None:
    proposal = toolbox.propose(ToolCall("create_event", {"title": "Pay rent", "start": "the 1st of next month"}))
    assert proposal.summary == "Create all-day event 'Pay rent' Tue 1 Dec"
    assert toolbox.run(proposal.call).ok
    [event] = store.events()
    assert event.all_day and event.start == datetime(2026, 12, 1)
    with_length = call(toolbox, "create_event", title="Deep work", start="Friday", duration_minutes=90)
    assert not with_length.ok and "what time" in with_length.error


def test_create_event_with_duration_location_and_overlap_preview(toolbox, store: CalendarStore) -> None:
    add(store, "Standup", datetime(2026, 11, 27, 9, 0), 30)
    proposal = toolbox.propose(ToolCall("create_event", {
        "title": "Team offsite", "start": "Friday at 9am", "duration_minutes": 180, "location": "Riverside Hotel",
        "notes": "bring laptop"}))
    assert proposal.summary == "Create event 'Team offsite' Fri 27 Nov 09:00–12:00 at Riverside Hotel"
    assert "Notes: bring laptop" in proposal.preview and "Overlaps: Fri 27 Nov 09:00–09:30 Standup" in proposal.preview


def test_bad_time_is_an_argument_error_at_proposal(toolbox) -> None:
    from app.tools.catalog import ArgumentError

    with pytest.raises(ArgumentError, match="couldn't understand the time 'whenever'"):
        toolbox.propose(ToolCall("create_event", {"title": "X", "start": "whenever"}))
    assert "couldn't understand" in call(toolbox, "create_event", title="X", start="whenever").error


def test_list_events(toolbox, store: CalendarStore) -> None:
    add(store, "Dentist", datetime(2026, 11, 27, 10))
    add(store, "Dinner", datetime(2026, 11, 27, 19))
    add(store, "Gym", datetime(2026, 11, 28, 7))
    tomorrow = call(toolbox, "list_events", start="tomorrow")
    assert [e["title"] for e in tomorrow.output["events"]] == ["Dentist", "Dinner"]
    assert tomorrow.text == "2 events Fri 27 Nov"
    assert toolbox.propose(ToolCall("list_events", {"start": "tomorrow"})).summary == "List events Fri 27 Nov"
    afternoon = call(toolbox, "list_events", start="tomorrow at 2pm", end="tomorrow at 11pm")
    assert [e["title"] for e in afternoon.output["events"]] == ["Dinner"]
    weekend = call(toolbox, "list_events", start="Friday", end="Saturday")
    assert [e["title"] for e in weekend.output["events"]] == ["Dentist", "Dinner", "Gym"]
    empty = call(toolbox, "list_events", start="next week")
    assert empty.ok and empty.output["events"] == [] and empty.text == "No events Mon 30 Nov – Sun 6 Dec"


def test_update_event_by_title_and_day(toolbox, store: CalendarStore) -> None:
    add(store, "Standup", datetime(2026, 11, 27, 9, 0), 15)
    proposal = toolbox.propose(ToolCall("update_event", {"event": "standup", "on": "tomorrow",
                                                         "new_start": "tomorrow at 10:15am"}))
    assert proposal.summary == "Change event 'Standup' Fri 27 Nov 09:00–09:15 → Fri 27 Nov 10:15–10:30"
    result = toolbox.run(proposal.call)
    assert result.ok
    [event] = store.events()
    assert event.start == datetime(2026, 11, 27, 10, 15) and event.duration_minutes == 15
    assert toolbox.undo(result.undo).ok and store.events()[0].start == datetime(2026, 11, 27, 9, 0)


def test_update_to_a_day_keeps_the_time_and_rename_and_location(toolbox, store: CalendarStore) -> None:
    add(store, "Dentist appointment", datetime(2026, 11, 27, 15, 0))
    proposal = toolbox.propose(ToolCall("update_event", {"event": "dentist", "new_start": "Monday",
                                                         "new_location": "Dr. Lee"}))
    assert proposal.summary == ("Change event 'Dentist appointment' Fri 27 Nov 15:00–16:00 → Mon 30 Nov 15:00–16:00; "
                                "location → Dr. Lee")
    assert toolbox.run(proposal.call).ok
    [event] = store.events()
    assert event.start == datetime(2026, 11, 30, 15, 0) and event.location == "Dr. Lee"
    rename = toolbox.propose(ToolCall("update_event", {"event": "Dentist appointment",
                                                       "new_title": "Dentist (Dr. Lee)"}))
    assert rename.summary == "Change event 'Dentist appointment' Mon 30 Nov 15:00–16:00: title → 'Dentist (Dr. Lee)'"
    assert call(toolbox, "update_event", event="Dentist appointment", new_title="Dentist (Dr. Lee)",
                new_duration_minutes=30).ok
    [event] = store.events()
    assert event.title == "Dentist (Dr. Lee)" and event.duration_minutes == 30


def test_ambiguous_and_missing_events_are_clear_errors(toolbox, store: CalendarStore) -> None:
    add(store, "1:1 with Priya", datetime(2026, 11, 27, 11))
    add(store, "1:1 with Priya", datetime(2026, 12, 4, 11))
    result = call(toolbox, "update_event", event="priya", new_duration_minutes=45)
    assert not result.ok and "Several events match 'priya'" in result.error
    assert "Fri 27 Nov 11:00–12:00 1:1 with Priya" in result.error and "Fri 4 Dec" in result.error
    assert "Say which day" in result.error
    assert call(toolbox, "update_event", event="priya", on="Friday", new_duration_minutes=45).ok
    assert [e.duration_minutes for e in store.events()] == [45, 60]
    missing = call(toolbox, "delete_event", event="yoga", on="Friday")
    assert not missing.ok and "No event matching 'yoga' on Fri 27 Nov" in missing.error
    assert "1:1 with Priya" in missing.error  # what is on that day
    assert call(toolbox, "update_event", event="priya", on="Friday").error.startswith("Say what to change")


def test_past_duplicates_give_way_to_upcoming(toolbox, store: CalendarStore) -> None:
    add(store, "Book club", datetime(2026, 11, 19, 18))  # last week
    add(store, "Book club", datetime(2026, 12, 3, 18))
    assert call(toolbox, "update_event", event="book club", new_location="Maria's place").ok
    assert [e.location for e in store.events()] == ["", "Maria's place"]


def test_delete_event_and_undo(toolbox, store: CalendarStore) -> None:
    add(store, "Gym", datetime(2026, 11, 30, 7), location="Downtown")
    proposal = toolbox.propose(ToolCall("delete_event", {"event": "gym"}))
    assert proposal.summary == "Delete event 'Gym' Mon 30 Nov 07:00–08:00 at Downtown"
    result = toolbox.run(proposal.call)
    assert result.ok and store.events() == []
    assert toolbox.undo(result.undo).ok
    [event] = store.events()
    assert event.title == "Gym" and event.location == "Downtown"


def test_repeating_events_are_not_changed(toolbox, store: CalendarStore, tmp_path: Path) -> None:
    cal = icalendar.Calendar()
    standup = icalendar.Event()
    standup.add("uid", "s@x")
    standup.add("summary", "Standup")
    standup.add("dtstart", datetime(2026, 11, 23, 9))
    standup.add("rrule", {"freq": "daily"})
    cal.add_component(standup)
    (tmp_path / "s.ics").write_bytes(cal.to_ical())
    store.import_ics(tmp_path / "s.ics")
    result = call(toolbox, "delete_event", event="standup", on="tomorrow")
    assert not result.ok and "repeats" in result.error
    assert len(store.events()) == 1


def test_find_free_time(toolbox, store: CalendarStore) -> None:
    add(store, "Standup", datetime(2026, 11, 27, 9, 0), 30)
    add(store, "Lunch", datetime(2026, 11, 27, 12, 0), 90)
    add(store, "Review", datetime(2026, 11, 27, 16, 0), 120)
    store.add("Holiday", date(2026, 11, 27), date(2026, 11, 28), all_day=True)
    proposal = toolbox.propose(ToolCall("find_free_time", {"day": "tomorrow", "duration_minutes": 120}))
    assert proposal.summary == "Find free 120-minute slots Fri 27 Nov (09:00–18:00)"
    result = toolbox.run(proposal.call)
    slots = [(s["start"], s["end"]) for s in result.output["slots"]]
    assert slots == [("2026-11-27 09:30", "2026-11-27 12:00"), ("2026-11-27 13:30", "2026-11-27 16:00")]
    assert result.output["all_day_events"] == ["Holiday"]


def test_find_free_time_today_starts_from_now(toolbox) -> None:
    result = call(toolbox, "find_free_time", day="today")  # 09:15 now: from 09:15 (already on the quarter)
    assert result.output["slots"][0]["start"] == "2026-11-26 09:15"
    assert result.output["slots"][0]["end"] == "2026-11-26 18:00"

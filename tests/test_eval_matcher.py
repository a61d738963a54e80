"""The case matcher of shared/spec/cases.md, rule by rule, and loading cases files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from app.calls import ToolCall
from app.eval.cases import CaseError, load_cases, match_call, match_calls, normalize_path
from app.tools.catalog import Catalog

NOW = datetime(2026, 11, 26, 9, 15)  # a Thursday
HOME = "/home/alex"
CATALOG = Catalog.builtin()
SEED = Path(__file__).resolve().parents[2] / "shared" / "data" / "seed"


def matches(expected: ToolCall, actual: ToolCall) -> bool:
    return match_call(expected, actual, CATALOG, now=NOW, home=HOME).passed


def event(**args) -> ToolCall:
    return ToolCall("create_event", {"title": "Lunch with Sam", **args})


# ---- tool name and presence

def test_same_call_matches_and_another_tool_does_not():
    want = ToolCall("list_directory", {"path": "~/Downloads"})
    assert matches(want, ToolCall("list_directory", {"path": "~/Downloads"}))
    verdict = match_call(want, ToolCall("search_files", {"query": "~/Downloads"}), CATALOG, now=NOW, home=HOME)
    assert not verdict.passed and "expected list_directory" in verdict.reason


def test_every_expected_argument_must_be_present():
    verdict = match_call(event(start="tomorrow at 12:30"), event(), CATALOG, now=NOW, home=HOME)
    assert not verdict.passed and "missing argument start" in verdict.reason


# ---- time arguments

@pytest.mark.parametrize("written", ["tomorrow at 12:30", "Tomorrow at 12:30pm", "2026-11-27 12:30",
                                     "friday at 12.30", "Nov 27 at half past 12"])
def test_time_resolving_to_the_same_minute_matches(written):
    assert matches(event(start="tomorrow at 12:30"), event(start=written))


@pytest.mark.parametrize("written", ["tomorrow at 13:30", "today at 12:30", "tomorrow", "next week"])
def test_time_at_another_minute_or_without_the_asked_time_fails(written):
    assert not matches(event(start="tomorrow at 12:30"), event(start=written))


@pytest.mark.parametrize("written", ["Friday", "friday", "tomorrow", "Nov 27", "2026-11-27", "Friday at 9am"])
def test_expected_day_without_time_matches_any_expression_of_that_day(written):
    want = ToolCall("list_events", {"start": "Friday"})
    assert matches(want, ToolCall("list_events", {"start": written}))


def test_day_only_expression_on_another_day_fails():
    want = ToolCall("list_events", {"start": "Friday"})
    assert not matches(want, ToolCall("list_events", {"start": "Saturday"}))
    assert not matches(want, ToolCall("list_events", {"start": "next Friday"}))  # Friday of next week


def test_unreadable_time_fails_rather_than_crashing():
    assert not matches(event(start="tomorrow at 12:30"), event(start="whenever suits"))


@pytest.mark.parametrize("name", ["new_start", "on"])
def test_other_time_arguments_use_the_time_rule(name):
    want = ToolCall("update_event", {"event": "dentist", name: "Monday at 9am"})
    assert matches(want, ToolCall("update_event", {"event": "dentist", name: "2026-11-30 09:00"}))
    assert not matches(want, ToolCall("update_event", {"event": "dentist", name: "2026-11-30 10:00"}))


# ---- path arguments

@pytest.mark.parametrize("written", ["~/Documents/report.pdf", "/home/alex/Documents/report.pdf",
                                     "~/Documents//report.pdf", "~/./Documents/report.pdf",
                                     "~/Downloads/../Documents/report.pdf", "~\\Documents\\report.pdf"])
def test_paths_equal_after_expansion_and_normalization(written):
    want = ToolCall("read_file", {"path": "~/Documents/report.pdf"})
    assert matches(want, ToolCall("read_file", {"path": written}))


def test_trailing_slash_on_a_folder_is_ignored():
    want = ToolCall("list_directory", {"path": "~/Downloads"})
    assert matches(want, ToolCall("list_directory", {"path": "~/Downloads/"}))
    assert matches(want, ToolCall("list_directory", {"path": "/home/alex/Downloads/"}))


@pytest.mark.parametrize("written", ["~/Documents/Report.pdf", "~/Documents/report.txt", "Documents/report.pdf",
                                     "/home/bob/Documents/report.pdf"])
def test_different_paths_fail(written):
    want = ToolCall("read_file", {"path": "~/Documents/report.pdf"})
    assert not matches(want, ToolCall("read_file", {"path": written}))


def test_all_path_arguments_use_the_path_rule():
    want = ToolCall("move_path", {"source": "~/a.txt", "destination": "~/Archive/a.txt"})
    assert matches(want, ToolCall("move_path", {"source": "/home/alex/a.txt", "destination": "~/Archive/./a.txt"}))
    want = ToolCall("search_files", {"query": "invoice", "folder": "~/Documents"})
    assert matches(want, ToolCall("search_files", {"query": "invoice", "folder": "/home/alex/Documents/"}))
    want = ToolCall("run_command", {"command": "ls", "cwd": "~/code"})
    assert matches(want, ToolCall("run_command", {"command": "ls", "cwd": "/home/alex/code/"}))


def test_normalize_path_handles_a_home_with_a_trailing_slash():
    assert normalize_path("~/a/b/", "/Users/hana/") == "/Users/hana/a/b"
    assert normalize_path("~", "/Users/hana") == "/Users/hana"


# ---- integers and text

def test_integer_written_as_a_string_is_the_same_number():
    want = event(start="tomorrow at 12:30", duration_minutes=30)
    assert matches(want, event(start="tomorrow at 12:30", duration_minutes="30"))
    assert matches(want, event(start="tomorrow at 12:30", duration_minutes=30))
    assert not matches(want, event(start="tomorrow at 12:30", duration_minutes=45))
    assert not matches(want, event(start="tomorrow at 12:30", duration_minutes="thirty"))
    assert matches(ToolCall("kill_process", {"pid": 4242}), ToolCall("kill_process", {"pid": "4242"}))


@pytest.mark.parametrize("written", ["Lunch with Sam", "lunch with sam", "Lunch  with\tSam.", "LUNCH WITH SAM!",
                                     " lunch with Sam!! "])
def test_text_ignores_case_spacing_and_trailing_punctuation(written):
    assert matches(event(start="noon"), ToolCall("create_event", {"title": written, "start": "noon"}))


@pytest.mark.parametrize("written", ["Lunch with Tom", "Lunch with Sam?", "Lunch, with Sam", "Lunch"])
def test_different_text_fails(written):
    assert not matches(event(start="noon"), ToolCall("create_event", {"title": written, "start": "noon"}))


# ---- any_of

def test_any_of_matches_any_alternative_under_its_kind():
    want = ToolCall("run_command", {"command": {"any_of": ["npm install", "npm i"]}, "cwd": "~/code/app"})
    assert matches(want, ToolCall("run_command", {"command": "npm i", "cwd": "~/code/app"}))
    assert matches(want, ToolCall("run_command", {"command": "NPM install", "cwd": "~/code/app/"}))
    assert not matches(want, ToolCall("run_command", {"command": "yarn", "cwd": "~/code/app"}))
    want = ToolCall("list_events", {"start": {"any_of": ["December 24", "Christmas Eve"]}})
    assert matches(want, ToolCall("list_events", {"start": "2026-12-24"}))
    assert not matches(want, ToolCall("list_events", {"start": "Christmas"}))


# ---- arguments the model adds

def test_added_argument_equal_to_its_default_matches():
    assert matches(event(start="noon"), event(start="noon", duration_minutes=60))
    assert matches(event(start="noon"), event(start="noon", duration_minutes="60"))
    want = ToolCall("write_file", {"path": "~/a.txt", "content": "hi"})
    assert matches(want, ToolCall("write_file", {"path": "~/a.txt", "content": "hi", "mode": "create"}))


def test_added_argument_other_than_its_default_fails():
    verdict = match_call(event(start="noon"), event(start="noon", duration_minutes=120), CATALOG, now=NOW, home=HOME)
    assert not verdict.passed and "duration_minutes" in verdict.reason
    want = ToolCall("write_file", {"path": "~/a.txt", "content": "hi"})
    assert not matches(want, ToolCall("write_file", {"path": "~/a.txt", "content": "hi", "mode": "append"}))


def test_added_argument_without_a_default_fails():
    assert not matches(event(start="noon"), event(start="noon", location="Cafe"))
    assert not matches(event(start="noon"), event(start="noon", colour="red"))  # not in the schema at all


# ---- calls one for one, in order

def test_calls_match_one_for_one_in_order():
    a = ToolCall("system_status", {})
    b = ToolCall("list_processes", {"sort_by": "memory"})
    assert match_calls([a, b], [a, b], CATALOG, now=NOW, home=HOME).passed
    swapped = match_calls([a, b], [b, a], CATALOG, now=NOW, home=HOME)
    assert not swapped.passed and "expected system_status" in swapped.reason


def test_extra_or_missing_calls_fail():
    a = ToolCall("system_status", {})
    assert not match_calls([a], [a, a], CATALOG, now=NOW, home=HOME).passed
    b = ToolCall("list_processes", {})
    assert "1 call(s), expected 2" in match_calls([a, b], [a], CATALOG, now=NOW, home=HOME).reason


def test_expected_no_call_passes_only_without_a_call():
    assert match_calls([], [], CATALOG, now=NOW, home=HOME).passed
    verdict = match_calls([], [ToolCall("system_status", {})], CATALOG, now=NOW, home=HOME)
    assert not verdict.passed and "expected no call" in verdict.reason


def test_every_seed_case_matches_its_own_expected_calls():
    """The matcher agrees with the seed files: each expected answer (either any_of end) passes."""
    cases = [c for f in sorted(SEED.glob("*.jsonl")) for c in load_cases(f)]
    assert len(cases) >= 800
    for pick in (0, -1):
        for case in cases:
            calls = [ToolCall(e.name, {k: v["any_of"][pick] if isinstance(v, dict) else v
                                       for k, v in e.arguments.items()}) for e in case.expected]
            verdict = match_calls(case.expected, calls, CATALOG, now=case.now, home=case.home)
            assert verdict.passed, (case.id, verdict.reason)


# ---- loading cases

def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "c1", "now": "2026-11-26T09:15:00", "home": "/home/alex", "granted": ["calendar"],
        "request": "lunch tomorrow at 12:30",
        "expected": [{"name": "create_event", "arguments": {"title": "Lunch", "start": "tomorrow at 12:30"}}]}


def test_load_cases_reads_fields_and_defaults(tmp_path):
    history = [{"role": "user", "content": "hi"},
               {"role": "assistant", "content": '{"name": "system_status", "arguments": {}}'},
               {"role": "tool", "content": '{"cpu": 3}'}]
    path = _write(tmp_path, json.dumps(GOOD), "", json.dumps({**GOOD, "id": "c2", "expected": [],
                                                            "folders": ["~/Work"], "history": history}))
    first, second = load_cases(path)
    assert first.now == NOW and first.folders == ("~",) and first.expected[0].arguments["start"] == "tomorrow at 12:30"
    assert second.expected == () and second.folders == ("~/Work",)
    assert second.history[1].calls == (ToolCall("system_status", {}),)
    conv = second.conversation(CATALOG)
    assert [t.group for t in conv.tools] == ["calendar"] * 5
    assert conv.messages[-1].content == "lunch tomorrow at 12:30" and conv.messages[0].content == "hi"
    assert conv.context.home == "/home/alex" and conv.context.folders == ("~/Work",)


@pytest.mark.parametrize("line, message", [
    ("{not json", "line 2"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "expected"}), "missing field(s) expected"),
    (json.dumps({**GOOD, "now": "yesterday"}), "'now' is not an ISO 8601 time"),
    (json.dumps({**GOOD, "expected": [{"arguments": {}}]}), "an expected call must be"),
    (json.dumps({**GOOD, "expected": "none"}), "'expected' must be a list"),
    (json.dumps(GOOD), "used twice"),
])
def test_bad_case_line_is_a_clear_error(tmp_path, line, message):
    path = _write(tmp_path, json.dumps(GOOD), line)
    with pytest.raises(CaseError, match="line 2") as err:
        load_cases(path)
    assert message in str(err.value)


def test_missing_or_empty_cases_file_is_a_clear_error(tmp_path):
    with pytest.raises(CaseError, match="No cases file"):
        load_cases(tmp_path / "nope.jsonl")
    with pytest.raises(CaseError, match="holds no cases"):
        load_cases(_write(tmp_path, ""))

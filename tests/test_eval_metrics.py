"""Aggregating case outcomes into the metrics of cases.md: overall, by group, by tool."""

from __future__ import annotations

import json

from app.eval.metrics import Outcome, scores, summarize


def outcome(id, groups=("files",), tools=("read_file",), expects_call=True, passed=True, right_tools=True,
            attempted_call=True, well_formed=True, first_call_s=1.0):
    return Outcome(id, groups, tools, expects_call, passed, right_tools, attempted_call, well_formed, first_call_s)


def test_rates_over_their_own_denominators():
    outcomes = [
        outcome("a"),  # right call
        outcome("b", passed=False, first_call_s=3.0),  # right tool, wrong argument
        outcome("c", passed=False, right_tools=False, well_formed=False, first_call_s=None),  # malformed call
        outcome("d", groups=("none",), tools=("none",), expects_call=False, attempted_call=False, first_call_s=None),
        outcome("e", groups=("none",), tools=("none",), expects_call=False, passed=False, right_tools=False,
                first_call_s=2.0),  # called when it should not have
    ]
    s = scores(outcomes)
    assert s.n == 5 and s.exact == 0.4 and s.tool_selection == 0.6
    assert s.no_call == 0.5 and s.n_no_call == 2
    assert s.call == round(1 / 3, 4) and s.n_call == 3
    assert s.n_attempted == 4 and s.well_formed == 0.75
    assert s.first_call_p50_s == 2.0 and s.first_call_p95_s == 2.9  # over 1, 2, 3 s (linear interpolation)


def test_empty_denominators_are_none_not_zero():
    s = scores([outcome("a", groups=("none",), expects_call=False, attempted_call=False, first_call_s=None)])
    assert s.call is None and s.well_formed is None and s.first_call_p50_s is None
    assert s.no_call == 1.0
    empty = scores([])
    assert empty.n == 0 and empty.exact is None


def test_by_group_and_by_tool_count_a_case_in_each_of_its_buckets():
    outcomes = [
        outcome("a", groups=("files",), tools=("read_file",)),
        outcome("b", groups=("files", "calendar"), tools=("read_file", "create_event"), passed=False),
        outcome("c", groups=("calendar",), tools=("create_event",)),
    ]
    report = summarize(outcomes)
    assert report.overall.n == 3
    assert report.by_group["files"].n == 2 and report.by_group["files"].exact == 0.5
    assert report.by_group["calendar"].exact == 0.5
    assert report.by_tool["create_event"].n == 2 and report.by_tool["read_file"].exact == 0.5
    as_json = json.loads(json.dumps(report.as_dict()))
    assert list(as_json) == ["overall", "by_group", "by_tool"]
    assert as_json["by_group"]["files"]["exact"] == 0.5

"""The training data: a clean dev split, a reproducible generator, valid calls, the app's own prompt format.

These build the real examples (seed cases, templates, Seal-Tools, glaive) at a small
scale; nothing is mocked.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from app.prompt.parse import parse_reply
from app.prompt.render import render, render_example, render_prefix
from app.tools.catalog import Catalog
from training.data import generate
from training.data.generate import Mix, build_examples, record
from training.data.seeds import load_cases, split, stratum
from training.data.synthetic import FAMILIES, SLOT, synthetic_examples

SMALL = Mix().scaled(0.08)
BFCL = Path(__file__).resolve().parents[2] / "shared" / "bfcl"


@pytest.fixture(scope="module")
def built():
    return build_examples(0, SMALL)


def test_split_is_deterministic_disjoint_and_stratified():
    cases = load_cases()
    train, dev = split(cases)
    train2, dev2 = split(list(reversed(cases)))
    assert [c["id"] for c in dev] == sorted(c["id"] for c in dev2) or {c["id"] for c in dev} == {c["id"] for c in dev2}
    assert not {c["id"] for c in train} & {c["id"] for c in dev}
    assert len(train) + len(dev) == len(cases)
    assert 0.12 <= len(dev) / len(cases) <= 0.18
    assert {stratum(c) for c in dev} == {stratum(c) for c in cases}  # every tool and no-call is in dev


def test_committed_dev_file_is_the_split():
    committed = [json.loads(x) for x in (Path(generate.__file__).parent / "dev.jsonl").read_text().splitlines()]
    assert [c["id"] for c in committed] == [c["id"] for c in split(load_cases())[1]]


def test_generator_is_deterministic_for_a_seed(built):
    again, _ = build_examples(0, SMALL)
    assert [record(e) for e in again] == [record(e) for e in built[0]]
    other, _ = build_examples(1, SMALL)
    assert [record(e) for e in other] != [record(e) for e in built[0]]


def last_request(example) -> str:
    """What the user asked last in a generated example."""
    return [m for m in example.conv.messages if m.role == "user"][-1].content


def test_dev_cases_never_reach_training(built):
    examples, dev = built
    dev_ids = {c["id"] for c in dev}
    seed_ids = {e.id.removesuffix("-v") for e in examples if e.source == "seed"}
    assert seed_ids and not seed_ids & dev_ids
    dev_requests = {c["request"] for c in dev}
    generated_last = {last_request(e) for e in examples if e.source != "seed"}
    assert not generated_last & dev_requests


def _written_apart(name: str, built) -> list:
    """Cases written one by one, apart from the seed files (docs/evaluation.md): each loads with the evaluation's
    loader, every option of every expected call is a valid call to a granted tool whose times resolve, and no seed
    case or generated example asks any of their requests."""
    from itertools import product

    from app.calls import ToolCall
    from app.eval.cases import load_cases as load_eval_cases
    from app.tools.catalog import TIME_ARGS
    from app.tools.timeparse import resolve_time

    catalog = Catalog.builtin()
    cases = load_eval_cases(Path(generate.__file__).parent / name)
    for case in cases:
        for call in case.expected:
            assert catalog.get(call.name).group in case.granted, case.id
            choices = [[(k, o) for o in (v["any_of"] if isinstance(v, dict) else [v])] for k, v in call.arguments.items()]
            for arguments in map(dict, product(*choices)):
                catalog.validate(ToolCall(call.name, arguments))
                for name in TIME_ARGS & arguments.keys():
                    resolve_time(arguments[name], case.now)
    asked = {c.request.strip().lower() for c in cases}
    seeds = load_cases()
    assert not asked & {c["request"].strip().lower() for c in seeds}
    assert not asked & {last_request(e).strip().lower() for e in built[0]}
    dev_ids = {c["id"] for c in split(seeds)[1]}
    assert not {c.id for c in cases} & dev_ids
    return cases


def test_holdout_is_valid_and_written_apart_from_the_seeds_and_the_generator(built):
    cases = _written_apart("holdout.jsonl", built)
    assert len(cases) >= 200 and 0.1 <= sum(not c.expected for c in cases) / len(cases) <= 0.25
    assert {call.name for c in cases for call in c.expected} == {t.name for t in Catalog.builtin()}


def test_calendar_probe_is_valid_and_never_expects_the_calendar_as_a_location(built):
    """training/data/probe-calendar.jsonl: new events whose request names the calendar as where they go."""
    cases = _written_apart("probe-calendar.jsonl", built)
    assert len(cases) == 40 and all([call.name for call in c.expected] == ["create_event"] for c in cases)
    locations = [c.expected[0].arguments.get("location") for c in cases]
    assert 5 <= sum(loc is not None for loc in locations) < 20
    assert not any(re.search(r"calend|schedule|diary", json.dumps(loc), re.I) for loc in locations if loc)


def test_every_call_validates_against_its_tools_schema(built):
    catalog = Catalog.builtin()
    calls = 0
    for ex in built[0]:
        offered = {t.name: t for t in ex.conv.tools}
        for call in ex.answer.calls:
            assert call.name in offered, ex.id
            offered[call.name].validate(call.arguments)
            if call.name in catalog and ex.conv.tools[0].group != "external":
                catalog.validate(call)
            calls += 1
    assert calls > 500


def test_prompts_are_rendered_by_the_app_and_targets_parse_back(built):
    for ex in built[0]:
        rec = record(ex)
        assert (rec["prompt"], rec["target"]) == render_example(ex.conv, ex.answer)
        assert rec["prompt"] == render(ex.conv)
        assert rec["prompt"].startswith(render_prefix(ex.conv.tools))
        reply = parse_reply(rec["target"])
        assert [(c.name, c.arguments) for c in reply.calls] == [(c.name, c.arguments) for c in ex.answer.calls]
        if not ex.answer.calls:
            assert reply.text and not reply.text.startswith("call:")


def test_mix_has_external_tools_and_no_call_answers(built):
    examples = built[0]
    share = lambda pred: sum(1 for e in examples if pred(e)) / len(examples)  # noqa: E731
    assert share(lambda e: e.source in ("seal", "seal-irrelevant", "glaive")) > 0.05  # seeds dominate at this small scale
    assert share(lambda e: not e.is_call) > 0.1
    external = [e for e in examples if e.source == "seal"]
    assert all(t.group == "external" and "- " in render_prefix(e.conv.tools) for e in external for t in e.conv.tools)


def test_seal_requests_often_offer_sibling_tools_of_the_same_field():
    """BFCL multiple offers functions of one subject; random distractors from 4,076 tools never do."""
    from training.data.external import seal_examples, seal_fields

    fields = seal_fields()
    examples = seal_examples(random.Random(0), 60, 0)
    with_sibling = 0
    for ex in examples:
        needed = {c.name for c in ex.answer.calls}
        assert needed <= {t.name for t in ex.conv.tools}
        area = fields[ex.answer.calls[0].name].split("/")[0]
        with_sibling += any(t.name not in needed and fields[t.name].split("/")[0] == area for t in ex.conv.tools)
    assert 0.4 < with_sibling / len(examples) < 0.8


def test_ungranted_requests_are_answered_in_words_without_the_group_offered(built):
    catalog = Catalog.builtin()
    for ex in (e for e in built[0] if e.source == "ungranted"):
        assert not ex.answer.calls
        group = next(g for g in ("Files", "Calendar", "Shell", "System") if g in ex.answer.content)
        assert group.lower() not in {t.group for t in ex.conv.tools}
        assert all(t.name in catalog for t in ex.conv.tools)


def test_a_refusal_for_a_missing_group_is_never_given_with_the_shell_granted(built):
    """The seed cases do file and process jobs through the shell when it is granted; refusing would contradict them."""
    refusals = [e for e in built[0] if e.source == "ungranted"]
    assert refusals
    for ex in refusals:
        assert "shell" not in {t.group for t in ex.conv.tools} or "Shell" in ex.answer.content, ex.id


def test_shell_stands_in_for_files_and_processes_with_a_plain_command():
    from app.calls import ToolCall
    from training.data.catalog_gen import shell_instead

    assert shell_instead(ToolCall("read_file", {"path": "~/logs/app.log"}), "show it") == "cat ~/logs/app.log"
    assert shell_instead(ToolCall("search_files", {"query": "budget", "folder": "~/Documents"}), "x") == \
        "find ~/Documents -iname '*budget*'"
    assert shell_instead(ToolCall("kill_process", {"name": "slack"}), "kill slack") == "pkill slack"
    assert shell_instead(ToolCall("system_status", {}), "how much disk space is left") == "df -h"
    # no plain command: deleting and writing keep the trash and undo; two questions need two commands
    assert shell_instead(ToolCall("delete_path", {"path": "~/a.txt"}), "delete a.txt") is None
    assert shell_instead(ToolCall("write_file", {"path": "~/a.txt", "content": "x"}), "write x") is None
    assert shell_instead(ToolCall("system_status", {}), "check memory and disk") is None
    assert shell_instead(ToolCall("read_file", {"path": "~/My Notes/a.txt"}), "read it") is None  # needs quoting


def _minutes(clock: str) -> int:
    """'10:30am' -> 630, '14:15' -> 855."""
    meridiem = clock[-2:] if clock.endswith(("am", "pm")) else ""
    h, _, m = clock.removesuffix(meridiem).partition(":")
    hour = int(h) % 12 + (12 if meridiem == "pm" else 0) if meridiem else int(h)
    return hour * 60 + int(m or 0)


# A spoken range: '2-4pm', '15:00 to 16:30', 'between 8 and 10am', 'from 10am until 1pm'.
_CLOCK = r"(\d{1,2}(?::\d\d)?(?:[ap]m)?)"
_RANGE = re.compile(rf"(?<![\d-]){_CLOCK}(?:-| to | until | and ){_CLOCK}(?![\d-])")


def _range_ends(text: str) -> tuple[str, str]:
    """The start and end clocks of the range `text` says; a first time without am/pm takes the end's ('2:30-3pm')."""
    first, last = _RANGE.search(text).groups()
    if last.endswith(("am", "pm")) and not first.endswith(("am", "pm")):
        first += last[-2:]
    return first, last


def _range_minutes(text: str) -> tuple[int, int]:
    first, last = _range_ends(text)
    return _minutes(first), _minutes(last)


def test_a_from_to_request_becomes_a_start_and_a_length():
    from datetime import datetime

    from app.prompt.render import Context
    from training.data.catalog_gen import _from_to

    ctx = Context(datetime(2026, 5, 12, 9, 0), "/home/ana", ("~",))
    for seed in range(30):
        text, args = _from_to(random.Random(seed), ctx, "Study", "study")
        start, end = _range_minutes(text)
        assert _minutes(args["start"].split()[-1]) == start, text
        assert args["duration_minutes"] == end - start, text


def test_duration_requests_all_carry_the_spoken_length_in_minutes():
    """Each `duration` example says a length, and its call holds that length in minutes."""
    from training.data.catalog_gen import DURATION_KEYS, duration_examples

    spoken = {"an hour and a quarter": 75, "half an hour": 30, "2 hours 30 minutes": 150, "1 hour 15 minutes": 75,
              "three hours": 180, "1h45": 105}
    seen = set()
    for ex in duration_examples(random.Random(3), Catalog.builtin(), 300):
        request = ex.conv.messages[-1].content
        (minutes,) = [c.arguments[k] for c in ex.answer.calls for k in DURATION_KEYS if k in c.arguments]
        for words, value in spoken.items():
            if f" {words}" in request and not re.search(r"\d[ap]m\b.*(to|until|-)", request):
                assert minutes == value, request
                seen.add(words)
    assert len(seen) >= 4


def test_intended_values_not_dictation_in_arguments(built):
    for ex in built[0]:
        if ex.source in ("catalog", "chain", "followup"):
            for call in ex.answer.calls:
                for value in call.arguments.values():
                    assert " dot " not in str(value), (ex.id, value)


def test_long_texts_to_write_are_copied_verbatim():
    """Run 9 refused to write a paragraph; the generator now asks for several sentences, copied exactly."""
    from datetime import datetime

    from app.prompt.render import Context
    from training.data.catalog_gen import b_write_file

    ctx = Context(datetime(2026, 5, 12, 9, 0), "/home/ana", ("~/notes",))
    contents = [b_write_file(random.Random(seed), ctx) for seed in range(200)]
    long = [(text, m.calls[0].arguments["content"]) for text, m, _ in contents if len(m.calls[0].arguments["content"]) > 80]
    assert len(long) >= 30
    for text, content in long:
        assert content in text


def test_home_wide_commands_use_a_bare_tilde():
    from datetime import datetime

    from app.prompt.render import Context
    from training.data.catalog_gen import b_run_command

    ctx = Context(datetime(2026, 5, 12, 9, 0), "/home/ana", ("~",))
    commands = [b_run_command(random.Random(seed), ctx)[1].calls[0].arguments["command"] for seed in range(400)]
    assert any(re.search(r"^(find|du|ls|tree|grep)( -\S+)* ~( |$)", c) for c in commands)
    assert not any("~/home" in c for c in commands)


def _bfcl_texts() -> tuple[set[str], set[tuple[str, str]]]:
    questions, functions = set(), set()
    for path in BFCL.glob("*.json"):
        for line in path.read_text("utf-8").splitlines():
            entry = json.loads(line)
            for turn in entry["question"]:
                for msg in turn:
                    if len(msg["content"]) > 20:
                        questions.add(msg["content"].strip())
            for fn in entry.get("function", []):
                functions.add((fn["name"], fn.get("description", "")))
    return questions, functions


@pytest.mark.skipif(not BFCL.exists(), reason="BFCL files are not on this machine")
def test_no_bfcl_text_in_training_data(built):
    questions, functions = _bfcl_texts()
    assert questions and functions
    for ex in built[0]:
        for m in ex.conv.messages:
            assert m.content.strip() not in questions, ex.id
        for t in ex.conv.tools:
            assert (t.name, t.description) not in functions, ex.id


def test_cli_writes_train_stats_dev_and_sample(tmp_path):
    generate.main(["--seed", "0", "--scale", "0.03", "--out", str(tmp_path / "gen"),
                   "--dev-out", str(tmp_path / "dev.jsonl"), "--sample-out", str(tmp_path / "sample.jsonl")])
    rows = [json.loads(x) for x in (tmp_path / "gen/train.jsonl").read_text().splitlines()]
    stats = json.loads((tmp_path / "gen/stats.json").read_text())
    assert stats["examples"] == len(rows) > 900
    assert {"id", "source", "prompt", "target", "calls"} <= set(rows[0])
    assert len((tmp_path / "sample.jsonl").read_text().splitlines()) == 40
    assert (tmp_path / "dev.jsonl").read_text() == (Path(generate.__file__).parent / "dev.jsonl").read_text()


def test_synthetic_templates_name_every_required_argument_and_nothing_undeclared():
    for family in FAMILIES:
        declared = {p.name for p in family.params}
        required = {p.name for p in family.params if p.required}
        for template in family.templates:
            slots = set(SLOT.findall(template))
            assert required <= slots <= declared, (family.names, template)
        assert not family.many or any("{" + family.many + "}" in t for t in family.templates)


def test_synthetic_calls_pass_only_what_the_request_names():
    examples = synthetic_examples(random.Random(3), 200, 0, 0)
    optional_left_out = 0
    for ex in examples:
        (call,) = ex.answer.calls
        spec = next(t for t in ex.conv.tools if t.name == call.name)
        optional = set(spec.properties) - set(spec.required)
        optional_left_out += bool(optional - set(call.arguments))
        assert list(call.arguments) == [k for k in spec.properties if k in call.arguments]  # declaration order
    assert optional_left_out > 50  # most requests do not name every optional argument


def test_synthetic_parallel_requests_call_one_function_once_per_listed_item():
    for ex in synthetic_examples(random.Random(4), 0, 60, 0):
        calls = ex.answer.calls
        assert 2 <= len(calls) <= 4 and len({c.name for c in calls}) == 1
        family = next(f for f in FAMILIES if calls[0].name in f.names)
        varied = [c.arguments[family.many] for c in calls]
        assert len(set(map(str, varied))) == len(varied)
        shared = [{k: v for k, v in c.arguments.items() if k != family.many} for c in calls]
        assert all(s == shared[0] for s in shared)
        request = ex.conv.messages[-1].content
        assert " and " in request


def test_a_list_parameter_gets_every_listed_item_in_one_call():
    from training.data.arrays import ARRAY_FAMILIES, array_examples

    examples = array_examples(random.Random(18), 80)
    assert {e.source for e in examples} == {"synthetic-array"}
    for ex in examples:
        (call,) = ex.answer.calls
        spec = next(t for t in ex.conv.tools if t.name == call.name)
        spec.validate(call.arguments)
        family = next(f for f in ARRAY_FAMILIES if call.name in f.names)
        listed = [p.name for p in family.params if p.kind == "array"]
        assert all(isinstance(call.arguments[name], list) and call.arguments[name] for name in listed)
        assert all(len(set(map(str, call.arguments[name]))) == len(call.arguments[name]) for name in listed)
        assert ":list" in render_prefix(ex.conv.tools)
        others = [t for t in ex.conv.tools if t is not spec]  # beside it, only scalar declarations
        assert all(p.get("type") != "array" for t in others for p in t.properties.values())
    lengths = {len(call.arguments[p.name]) for ex in examples for call in ex.answer.calls
               for p in next(f for f in ARRAY_FAMILIES if call.name in f.names).params if p.kind == "array"}
    assert 1 in lengths and max(lengths) >= 3  # one item is still a list


def test_near_misses_of_list_families_offer_the_subjects_function_and_get_words():
    from training.data.arrays import ARRAY_FAMILIES, NEAR_MISSES, array_examples

    assert set(NEAR_MISSES) == {f.names[0] for f in ARRAY_FAMILIES}
    calls_only = array_examples(random.Random(19), 30)
    both = array_examples(random.Random(19), 30, n_near_miss=40)
    assert [record(e) for e in both[:30]] == [record(e) for e in calls_only]  # the calls are drawn first, unchanged
    for ex in both[30:]:
        assert ex.source == "synthetic-irrelevant" and not ex.is_call
        family = next(f for f in ARRAY_FAMILIES if ex.conv.messages[-1].content in NEAR_MISSES[f.names[0]])
        assert any(t.name in family.names for t in ex.conv.tools)


def test_array_focus_takes_the_list_parameter_calls(built):
    from training.data.focus import is_array, is_array_near, select

    records = [record(e) for e in built[0]]
    focus = [r for r in records if is_array(r)]
    assert len(focus) == round(Mix().arrays * 0.08) and all(len(r["calls"]) == 1 for r in focus)
    chosen = select(records, len(focus) + 10, seed=18, focus_of=is_array)
    assert {r["id"] for r in focus} <= {r["id"] for r in chosen}
    near = [r for r in records if is_array_near(r)]
    assert len(near) == round(Mix().array_near_misses * 0.08) and not any(r["calls"] for r in near)


def test_catalog_focus_replays_calls_to_the_builtin_tools_only(built):
    from training.data.focus import CATALOG_NAMES, is_array, is_catalog, select

    records = [record(e) for e in built[0]]
    replay = [r for r in records if is_catalog(r)]
    assert replay and all(r["calls"] and {c["name"] for c in r["calls"]} <= CATALOG_NAMES for r in replay)
    assert not any(is_catalog(r) for r in records if not r["calls"] or is_array(r))
    chosen = select(records, 60, seed=21, focus_of=is_array, also={is_catalog: 25})
    assert len(chosen) == 60 and sum(map(is_catalog, chosen)) >= 25


def test_ungranted_and_file_command_focus_pick_the_two_lessons_the_list_candidates_lost(built):
    from training.data.focus import is_file_command, is_ungranted

    records = [record(e) for e in built[0]]
    refusals = [r for r in records if is_ungranted(r)]
    assert refusals and all(not r["calls"] for r in refusals)
    on_files = [r for r in records if is_file_command(r)]
    assert on_files and all("cwd" not in c["arguments"] for r in on_files for c in r["calls"] if c["name"] == "run_command")
    shell = {"id": "x", "source": "catalog", "prompt": "", "target": ""}
    assert is_file_command({**shell, "calls": [{"name": "run_command", "arguments": {"command": "wc -l ~/data.csv"}}]})
    assert not is_file_command({**shell, "calls": [{"name": "run_command",
                                                    "arguments": {"command": "wc -l data.csv", "cwd": "~/x"}}]})
    assert not is_file_command({**shell, "calls": [{"name": "run_command", "arguments": {"command": "git status"}}]})


def test_optional_focus_takes_calls_that_give_an_optional_argument_of_their_declaration(built):
    from training.data.focus import is_optional

    prompt = render_prefix(Catalog.builtin().tools)
    search = {"id": "x", "source": "catalog", "prompt": prompt, "target": ""}
    assert is_optional({**search, "calls": [{"name": "search_files",
                                             "arguments": {"query": "*.py", "folder": "~/Projects"}}]})
    assert not is_optional({**search, "calls": [{"name": "search_files", "arguments": {"query": "*.py"}}]})
    assert not is_optional({**search, "calls": []})
    records = [record(e) for e in built[0]]
    chosen = [r for r in records if is_optional(r)]
    sources = {r["source"] for r in chosen}
    assert {"synthetic", "catalog"} <= sources  # unseen declarations' flags as well as the catalog's folders
    catalog = {t.name: t for t in Catalog.builtin().tools}
    for r in chosen:
        given = {a for c in r["calls"] if c["name"] in catalog for a in c["arguments"]
                 if a not in catalog[c["name"]].required}
        assert given or any(c["name"] not in catalog for c in r["calls"])


def test_a_calendar_named_as_where_an_event_goes_is_never_its_location():
    from training.data.catalog_gen import CALENDAR_TARGETS, calendar_target_examples

    examples = calendar_target_examples(random.Random(24), Catalog.builtin(), 80)
    places = 0
    for ex in examples:
        (answer,) = ex.answer.calls
        assert answer.name == "create_event" and ex.source == "calendar-target"
        location = answer.arguments.get("location", "")
        assert not re.search(r"calend|\bcal\b|schedule|agenda", location, re.I)
        assert location not in (answer.arguments["start"], ex.conv.messages[-1].content)
        places += bool(location)
    assert 0 < places < len(examples) / 2  # a named place still goes in; most requests name none
    assert len({t for ex in examples for t in CALENDAR_TARGETS if t in ex.conv.messages[-1].content.lower()}) >= 6


def test_spoken_spans_say_the_start_and_end_they_are_generated_from():
    from datetime import datetime

    from app.tools.timeparse import resolve_time
    from training.data.catalog_gen import _span

    now = datetime(2026, 12, 7, 8, 0)
    rng = random.Random(3)
    for start, end in ((840, 960), (540, 630), (690, 780), (480, 600)):
        for _ in range(12):
            spoken = _span(rng, start, end)
            assert _range_minutes(spoken) == (start, end), spoken
            first, last = _range_ends(spoken)  # the app's time parser reads both ends the same way
            minutes = (resolve_time(f"Friday at {last}", now) - resolve_time(f"Friday at {first}", now)).seconds // 60
            assert minutes == end - start, spoken


def test_synthetic_irrelevant_requests_are_answered_in_words():
    for ex in synthetic_examples(random.Random(5), 0, 0, 40):
        assert not ex.answer.calls and ex.answer.content
        asked = ex.conv.messages[-1].content.lower()
        fitting = [f for f in FAMILIES if any(_fits(asked, t) for t in f.templates)]
        offered = {t.name for t in ex.conv.tools}
        assert fitting and not any(offered & set(f.names) for f in fitting), asked


def test_requests_in_separate_sentences_get_one_call_each_in_order():
    for ex in synthetic_examples(random.Random(6), 0, 0, 0, n_sentences=40):
        calls, request = ex.answer.calls, ex.conv.messages[-1].content
        assert 2 <= len(calls) <= 4 and len({c.name for c in calls}) == 1
        assert len({json.dumps(c.arguments, sort_keys=True) for c in calls}) == len(calls)
        first = next(f for f in FAMILIES if calls[0].name in f.names).params[0].name
        at = -1
        for c in calls:  # each call's first argument is said after the previous call's: the request's order
            value = c.arguments[first]
            if isinstance(value, str) and value.lower() in request.lower():  # not codes said as names ("fr", "AAPL")
                at = request.lower().find(value.lower(), at + 1)
                assert at >= 0, (request, value)


def test_near_miss_requests_offer_the_subjects_function_and_get_words():
    from training.data.synthetic import NEAR_MISSES

    assert set(NEAR_MISSES) == {f.names[0] for f in FAMILIES}
    for ex in synthetic_examples(random.Random(7), 0, 0, 0, n_near_miss=40):
        assert not ex.answer.calls and ex.answer.content
        family = next(f for f in FAMILIES if ex.conv.messages[-1].content in NEAR_MISSES[f.names[0]])
        assert {t.name for t in ex.conv.tools} & set(family.names)


def _fits(request: str, template: str) -> bool:
    """Whether `request` could come from `template` (its fixed words appear in order)."""
    pattern = ".*".join(re.escape(part.lower()) for part in SLOT.split(template)[::2])
    return re.fullmatch(pattern, request, re.S) is not None


@pytest.mark.skipif(not BFCL.exists(), reason="BFCL files are not on this machine")
def test_synthetic_function_names_are_not_bfcls():
    bfcl = {fn["name"] for path in BFCL.glob("*.json") for line in path.read_text("utf-8").splitlines()
            for fn in json.loads(line).get("function", [])}
    tails = {n.rsplit(".", 1)[-1] for n in bfcl}
    for family in FAMILIES:
        for name in family.names:
            assert name not in bfcl and name.rsplit(".", 1)[-1] not in tails, name


def test_tool_turns_in_training_have_the_shapes_the_tools_return(toolbox, app_paths):
    """The answers after a tool are learned from these turns: a key the app never sends (or sends
    under another name) teaches the model to read the wrong number."""
    from app.calls import ToolCall
    from app.prompt.render import tool_result_text
    from training.data import history
    from training.data.catalog_gen import random_context

    (app_paths.home / "Documents" / "todo.txt").write_text("buy milk\n")
    toolbox.run(ToolCall("create_event", {"title": "Gym", "start": "today at 10am"}))

    def real(name: str, **arguments) -> dict:
        result = toolbox.run(ToolCall(name, arguments))
        assert result.ok, result.error
        return json.loads(tool_result_text(result.output))

    def keys(obj, optional=frozenset({"battery", "load_average", "location", "notes", "all_day"})) -> dict:
        """Key names, nested, first list item standing for all; optional keys dropped."""
        if isinstance(obj, dict):
            return {k: keys(v) for k, v in obj.items() if k not in optional}
        if isinstance(obj, list):
            return [keys(obj[0])] if obj else []
        return type(obj).__name__ if not isinstance(obj, (int, float)) or isinstance(obj, bool) else "number"

    rng = random.Random(3)
    made = {}
    for maker in history.ANSWERS:
        for _ in range(30):  # a few draws, so lists come out non-empty
            _, ctx = random_context(rng, None)
            _, call, result, _ = maker(rng, ctx)
            call = call.calls[0] if hasattr(call, "calls") else call
            name = maker.__name__ + ":" + call.name
            if name not in made or (result.get("entries") or result.get("events")):
                made[name] = result
    assert keys(made["_listing:list_directory"]) == keys(real("list_directory", path="~/Documents"))
    assert keys(made["_events:list_events"]) == keys(real("list_events", start="today"))
    assert keys(made["_read:read_file"]) == keys(real("read_file", path="~/Documents/todo.txt"))
    assert keys(made["_status:system_status"]) == keys(real("system_status"))
    assert keys(made["_command:run_command"]) in (keys(real("run_command", command="echo hi")),
                                                  {"ok": "bool", "error": "str", **keys(real("run_command", command="echo hi"))})
    chain = history.chain_examples(random.Random(0), Catalog.builtin(), 40)
    search = next(json.loads(m.content) for ex in chain for m in ex.conv.messages
                  if m.role == "tool" and '"matches":[{' in m.content)
    assert keys(search) == keys(real("search_files", query="todo"))
    processes = next(json.loads(m.content) for ex in chain for m in ex.conv.messages
                     if m.role == "tool" and '"processes"' in m.content)
    assert keys(processes) == keys(real("list_processes", limit=1))
    for ex in history.reference_examples(random.Random(0), Catalog.builtin(), 30):  # listings pointed back at
        listing = json.loads(next(m.content for m in ex.conv.messages if m.role == "tool"))
        shown = {"processes": ("list_processes", {}), "events": ("list_events", {"start": "today"}),
                 "entries": ("list_directory", {"path": "~/Documents"})}
        name, arguments = next(v for k, v in shown.items() if k in listing)
        assert keys(listing) == keys(real(name, **arguments))


def test_focus_set_keeps_every_focus_example_and_replays_the_rest_reproducibly(built):
    from training.data.focus import is_focus, select

    records = [record(e) for e in built[0]]
    focus = [r for r in records if is_focus(r)]
    assert focus and len(focus) < len(records) // 2
    chosen = select(records, len(focus) + 40, seed=11)
    assert len(chosen) == len(focus) + 40
    assert {r["id"] for r in focus} <= {r["id"] for r in chosen}
    assert sum(not is_focus(r) for r in chosen) == 40
    assert chosen == select(records, len(focus) + 40, seed=11)
    long_write = {"calls": [{"name": "write_file", "arguments": {"path": "~/a.txt", "content": "x. " * 20}}]}
    assert is_focus(long_write) and not is_focus({"calls": [{"name": "write_file", "arguments": {"content": "hi"}}]})


def test_a_focus_limit_takes_that_many_focus_examples_and_keeps_the_total(built):
    from training.data.focus import is_nocall_focus, select

    records = [record(e) for e in built[0]]
    focus = [r for r in records if is_nocall_focus(r)]
    assert len(focus) > 30
    chosen = select(records, 100, seed=15, focus_of=is_nocall_focus, focus_limit=30)
    assert len(chosen) == 100 and sum(map(is_nocall_focus, chosen)) == 30
    assert chosen == select(records, 100, seed=15, focus_of=is_nocall_focus, focus_limit=30)


def test_reference_focus_takes_the_follow_ups_that_point_at_a_listing(built):
    from training.data.focus import is_reference, select

    records = [record(e) for e in built[0]]
    focus = [r for r in records if is_reference(r)]
    assert len(focus) == round(Mix().references * 0.08)
    assert all(r["calls"] and '<start_of_turn>tool' in r["prompt"] for r in focus)
    chosen = select(records, len(focus) + 10, seed=17, focus_of=is_reference)
    assert {r["id"] for r in focus} <= {r["id"] for r in chosen} and len(chosen) == len(focus) + 10


def test_nocall_focus_takes_only_answers_in_words_of_the_eager_caller_kinds(built):
    from training.data.focus import is_nocall_focus, select

    records = [record(e) for e in built[0]]
    focus = [r for r in records if is_nocall_focus(r)]
    assert {r["source"] for r in focus} >= {"nocall", "seal-irrelevant", "synthetic-irrelevant"}
    assert all(not r["calls"] for r in focus)
    chosen = select(records, len(focus) + 25, seed=12, focus_of=is_nocall_focus)
    assert sum(not is_nocall_focus(r) for r in chosen) == 25
    assert not is_nocall_focus({"source": "ungranted", "calls": []})  # refusals for a missing group: not this set


def test_forms_focus_takes_the_calls_to_declarations_that_ask_for_a_form(built):
    from training.data.focus import is_forms_focus, select

    records = [record(e) for e in built[0]]
    focus = [r for r in records if is_forms_focus(r)]
    assert focus and all(r["source"].startswith("synthetic") and r["calls"] for r in focus)
    assert any(call["arguments"].get("location", "").endswith(", TX") or "rate" in json.dumps(call["arguments"])
               for r in focus for call in r["calls"])
    chosen = select(records, len(focus) + 30, seed=13, focus_of=is_forms_focus)
    assert sum(not is_forms_focus(r) for r in chosen) == 30


def test_near_forms_mix_adds_answers_in_words_for_form_declarations_before_the_replay(built, tmp_path):
    from training.data.focus import is_forms_focus, is_near_forms, main

    records = [record(e) for e in built[0]]
    near = [r for r in records if is_near_forms(r)]
    assert near and all(not r["calls"] and r["source"] == "synthetic-irrelevant" for r in near)
    data, out = tmp_path / "train.jsonl", tmp_path / "focus.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    forms = sum(map(is_forms_focus, records))
    main(["--data", str(data), "--out", str(out), "--focus", "forms", "--also", "near-forms=3",
          "--total", str(forms + 10), "--seed", "14"])
    chosen = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(chosen) == forms + 10 and sum(map(is_forms_focus, chosen)) == forms
    assert sum(map(is_near_forms, chosen)) >= 3  # the replay may add more
    assert len({r["id"] for r in chosen}) == len(chosen)
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--out", str(out), "--also", "forms"])


def test_advice_unresolved_references_and_impossible_first_steps_get_words():
    """The kinds the shipped model called for: advice about commands, "the X" with no X before, a call no tool makes."""
    from training.data.nocall import ADVICE, PLACES, UNRESOLVED, nocall_examples

    examples = nocall_examples(random.Random(3), Catalog.builtin(), 300)
    requests = [e.conv.messages[-1].content.lower() for e in examples]
    for table in (ADVICE, UNRESOLVED):
        assert any(req.lower() in r for req, _ in table for r in requests)
    compound = [e for e, r in zip(examples, requests) if any(f"the {p} " in r for p in PLACES)]
    assert compound and all("calendar" in e.answer.content for e in compound)
    assert all(not parse_reply(e.answer.content).calls for e in examples)


def test_values_take_the_form_the_declaration_asks_for_not_the_requests_words():
    """BFCL-style declarations ask for "the city and state", a rate as a decimal or an amount as a
    number; the request says "Denver", "4.5%", "$2.5 million"."""
    from training.data.synthetic import amount_in_words, percent

    rng = random.Random(8)
    for _ in range(50):
        said, value = percent(True)(rng)
        assert value == pytest.approx(float(said.split("%")[0].split()[0]) / 100)
        said, value = percent(False)(rng)
        assert value == float(said.split("%")[0].split()[0])
        said, value = amount_in_words(1, 10**10)(rng)
        number, _, word = said.lstrip("$").replace(",", "").partition(" ")
        assert value == float(number) * {"thousand": 1e3, "million": 1e6, "billion": 1e9, "": 1}[word]
    seen, plain = 0, 0
    for ex in synthetic_examples(random.Random(9), 400, 0, 0):
        (call,) = ex.answer.calls
        spec = next(t for t in ex.conv.tools if t.name == call.name)
        for name, value in call.arguments.items():
            if spec.properties[name]["description"].startswith(("The city and state", "City and state")):
                city, state = value.split(", ")
                assert re.fullmatch(r"[A-Z]{2}", state) and city.lower() in ex.conv.messages[-1].content.lower()
                assert value.lower() not in ex.conv.messages[-1].content.lower()
                seen += 1
            elif spec.properties[name]["description"] == "City name." and value in {"Seattle", "Miami", "Houston"}:
                plain += 1  # a US city where the declaration does not ask for the state: as said
    assert seen > 10 and plain > 0


def test_output_vocab_lists_every_token_of_the_mix(tmp_path, hf_tokenizer):
    """`training.data.output_vocab` writes the ids the build fixes as output columns: every token of the prompts and
    answers it is given, in the file format `app.model.build.output_vocab` reads."""
    from training.data import output_vocab

    example = {"prompt": "<bos><start_of_turn>user\nbook yoga at Lotus Studio<end_of_turn>\n<start_of_turn>model\n",
               "target": 'call:create_event{"title": "Yoga", "location": "Lotus Studio"}<end_of_turn>\n'}
    data, out = tmp_path / "train.jsonl", tmp_path / "vocab.json"
    data.write_text(json.dumps(example) + "\n", "utf-8")
    output_vocab.main(["--data", str(data), "--out", str(out)])
    written = json.loads(out.read_text("utf-8"))
    expected = {i for text in example.values() for i in hf_tokenizer.encode(text, add_special_tokens=False).ids}
    assert written["examples"] == 1 and written["ids"] == sorted(expected)
    assert hf_tokenizer.token_to_id("Lotus") in expected and hf_tokenizer.token_to_id("<end_of_turn>") in expected


def test_reference_follow_ups_call_the_item_the_request_points_at():
    """'kill the one using the most memory', 'cancel the second one': the call names that item of the listing."""
    from training.data.history import ORDINALS, reference_examples

    examples = reference_examples(random.Random(5), Catalog.builtin(), 150)
    kinds = set()
    for ex in examples:
        ex.validate()
        listing = json.loads(next(m.content for m in ex.conv.messages if m.role == "tool"))
        request = ex.conv.messages[-1].content.lower()
        (call,) = ex.answer.calls
        items = listing.get("processes") or listing.get("events") or listing.get("entries")
        value = {"kill_process": lambda it: it["pid"], "delete_event": lambda it: it["title"],
                 "update_event": lambda it: it["title"]}.get(call.name,
                                                             lambda it: f"{listing.get('folder')}/{it['name']}")
        target = call.arguments.get("pid") or call.arguments.get("event") or call.arguments.get("path")
        (index,) = [i for i, it in enumerate(items) if value(it) == target]
        ordinal = next((i for i, word in enumerate(ORDINALS) if f"the {word} " in request), None)
        if ordinal is not None:
            assert index == ordinal, request
        elif "the last " in request:
            assert index == len(items) - 1, request
        elif "most memory" in request or "ram" in request:
            assert items[index]["memory_mb"] == max(it["memory_mb"] for it in items), request
        elif "newest" in request:
            assert items[index]["modified"] == max(it["modified"] for it in items), request
        kinds.add(call.name)
        day = ex.conv.messages[1].calls[0].arguments.get("start")  # the listing's day, for events
        if call.name.endswith("_event"):
            assert call.arguments.get("on") == (None if day == "tomorrow" else day)
    assert {"kill_process", "delete_event", "update_event", "delete_path", "open_path"} <= kinds

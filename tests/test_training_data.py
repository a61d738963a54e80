"""The training data: a clean dev split, a reproducible generator, valid calls, the app's own prompt format.

These build the real examples (seed cases, templates, Seal-Tools, glaive) at a small
scale; nothing is mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.prompt.parse import parse_reply
from app.prompt.render import render, render_example, render_prefix
from app.tools.catalog import Catalog
from training.data import generate
from training.data.generate import Mix, build_examples, record
from training.data.seeds import load_cases, split, stratum

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


def test_dev_cases_never_reach_training(built):
    examples, dev = built
    dev_ids = {c["id"] for c in dev}
    seed_ids = {e.id.removesuffix("-v") for e in examples if e.source == "seed"}
    assert seed_ids and not seed_ids & dev_ids
    dev_requests = {c["request"] for c in dev}
    generated_last = {[m for m in e.conv.messages if m.role == "user"][-1].content for e in examples if e.source != "seed"}
    assert not generated_last & dev_requests


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


def test_ungranted_requests_are_answered_in_words_without_the_group_offered(built):
    catalog = Catalog.builtin()
    for ex in (e for e in built[0] if e.source == "ungranted"):
        assert not ex.answer.calls
        group = next(g for g in ("Files", "Calendar", "Shell", "System") if g in ex.answer.content)
        assert group.lower() not in {t.group for t in ex.conv.tools}
        assert all(t.name in catalog for t in ex.conv.tools)


def test_intended_values_not_dictation_in_arguments(built):
    for ex in built[0]:
        if ex.source in ("catalog", "chain", "followup"):
            for call in ex.answer.calls:
                for value in call.arguments.values():
                    assert " dot " not in str(value), (ex.id, value)


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

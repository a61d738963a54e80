"""Constrained decoding: whatever the logits say, a finished reply parses and its calls validate.

The processor runs as the engine runs it: full-vocabulary logits in, masked logits out,
one token chosen from them, on the real Gemma tokenizer. Random "models" (seeded logits,
greedy or sampled) decode hundreds of replies over the catalog and over BFCL-style
external schemas; adversarial logits push for unknown tools, unknown arguments and wrong
types; plain words must come through untouched. Mask timings are printed, not asserted.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

import jsonschema
import numpy as np
import pytest

from app.calls import ToolCall
from app.engine.constrain import CallGrammar, ConstraintError, to_json_schema
from app.prompt.parse import parse_reply
from app.prompt.render import END, render_call
from app.tools.catalog import Catalog, ToolSpec

CATALOG = Catalog.builtin()

# Schemas in the shape BFCL writes them ("dict", "float", "tuple", "any", "optional").
EXTERNAL = (
    ToolSpec("calculate_triangle_area", "Area of a triangle.", {
        "type": "dict", "properties": {
            "base": {"type": "integer", "description": "The base."},
            "height": {"type": "integer"},
            "unit": {"type": "string", "description": "Defaults to 'units'."}},
        "required": ["base", "height"]}),
    ToolSpec("math.hypot", "Euclidean norm.", {
        "type": "dict", "properties": {
            "x": {"type": "float"}, "y": {"type": "float"},
            "z": {"type": "float", "optional": True, "default": 0}},
        "required": ["x", "y"]}),
    ToolSpec("geo_distance.calculate", "Distance between two points.", {
        "type": "dict", "properties": {
            "coord1": {"type": "tuple", "items": {"type": "float"}},
            "coord2": {"type": "tuple", "items": {"type": "float"}},
            "unit": {"type": "string", "enum": ["miles", "kilometers"]}},
        "required": ["coord1", "coord2"]}),
    ToolSpec("train_model", "Train a model.", {
        "type": "dict", "properties": {
            "data": {"type": "any"},
            "options": {"type": "dict", "properties": {
                "epochs": {"type": "integer"}, "verbose": {"type": "boolean"}}, "required": ["epochs"]},
            "scores": {"type": "dict", "description": "subject -> score"}},
        "required": ["data"]}),
    ToolSpec("weather-api.get", "Weather forecast.", {
        "type": "dict", "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "default": 1},
            "fields": {"type": "array", "items": {"type": "string", "enum": ["temp", "rain", "wind"]}}},
        "required": ["city", "ghost_argument"]}),
    ToolSpec("ping", "No arguments.", {"type": "dict", "properties": {}, "required": []}),
)


@pytest.fixture(scope="module")
def catalog_grammar(gemma_tokenizer) -> CallGrammar:
    return CallGrammar(gemma_tokenizer, CATALOG.tools)


@pytest.fixture(scope="module")
def external_grammar(gemma_tokenizer) -> CallGrammar:
    grammar = CallGrammar(gemma_tokenizer, EXTERNAL)
    assert grammar.warnings == []
    return grammar


# -- a decoder that behaves like the engine -------------------------------------------


@dataclass
class Timings:
    """(wall, CPU) seconds per processor call, split by what the reply is.

    CPU time is reported beside wall time because this machine is shared: wall time
    includes waiting for a core.
    """

    call: list[tuple[float, float]] = field(default_factory=list)
    words: list[tuple[float, float]] = field(default_factory=list)


TIMINGS = Timings()


@dataclass
class Decoded:
    tokens: list[int]
    text: str
    finished: bool


class RandomModel:
    """Seeded random logits, cheap enough for hundreds of replies.

    A pool of random vectors stands in for the network; each step adds random bonuses
    to a few tokens and, often, to the tokens that close strings, objects, lines and
    replies, so that random replies end within the token budget.
    """

    POOL = 8

    def __init__(self, tokenizer, vocab: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.vocab = vocab
        self.pool = rng.standard_normal((self.POOL, vocab)).astype(np.float32)
        closers = ['"', '"}', '",', "}", ",", "]", "\n", END, "1", "true", "▁", '":']
        self.closers = np.array([tokenizer.token_to_id(t) for t in closers if tokenizer.token_to_id(t) is not None])

    def logits(self, rng: np.random.Generator) -> np.ndarray:
        logits = self.pool[rng.integers(self.POOL)].copy()
        logits[rng.integers(self.vocab, size=48)] += 6.0
        if rng.random() < 0.35:
            logits[self.closers] += 9.0
        return logits


def decode(grammar: CallGrammar, next_logits, rng: np.random.Generator, *, greedy: bool = True,
           max_tokens: int = 160, prompt: tuple[int, ...] = (),
           timings: list[tuple[float, float]] | None = None) -> Decoded:
    """Generate one reply under the constraint; every chosen token must be one the mask allowed."""
    processor = grammar.processor()
    sequence = list(prompt)
    out: list[int] = []
    for step in range(max_tokens):
        logits = next_logits(step, out)
        t0, c0 = time.perf_counter(), time.thread_time()
        masked = processor(sequence, logits)
        if timings is not None:
            timings.append((time.perf_counter() - t0, time.thread_time() - c0))
        assert masked.shape == logits.shape
        if greedy:
            token = int(np.argmax(masked))
        else:  # sample from the 4 best (top-k), as a sampling engine would
            token = sample_top_k(masked, rng, k=4)
        assert np.isfinite(masked[token]), "the mask left no token to choose"
        out.append(token)
        sequence.append(token)
        if token == grammar.end_id:
            break
    text = grammar.tokenizer.decode(out)
    return Decoded(out, text, bool(out) and out[-1] == grammar.end_id)


def sample_top_k(logits: np.ndarray, rng: np.random.Generator, k: int) -> int:
    """Softmax sampling among the k best allowed tokens (argmax k times: cheap on 262k logits)."""
    work, top = logits.copy(), []
    for _ in range(k):
        best = int(np.argmax(work))
        if not np.isfinite(work[best]):
            break
        top.append(best)
        work[best] = -np.inf
    if not top:
        return int(np.argmax(logits))
    weights = np.exp(logits[top] - logits[top].max())
    return int(rng.choice(top, p=weights / weights.sum()))


def skeleton(line: str) -> str:
    """A call line with strings and numbers blanked out: what is left is the spacing and punctuation."""
    line = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
    return re.sub(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", "0", line)


def check_reply(decoded: Decoded, validate) -> tuple[ToolCall, ...]:
    """The guarantee: a finished reply parses; calls validate and are written in the training format."""
    reply = parse_reply(decoded.text)
    body = decoded.text.split(END, 1)[0]
    if reply.calls:
        lines = list(dict.fromkeys(body.split("\n")))  # a repeated call is proposed once
        assert len(lines) == len(reply.calls) and len(body.split("\n")) <= len(lines) + 1, body
        for line, call in zip(lines, reply.calls):
            validate(call)
            assert skeleton(line) == skeleton(render_call(call)), line
    else:
        assert reply.text == body.strip()
        assert not any(ln.strip().startswith("call:") for ln in body.split("\n")), body
    return reply.calls


def validate_catalog(call: ToolCall) -> None:
    CATALOG.validate(call)


def validate_external(call: ToolCall) -> None:
    tool = next(t for t in EXTERNAL if t.name == call.name)
    jsonschema.validate(call.arguments, to_json_schema(tool.parameters))


def steer(grammar: CallGrammar, text: str, *, noise: float = 0.0, fallback=(), seed: int = 0):
    """Logits that want exactly `text` then <end_of_turn>, token by token (a stubborn model).

    Once the constraint has forced a different token, the wanted text is lost; the model
    then keeps wanting `fallback` tokens (say, to close what it started) and the end.
    """
    tokenizer, vocab = grammar.tokenizer, grammar.vocab_size
    wanted = tokenizer.encode(text) + [grammar.end_id]
    rng = np.random.default_rng(seed)
    fallback_ids = [tokenizer.token_to_id(t) for t in fallback]

    def next_logits(step: int, out: list[int]) -> np.ndarray:
        logits = rng.standard_normal(vocab).astype(np.float32) * noise
        on_track = out == wanted[: len(out)]
        if on_track and step < len(wanted):
            logits[wanted[step]] += 100.0
        else:
            for rank, token in enumerate(fallback_ids):
                logits[token] += 50.0 - rank
            logits[wanted[-1]] += 60.0
        return logits

    return next_logits, wanted


# -- the property: random models never produce an unparsable or invalid call ------------


def _random_runs(grammar: CallGrammar, validate, runs: int, seed: int) -> tuple[int, int, int]:
    tokenizer = grammar.tokenizer
    model = RandomModel(tokenizer, grammar.vocab_size, seed)
    call_id, colon_id = tokenizer.token_to_id("call"), tokenizer.token_to_id(":")
    rng = np.random.default_rng(seed)
    finished = calls = words = 0
    for run in range(runs):
        start_call = run % 4 != 0  # most runs start a call, the rest are left to chance

        def next_logits(step: int, out: list[int]) -> np.ndarray:
            logits = model.logits(rng)
            if start_call and step == 0:
                logits[call_id] += 50.0
            if start_call and step == 1:
                logits[colon_id] += 50.0
            return logits

        timings = TIMINGS.call if start_call else TIMINGS.words
        decoded = decode(grammar, next_logits, rng, greedy=run % 2 == 0, timings=timings)
        if not decoded.finished:
            continue  # out of budget: the engine reports finish="length", not a reply
        finished += 1
        found = check_reply(decoded, validate)
        calls += len(found)
        words += not found
    return finished, calls, words


def test_random_replies_over_the_catalog_always_parse_and_validate(catalog_grammar):
    finished, calls, words = _random_runs(catalog_grammar, validate_catalog, runs=160, seed=1)
    assert finished >= 100 and calls >= 80 and words >= 15, (finished, calls, words)


def test_random_replies_over_external_schemas_always_parse_and_validate(external_grammar):
    finished, calls, words = _random_runs(external_grammar, validate_external, runs=100, seed=2)
    assert finished >= 60 and calls >= 40 and words >= 8, (finished, calls, words)


def test_random_calls_use_every_kind_of_argument(external_grammar):
    """The random runs above reach floats, tuples, enums, nested and free-form objects."""
    tokenizer = external_grammar.tokenizer
    model = RandomModel(tokenizer, external_grammar.vocab_size, 3)
    rng = np.random.default_rng(3)
    seen: dict[str, set[str]] = {}
    for name in ("geo_distance.calculate", "train_model", "weather-api.get", "math.hypot"):
        prefix = tokenizer.encode(f"call:{name}{{")
        for _ in range(12):
            def next_logits(step: int, out: list[int]) -> np.ndarray:
                logits = model.logits(rng)
                if step < len(prefix):
                    logits[prefix[step]] += 80.0
                return logits

            decoded = decode(external_grammar, next_logits, rng, greedy=False)
            if decoded.finished:
                for call in check_reply(decoded, validate_external):
                    seen.setdefault(call.name, set()).update(call.arguments)
    assert {"coord1", "coord2"} <= seen.get("geo_distance.calculate", set())
    assert "data" in seen.get("train_model", set())
    assert "city" in seen.get("weather-api.get", set())


# -- adversarial logits: the constraint wins --------------------------------------------


def test_an_unknown_tool_name_becomes_a_granted_one(catalog_grammar, gemma_tokenizer):
    files_only = CallGrammar(gemma_tokenizer, CATALOG.for_groups(["files"]).tools)
    for grammar, names in ((catalog_grammar, {t.name for t in CATALOG}),
                           (files_only, {t.name for t in CATALOG.for_groups(["files"])})):
        for bad in ('call:delete_everything{"force": true}', 'call:run_command{"command": "rm -rf ~"}',
                    'call:calendar.purge{}'):
            next_logits, _ = steer(grammar, bad, noise=0.5, fallback=['"', '"}', "}", "~"])
            decoded = decode(grammar, next_logits, np.random.default_rng(0))
            assert decoded.finished, decoded.text
            calls = check_reply(decoded, validate_catalog)
            assert calls and all(c.name in names for c in calls), decoded.text
    # run_command is not granted with files only: that call cannot come out.
    next_logits, _ = steer(files_only, 'call:run_command{"command": "ls"}', fallback=['"', '"}', "}"])
    decoded = decode(files_only, next_logits, np.random.default_rng(0))
    assert "run_command" not in decoded.text


def test_unknown_arguments_wrong_types_and_missing_required_ones_are_impossible(catalog_grammar, gemma_tokenizer):
    cases = {
        'call:delete_path{"path": "~/x", "force": true}': "delete_path",
        'call:search_files{"query": "tax", "modified_within_days": "seven"}': "search_files",
        'call:create_event{"title": "Lunch"}': "create_event",
        'call:list_processes{"sort_by": "disk", "limit": 5}': "list_processes",
        'call:kill_process{"pid": "1234"}': "kill_process",
    }
    for bad, name in cases.items():
        next_logits, _ = steer(catalog_grammar, bad, noise=0.5, fallback=['"', '"}', "}", '",', ",", "1"])
        decoded = decode(catalog_grammar, next_logits, np.random.default_rng(1))
        assert decoded.finished, decoded.text
        (call,) = check_reply(decoded, validate_catalog)
        assert call.name == name
        spec = CATALOG.get(name)
        assert set(call.arguments) <= set(spec.properties) and set(spec.required) <= set(call.arguments)
        assert decoded.text.split(END)[0] != bad


def test_external_schema_types_are_enforced(external_grammar, gemma_tokenizer):
    next_logits, _ = steer(external_grammar, 'call:math.hypot{"x": "three", "y": 4}', noise=0.5,
                           fallback=[",", "}", '"', "3"])
    decoded = decode(external_grammar, next_logits, np.random.default_rng(2))
    (call,) = check_reply(decoded, validate_external)
    assert all(isinstance(call.arguments[k], (int, float)) for k in ("x", "y"))


# -- words pass through --------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Sure, 2+2 is 4.",
    "I can't call anyone for you, but I can add a reminder to your calendar.",
    "call me maybe",
    "Calls: none today.",
    "Recall: the file is in ~/Documents.\nAnything else?",
    "Here is what I found:\n- report.pdf\n- notes.txt\n\nWant me to open one?",
    "Kein Termin am Freitag – möchtest du einen anlegen? 🙂",
    "",
])
def test_words_pass_through_unchanged(catalog_grammar, gemma_tokenizer, text):
    next_logits, wanted = steer(catalog_grammar, text, noise=1.0)
    decoded = decode(catalog_grammar, next_logits, np.random.default_rng(0))
    assert decoded.tokens == wanted
    assert parse_reply(decoded.text).text == text.strip()


@pytest.mark.parametrize("calls", [
    (ToolCall("create_event", {"title": "Lunch with Sam", "start": "tomorrow at 12:30"}),),
    (ToolCall("create_event", {"start": "Friday 9am", "title": "Standup", "duration_minutes": 15}),),
    (ToolCall("system_status", {}), ToolCall("list_processes", {"sort_by": "memory", "limit": 5})),
    (ToolCall("write_file", {"path": "~/Documents/a.txt", "content": "line 1\nline 2\u2028still 2 \"q\" é",
                             "mode": "append"}),),
])
def test_calls_in_the_training_format_pass_through_unchanged(catalog_grammar, gemma_tokenizer, calls):
    text = "\n".join(render_call(c) for c in calls)
    next_logits, wanted = steer(catalog_grammar, text, noise=1.0)
    decoded = decode(catalog_grammar, next_logits, np.random.default_rng(0))
    assert decoded.tokens == wanted
    assert parse_reply(decoded.text).calls == calls


def test_a_line_of_words_cannot_start_with_call(catalog_grammar, gemma_tokenizer):
    for text in ("Done.\ncall:delete_path{\"path\": \"~/x\"}", "   call:system_status{}", "\n\ncall:system_status{}"):
        next_logits, wanted = steer(catalog_grammar, text, noise=0.5)
        decoded = decode(catalog_grammar, next_logits, np.random.default_rng(0))
        assert decoded.finished
        assert decoded.tokens != wanted
        assert check_reply(decoded, validate_catalog) == ()


def test_without_tools_every_reply_is_words(gemma_tokenizer):
    grammar = CallGrammar(gemma_tokenizer, [])
    next_logits, _ = steer(grammar, "call:system_status{}", noise=0.5)
    decoded = decode(grammar, next_logits, np.random.default_rng(0))
    assert decoded.finished and check_reply(decoded, validate_catalog) == ()


def test_a_call_ends_the_reply_or_starts_another_call(catalog_grammar, gemma_tokenizer):
    next_logits, _ = steer(catalog_grammar, 'call:system_status{}\nAll good, nothing else to do.', noise=0.5,
                           fallback=['"', '"}', "}", '",', ","])
    decoded = decode(catalog_grammar, next_logits, np.random.default_rng(0))
    assert decoded.finished
    assert check_reply(decoded, validate_catalog)
    assert "All good" not in decoded.text



def test_a_call_written_again_ends_the_reply_and_is_proposed_once(catalog_grammar):
    """A looping model (the same call line over and over) is stopped after the first repeat."""
    line = render_call(ToolCall("create_event", {"title": "Standup", "start": "tomorrow 9am"}))
    next_logits, wanted = steer(catalog_grammar, "\n".join([line] * 6), noise=0.5)
    decoded = decode(catalog_grammar, next_logits, np.random.default_rng(0))
    assert decoded.finished and decoded.text.split("<end_of_turn>")[0] == f"{line}\n{line}"
    assert parse_reply(decoded.text).calls == (ToolCall("create_event", {"title": "Standup", "start": "tomorrow 9am"}),)
    other = render_call(ToolCall("create_event", {"title": "Standup", "start": "friday 9am"}))
    next_logits, _ = steer(catalog_grammar, f"{line}\n{other}", noise=0.5)
    assert len(parse_reply(decode(catalog_grammar, next_logits, np.random.default_rng(0)).text).calls) == 2

# -- the processor's contract with the engine ----------------------------------------


def test_prompt_tokens_in_the_sequence_are_not_taken_as_output(catalog_grammar, gemma_tokenizer):
    prompt = tuple(gemma_tokenizer.encode("<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n"))
    next_logits, wanted = steer(catalog_grammar, "call:system_status{}", noise=0.5)
    decoded = decode(catalog_grammar, next_logits, np.random.default_rng(0), prompt=prompt)
    assert decoded.tokens == wanted


def test_logits_wider_or_narrower_than_the_vocabulary(catalog_grammar):
    vocab = catalog_grammar.vocab_size
    wide = np.zeros(vocab + 64, dtype=np.float32)
    masked = catalog_grammar.processor()([], wide)
    assert np.isneginf(masked[vocab:]).all() and np.isfinite(masked[:vocab]).any()
    narrow = np.zeros(vocab - 16, dtype=np.float32)
    assert catalog_grammar.processor()([], narrow).shape == (vocab - 16,)


def test_a_token_the_mask_blocked_is_a_clear_error(catalog_grammar, gemma_tokenizer):
    processor = catalog_grammar.processor()
    logits = np.zeros(catalog_grammar.vocab_size, dtype=np.float32)
    processor([], logits)
    start_of_turn = gemma_tokenizer.token_to_id("<start_of_turn>")
    assert np.isneginf(logits[start_of_turn])
    with pytest.raises(ConstraintError, match="not allowed"):
        processor([start_of_turn], np.zeros_like(logits))


def test_after_the_end_only_the_end_is_allowed(catalog_grammar):
    processor = catalog_grammar.processor()
    end = catalog_grammar.end_id
    processor([], np.zeros(catalog_grammar.vocab_size, dtype=np.float32))
    masked = processor([end], np.zeros(catalog_grammar.vocab_size, dtype=np.float32))
    assert processor.done and np.flatnonzero(np.isfinite(masked)).tolist() == [end]


def test_cached_line_start_masks_equal_computed_ones(catalog_grammar, gemma_tokenizer):
    """Masks at line starts are reused across replies; they must be what the grammar computes."""
    from app.engine.constrain import _Mask

    text = "  \n\ncat food\ncalls are cheap\n  callous\nca\n\tcal\ncall\nc"
    tokens = gemma_tokenizer.encode(text)
    for _ in range(2):  # the second reply reads the masks the first one cached
        processor = catalog_grammar.processor()
        for i in range(len(tokens) + 1):
            cached = processor.allowed()
            fresh = catalog_grammar._template.deep_copy()
            assert fresh.consume_tokens(tokens[:i])
            assert np.array_equal(cached, _Mask.compute(fresh, catalog_grammar.vocab_size).allowed(len(cached))), i
            if i < len(tokens):
                processor(tokens[: i + 1], np.zeros(catalog_grammar.vocab_size, dtype=np.float32))


def test_a_schema_llguidance_cannot_enforce_still_gives_parsable_calls(gemma_tokenizer):
    odd = ToolSpec("lookahead", "", {"type": "object", "properties": {
        "code": {"type": "string", "pattern": "^(?=A).*$"}, "n": {"type": "integer"}}, "required": ["code"]})
    grammar = CallGrammar(gemma_tokenizer, [odd])
    assert len(grammar.warnings) == 1 and "lookahead.code" in grammar.warnings[0]
    next_logits, wanted = steer(grammar, 'call:lookahead{"code": "B7", "n": 2}', noise=0.5)
    decoded = decode(grammar, next_logits, np.random.default_rng(0))
    assert decoded.tokens == wanted
    assert parse_reply(decoded.text).calls == (ToolCall("lookahead", {"code": "B7", "n": 2}),)


def test_tool_names_that_a_call_line_cannot_hold_are_refused(gemma_tokenizer):
    with pytest.raises(ValueError, match="cannot be written"):
        CallGrammar(gemma_tokenizer, [ToolSpec("get weather", "", {"type": "object", "properties": {}})])


# -- schema normalization ------------------------------------------------------------


def test_bfcl_schemas_become_closed_json_schemas():
    bounded = {"minimum": -10**15, "maximum": 10**15}
    any_value = {"$ref": "#/$defs/any"}
    schema = to_json_schema(EXTERNAL[3].parameters)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["properties"]["data"] == any_value and "any" in schema["$defs"]
    options = schema["properties"]["options"]
    assert options["type"] == "object" and options["additionalProperties"] is False
    assert options["properties"]["epochs"] == {"type": "integer", **bounded}
    # A free-form dict stays open to any key.
    assert schema["properties"]["scores"] == {"type": "object", "additionalProperties": any_value}
    jsonschema.validate({"data": [1, "a", None], "scores": {"math": 90.5}, "options": {"epochs": 2}}, schema)
    hypot = to_json_schema(EXTERNAL[1].parameters)
    assert hypot["properties"]["z"] == {"type": "number", **bounded}  # "optional" and "default" dropped
    geo = to_json_schema(EXTERNAL[2].parameters)["properties"]["coord1"]
    assert geo == {"type": "array", "items": {"type": "number", **bounded}}
    weather = to_json_schema(EXTERNAL[4].parameters)
    assert weather["required"] == ["city"]  # "ghost_argument" is not a property
    jsonschema.Draft202012Validator.check_schema(weather)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"city": "Oslo", "when": "now"}, weather)
    assert to_json_schema(None) == {"type": "object", "properties": {}, "required": [], "additionalProperties": False}


def test_numbers_are_bounded_so_none_reads_back_as_infinity(external_grammar):
    """1E999 is valid JSON but json.loads makes it inf, which no tool can take."""
    def accepts(text: str) -> bool:
        matcher = external_grammar._template.deep_copy()
        ok = matcher.consume_tokens(external_grammar._ll.tokenize_str(text, parse_special=True))
        return ok and matcher.is_accepting()

    assert accepts('call:math.hypot{"x": 1.5, "y": -2}')
    assert accepts('call:train_model{"data": [1, "a", {"k": null}], "scores": {"math": 90.5}}')
    assert not accepts('call:math.hypot{"x": 1E999, "y": 1}')
    assert not accepts('call:train_model{"data": 1E999}')
    assert not accepts('call:calculate_triangle_area{"base": 12345678901234567890, "height": 1}')


def test_every_catalog_schema_is_kept(catalog_grammar):
    for tool in CATALOG:
        schema = to_json_schema(tool.parameters)
        assert set(schema["required"]) == set(tool.required) and schema["additionalProperties"] is False
        for name, prop in tool.properties.items():
            kept = schema["properties"][name]
            assert kept["type"] == prop["type"] and kept.get("enum") == prop.get("enum")
    assert catalog_grammar.warnings == []


# -- how long a mask takes (printed, not asserted) --------------------------------------


def test_report_mask_time_per_token(catalog_grammar, capsys):
    """Median and tail of one processor call (mask + applying it to 262k logits), by reply kind."""
    if len(TIMINGS.call) < 100:
        _random_runs(catalog_grammar, validate_catalog, runs=40, seed=9)
    lines = []
    for kind, samples in (("call replies", TIMINGS.call), ("word replies", TIMINGS.words)):
        for clock, values in zip(("wall", "cpu"), zip(*samples)):
            us = np.array(values) * 1e6
            lines.append(f"{kind}, {clock}: {len(us)} steps, median {np.median(us):.0f} us, "
                         f"p90 {np.percentile(us, 90):.0f} us, p99 {np.percentile(us, 99):.0f} us, "
                         f"max {us.max():.0f} us")
    with capsys.disabled():
        print("\nconstrained decoding, per token on this machine:\n  " + "\n  ".join(lines))
    assert TIMINGS.call and TIMINGS.words


# -- end to end: the real engine, the tiny random Gemma 3 -----------------------------


@pytest.mark.slow
def test_engine_replies_under_the_constraint_always_parse(tiny_model_dir, gemma_tokenizer):
    """The ONNX engine with random weights, nudged to start calls: every finished reply parses."""
    from datetime import datetime

    from app.engine.engine import Engine
    from app.prompt.render import Context, Conversation, Message, render, render_prefix

    engine = Engine.load(tiny_model_dir, threads=1)
    tools = CATALOG.for_groups(("files", "calendar")).tools
    grammar = CallGrammar(engine.tokenizer, tools, engine.info.output_tokens)  # as the app builds it
    call_id, colon_id = gemma_tokenizer.token_to_id("call"), gemma_tokenizer.token_to_id(":")
    closers = [gemma_tokenizer.token_to_id(t) for t in ('"', '"}', "}", '",', END)]

    def nudge(generated: list[int], logits: np.ndarray) -> np.ndarray:
        """What a trained model would want: start with `call:`, close what it opened."""
        if len(generated) < 2:
            logits[(call_id, colon_id)[len(generated)]] += 1e4
        logits[closers] += 2.0 * (1 + len(generated) // 8)
        return logits

    finished = 0
    for request in ("what's on friday?", "list my documents", "move a.txt to b.txt", "delete the dentist"):
        conv = Conversation(tools, Context(datetime(2026, 11, 26, 9, 15), "/home/alex", ("~/Documents",)),
                            (Message("user", request),))
        result = engine.generate(render(conv), max_tokens=64, prefix=render_prefix(tools),
                                 processors=(nudge, grammar.processor()))
        if result.finish != "stop":
            continue
        finished += 1
        calls = parse_reply(result.text + END).calls
        assert calls, result.text
        for call in calls:
            validate_catalog(call)
            assert call.name in {t.name for t in tools}
    assert finished >= 2


def test_a_grammar_for_the_models_output_vocabulary_allows_exactly_the_producible_tokens(catalog_grammar, gemma_tokenizer,
                                                                                           hf_tokenizer):
    """Tokens outside the graph's output vocabulary are never offered; among the others the
    masks are those of the whole vocabulary, through words and calls alike."""
    from app.model.build import latin_output_tokens

    producible = np.array(latin_output_tokens(hf_tokenizer))
    outside = np.ones(catalog_grammar.vocab_size, dtype=bool)
    outside[producible] = False
    assert outside.sum() > 50_000
    grammar = CallGrammar(gemma_tokenizer, CATALOG.tools, producible)
    for text in ('call:move_path{"source": "~/a b.txt", "destination": "~/Docs/ünï.txt"}\ncall:system_status{}',
                 "Sure: the file is in ~/Docs.\n  call it done?"):
        tokens = gemma_tokenizer.encode(text)
        assert not outside[tokens].any()
        full, restricted = catalog_grammar.processor(), grammar.processor()
        for processor in (full, restricted):
            processor([], np.zeros(catalog_grammar.vocab_size, dtype=np.float32))  # no prompt tokens
        for i in range(len(tokens) + 1):
            want, got = full.allowed(), restricted.allowed()
            assert not got[outside].any(), (text, i)
            assert np.array_equal(got, want & ~outside), (text, i)
            if i < len(tokens):
                for processor in (full, restricted):
                    processor(tokens[: i + 1], np.zeros(catalog_grammar.vocab_size, dtype=np.float32))


def test_a_grantable_tool_can_be_named_and_becomes_a_request_for_the_grant(gemma_tokenizer):
    """Only files granted: a calendar request may still come out as create_event (not forced into
    a files tool), and the user gets words naming the missing permission instead of a call."""
    from datetime import datetime

    from app.prompt.render import Context, Conversation, Message
    from app.prompt.ungranted import grant_request, nameable_tools

    files = CATALOG.for_groups(["files"]).tools
    conv = Conversation(files, Context(datetime(2026, 3, 2, 9, 0), "/home/ana", ("~/Documents",)),
                        (Message("user", "add lunch with Sam tomorrow at noon"),),
                        grantable=tuple(t for t in CATALOG.tools if t not in files))
    grammar = CallGrammar(gemma_tokenizer, nameable_tools(conv))
    call = ToolCall("create_event", {"title": "Lunch with Sam", "start": "tomorrow at 12pm"})
    next_logits, wanted = steer(grammar, render_call(call), noise=1.0)
    decoded = decode(grammar, next_logits, np.random.default_rng(0))
    assert parse_reply(decoded.text).calls == (call,)
    note = grant_request(decoded.text, conv.grantable)
    assert note is not None and "calendar" in note and "Settings" in note
    # Declared-only decoding could not have named it.
    assert "create_event" not in {t.name for t in conv.tools}


def test_forced_names_the_only_allowed_token_and_nothing_when_there_is_a_choice(catalog_grammar, gemma_tokenizer):
    """`forced` (the engine's fast path) agrees with the mask: one allowed token -> that token."""
    text = 'call:system_status{}'
    tokens = gemma_tokenizer.encode(text)
    processor = catalog_grammar.processor()
    assert processor.forced([]) is None  # words or a call: the model chooses
    seen_forced = 0
    for i in range(1, len(tokens) + 1):
        forced = processor.forced(tokens[:i])
        allowed = np.flatnonzero(processor.allowed())
        if forced is None:
            assert len(allowed) > 1, i
        else:
            seen_forced += 1
            assert allowed.tolist() == [forced], i
    assert seen_forced >= 1  # e.g. the rest of the tool name once no other granted name fits


def test_llguidance_sees_the_vocabulary_as_it_would_from_the_tokenizer_json(catalog_grammar, gemma_tokenizer,
                                                                            hf_tokenizer):
    """The grammar's vocabulary view, built from our tokenizer object (no second parsed copy
    of the tokenizer), has the same bytes, special tokens and tokenization as llguidance's own
    reading of the tokenizer's JSON."""
    import llguidance

    ours = catalog_grammar._ll
    end = gemma_tokenizer.token_to_id(END)
    theirs = llguidance.LLTokenizer(hf_tokenizer.to_str(), n_vocab=ours.vocab_size, eos_token=[end])
    assert ours.vocab_size == theirs.vocab_size == gemma_tokenizer.vocab_size
    assert ours.eos_tokens == theirs.eos_tokens == [end]
    ids = range(ours.vocab_size)
    assert [ours.decode_bytes([i]) for i in ids] == [theirs.decode_bytes([i]) for i in ids]
    assert [i for i in ids if ours.is_special_token(i)] == [i for i in ids if theirs.is_special_token(i)]
    for text in ["Moved 3 files to ~/Documents/Über uns.", 'call:read_file{"path": "~/notes/€ plan.md"}\n',
                 "<start_of_turn>model\n\n\n  tabs\tand <table> [multimodal] 12:30"]:
        assert ours.tokenize_str(text) == theirs.tokenize_str(text)


def test_a_list_that_loops_is_closed_and_the_call_still_parses(gemma_tokenizer):
    """A model stuck repeating list items ([18, 16, 0, 0, 0, ...], as in BFCL) would run to the
    token budget and leave an unreadable call; after six repeats the list gets no further `,`."""
    tool = ToolSpec("stats.t_test", "Two-sample t test.", {"type": "dict", "properties": {
        "a": {"type": "array", "items": {"type": "integer"}},
        "b": {"type": "array", "items": {"type": "string"}}}, "required": ["a"]})
    grammar = CallGrammar(gemma_tokenizer, [tool])
    closers = [gemma_tokenizer.token_to_id(t) for t in ['"]}', '"]', '"', "]}", "]", "}"]] + [grammar.end_id]

    def stuck(text: str):
        """Wants `text` token by token; where the mask refuses, would rather close than anything else."""
        wanted = gemma_tokenizer.encode(text)

        def next_logits(step: int, out: list[int]) -> np.ndarray:
            logits = np.zeros(grammar.vocab_size, dtype=np.float32)
            logits[closers] = np.arange(50, 50 - len(closers), -1)
            if out == wanted[:len(out)] and step < len(wanted):
                logits[wanted[step]] = 100.0
            return logits

        decoded = decode(grammar, next_logits, np.random.default_rng(0))
        assert decoded.finished, decoded.text
        return parse_reply(decoded.text).calls

    assert stuck('call:stats.t_test{"a": [18, 16' + ", 0" * 40) == (
        ToolCall("stats.t_test", {"a": [18, 16] + [0] * 6}),)
    # A run of two items loops the same way; a token like `",` ends mid-item.
    assert stuck('call:stats.t_test{"a": [1], "b": ["67813"' + ', "71249", "67813"' * 20) == (
        ToolCall("stats.t_test", {"a": [1], "b": ["67813"] + ["71249", "67813"] * 6}),)
    # Lists of up to seven equal items, and text that repeats inside a string, are written as
    # the model wants them.
    for call in (ToolCall("stats.t_test", {"a": [0] * 7}), ToolCall("stats.t_test", {"a": [5, 5], "b": ["x"] * 7}),
                 ToolCall("stats.t_test", {"a": [1], "b": ["0, " * 20 + "0"]})):
        assert stuck(render_call(call) + END) == (call,)

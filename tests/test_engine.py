"""The engine on real ONNX models: the tiny random Gemma 3 built by the real pipeline.

Random weights say nothing about quality, but everything the engine promises is
mechanical and checkable: same tokens as PyTorch, prefix cache identical to a cold run,
stop strings, budget, cancellation, streaming, processors, whole characters.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from app.engine.detokenize import StopMatcher, StreamingDetokenizer
from app.engine.engine import LONG_CONTEXT, PREFILL_CHUNK, Engine, Generation
from app.engine.rope import ROPE_STEP, Rope, rotary_tables
from app.errors import DeskmateError, ModelCorrupt, ModelMissing
from app.prompt.render import Context, Conversation, Message, render, render_prefix
from app.tools.catalog import Catalog

TOOLS = Catalog.builtin().for_groups(("files", "calendar")).tools
PREFIX = render_prefix(TOOLS)


def prompt_for(request: str) -> str:
    conv = Conversation(TOOLS, Context(datetime(2026, 11, 26, 9, 15), "/home/alex", ("~/Documents",)),
                        (Message("user", request),))
    return render(conv)


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path) -> Engine:
    return Engine.load(tiny_model_dir, threads=1)


def test_generate_returns_text_tokens_and_timings(engine):
    result = engine.generate(prompt_for("what's on friday?"), max_tokens=12, prefix=PREFIX)
    assert isinstance(result, Generation)
    assert result.new_tokens == 12 and result.finish == "length"
    assert result.prompt_tokens == len(engine.encode(prompt_for("what's on friday?")))
    assert result.text and result.prefill_s > 0 and result.decode_s > 0


def test_prefix_cache_gives_the_cold_output(engine, tiny_model_dir):
    """A warm run (prefix KV reused) writes exactly what a fresh engine writes."""
    prompt = prompt_for("list my documents")
    cold = Engine.load(tiny_model_dir, threads=1).generate(prompt, max_tokens=16, prefix=PREFIX)
    engine.generate(prompt_for("something else first"), max_tokens=2, prefix=PREFIX)  # fills the cache
    warm = engine.generate(prompt, max_tokens=16, prefix=PREFIX)
    assert cold.cached_tokens == 0
    assert warm.cached_tokens == len(engine.encode(PREFIX))
    assert warm.tokens == cold.tokens and warm.text == cold.text


def test_prefix_that_is_not_a_prefix_is_not_reused(engine):
    prompt = prompt_for("hello")
    result = engine.generate(prompt, max_tokens=3, prefix="<bos>something unrelated")
    assert result.cached_tokens == 0 and result.new_tokens == 3


def test_streamed_text_equals_final_text(engine):
    events = list(engine.stream(prompt_for("rename report.txt"), max_tokens=20, prefix=PREFIX))
    result = events[-1].result
    assert result is not None and all(e.result is None for e in events[:-1])
    assert "".join(e.text for e in events) == result.text
    assert result.text == engine.tokenizer.decode(list(result.tokens))


def test_token_budget(engine):
    result = engine.generate(prompt_for("hi"), max_tokens=5)
    assert result.new_tokens == 5 and result.finish == "length"


def test_stop_string_ends_the_answer_and_is_not_shown(engine):
    free = engine.generate(prompt_for("hi"), max_tokens=10)
    # Pick a stop string that occurs in the free run, a few characters in.
    stop = free.text[3:6]
    assert len(stop) == 3
    events = list(engine.stream(prompt_for("hi"), max_tokens=10, stop=(stop,)))
    result = events[-1].result
    assert result.finish == "stop"
    assert result.text == free.text[:free.text.index(stop)]
    assert "".join(e.text for e in events) == result.text


def test_cancel_from_another_thread_stops_generation(engine):
    cancel = threading.Event()
    seen: list[str] = []
    for event in engine.stream(prompt_for("tell me a long story"), max_tokens=200, cancel=cancel):
        if event.result is not None:
            result = event.result
            break
        seen.append(event.text)
        if len(seen) == 3:
            threading.Thread(target=cancel.set).start()
            threading.Event().wait(0.05)  # let the other thread set it
    assert result.finish == "cancelled"
    assert 3 <= result.new_tokens < 200


def test_cancel_before_start_generates_nothing(engine):
    cancel = threading.Event()
    cancel.set()
    result = engine.generate(prompt_for("hi"), max_tokens=50, cancel=cancel)
    assert result.finish == "cancelled" and result.new_tokens == 0 and result.text == ""


def test_processors_see_the_full_vocabulary_and_steer_the_pick(engine):
    """A processor gets full-vocabulary logits (restricted columns expanded) and its mask wins."""
    forced = engine.tokenizer.token_to_id("▁yes")
    seen_sizes: list[int] = []
    seen_tokens: list[list[int]] = []

    def only_yes(tokens: list[int], logits: np.ndarray) -> np.ndarray:
        seen_sizes.append(len(logits))
        seen_tokens.append(list(tokens))
        out = np.full_like(logits, -np.inf)
        out[forced] = 0.0
        return out

    result = engine.generate(prompt_for("hi"), max_tokens=4, processors=(only_yes,))
    assert result.tokens == (forced,) * 4 and result.text == " yes" * 4
    assert seen_sizes == [engine.info.vocab_size] * 4
    assert seen_tokens == [[], [forced], [forced] * 2, [forced] * 3]


def only(token: int):
    def processor(tokens: list[int], logits: np.ndarray) -> np.ndarray:
        out = np.full_like(logits, -np.inf)
        out[token] = logits[token]
        return out
    return processor


@pytest.mark.parametrize("piece, request_text", [
    ("\u2581méthodique", "file it under méthodique"),  # the prompt's own token
    ("Lotus", "book yoga at Lotus Studio"),  # the prompt has "▁Lotus"; a JSON string starts with "Lotus"
    ("旅行", "make a folder ~/Pictures/日本旅行"),  # any script: a Japanese folder name is copied, not translated
    ("日本", "when was 日本語メモ.txt last changed?"),  # the prompt's "▁日本|語" without its space: alone it is "日本語"
])
def test_a_rare_piece_of_the_prompt_can_be_written_in_that_request_only(engine, piece, request_text):
    """The fixed output columns are the common pieces; a rare one (a name, a path) is a column when the prompt
    has the word, so the model can copy it as written, and in no other request."""
    rare = engine.tokenizer.token_to_id(piece)
    assert rare not in set(engine.info.output_tokens.tolist()) and rare in set(engine.info.producible.tolist())
    assert rare in engine.columns(prompt_for(request_text)) and rare not in engine.columns(prompt_for("hi"))
    copied = engine.generate(prompt_for(request_text), max_tokens=2, processors=(only(rare),))
    assert copied.tokens == (rare, rare) and copied.text == piece.replace("\u2581", " ") * 2
    with pytest.raises(RuntimeError, match="masked out"):
        engine.generate(prompt_for("file it under methods"), max_tokens=2, processors=(only(rare),))
    assert engine.generate(prompt_for("hi"), max_tokens=3).new_tokens == 3  # back to the fixed columns


class _YesAt:
    """Allows only '▁yes' at the given positions of the answer; `forced` says so when enabled."""

    def __init__(self, token: int, positions: set[int], announce: bool):
        self.token, self.positions = token, positions
        if announce:
            self.forced = lambda tokens: self.token if len(tokens) in self.positions else None

    def __call__(self, tokens: list[int], logits: np.ndarray) -> np.ndarray:
        if len(tokens) in self.positions:
            logits = np.full_like(logits, -np.inf)
            logits[self.token] = 0.0
        return logits


def test_forced_tokens_skip_the_pick_and_share_one_graph_run(engine, monkeypatch):
    """A token the processor forces is taken without a pick and run with the one before it:
    the same answer as picking it under the mask, with fewer graph runs."""
    yes = engine.tokenizer.token_to_id("▁yes")
    runs: list[int] = []
    forward = engine._forward
    monkeypatch.setattr(engine, "_forward", lambda ids: runs.append(len(ids)) or forward(ids))

    picked = engine.generate(prompt_for("hi"), max_tokens=6, processors=(_YesAt(yes, {1, 2}, announce=False),))
    picked_runs, runs[:] = list(runs), []
    fast = engine.generate(prompt_for("hi"), max_tokens=6, processors=(_YesAt(yes, {1, 2}, announce=True),))
    assert fast.tokens == picked.tokens and fast.tokens[1:3] == (yes, yes)
    prompt_runs = -(-len(engine.encode(prompt_for("hi"))) // PREFILL_CHUNK)
    assert picked_runs[prompt_runs:] == [1] * 5  # after the prompt: one run per token but the last
    assert runs[prompt_runs:] == [3, 1, 1]  # the first pick and both forced tokens in one run


def test_end_of_turn_token_stops_with_the_default_stop(engine):
    end = engine.tokenizer.token_to_id("<end_of_turn>")
    calls = []

    def end_after_two(tokens: list[int], logits: np.ndarray) -> np.ndarray:
        calls.append(1)
        if len(tokens) == 2:
            logits = np.full_like(logits, -np.inf)
            logits[end] = 0.0
        return logits

    result = engine.generate(prompt_for("hi"), max_tokens=10, processors=(end_after_two,))
    assert result.finish == "stop" and result.new_tokens == 3 and "<end_of_turn>" not in result.text


def test_too_long_prompt_is_a_clear_error(engine):
    with pytest.raises(DeskmateError, match="too long"):
        engine.generate("<bos>" + "word " * (engine.info.max_context + 10), max_tokens=4)


def test_load_reports_missing_and_corrupt_models(tmp_path, tiny_model_dir):
    with pytest.raises(ModelMissing, match="deskmate model build"):
        Engine.load(tmp_path / "nothing-here")
    broken = tmp_path / "broken"
    import shutil

    shutil.copytree(tiny_model_dir, broken)
    data = broken / "model.onnx.data"
    with open(data, "r+b") as f:
        f.seek(data.stat().st_size // 2)
        f.write(b"\x00garbage\x00")
    (broken / ".verified").unlink(missing_ok=True)
    with pytest.raises(ModelCorrupt):
        Engine.load(broken)


def test_engine_matches_pytorch_greedy_over_a_long_prompt(tmp_path, tiny_gemma, gemma_tokenizer):
    """fp32 graph + engine (shared KV buffers, prefill chunks of both sizes, rotary tables
    computed by the engine, the local layer's positions released once they leave its
    window of 8) = PyTorch."""
    torch = pytest.importorskip("torch")
    from app.engine.session import open_session
    from app.model.export import export_onnx

    path = export_onnx(tiny_gemma, tmp_path / "fp32")
    session, info = open_session(path, threads=1)
    engine = Engine(session, gemma_tokenizer, info)
    prompt = "<bos>" + " ".join(f"item {i} is on the list;" for i in range(160))
    ids = engine.encode(prompt)
    assert len(ids) > LONG_CONTEXT + PREFILL_CHUNK  # full chunks, then halved ones
    result = engine.generate(prompt, max_tokens=8, stop=())
    with torch.no_grad():
        out = tiny_gemma.generate(torch.tensor([ids]), max_new_tokens=8, do_sample=False,
                                  eos_token_id=list(info.eos_ids), pad_token_id=0)
    assert list(result.tokens) == out[0, len(ids):].tolist()
    assert info.windows == (8, None)
    # rotary tables for the positions in use, rounded up
    assert engine.rope.size == ROPE_STEP * -(-engine.kv.length // ROPE_STEP) < engine.kv.max_context
    assert not engine.kv.keys[0][:, :, :512].any() and not engine.kv.values[0][:, :, :512].any()
    assert engine.kv.keys[1][:, :, :512].all()  # the global layer keeps every position


def test_a_float16_cache_export_gets_float16_buffers_and_a_faithful_prefix_cache(tmp_path, tiny_gemma, tiny_model_dir):
    """The cache's type is read from the graph (bench.variants builds one in float16)."""
    import shutil

    from app.model.export import export_onnx

    folder = export_onnx(tiny_gemma, tmp_path / "fp16kv", kv_dtype="float16").parent
    shutil.copy(tiny_model_dir / "tokenizer.model", folder)
    with pytest.raises(ModelMissing):  # an export without a manifest is not a built model...
        Engine.load(folder, threads=1)
    engine = Engine.load(folder, threads=1, verify=False)  # ...unless the caller says so
    assert engine.kv.keys[0].dtype == engine.kv.values[-1].dtype == np.float16
    prompt = prompt_for("list my documents")
    cold = Engine.load(folder, threads=1, verify=False).generate(prompt, max_tokens=8, prefix=PREFIX)
    engine.generate(prompt_for("something else first"), max_tokens=2, prefix=PREFIX)
    warm = engine.generate(prompt, max_tokens=8, prefix=PREFIX)
    assert warm.cached_tokens == len(engine.encode(PREFIX)) and warm.tokens == cold.tokens


# -- streaming pieces, no model ------------------------------------------------------


def test_rotary_tables_are_transformers_arithmetic_and_grow_in_steps(engine):
    from app.engine.rope import RotaryTables

    rope = Rope(np.array([1.0, 0.1, 1e-3], dtype=np.float32), scaling=0.5)
    small, big = rotary_tables({"g": rope}, 3), rotary_tables({"g": rope}, 700)
    freqs = np.arange(3, dtype=np.float32)[:, None] * rope.inv_freq[None, :]
    assert np.allclose(small["rope_cos_g"], 0.5 * np.cos(freqs)) and np.allclose(small["rope_sin_g"], 0.5 * np.sin(freqs))
    assert np.array_equal(big["rope_sin_g"][:3], small["rope_sin_g"]) and big["rope_cos_g"].shape == (700, 3)
    tables = RotaryTables(engine.info.rope, np.float32, max_positions=1000)
    binding = engine.session.io_binding()
    tables.bind(binding, 10)
    assert tables.size == ROPE_STEP
    tables.bind(binding, ROPE_STEP + 1)
    assert tables.size == 1000  # never past the context


def test_detokenizer_never_splits_a_character(gemma_tokenizer):
    text = "héllo ’ 😀 ꙮ naïve café"  # ꙮ is spelled as three UTF-8 byte tokens
    ids = gemma_tokenizer.encode(text)
    assert "<0xEA>" in [gemma_tokenizer.id_to_token(i) for i in ids]
    detok = StreamingDetokenizer(gemma_tokenizer)
    deltas = [detok.add(i) for i in ids] + [detok.flush()]
    assert "".join(deltas) == text
    assert not any("\ufffd" in d for d in deltas)


def test_detokenizer_flushes_an_incomplete_character(gemma_tokenizer):
    detok = StreamingDetokenizer(gemma_tokenizer)
    assert detok.add(gemma_tokenizer.token_to_id("<0xEA>")) == ""
    assert detok.flush() == "\ufffd"


def test_stop_matcher_holds_back_partial_stops():
    stops = StopMatcher(["<end_of_turn>"])
    assert stops.feed("call:x{}") == ("call:x{}", False)
    assert stops.feed("<end_") == ("", False)
    assert stops.feed("of") == ("", False)
    assert stops.feed("_turn>ignored") == ("", True)
    assert stops.text == "call:x{}"
    words = StopMatcher(["<end_of_turn>"])
    assert words.feed("a <e") == ("a ", False)
    assert words.feed("x") == ("<ex", False)
    assert words.feed("<") == ("", False)
    assert words.flush() == "<"
    assert words.text == "a <ex<"

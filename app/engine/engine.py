"""The inference engine: a built model folder in, streamed text out. Runtime-only imports.

Three layers, as in mlx-lm: `_forward` runs new tokens through the graph on top of the
KV cache and returns the last position's logits; `stream` prefills the prompt (reusing a
cached prefix) and yields `GenerationEvent`s token by token; `generate` joins the stream.

Decoding is greedy: the model proposes tool calls, where the most likely answer is the
wanted one and the same request must give the same call. The graph's logits cover a fixed
output vocabulary and, where it can, the prompt's own words (`Engine.columns`). Logits processors
`(tokens, logits) -> logits` (the call grammar) see full-vocabulary logits and the
tokens generated so far. A processor with a `forced(tokens) -> int | None` method may
name the only token it allows next: that token is taken without a pick (greedy would
choose it anyway) and goes through the graph in one run with the token before it. A
several-token run rounds a little differently from single-token runs, so a near-tie
later on can tip the other way: 110 of the 123 dev answers came out identical.

One generation runs at a time per Engine (a lock): the KV buffers are shared state.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Literal, Sequence

import numpy as np
import onnxruntime as ort

from app.engine import memory
from app.engine.detokenize import StopMatcher, StreamingDetokenizer
from app.engine.kv import KVCache, KVSnapshot
from app.engine.rope import RotaryTables
from app.engine.session import ModelInfo, open_session
from app.engine.tokenizer import SPM_FILE, GemmaTokenizer
from app.errors import DeskmateError, ModelMissing

MODEL_FILE = "model.onnx"
END_OF_TURN = "<end_of_turn>"
# Prompt tokens per graph run: each run's scratch (the layer's activations) is freed after
# it. Since the output layer shrank (recipe 5) memory has room for 512: a 500-token prompt
# prefills in one run, 1,012-1,016 tok/s against 903-937 in chunks of 128, for a 2,000-token
# peak of 397 MB against 370 (docs/benchmarks.md). Past LONG_CONTEXT cached positions, where
# the cache makes memory tightest, chunks are halved.
PREFILL_CHUNK = 512
LONG_CONTEXT = 512
PREFIX_CACHE_SIZE = 4  # distinct prefixes (tool sets) kept; ~12 MB each for a 330-token prefix
# Words of prompts whose spellings the engine adds as logits columns (`_copyable`): whitespace-separated
# chunks ("~/Sites/blog") and the words inside them ("Sites"). The cache of their tokens is dropped when full.
_CHUNK = re.compile(r"\S+")
_WORD = re.compile(r"\w+")
WORDS_CACHED = 50_000

Finish = Literal["stop", "length", "cancelled"]
LogitsProcessor = Callable[[list[int], np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Generation:
    """A finished generation: its text (stop string excluded) and where the time went."""

    text: str
    tokens: tuple[int, ...]
    prompt_tokens: int
    cached_tokens: int  # prompt tokens whose KV came from the prefix cache
    prefill_s: float  # prompt in -> first logits out
    decode_s: float  # first token picked -> last token out
    finish: Finish

    @property
    def new_tokens(self) -> int:
        return len(self.tokens)

    @property
    def tokens_s(self) -> float:
        """Decode speed in tokens per second."""
        return self.new_tokens / self.decode_s if self.decode_s > 0 else 0.0


@dataclass(frozen=True)
class GenerationEvent:
    """One step of a stream: `text` is new text to show (may be ""); the last event has `result`."""

    text: str
    token: int | None = None
    result: Generation | None = None


def _verify_model(model_dir: Path) -> None:
    """The manifest check of app.model.manifest: missing or corrupt files stop here, clearly."""
    try:
        from app.model.manifest import verify
    except ModuleNotFoundError:  # manifest module not in this checkout yet: check the files exist
        if not (model_dir / MODEL_FILE).is_file():
            raise ModelMissing(f"No built model at {model_dir}. Build it with `deskmate model build`.") from None
        return
    verify(model_dir)


class Engine:
    """A loaded model: ONNX Runtime session, tokenizer, KV cache and prefix cache."""

    def __init__(self, session: ort.InferenceSession, tokenizer: GemmaTokenizer, info: ModelInfo,
                 weights: Sequence[tuple[int, int]] = ()):
        self.session = session
        self.tokenizer = tokenizer
        self.info = info
        self.kv = KVCache(info.layers, info.kv_heads, info.head_dim, info.max_context, info.kv_dtype, info.windows)
        self.rope = RotaryTables(info.rope, info.kv_dtype, info.max_context) if info.rope else None
        self._stop_ids = frozenset(info.eos_ids)
        self._binding = session.io_binding()
        self._columns: np.ndarray | None = None  # token id of each logits column, this request
        self._words: dict[str, tuple[int, ...]] = {}  # a prompt's word -> the tokens of its spellings (`_copyable`)
        self._twins: dict[int, int | None] = {}  # token -> the same piece with/without "▁" (`_twin`)
        self._logits = np.zeros((1, 0), np.float32)  # [B=1, columns] bound output
        self._set_columns("", [])
        self.kv.bind(self._binding)
        self._prefixes: dict[tuple[int, ...], KVSnapshot] = {}
        self._lock = threading.Lock()
        self._weights = list(weights)  # clean mappings of the weights file (memory.mapped_ranges)

    @classmethod
    def load(cls, model_dir: Path, threads: int | None = None, *, spin: bool = True,
             verify: bool = True) -> "Engine":
        """Load a built model folder (model.onnx, tokenizer.model, manifest.json), verified first.

        The tokenizer first, then the session, each followed by giving its scratch memory
        back, so nothing of the tokenizer's load adds to the session's peak (ONNX Runtime's
        repacking reads every weight page once).
        """
        model_dir = Path(model_dir)
        if verify:  # off only for a bench variant, which has no manifest
            _verify_model(model_dir)
        tokenizer = GemmaTokenizer.from_file(model_dir / SPM_FILE)
        memory.trim_heap()
        with memory.paging_out(model_dir / (MODEL_FILE + ".data")):
            session, info = open_session(model_dir / MODEL_FILE, threads, spin=spin)
        memory.trim_heap()
        weights = memory.mapped_ranges(model_dir / (MODEL_FILE + ".data"), clean=True)
        return cls(session, tokenizer, info, weights)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` as written (special tokens like <bos> are matched in the text)."""
        return self.tokenizer.encode(text)

    # -- the graph -----------------------------------------------------------------

    def _twin(self, token: int) -> int | None:
        """The same piece with its leading space marker dropped ("▁Rés" -> "Rés"), or added, if the vocabulary
        has it: a name copied after a slash or a quote keeps the prompt's split but loses the space."""
        if token not in self._twins:
            piece = self.tokenizer.id_to_token(token)
            other = piece[1:] if piece.startswith("\u2581") else "\u2581" + piece
            self._twins[token] = self.tokenizer.token_to_id(other) if piece.strip("\u2581") else None
        return self._twins[token]

    def _copyable(self, prompt: str, tokens: Sequence[int]) -> list[int]:
        """The prompt's tokens and their twins with or without the space marker, plus each of its words and
        names as a copy of it may be spelled: alone (after a quote or a slash, "Lotus" in `"Lotus Studio"`) or
        after a space ("▁Lotus"), as written, capitalized (an event title) or in lower case. The twins matter
        where encoding a word alone merges it differently: the prompt's "▁日本|語" is copied as "日本|語",
        while "日本語" alone is one piece the model does not pick."""
        ids = set(tokens)
        ids.update(t for t in map(self._twin, ids.copy()) if t is not None)
        if len(self._words) > WORDS_CACHED:
            self._words.clear()
        for word in set(_CHUNK.findall(prompt)) | set(_WORD.findall(prompt)):
            spelled = self._words.get(word)
            if spelled is None:
                forms = {word, word.capitalize(), word.lower()}
                spelled = tuple({t for w in forms for t in (*self.encode(w), *self.encode(" " + w))})
                self._words[word] = spelled
            ids.update(spelled)
        return list(ids)

    def columns(self, prompt: str, tokens: Sequence[int] | None = None) -> np.ndarray | None:
        """Token id of each logits column for `prompt` (None: the whole vocabulary): the fixed output
        vocabulary, plus the prompt's own words where the graph can add them (a name or path in rare
        pieces is copied as written). `tokens`: the prompt's tokens, if already encoded."""
        if self.info.prompt_tokens is None:
            return self.info.output_tokens  # no per-request columns: the prompt does not matter
        tokens = self.encode(prompt) if tokens is None else tokens
        return self.info.columns(self._copyable(prompt, tokens))

    def _set_columns(self, prompt: str, tokens: Sequence[int]) -> None:
        """Bind the graph's logits output (and `extra_tokens`) for a request's columns."""
        columns = self.columns(prompt, tokens)
        size = self.info.vocab_size if columns is None else len(columns)
        if self._logits.shape[1] != size:
            self._logits = np.zeros((1, size), np.float32)
            self._binding.bind_ortvalue_output("logits", ort.OrtValue.ortvalue_from_numpy(self._logits))
        if self.info.prompt_tokens is not None:
            self._binding.bind_cpu_input("extra_tokens", np.ascontiguousarray(columns[self.info.output_size:]))
        self._columns = columns

    def _forward(self, ids: Sequence[int]) -> np.ndarray:
        """Run `ids` after the cached positions; returns the last position's logits [V']."""
        total = self.kv.length + len(ids)
        self.kv.check(total)
        b = self._binding
        if self.rope is not None:
            self.rope.bind(b, total)
        b.bind_cpu_input("input_ids", np.asarray([ids], dtype=np.int64))  # [1, T]
        b.bind_cpu_input("seqlens_k", np.array([total - 1], dtype=np.int32))  # [1]
        b.bind_cpu_input("total_sequence_length", np.array(total, dtype=np.int32))  # []
        self.session.run_with_iobinding(b)  # K/V of the new tokens land in the cache buffers
        self.kv.advance(total)
        return self._logits[0]

    def _prefill(self, ids: Sequence[int]) -> np.ndarray:
        logits = self._logits[0]
        start = 0
        while start < len(ids):
            size = PREFILL_CHUNK if self.kv.length < LONG_CONTEXT else PREFILL_CHUNK // 2
            logits = self._forward(ids[start:start + size])
            start += size
            if len(ids) > PREFILL_CHUNK:
                memory.trim_heap()  # each chunk leaves tens of MB of freed scratch behind
                memory.unmap_pages(self._weights)  # and the embedding rows it read
        return logits

    def _start(self, tokens: list[int], prefix: str | None) -> tuple[np.ndarray, int]:
        """Fill the cache with `tokens`, the prefix part from the prefix cache when possible.

        The prompt is always prefilled as [prefix | rest], cached or not, so a warm run does
        exactly the arithmetic of a cold one and gives the same output, bit for bit.
        Returns (logits after the last prompt token, number of tokens reused).
        """
        split = 0
        if prefix:
            head = self.encode(prefix)
            while split < min(len(head), len(tokens) - 1) and head[split] == tokens[split]:
                split += 1  # tokens shared by prefix and prompt (all of the prefix, normally)
        key = tuple(tokens[:split])
        snap = self._prefixes.get(key) if split else None
        if snap is not None:
            self.kv.restore(snap)
            self._prefixes[key] = self._prefixes.pop(key)  # most recently used last
            return self._prefill(tokens[split:]), split
        self.kv.reset()
        if split:
            self._prefill(key)
            self._prefixes[key] = self.kv.snapshot(key)
            while len(self._prefixes) > PREFIX_CACHE_SIZE:
                self._prefixes.pop(next(iter(self._prefixes)))
        return self._prefill(tokens[split:]), 0

    def _pick(self, generated: list[int], logits: np.ndarray, processors: Sequence[LogitsProcessor]) -> int:
        """Greedy choice; processors see full-vocabulary logits (restricted columns expanded)."""
        out = self._columns
        if not processors:
            best = int(logits.argmax())
            return best if out is None else int(out[best])
        if out is None:
            full = logits.copy()
        else:
            full = np.full(self.info.vocab_size, -np.inf, dtype=np.float32)
            full[out] = logits
        for process in processors:
            full = process(generated, full)
        best = int(full.argmax())
        if not np.isfinite(full[best]):
            raise RuntimeError("Every token was masked out: the logits processors allow nothing here.")
        return best

    @staticmethod
    def _forced(generated: list[int], processors: Sequence[LogitsProcessor]) -> int | None:
        for process in processors:
            forced = getattr(process, "forced", None)
            token = forced(generated) if forced is not None else None
            if token is not None:
                return token
        return None

    # -- generation ----------------------------------------------------------------

    def stream(self, prompt: str, *, max_tokens: int = 256, stop: Sequence[str] = (END_OF_TURN,),
               processors: Sequence[LogitsProcessor] = (), cancel: threading.Event | None = None,
               prefix: str | None = None) -> Iterator[GenerationEvent]:
        """Generate greedily after `prompt`, yielding text as it comes.

        Args:
            prompt: the whole prompt text (app.prompt.render.render()).
            max_tokens: token budget for the answer (finish "length" when spent).
            stop: strings that end the answer (not included in it); <eos> always ends it.
            processors: logits processors, applied in order before each pick.
            cancel: set it from another thread to stop after the current token ("cancelled").
            prefix: the start of `prompt` whose KV is cached across calls (render_prefix()).
        Yields:
            GenerationEvent per token with text, then a final one with `result`.
        Raises:
            DeskmateError: the prompt does not fit the model's context.
        """
        tokens = self.encode(prompt)
        room = self.info.max_context - len(tokens)
        if not tokens or room < 1:
            raise DeskmateError(f"The conversation is too long for the model ({len(tokens)} tokens, "
                                f"at most {self.info.max_context - 1}). Start a new conversation.")
        max_tokens = min(max_tokens, room)
        with self._lock:
            t0 = time.perf_counter()
            self._set_columns(prompt, tokens)
            logits, cached = self._start(tokens, prefix)
            t1 = time.perf_counter()
            detok, stops = StreamingDetokenizer(self.tokenizer), StopMatcher(stop)
            generated: list[int] = []
            finish: Finish = "length"
            pending: list[int] = []  # taken tokens not yet run through the graph
            while len(generated) < max_tokens:
                if cancel is not None and cancel.is_set():
                    finish = "cancelled"
                    break
                token = self._forced(generated, processors) if pending else None
                if token is None:
                    if pending:
                        logits = self._forward(pending)  # [V'] for the next pick
                        pending = []
                    token = self._pick(generated, logits, processors)
                if token in self._stop_ids:
                    finish = "stop"
                    break
                generated.append(token)
                pending.append(token)
                text, stopped = stops.feed(detok.add(token))
                if text:
                    yield GenerationEvent(text, token)
                if stopped:
                    finish = "stop"
                    break
            if finish != "stop":
                tail = stops.feed(detok.flush())[0] + stops.flush()
                if tail:
                    yield GenerationEvent(tail)
            t2 = time.perf_counter()
        yield GenerationEvent("", result=Generation(stops.text, tuple(generated), len(tokens), cached,
                                                    t1 - t0, t2 - t1, finish))

    def generate(self, prompt: str, **options) -> Generation:
        """`stream` run to the end; same options."""
        for event in self.stream(prompt, **options):
            if event.result is not None:
                return event.result
        raise AssertionError("stream() always ends with a result")

"""Constrained decoding of replies: free words, or `call:NAME{JSON}` lines that always parse.

The model answers either in words or with one `call:NAME{JSON}` line per call, then
`<end_of_turn>` (app/prompt/render.py). A small model sometimes misspells a tool, invents
an argument or writes a number as text; under this constraint it cannot: once a reply
starts with `call:`, only the given tools' names, their own argument names (each at most
once, in any order, the required ones present) and values of the right JSON type can be
generated, spaced exactly as `json.dumps(args, ensure_ascii=False)` spaces them (the
training format). After a call comes a newline and another call, or `<end_of_turn>`; a call
written a second time ends the reply, and a list whose items keep repeating is closed (a
small model that repeats itself tends to loop until the token budget runs out).
Words are left alone, except that no line of them may start with `call:`: parse_reply
would read such a reply as calls, or a reader as a call that did not parse.

The language is one llguidance Lark grammar: a TEXT terminal (a regular expression for
"lines that do not start with `call:`") or call lines whose arguments are a parametric
rule over the tool's properties, each value an embedded `%json` schema. llguidance
computes a token mask from the grammar in tens of microseconds, except at a line start in
words, where every one of the 262k tokens has to be checked against the `call:` rule
(~3 ms); those few states are the same in every reply, so their masks are computed once
per tool set and reused.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

import llguidance
import numpy as np

from app.engine.memory import trim_heap
from app.engine.tokenizer import GemmaTokenizer
from app.prompt.render import CALL_PREFIX, END
from app.tools.catalog import ToolSpec

LogitsProcessor = Callable[[list[int], np.ndarray], np.ndarray]

# How render_call writes arguments: json.dumps(args, ensure_ascii=False), no other spacing.
_JSON_STYLE = {
    "item_separator": ", ",
    "key_separator": ": ",
    "whitespace_flexible": False,
    "coerce_one_of": True,
    "lenient": True,  # unknown keywords are ignored here; Catalog.validate is the final gate
}

# Tool names parse_reply can read back.
_NAME = re.compile(r"[A-Za-z_][\w.\-]*\Z")

# The parametric rule keeps one bit per property in a 64-bit value; wider objects fall
# back to a single %json schema, whose properties then come in schema order.
_MAX_ANY_ORDER = 48

# BFCL and other tool sets write Python-ish type names; JSON Schema has these.
_TYPES = {
    "dict": "object", "object": "object", "float": "number", "double": "number",
    "number": "number", "int": "integer", "integer": "integer", "long": "integer",
    "str": "string", "string": "string", "bool": "boolean", "boolean": "boolean",
    "list": "array", "array": "array", "tuple": "array", "null": "null", "none": "null",
}

# Keywords the grammar can use; everything else (description, default, optional, format,
# examples...) is dropped: it would not constrain, or (format) would fight the user's
# own wording, which the app resolves later.
_KEEP = {
    "type", "properties", "required", "items", "prefixItems", "additionalProperties",
    "enum", "const", "anyOf", "oneOf", "allOf", "minItems", "maxItems", "minimum",
    "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
    "maxLength", "pattern",
}

# Numbers stay within +-1e15 unless a schema bounds them itself: no exponents (1E999 would
# read back as infinity) and no runaway digits, which no desktop tool needs.
_BOUND = 10**15
_ANY_REF = {"$ref": "#/$defs/any"}
# "Any JSON value", with numbers bounded as above (shared by "any", free-form objects and lists).
_ANY = {"anyOf": [
    {"type": "string"}, {"type": "number", "minimum": -_BOUND, "maximum": _BOUND},
    {"type": "boolean"}, {"type": "null"},
    {"type": "array", "items": _ANY_REF}, {"type": "object", "additionalProperties": _ANY_REF},
]}

# What str.strip() removes (parse_reply strips the reply, then each line); all of it lies
# in the Basic Multilingual Plane, which is quicker to scan than all of Unicode.
_SPACE = "".join(c for c in map(chr, range(0x10000)) if c.isspace())


class ConstraintError(RuntimeError):
    """The engine fed the constraint a token it had masked out: a bug in the caller, not the model."""


def to_json_schema(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """A tool's parameters as a plain JSON Schema object that allows only its own arguments.

    Tool sets from outside the catalog (BFCL, Seal-Tools) use `"type": "dict"`, "float",
    "tuple", "any" and keys like "optional"; this maps them to JSON Schema, keeps only
    the keywords that constrain, drops `required` names that are not properties, and
    closes every object that lists its properties (`additionalProperties: false`).
    """
    schema = _normalize(dict(params or {}))
    schema.pop("$ref", None)
    schema["type"] = "object"
    schema.setdefault("properties", {})
    schema.setdefault("required", [])
    schema.setdefault("additionalProperties", False)
    return _with_defs(schema)


def _with_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the definition of "any value" at its root when it refers to it."""
    if _ANY_REF["$ref"] in json.dumps(schema):
        schema = {**schema, "$defs": {"any": _ANY}}
    return schema


def _normalize(schema: Any) -> Any:
    if not isinstance(schema, Mapping):
        return dict(_ANY_REF) if schema is True or schema is None else schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _KEEP:
            continue
        if key == "type":
            kinds = [_TYPES.get(str(k).lower()) for k in (value if isinstance(value, list) else [value])]
            if None in kinds:  # "any" or an unknown name: any JSON value
                continue
            out["type"] = kinds[0] if len(kinds) == 1 else list(dict.fromkeys(kinds))
        elif key == "properties" and isinstance(value, Mapping):
            out[key] = {str(k): _normalize(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = _normalize(value) if isinstance(value, Mapping) else value
        elif key in ("prefixItems", "anyOf", "oneOf", "allOf") and isinstance(value, list):
            out[key] = [_normalize(v) for v in value]
        else:
            out[key] = value
    if isinstance(out.get("properties"), Mapping):
        out.setdefault("type", "object")
        out["required"] = [r for r in out.get("required", []) if r in out["properties"]]
        out.setdefault("additionalProperties", False)
    kind = out.get("type")
    if not out.keys() & {"type", "enum", "const", "anyOf", "oneOf", "allOf"}:
        return dict(_ANY_REF)
    if kind in ("number", "integer"):
        if not out.keys() & {"minimum", "exclusiveMinimum"}:
            out["minimum"] = -_BOUND
        if not out.keys() & {"maximum", "exclusiveMaximum"}:
            out["maximum"] = _BOUND
    elif kind == "object" and out.get("additionalProperties", True) in (True, {}):
        out["additionalProperties"] = dict(_ANY_REF)
    elif kind == "array" and out.get("items", True) in (True, {}) and "prefixItems" not in out:
        out["items"] = dict(_ANY_REF)
    return out


# llguidance can precompute the vocabulary's subset matching "slice" regexes, so a mask where
# most tokens are allowed costs a walk over the rest only. Its default four (JSON
# whitespace, string content of at most 10, at most 30, any length) cost 67 MB for this
# vocabulary, and the one this grammar could use (string content of any length) 14 MB more
# than none. Measured with the output vocabulary restricted (2026-11-27, AMD machine): a
# step inside a long JSON string took 189-202 us with that slice and 198-199 us without;
# replies with file contents decoded at 113-123 tok/s either way. Random replies over the
# whole vocabulary (test_report_mask_time_per_token) keep their median step (73-76 us)
# but 1 % of steps take ~2 ms instead of ~0.24: ~20 us a token on average. None is kept.
_SLICES: list[str] = []

# A call line whose last LIST_LOOP items repeat one item (or a run of items up to
# LIST_LOOP_UNIT bytes) gets no further `,`: the list is closed after the item in progress.
# Loops ran to the token budget in 4 of 600 BFCL replies (run 7); a real list of 7 equal
# items still fits.
LIST_LOOP = 6
LIST_LOOP_UNIT = 96

_BYTE_PIECE = re.compile(r"<0x([0-9A-F]{2})>\Z")


class _Vocabulary:
    """What llguidance needs to know of the tokenizer (llguidance's `TokenizerWrapper` protocol).

    Handed the tokenizer's JSON instead, llguidance parses and keeps its own second copy of
    the 262k-piece tokenizer: +218 MB resident after start-up and a 730 MB peak while it
    parses (measured). Here it gets each token's bytes once and encodes through ours.

    Tokens the model cannot produce (outside the graph's output vocabulary, `producible`)
    are given no bytes, so llguidance never offers them and its trie leaves them out
    (-13 MB for the 180k of 262k tokens the built model produces).
    """

    is_tokenizer_wrapper = True  # what llguidance checks for

    def __init__(self, tokenizer: GemmaTokenizer, end: int, producible: np.ndarray | None = None):
        # Special: <bos>, <end_of_turn>, <unusedN>, also "<table>"; not "\n\n" or
        # "[multimodal]", which text may contain.
        special = set(tokenizer.control_ids) | {i for p, i in tokenizer.verbatim.items()
                                                if p.startswith("<") and p.endswith(">")}
        size = tokenizer.vocab_size
        keep = np.ones(size, dtype=bool)
        if producible is not None:
            keep[:] = False
            keep[producible] = True
        self.tokens: list[bytes] | None = [
            self._bytes(tokenizer.id_to_token(i), i in special) if keep[i] or i in special else b""
            for i in range(size)
        ]
        self.special_token_ids = sorted(special)
        self.eos_token_id = end
        self.bos_token_id = tokenizer.token_to_id("<bos>")
        self._tokenizer = tokenizer

    @staticmethod
    def _bytes(piece: str, special: bool) -> bytes:
        if special:  # never part of a lexeme: llguidance's mark for that
            return b"\xff" + piece.encode()
        byte = _BYTE_PIECE.match(piece)  # byte fallback: <0xE2> is the byte 0xE2
        return bytes([int(byte.group(1), 16)]) if byte else piece.replace("\u2581", " ").encode()

    def __call__(self, text: str) -> list[int]:
        return self._tokenizer.encode(text)


def _ll_tokenizer(tokenizer: GemmaTokenizer, producible: np.ndarray | None = None) -> llguidance.LLTokenizer:
    """llguidance's view of the vocabulary (token bytes, a trie): 3-5 s for Gemma's 262k, so kept.

    A reply ends with `<end_of_turn>` only, as in training (`<eos>` is never allowed).
    """
    return _ll_tokenizer_for(tokenizer, _key(producible))


def _key(producible: np.ndarray | None) -> bytes | None:
    """`producible` as a cache key (the engine's array is one per load, 0.7 MB)."""
    return None if producible is None else np.asarray(producible, dtype=np.int32).tobytes()


@lru_cache(maxsize=4)
def _ll_tokenizer_for(tokenizer: GemmaTokenizer, producible: bytes | None) -> llguidance.LLTokenizer:
    end = tokenizer.token_to_id(END)
    if end is None:
        raise ValueError(f"The tokenizer has no {END} token; it is not a Gemma chat tokenizer.")
    keep = None if producible is None else np.frombuffer(producible, dtype=np.int32)
    vocabulary = _Vocabulary(tokenizer, end, keep)
    ll = llguidance.LLTokenizer(vocabulary, n_vocab=len(vocabulary.tokens), eos_token=[end],  # type: ignore[arg-type]
                                slices=_SLICES)
    vocabulary.tokens = None  # llguidance copied them; the wrapper stays only to encode
    trim_heap()  # building the trie leaves ~20 MB of freed heap behind
    return ll


@lru_cache(maxsize=4)
def _comma_tokens(ll: llguidance.LLTokenizer) -> np.ndarray:
    """Which tokens hold a `,` (a bool array): found once per vocabulary (~0.6 s), the first time a
    list loops, without filling every grammar's token-bytes cache with the whole vocabulary."""
    return np.array([b"," in ll.decode_bytes([t]) for t in range(ll.vocab_size)])


def prepare(tokenizer: GemmaTokenizer, producible: np.ndarray | None = None) -> None:
    """Build llguidance's vocabulary view now (kept), so the first constrained reply does not wait 3-5 s."""
    _ll_tokenizer(tokenizer, producible)


def _lark_str(text: str) -> str:
    """A Lark string literal matching exactly `text` (llguidance reads them as JSON strings)."""
    return json.dumps(text, ensure_ascii=False)


def _chars(text: str) -> str:
    """Characters for a regex class, each as \\x{..} so none is special."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in text)


def _text_terminal(prefix: str = CALL_PREFIX) -> str:
    """TEXT: replies whose first non-blank line, and every later line, does not start with `prefix`.

    Written as a positive regex (no negation), which keeps llguidance on its fast path
    in the middle of a line.
    """
    line_end = _chars("\n")
    # The start of a line that is not the prefix: a first character other than the
    # prefix's, or a proper part of the prefix followed by something else.
    alts = [f"[^{_chars(_SPACE + prefix[0])}][^{line_end}]*"]
    for k in range(1, len(prefix)):
        alts.append(f"{_chars(prefix[:k])}([^{_chars(prefix[k] + chr(10))}][^{line_end}]*)?")
    start = "(" + "|".join(alts) + ")"
    blank = f"[{_chars(_SPACE.replace(chr(10), ''))}]*"
    return f"TEXT: /[{_chars(_SPACE)}]*({start}({line_end}{blank}{start}?)*)?/"


class CallGrammar:
    """The reply language for one tool set, compiled once; `.processor()` is cheap.

    `tokenizer` is the model's GemmaTokenizer (its `<end_of_turn>` ends a reply);
    `tools` are the tools the model may call (granted built-ins, or external tools
    declared in the prompt); `producible`, the token ids the model can output (the
    engine's `info.producible`), None for all. A tool whose argument schema llguidance
    cannot compile is kept with any JSON value allowed for the offending argument, noted
    in `warnings`.
    """

    def __init__(self, tokenizer: GemmaTokenizer, tools: Sequence[ToolSpec], producible: np.ndarray | None = None):
        unique: dict[str, ToolSpec] = {}
        for tool in tools:
            if not _NAME.match(tool.name):
                raise ValueError(f"The tool name {tool.name!r} cannot be written in a call line.")
            unique.setdefault(tool.name, tool)
        self.tokenizer = tokenizer
        self.tools: tuple[ToolSpec, ...] = tuple(unique.values())
        self.warnings: list[str] = []
        key = _key(producible)
        self._ll = _ll_tokenizer_for(tokenizer, key)
        self.vocab_size: int = self._ll.vocab_size
        self.end_id: int = self._ll.eos_token
        self.lark = self._build_lark()
        self._template = llguidance.LLMatcher(
            self._ll, llguidance.LLMatcher.grammar_from_lark(self.lark), log_level=0
        )
        if self._template.is_error():
            raise ValueError(f"The tool-call grammar did not compile: {self._template.get_error()[:500]}")
        self._token_bytes = _TokenBytes(self._ll)
        # Masks where a line of words begins (see _LineState.key): slow to compute, always
        # the same for this grammar; filled the first time each is needed.
        self._line_masks: dict[tuple[str, str], _Mask] = {}
        self._only_end = _Mask(allowed_ids=np.array([self.end_id]))
        self._outside = None if key is None else _outside(key, self.vocab_size)

    def _compute(self, matcher: llguidance.LLMatcher) -> "_Mask":
        return _Mask.compute(matcher, self.vocab_size, self._outside)

    def processor(self) -> "CallProcessor":
        """A fresh logits processor for one generation."""
        return CallProcessor(self)

    # -- grammar ---------------------------------------------------------------------

    def _build_lark(self) -> str:
        lines = [_text_terminal()]
        if not self.tools:
            return "\n".join(["start: TEXT", *lines]) + "\n"
        lines[:0] = ["start: TEXT | calls", 'calls: call ("\\n" call)*']
        lines.append(f"call: {_lark_str(CALL_PREFIX)} ({' | '.join(f't{i}' for i in range(len(self.tools)))})")
        for i, tool in enumerate(self.tools):
            lines += self._tool_rules(i, tool)
        return "\n".join(lines) + "\n"

    def _tool_rules(self, i: int, tool: ToolSpec) -> list[str]:
        """`NAME{` then the arguments in any order, each once, closed once the required ones are in."""
        schema = to_json_schema(tool.parameters)
        props: dict[str, Any] = schema["properties"]
        any_order = (
            set(schema) <= {"type", "properties", "required", "additionalProperties", "$defs"}
            and schema["additionalProperties"] is False
            and len(props) <= _MAX_ANY_ORDER
        )
        if not any_order:
            open_object = {"type": "object", "additionalProperties": _ANY_REF}
            return [f"t{i}: {_lark_str(tool.name)} {self._json(tool.name, schema, open_object)}"]
        if not props:
            return [f"t{i}: {_lark_str(tool.name + '{}')}"]
        # Required properties take the low bits, so "all required written" is one range test.
        names = sorted(props, key=lambda n: n not in schema["required"])
        required, width = len(schema["required"]), len(names)
        done = f"is_ones([0:{required}])" if required else "true"
        alts = [f'"}}" %if {done}']
        for bit, name in enumerate(names):
            key = json.dumps(name, ensure_ascii=False) + ": "
            nxt = f"v{i}_{bit} a{i}::set_bit({bit})"
            alts.append(f"{_lark_str(key)} {nxt} %if and(bit_clear({bit}), is_zeros([0:{width}]))")
            alts.append(f"{_lark_str(', ' + key)} {nxt} %if and(bit_clear({bit}), not(is_zeros([0:{width}])))")
        rules = [f"t{i}: {_lark_str(tool.name + '{')} a{i}::0x0", f"a{i}::_ : " + "\n  | ".join(alts)]
        rules += [f"v{i}_{bit}: {self._json(f'{tool.name}.{name}', props[name])}" for bit, name in enumerate(names)]
        return rules

    def _json(self, where: str, schema: Mapping[str, Any], fallback: Mapping[str, Any] = _ANY_REF) -> str:
        """`%json {...}` in the training format; a schema llguidance rejects becomes `fallback` (any value)."""
        text = json.dumps({"x-guidance": _JSON_STYLE, **_with_defs(dict(schema))}, ensure_ascii=False)
        error = _schema_error(text)
        if error:
            self.warnings.append(f"{where}: schema not enforceable, any JSON value allowed ({error[:200]})")
            text = json.dumps({"x-guidance": _JSON_STYLE, **_with_defs(dict(fallback))}, ensure_ascii=False)
        return "%json " + text


@lru_cache(maxsize=1024)
def _schema_error(schema_json: str) -> str:
    """Why llguidance cannot compile this JSON schema ("" when it can); tools share many schemas."""
    error = llguidance.LLMatcher.validate_grammar(llguidance.LLMatcher.grammar_from_json_schema(schema_json))
    return "" if not error or error.startswith("WARNING") else error


class _Outside:
    """Tokens the model cannot produce: as ids (blocked in every dense mask) and as bitmask words."""

    def __init__(self, producible: np.ndarray, vocab_size: int):
        inside = np.zeros(vocab_size, dtype=bool)
        inside[producible] = True
        self.ids = np.flatnonzero(~inside)
        # llguidance's bitmask layout: bit i of 32-bit word i // 32 (little-endian bits).
        padded = np.zeros(-(-vocab_size // 32) * 32, dtype=bool)
        padded[:vocab_size] = inside
        self.inside_words = np.packbits(padded, bitorder="little").view(np.int32)


@lru_cache(maxsize=4)
def _outside(producible: bytes, vocab_size: int) -> _Outside:
    """One `_Outside` per output vocabulary, shared by the grammars of every tool set."""
    return _Outside(np.frombuffer(producible, dtype=np.int32), vocab_size)


class _Mask:
    """One step's allowed tokens, kept in the form that is cheapest to apply.

    A call leaves a handful of tokens (keep them, fill the rest with -inf); words leave
    nearly all (set the few blocked ones to -inf). Either way one pass over the logits.
    Tokens the model cannot produce (`outside`) are set apart: 90k scattered ids through
    a boolean mask took ~0.8 ms a token, as an index array 0.06 ms.
    """

    __slots__ = ("allowed_ids", "blocked", "outside")

    def __init__(self, *, allowed_ids: np.ndarray | None = None, blocked: np.ndarray | None = None,
                 outside: np.ndarray | None = None):
        self.allowed_ids = allowed_ids
        self.blocked = blocked
        self.outside = outside

    @classmethod
    def compute(cls, matcher: llguidance.LLMatcher, vocab_size: int, outside: _Outside | None = None) -> "_Mask":
        bitmask = np.zeros((vocab_size + 31) // 32, dtype=np.int32)
        matcher.unsafe_compute_mask_ptr(bitmask.ctypes.data, bitmask.nbytes)
        words = np.flatnonzero(bitmask)
        if len(words) * 8 < len(bitmask):
            rows, bits = np.nonzero(np.unpackbits(bitmask[words].view(np.uint8), bitorder="little").reshape(-1, 32))
            ids = words[rows] * 32 + bits
            return cls(allowed_ids=ids[ids < vocab_size])
        np.invert(bitmask, out=bitmask)  # 8k words here rather than 262k bools later
        if outside is not None:  # blocked here = blocked by the grammar, among producible tokens
            np.bitwise_and(bitmask, outside.inside_words, out=bitmask)
        blocked = np.unpackbits(bitmask.view(np.uint8), bitorder="little")[:vocab_size].view(bool)
        return cls(blocked=blocked, outside=None if outside is None else outside.ids)

    def apply(self, logits: np.ndarray) -> np.ndarray:
        if self.allowed_ids is not None:
            ids = self.allowed_ids[self.allowed_ids < len(logits)]
            kept = logits[ids]
            logits.fill(-np.inf)
            logits[ids] = kept
            return logits
        size = min(len(logits), len(self.blocked))
        logits[size:] = -np.inf  # output rows past the vocabulary (padding)
        np.copyto(logits[:size], -np.inf, where=self.blocked[:size])
        if self.outside is not None:
            logits[self.outside[self.outside < size] if size < len(self.blocked) else self.outside] = -np.inf
        return logits

    def without(self, banned: np.ndarray) -> "_Mask":
        """This mask less the `banned` tokens (a bool array), unless that would leave none."""
        keep = self.allowed(len(banned)) & ~banned
        return _Mask(allowed_ids=np.flatnonzero(keep)) if keep.any() else self

    def allowed(self, vocab_size: int) -> np.ndarray:
        if self.allowed_ids is not None:
            out = np.zeros(vocab_size, dtype=bool)
            out[self.allowed_ids] = True
            return out
        out = ~self.blocked
        if self.outside is not None:
            out[self.outside] = False
        return out


class _TokenBytes:
    """Each token's bytes, looked up once (special tokens have none)."""

    def __init__(self, ll: llguidance.LLTokenizer):
        self._ll = ll
        self._cache: dict[int, bytes] = {}

    def __getitem__(self, token: int) -> bytes:
        found = self._cache.get(token)
        if found is None:
            found = b"" if self._ll.is_special_token(token) else self._ll.decode_bytes([token])
            self._cache[token] = found
        return found


class _LineState:
    """Where a reply stands relative to `call:` at the start of a line, from its bytes alone.

    `key()` names the states whose mask is cached by the grammar: the reply so far is
    a proper part of `call:` ("start"), blanks then such a part ("blank"), or the reply
    is words and its current line is blanks then such a part ("line"). Each names one
    state of the grammar, whatever came before. Elsewhere `key()` is None and the matcher
    computes the mask (fast there).
    """

    _PARTS = frozenset(CALL_PREFIX[:k] for k in range(len(CALL_PREFIX)))

    def __init__(self) -> None:
        self.head = b""  # the reply, until it is known to be words or calls
        self.words = False
        self.calls = False
        self.line = b""  # once it is words: the current line; once calls: the current call line
        self.finished: set[bytes] = set()  # once calls: the call lines already ended by a newline

    def add(self, data: bytes) -> None:
        if not data:
            return
        if self.calls:
            *ended, self.line = (self.line + data).split(b"\n")
            self.finished.update(ended)
            return
        if not self.words:
            self.head += data
            text = _decode(self.head)
            if text is None:
                return  # inside a multi-byte character
            if text.startswith(CALL_PREFIX):
                self.calls = True
                self.line, self.head = self.head, b""
                return
            if text.lstrip(_SPACE) in self._PARTS:
                return  # may still become a call (or words)
            self.words = True
            data, self.head = self.head, b""
        cut = data.rfind(b"\n")
        self.line = data[cut + 1:] if cut >= 0 else self.line + data

    def repeats_a_call(self) -> bool:
        """The current call line is, byte for byte, one already written: a complete call again."""
        return self.calls and self.line in self.finished

    def loops_in_a_list(self) -> bool:
        """The current call line ends in the same `item, ` (or run of items) written LIST_LOOP times
        in a row: the loop a small model falls into inside an array ([18, 0, 0, 0, ...]).

        Checked at any point of the unit, not only after an item: tokens like `",` end
        mid-unit, so the line may never end exactly where an item does. Text repeating
        inside one string ("0, 0, 0, ..." as a file's content) is the user's, not a loop.
        """
        if not self.calls:
            return False
        line = self.line
        for size in range(3, min(LIST_LOOP_UNIT, len(line) // LIST_LOOP) + 1):
            tail = line[-size * LIST_LOOP:]
            if tail[size:] == tail[:-size] and b", " in tail[-size - 1:]:
                return b'"' in tail or not _inside_string(line)
        return False

    def key(self) -> tuple[str, str] | None:
        if self.calls:
            return None
        text = _decode(self.line if self.words else self.head)
        if text is None:
            return None
        rest = text.lstrip(_SPACE)
        if rest not in self._PARTS:
            return None
        if self.words:
            return ("line", rest)
        return ("start", rest) if rest == text else ("blank", rest)


def _inside_string(line: bytes) -> bool:
    """Whether a call line, as written so far, ends inside a JSON string."""
    inside = escaped = False
    for byte in line:
        if escaped:
            escaped = False
        elif inside and byte == 0x5C:  # backslash
            escaped = True
        elif byte == 0x22:  # quote
            inside = not inside
    return inside


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class CallProcessor:
    """Masks, step by step, every token that would leave the reply language.

    Called as `(tokens, logits) -> logits` before each sampling step. `tokens` may be the
    whole sequence or only the generated part: what is there at the first call is taken
    as the prompt, and each later call consumes the tokens added since. Logits are masked
    in place (disallowed -> -inf) and returned; entries past the tokenizer's vocabulary
    (padding rows of the output layer) are masked too.
    """

    def __init__(self, grammar: CallGrammar):
        self._grammar = grammar
        self._matcher = grammar._template.deep_copy()
        self._state = _LineState()
        self._start: int | None = None
        self._consumed = 0

    @property
    def done(self) -> bool:
        """True once the reply has ended (`<end_of_turn>` consumed)."""
        return self._matcher.is_stopped()

    def __call__(self, tokens: Sequence[int], logits: np.ndarray) -> np.ndarray:
        if self._start is None:
            self._start = len(tokens)
        for token in tokens[self._start + self._consumed:]:
            self._advance(int(token))
        return self._mask().apply(logits)

    def allowed(self) -> np.ndarray:
        """The tokens allowed next, as a bool array over the tokenizer's vocabulary."""
        return self._mask().allowed(self._grammar.vocab_size)

    def forced(self, tokens: Sequence[int]) -> int | None:
        """The next token when the grammar allows only one (the rest of a tool name, `": "`), else None.

        About 30 % of a call's tokens are forced. The engine takes them without asking the
        model and runs them through the graph together with the token before them.
        """
        if self._start is None:
            self._start = len(tokens)
        for token in tokens[self._start + self._consumed:]:
            self._advance(int(token))
        ids = self._mask().allowed_ids
        return int(ids[0]) if ids is not None and len(ids) == 1 else None

    def _mask(self) -> _Mask:
        grammar = self._grammar
        # A small model that starts writing the same call again tends to loop until the token
        # budget cuts the reply off unreadable; end the reply there instead (parse_reply then
        # proposes the call once).
        if self._matcher.is_stopped() or self._state.repeats_a_call():
            return grammar._only_end
        if self._state.loops_in_a_list():
            return grammar._compute(self._matcher).without(_comma_tokens(grammar._ll))
        key = self._state.key()
        if key is None:
            return grammar._compute(self._matcher)
        mask = grammar._line_masks.get(key)
        if mask is None:
            mask = grammar._line_masks[key] = grammar._compute(self._matcher)
        return mask

    def _advance(self, token: int) -> None:
        if self._matcher.is_stopped():
            raise ConstraintError(f"Token {token} came after the end of the reply.")
        if not self._matcher.consume_token(token):
            raise ConstraintError(
                f"Token {token} is not allowed here by the tool-call grammar: the engine sampled "
                f"without applying this processor's mask. ({self._matcher.get_error()[:300]})"
            )
        self._consumed += 1
        self._state.add(self._grammar._token_bytes[token])

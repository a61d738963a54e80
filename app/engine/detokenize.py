"""Streaming text from tokens: whole characters only, stop strings cut cleanly.

Two small pieces the decode loop feeds one token at a time:

- `StreamingDetokenizer` turns tokens into text deltas. Gemma spells characters it has
  no piece for as UTF-8 byte tokens (<0xE2><0x80><0x99> is "’"), so a token can end
  in the middle of a character; decoding a window of recent tokens and holding back a
  trailing U+FFFD means a delta never carries half a character (the offsets scheme of
  text-generation-inference). Each step decodes a few tokens, not the whole answer.
- `StopMatcher` holds back text that might be the start of a stop string and cuts the
  text where one appears, so the stream never shows a partial "<end_of_turn>".
"""

from __future__ import annotations

from typing import Sequence

from app.engine.tokenizer import GemmaTokenizer

REPLACEMENT = "\ufffd"


class StreamingDetokenizer:
    """Accumulates tokens; `add(token)` returns the newly complete text (possibly "")."""

    def __init__(self, tokenizer: GemmaTokenizer):
        self._tok = tokenizer
        self.tokens: list[int] = []
        self._prefix = 0  # tokens before this index are settled; [_prefix, _read) give context
        self._read = 0

    def _decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(ids)

    def add(self, token: int) -> str:
        self.tokens.append(token)
        before = self._decode(self.tokens[self._prefix:self._read])
        after = self._decode(self.tokens[self._prefix:])
        if len(after) > len(before) and not after.endswith(REPLACEMENT):
            self._prefix, self._read = self._read, len(self.tokens)
            return after[len(before):]
        return ""

    def flush(self) -> str:
        """Text still held back at the end (an incomplete byte sequence decodes to U+FFFD)."""
        before = self._decode(self.tokens[self._prefix:self._read])
        after = self._decode(self.tokens[self._prefix:])
        self._prefix = self._read = len(self.tokens)
        return after[len(before):]


class StopMatcher:
    """Feeds text through; returns what is safe to show and whether a stop string was hit."""

    def __init__(self, stops: Sequence[str]):
        self.stops = tuple(s for s in stops if s)
        self._longest = max((len(s) for s in self.stops), default=0)
        self.text = ""  # everything shown so far (the answer, without the stop string)
        self._pending = ""

    def feed(self, delta: str) -> tuple[str, bool]:
        """(text to show now, stopped)."""
        pending = self._pending + delta
        hits = [i for i in (pending.find(s) for s in self.stops) if i >= 0]
        if hits:
            out, self._pending = pending[:min(hits)], ""
            self.text += out
            return out, True
        keep = self._partial_stop_len(pending)
        out, self._pending = pending[:len(pending) - keep], pending[len(pending) - keep:]
        self.text += out
        return out, False

    def flush(self) -> str:
        """The held-back tail, when generation ends without a stop string."""
        out, self._pending = self._pending, ""
        self.text += out
        return out

    def _partial_stop_len(self, text: str) -> int:
        """Length of the longest end of `text` that begins some stop string."""
        for n in range(min(len(text), self._longest - 1), 0, -1):
            tail = text[-n:]
            if any(s.startswith(tail) for s in self.stops):
                return n
        return 0

"""Gemma 3's tokenizer at run time: SentencePiece's BPE, and the special pieces cut out first.

The build writes `tokenizer.model`, a SentencePiece model made from the GGUF's pieces,
scores and types (`app.model.tokenizer.spm_model`). Loaded here it gives llama.cpp's ids
token for token, as the `tokenizers` rebuild does (both are checked against the same
golden file), in 51 MB resident instead of 77 MB, with no 33 MB JSON to parse at start:
the app's peak with a 2,000-token context fell from ~504 to ~457 MB (docs/benchmarks.md).

SentencePiece itself only runs BPE. What llama.cpp does around it is done here:
control pieces (`<bos>`, `<start_of_turn>`, `<unusedN>`, ...) and user-defined ones
(runs of spaces, tabs and newlines; a few HTML tags) are matched verbatim in the raw
text, leftmost and longest first, and the text between them is encoded on its own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

import sentencepiece as spm
from google.protobuf.message import DecodeError
from sentencepiece import sentencepiece_model_pb2 as pb

SPM_FILE = "tokenizer.model"
# Where a verbatim piece can start: every one is a tag, a whitespace run or "[multimodal]";
# `_check_matchable` holds the model being loaded to that.
_CANDIDATE = re.compile(r"<[^<>\s]+>|\[multimodal\]|[ \t\n]+")


class TokenizerError(ValueError):
    """The tokenizer file is not one `deskmate model build` writes."""


class GemmaTokenizer:
    """Text <-> token ids. `decode` spells control tokens out ("<end_of_turn>"), so stop
    strings can be matched in the text, as the engine does."""

    def __init__(self, model: bytes):
        spec = pb.ModelProto.FromString(model).trainer_spec
        self._sp = spm.SentencePieceProcessor(model_proto=model)
        self.vocab_size: int = self._sp.get_piece_size()
        controls = [*spec.control_symbols, self._sp.id_to_piece(self._sp.unk_id())]
        self.verbatim: dict[str, int] = {p: self._sp.piece_to_id(p) for p in [*controls, *spec.user_defined_symbols]}
        self.control_ids = frozenset(self.verbatim[p] for p in controls)
        if not self.control_ids:
            raise TokenizerError("no control pieces listed: this tokenizer.model was not written by `deskmate model build`")
        _check_matchable(self.verbatim)
        self._space_runs = max((len(t) for t in self.verbatim if t.isspace()), default=0)

    @classmethod
    def from_file(cls, path: Path) -> "GemmaTokenizer":
        """Load `tokenizer.model` (or the one inside a model folder)."""
        path = Path(path)
        if path.is_dir():
            path = path / SPM_FILE
        try:
            return cls(path.read_bytes())
        except (DecodeError, RuntimeError) as exc:
            raise TokenizerError(f"{path} is not a SentencePiece model ({exc}); rebuild the model with "
                                 "`deskmate model build --force`.") from exc

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` as written; special tokens in it (like <bos>) are matched."""
        ids: list[int] = []
        for piece, special in self._split(text):
            if special:
                ids.append(self.verbatim[piece])
            else:
                ids.extend(self._sp.encode(piece))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The text of `ids`; control tokens appear as themselves, incomplete characters as U+FFFD."""
        out: list[str] = []
        run: list[int] = []
        for i in ids:
            if i in self.control_ids:
                if run:
                    out.append(self._sp.decode(run))
                    run = []
                out.append(self._sp.id_to_piece(i))
            else:
                run.append(i)
        if run:
            out.append(self._sp.decode(run))
        return "".join(out)

    def id_to_token(self, i: int) -> str:
        """The piece as stored: "▁the", "<0xE2>", "<end_of_turn>"."""
        return self._sp.id_to_piece(i)

    def token_to_id(self, piece: str) -> int | None:
        i = self._sp.piece_to_id(piece)
        return None if i == self._sp.unk_id() and piece != self._sp.id_to_piece(i) else i

    def _split(self, text: str) -> Iterable[tuple[str, bool]]:
        """`text` as (fragment, is_verbatim_piece) in order, verbatim pieces leftmost-longest."""
        start = 0
        for m in _CANDIDATE.finditer(text):
            for at, piece in self._verbatim_in(m.group(), m.start()):
                if at > start:
                    yield text[start:at], False
                yield piece, True
                start = at + len(piece)
        if start < len(text):
            yield text[start:], False

    def _verbatim_in(self, candidate: str, offset: int) -> Iterable[tuple[int, str]]:
        if not candidate[0].isspace():  # a tag is one piece or none
            if candidate in self.verbatim:
                yield offset, candidate
            return
        i = 0
        while i < len(candidate):  # a whitespace run: the longest piece at each position
            for n in range(min(self._space_runs, len(candidate) - i), 0, -1):
                if candidate[i:i + n] in self.verbatim:
                    yield offset + i, candidate[i:i + n]
                    i += n
                    break
            else:
                i += 1


def _check_matchable(verbatim: dict[str, int]) -> None:
    odd = [p for p in verbatim if not _CANDIDATE.fullmatch(p)]
    if odd:
        raise TokenizerError(f"special pieces this tokenizer cannot match in text: {odd[:5]}")

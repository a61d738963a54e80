"""Gemma 3's real tokenizer, rebuilt from the GGUF as a `tokenizers` BPE model.

Why rebuild it: the tokenizer `transformers` derives from this GGUF is a Unigram
model that splits words into fragments ("hel|lo|▁w|or|ld"), so the model would
see text unlike its pretraining and every prompt would cost 1.5-3x more tokens.
The GGUF stores a SentencePiece-BPE vocabulary (`tokenizer.ggml.model == "llama"`):
pieces, scores and token types, but no merge list. SentencePiece-BPE repeatedly
joins the adjacent pair whose concatenation is a piece with the highest score,
so the equivalent HF BPE has one merge (a, b) for every piece a+b whose halves are
pieces too, ranked by the score of a+b. Everything else mirrors llama.cpp:

- spaces become "▁" and no space is prepended (`add_space_prefix` is false);
- characters outside the vocabulary fall back to <0xXX> byte tokens;
- control tokens (<bos>, <start_of_turn>, <unusedN>, ...) and user-defined ones
  (runs of spaces, tabs and newlines, a few HTML tags) are matched verbatim in the
  text before BPE, like llama.cpp's `tokenize(..., special=True)`;
- nothing is added around the text: the prompt carries "<bos>" itself.

The same vocabulary is also written as a SentencePiece model (`spm_model`), which
is what a built model folder carries and the app loads (`app.engine.tokenizer`):
SentencePiece merges by score natively, with no merge table, and keeps 26 MB less
resident. Training and the build keep using the `tokenizers` form.
`tests/test_tokenizer.py` checks both against llama.cpp's own tokenization of the
same GGUF on thousands of texts (golden file in tests/data/).

Build-time code (`build_tokenizer`, `spm_model`) reads the GGUF with the `gguf`
package and is only imported lazily; `load_tokenizer` needs nothing but `tokenizers`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers

from app.engine.tokenizer import SPM_FILE

# llama.cpp / SentencePiece token types stored in tokenizer.ggml.token_type.
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
SPACE_MARK = "\u2581"  # "▁"
TOKENIZER_FILE = "tokenizer.json"  # the `tokenizers` form, for the build and training
# Bump when the way the tokenizer is rebuilt changes: cached copies and built models are redone.
RECIPE_VERSION = 1


@dataclass(frozen=True)
class GgufVocab:
    """The tokenizer facts a GGUF carries (the part of it this module needs)."""

    tokens: tuple[str, ...]
    scores: tuple[float, ...]
    types: tuple[int, ...]
    unk_id: int


def read_gguf_vocab(gguf_path: Path) -> GgufVocab:
    """Read the vocabulary, scores and token types from a GGUF file."""
    from gguf import GGUFReader  # build-time dependency

    reader = GGUFReader(str(gguf_path))

    def field(key: str, default=None):
        f = reader.fields.get(key)
        return default if f is None else f.contents()

    kind = field("tokenizer.ggml.model")
    if kind != "llama":
        raise ValueError(f"{gguf_path}: expected a SentencePiece ('llama') tokenizer, found {kind!r}")
    if field("tokenizer.ggml.add_space_prefix", False):
        # Gemma 3 does not prepend a space; supporting it would need a Prepend normalizer applied
        # per text fragment, which `tokenizers` cannot express exactly.
        raise ValueError(f"{gguf_path}: the tokenizer asks for a space prefix, which this builder does not support")
    return GgufVocab(
        tokens=tuple(field("tokenizer.ggml.tokens")),
        scores=tuple(float(s) for s in field("tokenizer.ggml.scores")),
        types=tuple(int(t) for t in field("tokenizer.ggml.token_type")),
        unk_id=int(field("tokenizer.ggml.unknown_token_id", 0)),
    )


def spm_merges(vocab: GgufVocab) -> list[tuple[str, str]]:
    """Every (left, right) pair whose concatenation is a piece, best-scoring result first.

    Only normal and byte pieces take part: control and user-defined pieces are cut
    out of the text before BPE runs, so no merge can ever produce them. Ties in
    score (several splits of the same piece) keep the piece id order, which is
    stable; which split wins never matters because they produce the same piece.
    """
    index = {tok: i for i, tok in enumerate(vocab.tokens)}
    ranked: list[tuple[float, int, int, str, str]] = []
    for tid, (tok, kind) in enumerate(zip(vocab.tokens, vocab.types)):
        if kind not in (NORMAL, BYTE) or len(tok) < 2:
            continue
        for cut in range(1, len(tok)):
            left, right = tok[:cut], tok[cut:]
            if left in index and right in index:
                ranked.append((-vocab.scores[tid], tid, cut, left, right))
    ranked.sort()
    return [(left, right) for _, _, _, left, right in ranked]


def tokenizer_from_vocab(vocab: GgufVocab) -> Tokenizer:
    """Assemble the `tokenizers` pipeline that reproduces llama.cpp's SPM tokenization."""
    ids = {tok: i for i, tok in enumerate(vocab.tokens)}
    bpe = models.BPE(
        vocab=ids,
        merges=spm_merges(vocab),
        unk_token=vocab.tokens[vocab.unk_id],
        fuse_unk=True,
        byte_fallback=True,
    )
    tok = Tokenizer(bpe)
    tok.normalizer = normalizers.Replace(" ", SPACE_MARK)
    tok.decoder = decoders.Sequence(
        [decoders.Replace(SPACE_MARK, " "), decoders.ByteFallback(), decoders.Fuse()]
    )
    # Matched verbatim in the raw text before normalization, as llama.cpp does.
    # Control tokens are "special" (skippable when decoding); user-defined ones
    # (whitespace runs, HTML tags) are ordinary text and always decoded.
    specials = [
        AddedToken(t, special=True, normalized=False)
        for t, kind in zip(vocab.tokens, vocab.types)
        if kind in (CONTROL, UNKNOWN)
    ]
    user = [
        AddedToken(t, special=False, normalized=False)
        for t, kind in zip(vocab.tokens, vocab.types)
        if kind == USER_DEFINED
    ]
    tok.add_special_tokens(specials)
    tok.add_tokens(user)
    return tok


def spm_model(vocab: GgufVocab) -> bytes:
    """The same tokenizer as a SentencePiece BPE model (`tokenizer.model`), which the app loads.

    SentencePiece merges by piece score as llama.cpp does, so the GGUF's pieces, scores and
    types carry over as they are. The engine cuts control and user-defined pieces out of the
    text before BPE (`app.engine.tokenizer`); user-defined ones keep their raw text (spaces,
    not "▁"), so SentencePiece's own matching of them never fires on the escaped text.
    """
    from sentencepiece import sentencepiece_model_pb2 as pb  # protobuf comes with onnxruntime

    piece = pb.ModelProto.SentencePiece
    types = {NORMAL: piece.NORMAL, UNKNOWN: piece.UNKNOWN, CONTROL: piece.CONTROL,
             USER_DEFINED: piece.USER_DEFINED, UNUSED: piece.UNUSED, BYTE: piece.BYTE}
    model = pb.ModelProto()
    model.trainer_spec.model_type = pb.TrainerSpec.BPE
    model.trainer_spec.vocab_size = len(vocab.tokens)
    model.trainer_spec.byte_fallback = True
    model.trainer_spec.unk_id = vocab.unk_id
    model.normalizer_spec.name = "identity"
    model.normalizer_spec.add_dummy_prefix = False
    model.normalizer_spec.remove_extra_whitespaces = False
    model.normalizer_spec.escape_whitespaces = True
    for tid, (tok, score, kind) in enumerate(zip(vocab.tokens, vocab.scores, vocab.types)):
        # SentencePiece needs its unknown piece typed so; the GGUF marks <unk> as a control token.
        model.pieces.add(piece=tok, score=score, type=piece.UNKNOWN if tid == vocab.unk_id else types[kind])
        # Listed again where the app reads them without walking 262k pieces (encoding ignores these lists).
        if kind == CONTROL and tid != vocab.unk_id:
            model.trainer_spec.control_symbols.append(tok)
        elif kind == USER_DEFINED:
            model.trainer_spec.user_defined_symbols.append(tok)
    return model.SerializeToString()


def build_tokenizer(gguf_path: Path) -> Tokenizer:
    """The correct Gemma 3 BPE tokenizer for `gguf_path` (build time: needs `gguf`)."""
    return tokenizer_from_vocab(read_gguf_vocab(Path(gguf_path)))


def cached_tokenizer(gguf_path: Path) -> Tokenizer:
    """`build_tokenizer(gguf_path)`, cached as tokenizer.json beside the GGUF (for the build and training).

    Rebuilding takes most of a minute (reading 262k pieces and ranking 500k
    merges), so training scripts and builds share one cached copy.
    """
    gguf_path = Path(gguf_path)
    return load_tokenizer(_cached_file(gguf_path, TOKENIZER_FILE, lambda: build_tokenizer(gguf_path).to_str().encode()))


def cached_spm_model(gguf_path: Path) -> Path:
    """`spm_model` of the GGUF's vocabulary (the app's `tokenizer.model`), cached beside the GGUF."""
    gguf_path = Path(gguf_path)
    return _cached_file(gguf_path, SPM_FILE, lambda: spm_model(read_gguf_vocab(gguf_path)))


def _cached_file(gguf_path: Path, file_name: str, make: Callable[[], bytes]) -> Path:
    """The file `make()` writes, kept beside the GGUF as `<stem>.<file_name>`.

    The cache key is the GGUF's size and mtime plus this module's recipe version, so a
    replaced GGUF or a changed rebuild never reuses a stale file.
    """
    cached = gguf_path.with_name(gguf_path.stem + "." + file_name)
    key_file = cached.with_name(cached.name + ".source")
    st = gguf_path.stat()
    key = f"{gguf_path.name} {st.st_size} {st.st_mtime_ns} v{RECIPE_VERSION}"
    if cached.exists() and key_file.exists() and key_file.read_text().strip() == key:
        return cached
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    tmp.write_bytes(make())
    tmp.replace(cached)
    key_file.write_text(key + "\n")
    return cached


def base_tokenizer(models_dir: Path) -> Tokenizer:
    """The tokenizer of the base GGUF under `models_dir/base/` (assembled on first use)."""
    from app.model.gguf_source import base_gguf

    return cached_tokenizer(base_gguf(Path(models_dir)))


def load_tokenizer(path: Path) -> Tokenizer:
    """Load a saved tokenizer.json (or the one inside a model folder). Runtime-safe."""
    path = Path(path)
    if path.is_dir():
        path = path / TOKENIZER_FILE
    return Tokenizer.from_file(str(path))

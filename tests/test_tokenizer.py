"""The rebuilt Gemma 3 tokenizer is llama.cpp's, token for token, and needs no torch at runtime."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from app.model.tokenizer import build_tokenizer

GOLDEN = Path(__file__).parent / "data" / "llamacpp_tokens.jsonl.gz"


def _golden() -> tuple[dict, list[dict]]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        header = json.loads(fh.readline())
        rows = [json.loads(line) for line in fh]
    return header, rows


def _mismatches(tokenizer, rows: list[dict]) -> list[str]:
    """Rows whose ids `tokenizer` (either form) does not reproduce, described for the failure message."""
    texts = [r["text"] for r in rows]
    if hasattr(tokenizer, "encode_batch"):  # tokenizers.Tokenizer
        ours = [e.ids for e in tokenizer.encode_batch(texts)]
    else:  # the app's GemmaTokenizer
        ours = [tokenizer.encode(t) for t in texts]
    return [
        f"{r['text'][:60]!r}: llama.cpp {r['ids'][:12]} ours {ids[:12]}"
        for r, ids in zip(rows, ours)
        if ids != r["ids"]
    ]


def test_golden_file_is_for_our_base_model():
    from app.model.gguf_source import expected_sha256

    header, rows = _golden()
    assert header["gguf_sha256"] == expected_sha256()
    assert header["texts"] == len(rows) >= 5000


def test_matches_llamacpp_on_every_golden_text(hf_tokenizer):
    _, rows = _golden()
    bad = _mismatches(hf_tokenizer, rows)
    assert not bad, f"{len(bad)} of {len(rows)} texts differ from llama.cpp, e.g.\n" + "\n".join(bad[:10])


def test_matches_llamacpp_live_when_installed(hf_tokenizer, base_gguf_path):
    llama_cpp = pytest.importorskip("llama_cpp")
    llama = llama_cpp.Llama(str(base_gguf_path), vocab_only=True, verbose=False)
    _, rows = _golden()
    rows = random.Random(7).sample(rows, 1500)  # llama.cpp's special-token scan is slow per call; the golden test has them all
    extra = ["naïve café — 東京 🙂\t\t<end_of_turn>\n<start_of_turn>model\ncall:x{}", "  ", "\u2581\u2581 x", "<0x41>"]
    texts = [r["text"] for r in rows] + extra
    live = [{"text": t, "ids": llama.tokenize(t.encode("utf-8"), add_bos=False, special=True)} for t in texts]
    bad = _mismatches(hf_tokenizer, live)
    assert not bad, "\n".join(bad[:10])


def test_words_are_whole_tokens_not_fragments(hf_tokenizer):
    enc = hf_tokenizer.encode("hello world")
    assert enc.tokens == ["hello", "\u2581world"]


def test_nothing_is_added_and_markers_are_single_tokens(hf_tokenizer):
    text = "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"
    ids = hf_tokenizer.encode(text).ids
    assert ids == [2, 105, 2364, 107, 10979, 106, 107, 105, 4368, 107]
    assert hf_tokenizer.encode("Hi").ids == [10979]  # no <bos> of its own


@pytest.mark.parametrize("text", [
    "hello world", "  two  spaces\tand\ttabs\n\n\nnewlines\r\n", "日本語 🙂 emoji 👨‍👩‍👧", "Straße naïve résumé",
    '<bos><start_of_turn>user\nmove "~/My Docs/a b.txt"<end_of_turn>\n', "<unused7>[multimodal]<td>x</td>", "\x00\x07\x1b",
])
def test_decode_gives_the_text_back(hf_tokenizer, text):
    ids = hf_tokenizer.encode(text).ids
    assert hf_tokenizer.decode(ids, skip_special_tokens=False) == text


def test_unknown_characters_fall_back_to_bytes(hf_tokenizer):
    enc = hf_tokenizer.encode("\r")
    assert enc.tokens == ["<0x0D>"]


def test_cached_tokenizer_files_are_reused_and_redone_for_another_gguf(base_gguf_path, tmp_path):
    """Tokenizer files are cached beside the GGUF, keyed by its size and mtime: a changed key rebuilds them."""
    from app.model.tokenizer import cached_spm_model

    copy = tmp_path / base_gguf_path.name
    copy.symlink_to(base_gguf_path)
    first = cached_spm_model(copy)
    stamp = first.stat().st_mtime_ns
    assert cached_spm_model(copy) == first and first.stat().st_mtime_ns == stamp  # reused
    key = first.with_name(first.name + ".source")
    key.write_text("another gguf\n")
    assert cached_spm_model(copy).read_bytes() == first.read_bytes() and key.read_text() != "another gguf\n"


# --- the app's form: tokenizer.model under SentencePiece -----------------------------------------

def test_app_tokenizer_matches_llamacpp_on_every_golden_text(gemma_tokenizer):
    _, rows = _golden()
    bad = _mismatches(gemma_tokenizer, rows)
    assert not bad, f"{len(bad)} of {len(rows)} texts differ from llama.cpp, e.g.\n" + "\n".join(bad[:10])


def test_app_tokenizer_decodes_as_the_build_tokenizer_does(gemma_tokenizer, hf_tokenizer):
    """Same text for the same ids, control tokens spelled out, broken bytes as U+FFFD, arbitrary ids too."""
    _, rows = _golden()
    rng = random.Random(3)
    sequences = [r["ids"] for r in rows[:800]] + [[rng.randrange(262144) for _ in range(rng.randint(1, 12))]
                                                   for _ in range(800)]
    sequences += [[236743, 255999, 107], hf_tokenizer.encode("\u2019").ids[:1], [106, 0xEA, 0xEA]]
    bad = [ids for ids in sequences if gemma_tokenizer.decode(ids) != hf_tokenizer.decode(ids, skip_special_tokens=False)]
    assert not bad, bad[:5]


def test_app_tokenizer_knows_its_special_pieces(gemma_tokenizer, hf_tokenizer):
    assert gemma_tokenizer.vocab_size == hf_tokenizer.get_vocab_size() == 262144
    for piece in ("<bos>", "<end_of_turn>", "<unused7>", "<table>", "\n\n", "<0xE6>", "\u2581world"):
        assert gemma_tokenizer.token_to_id(piece) == hf_tokenizer.token_to_id(piece), piece
        assert gemma_tokenizer.id_to_token(hf_tokenizer.token_to_id(piece)) == piece
    assert gemma_tokenizer.token_to_id("no such piece") is None
    specials = {t.content for t in hf_tokenizer.get_added_tokens_decoder().values()}
    assert set(gemma_tokenizer.verbatim) == specials
    assert {gemma_tokenizer.id_to_token(i) for i in gemma_tokenizer.control_ids} == {
        t.content for t in hf_tokenizer.get_added_tokens_decoder().values() if t.special}


def test_a_file_that_is_not_a_tokenizer_model_is_refused_clearly(tmp_path):
    from app.engine.tokenizer import GemmaTokenizer, TokenizerError

    (tmp_path / "tokenizer.model").write_bytes(b"\x00garbage" * 50)
    with pytest.raises(TokenizerError, match="not a SentencePiece model"):
        GemmaTokenizer.from_file(tmp_path)


def test_runtime_modules_import_without_torch():
    """The engine imports these at runtime, where PyTorch, transformers and gguf are absent."""
    code = (
        "import sys, app.model.tokenizer, app.model.manifest, app.model.build, app.model.cli, app.engine.tokenizer;"
        "heavy = [m for m in ('torch', 'transformers', 'gguf', 'optimum', 'peft') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_a_non_sentencepiece_gguf_is_refused(tmp_path):
    gguf = pytest.importorskip("gguf")
    path = tmp_path / "bpe.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(["a", "b"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ValueError, match="SentencePiece"):
        build_tokenizer(path)

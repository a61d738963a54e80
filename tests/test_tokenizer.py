"""The rebuilt Gemma 3 tokenizer is llama.cpp's, token for token, and needs no torch at runtime."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from app.model.tokenizer import build_tokenizer, load_tokenizer, save_tokenizer

GOLDEN = Path(__file__).parent / "data" / "llamacpp_tokens.jsonl.gz"


def _golden() -> tuple[dict, list[dict]]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        header = json.loads(fh.readline())
        rows = [json.loads(line) for line in fh]
    return header, rows


def _mismatches(tokenizer, rows: list[dict]) -> list[str]:
    encodings = tokenizer.encode_batch([r["text"] for r in rows])
    return [
        f"{r['text'][:60]!r}: llama.cpp {r['ids'][:12]} ours {e.ids[:12]}"
        for r, e in zip(rows, encodings)
        if e.ids != r["ids"]
    ]


def test_golden_file_is_for_our_base_model():
    from app.model.gguf_source import expected_sha256

    header, rows = _golden()
    assert header["gguf_sha256"] == expected_sha256()
    assert header["texts"] == len(rows) >= 5000


def test_matches_llamacpp_on_every_golden_text(gemma_tokenizer):
    _, rows = _golden()
    bad = _mismatches(gemma_tokenizer, rows)
    assert not bad, f"{len(bad)} of {len(rows)} texts differ from llama.cpp, e.g.\n" + "\n".join(bad[:10])


def test_matches_llamacpp_live_when_installed(gemma_tokenizer, base_gguf_path):
    llama_cpp = pytest.importorskip("llama_cpp")
    llama = llama_cpp.Llama(str(base_gguf_path), vocab_only=True, verbose=False)
    _, rows = _golden()
    rows = random.Random(7).sample(rows, 1500)  # llama.cpp's special-token scan is slow per call; the golden test has them all
    extra = ["naïve café — 東京 🙂\t\t<end_of_turn>\n<start_of_turn>model\ncall:x{}", "  ", "\u2581\u2581 x", "<0x41>"]
    texts = [r["text"] for r in rows] + extra
    live = [{"text": t, "ids": llama.tokenize(t.encode("utf-8"), add_bos=False, special=True)} for t in texts]
    bad = _mismatches(gemma_tokenizer, live)
    assert not bad, "\n".join(bad[:10])


def test_words_are_whole_tokens_not_fragments(gemma_tokenizer):
    enc = gemma_tokenizer.encode("hello world")
    assert enc.tokens == ["hello", "\u2581world"]


def test_nothing_is_added_and_markers_are_single_tokens(gemma_tokenizer):
    text = "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"
    ids = gemma_tokenizer.encode(text).ids
    assert ids == [2, 105, 2364, 107, 10979, 106, 107, 105, 4368, 107]
    assert gemma_tokenizer.encode("Hi").ids == [10979]  # no <bos> of its own


@pytest.mark.parametrize("text", [
    "hello world", "  two  spaces\tand\ttabs\n\n\nnewlines\r\n", "日本語 🙂 emoji 👨‍👩‍👧", "Straße naïve résumé",
    '<bos><start_of_turn>user\nmove "~/My Docs/a b.txt"<end_of_turn>\n', "<unused7>[multimodal]<td>x</td>", "\x00\x07\x1b",
])
def test_decode_gives_the_text_back(gemma_tokenizer, text):
    ids = gemma_tokenizer.encode(text).ids
    assert gemma_tokenizer.decode(ids, skip_special_tokens=False) == text


def test_unknown_characters_fall_back_to_bytes(gemma_tokenizer):
    enc = gemma_tokenizer.encode("\r")
    assert enc.tokens == ["<0x0D>"]


def test_saved_tokenizer_loads_and_behaves_the_same(gemma_tokenizer, tmp_path):
    path = save_tokenizer(gemma_tokenizer, tmp_path)
    assert path == tmp_path / "tokenizer.json"
    again = load_tokenizer(tmp_path)
    _, rows = _golden()
    assert not _mismatches(again, rows[:500])


def test_runtime_modules_import_without_torch():
    """The engine imports these at runtime, where PyTorch, transformers and gguf are absent."""
    code = (
        "import sys, app.model.tokenizer, app.model.manifest, app.model.build, app.model.cli;"
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

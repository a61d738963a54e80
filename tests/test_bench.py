"""`deskmate bench` end to end on the tiny model: the figures it collects and the document it writes.

Speed itself is not asserted (timings belong in docs/benchmarks.md, not in tests); what is checked
is that every figure the document and `--json` promise is measured and lands in the table.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.main import dumps, run_bench
from bench.measure import percentile
from bench.report import END, START, write

SEED = Path(__file__).resolve().parents[2] / "shared" / "data" / "seed"
JSON_KEYS = ("decode_tok_s", "prefill_tok_s", "call_p50_s", "call_p95_s", "cold_start_s", "peak_rss_mb", "model_mb",
             "torch_decode_tok_s", "naive_decode_tok_s", "llamacpp_decode_tok_s", "cpu")


def test_percentile_is_nearest_rank():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == 5.0
    assert percentile(values, 0) == 1.0
    assert percentile([], 50) is None


@pytest.fixture(scope="module")
def tiny_figures(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not SEED.is_dir():
        pytest.skip("the shared seed cases are not beside the checkout")
    seed = tmp_path_factory.mktemp("seed")
    shutil.copy(SEED / "calendar.jsonl", seed / "calendar.jsonl")
    return run_bench(tiny_model_dir, seed_dir=seed, threads=1, quick=True, baselines=False, calls_every=2,
                     log=lambda _m: None)


def test_bench_measures_every_promised_figure(tiny_figures: dict, tiny_model_dir: Path):
    assert set(JSON_KEYS) <= set(tiny_figures)
    assert json.loads(dumps(tiny_figures))["model"] == tiny_model_dir.name
    for key in ("decode_tok_s", "prefill_tok_s", "cold_start_s", "peak_rss_mb", "model_mb"):
        assert tiny_figures[key] > 0, key
    assert set(tiny_figures["prefill_by_length"]) == {100, 500, 2000}
    calls = tiny_figures["calls_detail"]
    assert calls["cases"] > 0 and calls["every"] == 2
    # Constrained decoding: whatever the random model writes parses.
    assert calls["well_formed"] == calls["cases"]
    assert tiny_figures["llamacpp_decode_tok_s"] is None  # baselines were skipped, not invented


def test_bench_document_keeps_hand_written_notes(tiny_figures: dict, tmp_path: Path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nHow to read this.\n", "utf-8")
    write(doc, tiny_figures)
    first = doc.read_text("utf-8")
    assert first.startswith("# Benchmarks\n\nHow to read this.\n")
    assert START in first and END in first and "| Decode | " in first and tiny_figures["cpu"] in first

    doc.write_text(first + "\nNotes after the table.\n", "utf-8")
    write(doc, {**tiny_figures, "decode_tok_s": 123.0})
    second = doc.read_text("utf-8")
    assert second.count(START) == 1 and "Notes after the table." in second and "How to read this." in second
    assert "| Decode | 123 | >= 100 tok/s | yes |" in second


def test_bench_document_compares_with_llamacpp_when_measured(tiny_figures: dict, tmp_path: Path):
    doc = tmp_path / "benchmarks.md"
    write(doc, {**tiny_figures, "decode_tok_s": 60.0, "llamacpp_decode_tok_s": 80.0})
    assert "| Decode vs llama.cpp, same run | 0.75x | >= 1x | **no** |" in doc.read_text("utf-8")


def test_peak_memory_of_a_variant_without_a_manifest(tiny_model_dir: Path, tmp_path: Path):
    """bench.variants measures folders the build did not make: only they skip the manifest check."""
    from bench.measure import peak_rss_mb

    for name in ("model.onnx", "model.onnx.data", "tokenizer.model"):
        shutil.copy(tiny_model_dir / name, tmp_path / name)
    assert 50 < peak_rss_mb(tmp_path, 300, verify=False) < 5000
    with pytest.raises(RuntimeError, match="deskmate model build"):
        peak_rss_mb(tmp_path, 300)

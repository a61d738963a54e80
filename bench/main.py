"""`deskmate bench`: every figure of docs/benchmarks.md in one run.

Order: the engine's own figures first (the machine is quietest at the start), then the
fresh-process probes, then the PyTorch model (loaded once) for its decode speed, the
naive export and the fp32 reference answers, and llama.cpp.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any, Callable

from app.paths import repo_root

Log = Callable[[str], None]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _torch_model(model_dir: Path, models: Path) -> Any:
    """The fp32 PyTorch model the built one was made from (base GGUF + its adapter)."""
    from app.model.gguf_source import base_gguf
    from app.model.loader import load_torch_model
    from app.model.manifest import read_manifest

    manifest = read_manifest(model_dir)
    adapter = None
    if manifest.inputs.adapter is not None:
        root = repo_root()
        adapter = root / "models" / "adapters" / manifest.inputs.adapter.name if root else None
        if adapter is None or not adapter.is_dir():
            raise RuntimeError(f"The adapter {manifest.inputs.adapter.name} of {model_dir} is not in models/adapters/.")
    return load_torch_model(base_gguf(models), adapter)


def _weights_id(model_dir: Path) -> str:
    """Names the fp32 weights a built model came from (base + adapter): the reference answers' cache key."""
    import hashlib

    from app.model.manifest import read_manifest

    inputs = read_manifest(model_dir).inputs
    adapter = inputs.adapter.sha256 if inputs.adapter is not None else "none"
    return hashlib.sha256(f"{inputs.base_sha256}:{adapter}".encode()).hexdigest()[:16]


def run_bench(model_dir: Path, *, seed_dir: Path, threads: int | None = None, agreement_every: int = 16,
              calls_every: int = 4, agreement_tokens: int = 48, baselines: bool = True, quick: bool = False,
              log: Log = lambda m: print(m, file=sys.stderr, flush=True)) -> dict[str, Any]:
    from app.engine import Engine
    from app.engine.assistant import Assistant
    from app.engine.session import default_threads
    from app.eval.cases import load_cases
    from app.prompt.render import render, render_prefix
    from app.tools.catalog import Catalog
    from bench import agreement as ag
    from bench import baselines as bl
    from bench import measure as ms
    from bench.texts import prompt_of_length

    models = model_dir.parent  # the base GGUF, the naive export and the fp32 cache live beside the model
    model = model_dir.name
    threads = threads or default_threads()
    load_before = _load()
    repeats = 1 if quick else 3
    log(f"bench: {model_dir} on {cpu_model()}, {threads} threads (load {load_before})")
    # Fresh processes first, before this one loads and runs anything: started after the
    # speed and call measurements, the same RSS probe reported 570-688 MB where on its own
    # it reports 537-608 (docs/benchmarks.md). Not pinned down: a second process holding
    # the model, or having decoded with it, did not reproduce the difference.
    log("cold start and peak memory (fresh processes)")
    cold = ms.cold_start_s(model_dir, repeats)
    rss = ms.peak_rss_mb(model_dir, 2000)
    engine = Engine.load(model_dir, threads=threads)
    catalog = Catalog.builtin()
    cases = [c for f in sorted(seed_dir.glob("*.jsonl")) for c in load_cases(f)]
    if quick:
        cases = cases[::20]

    log("prefill and decode")
    prefill = ms.prefill_tok_s(engine, (100, 500, 2000), repeats)
    decode = ms.decode_tok_s(engine, repeats=repeats)
    log(f"  prefill {prefill}, decode {decode:.1f} tok/s")
    log("request -> parsed call on the seed cases")
    timings = ms.call_timings(Assistant(engine), cases[::calls_every], catalog, log)
    with_call = [t.latency_s for t in timings if t.calls]
    sizes = ms.sizes_mb(model_dir)

    prompt_ids = engine.encode(prompt_of_length(engine.tokenizer, 500))
    side: dict[str, dict[str, Any]] = {
        "Deskmate engine (INT8 ONNX)": {"decode_tok_s": decode, "prefill_tok_s": prefill[500],
                                        "model_mb": sizes["model_mb"], "note": "this repo: fused graph, KV in place"},
    }
    agreement = None
    sample = cases[::agreement_every]
    if baselines:
        log("PyTorch fp32 (loading the dequantized GGUF)")
        torch_model = _torch_model(model_dir, models)
        side["PyTorch fp32 (transformers.generate)"] = vars(bl.torch_baseline(torch_model, prompt_ids, 64, threads))
        log("naive export")
        naive = bl.ensure_naive(torch_model, models / "naive", log)
        side["Naive export (optimum + quantize_dynamic)"] = vars(bl.naive_baseline(naive, prompt_ids, 64, threads))
        log(f"INT8 vs fp32 greedy answers on {len(sample)} seed requests")
        prompts = {c.id: render(c.conversation(catalog)) for c in sample}
        prefixes = {c.id: render_prefix(c.conversation(catalog).tools) for c in sample}
        cache = models / "bench-cache" / f"fp32-{_weights_id(model_dir)}.json"
        reference = ag.reference_answers(torch_model, {k: engine.encode(p) for k, p in prompts.items()},
                                         agreement_tokens, cache, log)
        del torch_model
        ours = ag.engine_answers(engine, prompts, prefixes, agreement_tokens)
        agreement = ag.compare(reference, ours, lambda cid: engine.columns(prompts[cid]))
        log(f"  identical: {agreement.identical}/{agreement.cases}")
        from app.model.gguf_source import base_gguf

        llama = bl.llamacpp_baseline(base_gguf(models), prompt_ids, 64, threads)
        side["llama.cpp (llama-cpp-python, Q4_K_M)"] = vars(llama) if llama else {
            "decode_tok_s": None, "note": "llama-cpp-python not installed"}

    load_after = _load()
    figures = {
        "decode_tok_s": decode,
        "prefill_tok_s": prefill[500],
        "call_p50_s": ms.percentile(with_call, 50),
        "call_p95_s": ms.percentile(with_call, 95),
        "cold_start_s": cold["process_wall_s"],
        "peak_rss_mb": rss,
        "model_mb": sizes["model_mb"],
        "torch_decode_tok_s": side.get("PyTorch fp32 (transformers.generate)", {}).get("decode_tok_s"),
        "naive_decode_tok_s": side.get("Naive export (optimum + quantize_dynamic)", {}).get("decode_tok_s"),
        "llamacpp_decode_tok_s": side.get("llama.cpp (llama-cpp-python, Q4_K_M)", {}).get("decode_tok_s"),
        "cpu": cpu_model(),
        # details for the document
        "agreement": agreement.rate if agreement else None,
        "agreement_detail": {"cases": agreement.cases if agreement else 0,
                             "identical": agreement.identical if agreement else 0,
                             "inside_output_vocab": agreement.inside_output_vocab if agreement else 0,
                             "every": agreement_every, "max_tokens": agreement_tokens},
        "calls_detail": {"cases": len(timings), "every": calls_every, "with_call": len(with_call),
                         "well_formed": sum(t.well_formed for t in timings),
                         "all_p50_s": ms.percentile([t.latency_s for t in timings], 50),
                         "all_p95_s": ms.percentile([t.latency_s for t in timings], 95)},
        "prefill_by_length": prefill,
        "cold_detail": cold,
        "tokenizer_mb": sizes["tokenizer_mb"],
        "side_by_side": side,
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cores": os.cpu_count(),
        "threads": threads,
        "model": model,
        "output_vocab": engine.info.output_size,
        "load_before": load_before,
        "load_after": load_after,
        "load_note": "",
        "command": "deskmate bench --json bench.json",
    }
    return figures


def dumps(figures: dict[str, Any]) -> str:
    return json.dumps(figures, indent=2, default=str)

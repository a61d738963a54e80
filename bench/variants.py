"""Build choices side by side: `python -m bench.variants [--out DIR] [--only TEXT]`.

Exports the fine-tuned model (fp32 weights, the build's own export; once per KV-cache
type) and quantizes it the ways `app.model.quantize` can, then measures each like
`deskmate bench` does: greedy agreement with PyTorch fp32 on every 16th seed case (the
fp32 answers come from the bench's cache, `deskmate bench` must have run first), prefill
at 500 tokens, decode after 400 and 2,000 tokens, peak memory at 2,000 tokens, size.
Build-time tool: needs the `build` extra. Takes ~15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from app.engine.engine import MODEL_FILE, Engine
from app.engine.session import open_session
from app.engine.tokenizer import SPM_FILE, GemmaTokenizer
from app.eval.cases import load_cases
from app.paths import AppPaths, repo_root
from app.prompt.render import render, render_prefix
from app.tools.catalog import Catalog
from bench import agreement as ag
from bench import measure as ms
from bench.main import _weights_id

VARIANTS = {  # name -> (KV-cache type of the export, output vocabulary, quantize_int8 options)
    "layers MatMulNBits, 8-bit table (shipped)": ("float32", "fixed+prompt", {"layers": "nbits"}),
    "shipped until recipe 5: all 173,554 Latin pieces fixed": ("float32", "latin", {"layers": "nbits"}),
    "layers DynamicQuantizeMatMul, 8-bit table": ("float32", "fixed+prompt", {"layers": "dynamic"}),
    "layers DynamicQuantizeMatMul, 4-bit table": ("float32", "fixed+prompt", {"layers": "dynamic", "embed_bits": 4}),
    "shipped, float16 KV cache": ("float16", "fixed+prompt", {"layers": "nbits"}),
    "layers MatMulNBits, 4-bit table": ("float32", "fixed+prompt", {"layers": "nbits", "embed_bits": 4}),
    "layers MatMulNBits, 4-bit table in blocks of 32": ("float32", "fixed+prompt", {"layers": "nbits", "embed_bits": 4,
                                                                                    "embed_block_size": 32}),
    "layers in blocks of 64, 8-bit table in blocks of 64": ("float32", "fixed+prompt", {"layers": "nbits",
                                                                                        "block_size": 64}),
    "layers in blocks of 64, 8-bit table in blocks of 128": ("float32", "fixed+prompt", {"layers": "nbits",
                                                                                         "block_size": 64,
                                                                                         "embed_block_size": 128}),
    "layers in blocks of 128, 8-bit table in blocks of 64": ("float32", "fixed+prompt", {"layers": "nbits",
                                                                                         "block_size": 128}),
    "layers MatMulNBits with 4-bit MLP weights, 8-bit table": ("float32", "fixed+prompt", {"layers": "nbits",
                                                                                           "mlp_bits": 4}),
}


def build_variants(model_dir: Path, out: Path,
                   variants: dict[str, tuple[str, str, dict]] = VARIANTS) -> dict[str, Path]:
    from app.model.build import _load_real_model, latin_output_tokens, output_vocab
    from app.model.export import export_onnx
    from app.model.gguf_source import base_gguf
    from app.model.manifest import read_manifest
    from app.model.quantize import quantize_int8
    from app.model.tokenizer import cached_tokenizer

    adapter = read_manifest(model_dir).inputs.adapter
    adapter_dir = repo_root() / "models" / "adapters" / adapter.name if adapter else None
    gguf = base_gguf(model_dir.parent)
    model = _load_real_model(gguf, adapter_dir)
    tokenizer = cached_tokenizer(gguf)
    vocab = output_vocab(tokenizer)
    columns = {"fixed+prompt": {"keep_tokens": vocab.fixed, "prompt_tokens": vocab.from_prompt},
               "latin": {"keep_tokens": latin_output_tokens(tokenizer)}}
    exports = {(kv, cols): export_onnx(model, out / f"export-{kv}-{cols}", kv_dtype=kv, **columns[cols])
               for kv, cols in sorted({(kv, cols) for kv, cols, _ in variants.values()})}
    del model
    dirs = {}
    for i, (name, (kv, cols, options)) in enumerate(variants.items()):
        target = out / f"v{i}"
        quantize_int8(exports[(kv, cols)], target / MODEL_FILE, **options)
        shutil.copy(model_dir / SPM_FILE, target / SPM_FILE)
        dirs[name] = target
    for path in exports.values():
        shutil.rmtree(path.parent, ignore_errors=True)
    return dirs


def measure(variant: Path, cases: list, cache: Path) -> str:
    session, info = open_session(variant / MODEL_FILE)
    engine = Engine(session, GemmaTokenizer.from_file(variant / SPM_FILE), info)
    catalog = Catalog.builtin()
    prompts = {c.id: render(c.conversation(catalog)) for c in cases}
    prefixes = {c.id: render_prefix(c.conversation(catalog).tools) for c in cases}
    reference = ag.reference_answers(None, {k: engine.encode(p) for k, p in prompts.items()}, 48, cache,
                                     lambda _m: None)
    agreement = ag.compare(reference, ag.engine_answers(engine, prompts, prefixes, 48),
                           lambda cid: engine.columns(prompts[cid]))
    size = sum(p.stat().st_size for p in variant.glob(MODEL_FILE + "*")) / 1e6
    prefill = ms.prefill_tok_s(engine, (500,), 3)[500]
    decode = ms.decode_tok_s(engine, repeats=3)
    decode_long = ms.decode_tok_s(engine, context=2000, repeats=3)
    del engine, session
    rss = ms.peak_rss_mb(variant, 2000, verify=False)
    return (f"| {agreement.identical}/{agreement.cases} | {prefill:,.0f} | {decode:.1f} | {decode_long:.1f} "
            f"| {rss:.0f} | {size:.0f} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="deskmate-v1")
    ap.add_argument("--out", type=Path, default=None, help="where the variants go (default models/built/variants)")
    ap.add_argument("--only", action="append", default=[], metavar="TEXT",
                    help="measure only the variants whose name contains TEXT (repeatable)")
    args = ap.parse_args(argv)
    chosen = {k: v for k, v in VARIANTS.items() if not args.only or any(t in k for t in args.only)}
    model_dir = AppPaths.for_user().models / args.model
    cache = model_dir.parent / "bench-cache" / f"fp32-{_weights_id(model_dir)}.json"
    if not cache.exists():
        raise SystemExit(f"No fp32 reference answers at {cache}: run `deskmate bench` first.")
    seed = repo_root().parent / "shared" / "data" / "seed"
    cases = [c for f in sorted(seed.glob("*.jsonl")) for c in load_cases(f)][::16]
    dirs = build_variants(model_dir, args.out or model_dir.parent / "variants", chosen)
    print("| Variant | Same greedy answer as fp32 | Prefill tok/s (500) | Decode tok/s | Decode after 2,000 "
          "| Peak RSS MB (2,000) | MB |\n|---|---|---|---|---|---|---|")
    for name, path in dirs.items():
        print(f"| {name} " + measure(path, cases, cache), flush=True)


if __name__ == "__main__":
    main()

"""`deskmate bench [--json FILE]`: wires the command; the benchmark itself lives in bench/.

bench/ sits at the repository root (it needs the seed cases and the build-time
baselines), so the command works from a source checkout and says so otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.errors import DeskmateError
from app.paths import AppPaths, repo_root


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bench", help="measure the built model's speed, memory and size (docs/benchmarks.md)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as one JSON object to FILE")
    p.add_argument("--model", default="deskmate-v1", metavar="NAME", help="built model to measure (default deskmate-v1)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads (default: one per core)")
    p.add_argument("--quick", action="store_true", help="a few cases, one repeat (a smoke run)")
    p.add_argument("--no-baselines", action="store_true", help="skip PyTorch, the naive export and llama.cpp")
    p.add_argument("--calls-every", type=int, default=4, metavar="K",
                   help="time request -> parsed call on every K-th seed case (default 4: 205 of the 820)")
    p.add_argument("--agreement-every", type=int, default=16, metavar="K",
                   help="compare INT8 with fp32 on every K-th seed case (default 16: PyTorch is slow)")
    p.add_argument("--seed", type=Path, default=None, metavar="DIR", help="seed cases (default ../shared/data/seed)")
    p.add_argument("--doc", type=Path, default=None, metavar="FILE", help="document to update (default docs/benchmarks.md)")
    p.add_argument("--note", default="", help="a sentence for the document, e.g. what else ran on the machine")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = repo_root()
    if root is None or not (root / "bench").is_dir():
        raise DeskmateError("deskmate bench runs from a source checkout (it needs bench/ and the seed cases).")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench.main import dumps, run_bench
    from bench.report import write

    seed = args.seed or root.parent / "shared" / "data" / "seed"
    if not seed.is_dir():
        raise DeskmateError(f"No seed cases at {seed}; pass --seed DIR.")
    model_dir = AppPaths.for_user().models / args.model
    if not model_dir.is_dir():
        raise DeskmateError(f"No built model at {model_dir}; run `deskmate model build` first.")
    figures = run_bench(model_dir, seed_dir=seed, threads=args.threads, agreement_every=args.agreement_every,
                        calls_every=args.calls_every, baselines=not args.no_baselines, quick=args.quick)
    figures["load_note"] = args.note
    command = (["deskmate bench", f"--calls-every {args.calls_every}", f"--agreement-every {args.agreement_every}"]
               + (["--json", str(args.json)] if args.json else []))
    figures["command"] = " ".join(command)
    write(args.doc or root / "docs" / "benchmarks.md", figures)
    if args.json:
        args.json.write_text(dumps(figures) + "\n", encoding="utf-8")
    print(dumps({k: figures[k] for k in ("decode_tok_s", "prefill_tok_s", "call_p50_s", "call_p95_s", "cold_start_s",
                                         "peak_rss_mb", "model_mb", "torch_decode_tok_s", "naive_decode_tok_s",
                                         "llamacpp_decode_tok_s", "cpu")}))
    return 0

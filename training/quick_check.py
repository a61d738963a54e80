"""A quick sanity check of a trained adapter: greedy PyTorch decoding on a few dev cases.

    python -m training.quick_check --adapter models/adapters/deskmate-v1 --n 20

Uses the evaluation's own backend, prompt and matcher (app.eval), unconstrained, so it
shows whether the model itself writes well-formed calls. The numbers that go into the
docs come from `deskmate eval` on the whole dev split, not from this.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

from app.eval.backends import TorchBackend
from app.eval.cases import load_cases
from app.eval.run import evaluate_cases

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adapter", type=Path, default=REPO / "models/adapters/deskmate-v1")
    ap.add_argument("--cases", type=Path, default=REPO / "training/data/dev.jsonl")
    ap.add_argument("--n", type=int, default=20, help="every k-th case so that about n are taken")
    ap.add_argument("--predictions", type=Path, default=None)
    args = ap.parse_args(argv)
    from app.model.gguf_source import base_gguf

    cases = load_cases(args.cases)
    step = max(1, len(cases) // args.n)
    picked = cases[::step][: args.n]
    backend = TorchBackend.from_gguf(base_gguf(REPO / "models/built"), args.adapter, constrained=False, max_tokens=96)
    out = args.predictions.open("w") if args.predictions else io.StringIO()
    report = evaluate_cases(picked, backend, out,
                            progress=lambda done, total, ok: print(f"{done}/{total} {'ok' if ok else 'MISS'}", flush=True))
    if isinstance(out, io.StringIO):
        print(out.getvalue())
    print(json.dumps(report.as_dict()["overall"]))


if __name__ == "__main__":
    main()

"""`deskmate eval`: accuracy of a model on tool-call cases or BFCL files (docs/evaluation.md).

Writes one predictions line per case and prints the metrics as one JSON object on
the last line of stdout (progress goes to stderr), so scripts can read `tail -n1`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.errors import DeskmateError

DEFAULT_MODEL = "deskmate-v1"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval", help="measure a model on tool-call cases or BFCL files",
        description="Run each case through the app's prompt and parser and score the calls "
                    "(rules: shared/spec/cases.md; BFCL: its AST checker's rules).")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--cases", type=Path, metavar="FILE.jsonl", help="tool-call cases (JSON Lines)")
    source.add_argument("--bfcl", type=Path, metavar="FILE", help="a BFCL file (one JSON object a line)")
    p.add_argument("--answers", type=Path, metavar="FILE",
                   help="BFCL ground truth (default: possible_answer/<same name> beside --bfcl)")
    p.add_argument("--predictions", type=Path, required=True, metavar="OUT.jsonl",
                   help="where to write one line per case: id, calls, text, latency_s, passed, why")
    p.add_argument("--backend", choices=("onnx", "torch"), default="onnx",
                   help="onnx: the built INT8 model (default); torch: the dequantized GGUF in PyTorch")
    p.add_argument("--model", type=Path, metavar="PATH",
                   help=f"onnx: a built model folder (default: <models>/{DEFAULT_MODEL}); "
                        "torch: a GGUF file (default: the base GGUF)")
    p.add_argument("--adapter", type=Path, metavar="DIR", help="torch: a LoRA adapter folder to merge")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N cases")
    p.add_argument("--fewshot", action="store_true", help="prepend worked examples (for the base model)")
    p.add_argument("--unconstrained", action="store_true", help="decode without the call constraint")
    p.add_argument("--max-tokens", type=int, default=256, help="most new tokens a reply may have (default 256)")
    p.add_argument("--threads", type=int, help="CPU threads for the model")
    p.set_defaults(func=run)


def _backend(args: argparse.Namespace):
    from app.paths import AppPaths

    paths = AppPaths.for_user()
    constrained = not args.unconstrained
    if args.backend == "onnx":
        if args.adapter:
            raise DeskmateError("--adapter is for --backend torch; the ONNX model has its adapter merged at build time "
                                "(deskmate model build --adapter DIR).")
        from app.eval.backends import OnnxBackend

        return OnnxBackend(args.model or paths.models / DEFAULT_MODEL, threads=args.threads, constrained=constrained,
                           max_tokens=args.max_tokens)
    from app.eval.backends import TorchBackend
    from app.model.gguf_source import base_gguf

    if args.model is not None and not args.model.is_file():
        raise DeskmateError(f"--model for --backend torch must be a GGUF file; {args.model} is not one.")
    gguf = args.model or base_gguf(paths.models)
    return TorchBackend.from_gguf(gguf, args.adapter, threads=args.threads,
                                  constrained=constrained, max_tokens=args.max_tokens)


def _progress(done: int, total: int, passed: bool, tally: list[int]) -> None:
    tally[0] += passed
    if done == total or done % 10 == 0:
        print(f"eval: {done}/{total} done, {tally[0]} passed", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from app.eval.bfcl import load_bfcl
    from app.eval.cases import load_cases
    from app.eval.run import evaluate_bfcl, evaluate_cases, open_predictions

    if args.limit is not None and args.limit < 1:
        raise DeskmateError("--limit must be 1 or more.")
    if args.answers and not args.bfcl:
        raise DeskmateError("--answers goes with --bfcl.")
    # Read the inputs before loading a model, so a typo fails in a second, not after a minute.
    items = load_cases(args.cases) if args.cases else load_bfcl(args.bfcl, args.answers)
    items = items[: args.limit] if args.limit else items
    backend = _backend(args)
    tally = [0]
    with open_predictions(args.predictions) as out:
        progress = lambda d, t, p: _progress(d, t, p, tally)  # noqa: E731
        if args.cases:
            report = evaluate_cases(items, backend, out, fewshot=args.fewshot, progress=progress)
        else:
            report = evaluate_bfcl(items, backend, out, fewshot=args.fewshot, progress=progress)
    summary = {"source": str(args.cases or args.bfcl), "backend": args.backend,
               "model": str(args.model) if args.model else None,
               "adapter": str(args.adapter) if args.adapter else None,
               "fewshot": args.fewshot, "constrained": not args.unconstrained, **report.as_dict()}
    print(json.dumps(summary, ensure_ascii=False))
    return 0

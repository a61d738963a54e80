"""Where a decoded token's time goes: `python -m bench.profile [MODEL_DIR] [--tokens N]`.

Runs the engine with ONNX Runtime's profiler on, decodes N tokens after a 400-token
prompt, and prints the kernel time per decoded token by operator type (the prompt's
own run is left out), so a change to the export can be judged by what it removes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

import onnxruntime as ort

from app.engine.engine import MODEL_FILE, PREFILL_CHUNK, Engine
from app.engine.session import default_threads, read_info
from app.engine.tokenizer import SPM_FILE, GemmaTokenizer
from app.paths import AppPaths
from bench.texts import prompt_of_length


def profile(model_dir: Path, tokens: int, threads: int) -> tuple[float, int, Counter, Counter]:
    """(decode tokens/s, decode runs, microseconds by op type over them, calls by op type)."""
    with tempfile.TemporaryDirectory() as tmp:
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.add_session_config_entry("session.intra_op.allow_spinning", "1")  # as the app runs
        so.enable_cpu_mem_arena = False
        so.enable_profiling, so.profile_file_prefix = True, str(Path(tmp) / "profile")
        session = ort.InferenceSession(str(model_dir / MODEL_FILE), so, providers=["CPUExecutionProvider"])
        engine = Engine(session, GemmaTokenizer.from_file(model_dir / SPM_FILE), read_info(session))
        result = engine.generate(prompt_of_length(engine.tokenizer, 400), max_tokens=tokens, stop=())
        events = json.loads(Path(session.end_profiling()).read_text())
    runs = sorted((e for e in events if e.get("cat") == "Session" and e["name"] == "model_run"), key=lambda e: e["ts"])
    prompt_runs = -(-result.prompt_tokens // PREFILL_CHUNK)
    prompt_end = runs[prompt_runs - 1]["ts"] + runs[prompt_runs - 1]["dur"]
    spent, calls = Counter(), Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= prompt_end:
            spent[e["args"]["op_name"]] += e["dur"]
            calls[e["args"]["op_name"]] += 1
    return result.tokens_s, len(runs) - prompt_runs, spent, calls


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", nargs="?", type=Path, default=None)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=default_threads())
    args = ap.parse_args(argv)
    model_dir = args.model_dir or AppPaths.for_user().models / "deskmate-v1"
    rate, steps, spent, calls = profile(model_dir, args.tokens, args.threads)
    total = sum(spent.values()) / steps / 1000
    print(f"{rate:.1f} tokens/s; kernels {total:.2f} ms of {1000 / rate:.2f} ms per token\n")
    print("| Operator | ms per token | calls per token |\n|---|---|---|")
    for op, us in spent.most_common(10):
        print(f"| {op} | {us / steps / 1000:.2f} | {calls[op] / steps:.0f} |")


if __name__ == "__main__":
    main()

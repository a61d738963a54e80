"""The engine's own figures: prefill, decode, request -> parsed call, cold start, memory, size."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from app.engine.tokenizer import SPM_FILE
from app.eval.cases import Case
from app.prompt.parse import ParseError, parse_reply
from app.tools.catalog import Catalog
from bench.texts import prompt_of_length

Log = Callable[[str], None]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in [0, 100]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def prefill_tok_s(engine, lengths: Sequence[int], repeats: int = 3) -> dict[int, float]:
    """Prompt tokens per second, cold KV cache, best of `repeats` (noise only ever slows a run)."""
    out = {}
    for n in lengths:
        prompt = prompt_of_length(engine.tokenizer, n)
        runs = [engine.generate(prompt, max_tokens=1, stop=()) for _ in range(repeats)]
        out[n] = max(r.prompt_tokens / r.prefill_s for r in runs)
    return out


def decode_tok_s(engine, tokens: int = 128, context: int = 400, repeats: int = 3) -> float:
    """Decoded tokens per second after a `context`-token prompt (median of `repeats`)."""
    prompt = prompt_of_length(engine.tokenizer, context)
    return statistics.median(engine.generate(prompt, max_tokens=tokens, stop=()).tokens_s for _ in range(repeats))


@dataclass(frozen=True)
class CallTiming:
    case_id: str
    latency_s: float  # request in -> reply parsed
    calls: int  # parsed calls (0: a words answer)
    well_formed: bool


def call_timings(assistant, cases: Sequence[Case], catalog: Catalog, log: Log) -> list[CallTiming]:
    """Each case through Assistant.reply (constrained) + parse_reply, prefix cache warm.

    Cases are run grouped by tool set, each group after one untimed warm-up request, as
    in the app where the granted tools rarely change.
    """
    groups: dict[tuple[str, ...], list[Case]] = {}
    for case in cases:
        groups.setdefault(tuple(sorted(case.granted)), []).append(case)
    out: list[CallTiming] = []
    for key, members in groups.items():
        assistant.reply(members[0].conversation(catalog), max_tokens=4)  # fills the prefix cache
        for case in members:
            start = time.perf_counter()
            reply = assistant.reply(case.conversation(catalog))
            try:
                calls, ok = len(parse_reply(reply.raw).calls), True
            except ParseError:
                calls, ok = 0, False
            out.append(CallTiming(case.id, time.perf_counter() - start, calls, ok))
        log(f"  calls: {len(out)}/{len(cases)} cases")
    return out


def _probe(args: Sequence[str]) -> tuple[dict, float]:
    """Run bench.probe in a fresh interpreter; (its JSON, wall seconds of the whole process)."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench.probe", *args], cwd=root, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"bench.probe {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def cold_start_s(model_dir: Path, repeats: int = 3) -> dict[str, float]:
    """Fresh process -> engine loaded / first token out (median; files in the OS page cache)."""
    runs = [_probe(["cold", str(model_dir)]) for _ in range(repeats)]
    return {
        "process_to_loaded_s": statistics.median(r["load_s"] for r, _ in runs),
        "process_to_first_token_s": statistics.median(r["first_token_s"] for r, _ in runs),
        "process_wall_s": statistics.median(w for _, w in runs),
    }


def peak_rss_mb(model_dir: Path, tokens: int = 2000, *, verify: bool = True) -> float:
    result, _ = _probe(["rss", str(model_dir), str(tokens)] + ([] if verify else ["unverified"]))
    return float(result["peak_rss_mb"])


def sizes_mb(model_dir: Path) -> dict[str, float]:
    onnx_bytes = sum(p.stat().st_size for p in model_dir.glob("model.onnx*"))
    tok = model_dir / SPM_FILE
    return {"model_mb": onnx_bytes / 1e6, "tokenizer_mb": tok.stat().st_size / 1e6 if tok.exists() else 0.0}

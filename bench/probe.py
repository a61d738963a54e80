"""Measurements that need a fresh process: cold start and peak memory.

Run as `python -m bench.probe cold MODEL_DIR` or `python -m bench.probe rss MODEL_DIR TOKENS [unverified]`;
prints one JSON object. The parent (bench.measure) times the whole process for cold
start, so interpreter start-up and imports count, as they do for the user.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def cold(model_dir: Path) -> dict:
    """Imports + manifest check + session + tokenizer, then one token: the app is ready."""
    t0 = time.perf_counter()
    from app.engine import Engine

    engine = Engine.load(model_dir)
    loaded = time.perf_counter() - t0
    engine.generate("<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n", max_tokens=1)
    return {"load_s": loaded, "first_token_s": time.perf_counter() - t0}


def rss(model_dir: Path, tokens: int, verify: bool = True) -> dict:
    """Peak resident memory of the app's model side: load, constrained decoding set up for
    the catalog (as the app does at start), a `tokens`-long prompt and 32 tokens decoded
    under the call grammar."""
    from app.engine import Engine
    from app.engine.constrain import CallGrammar
    from app.tools.catalog import Catalog

    from bench.texts import prompt_of_length

    engine = Engine.load(model_dir, verify=verify)
    grammar = CallGrammar(engine.tokenizer, Catalog.builtin().tools, engine.info.producible)
    prompt = prompt_of_length(engine.tokenizer, tokens)
    result = engine.generate(prompt, max_tokens=32, processors=(grammar.processor(),))
    return {"peak_rss_mb": peak_rss_kb() / 1024, "context_tokens": result.prompt_tokens + result.new_tokens}


def peak_rss_kb() -> int:
    """This process's peak resident set. VmHWM, not ru_maxrss: on Linux a child started by
    fork+exec inherits its parent's ru_maxrss, which would report the benchmark's own size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    kind, directory = sys.argv[1], Path(sys.argv[2])
    out = cold(directory) if kind == "cold" else rss(directory, int(sys.argv[3]), sys.argv[4:] != ["unverified"])
    print(json.dumps(out))

"""Does the INT8 engine write what the fp32 PyTorch model writes? Greedy, token for token.

Both decode greedily (no grammar) from the same rendered prompt of each seed case, up
to `max_tokens` or the end of the turn. The PyTorch answers are slow to make on two
cores, so they are cached in models/built/bench-cache/, one file per base + adapter.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

STOPS = (1, 106)  # <eos>, <end_of_turn>
Log = Callable[[str], None]


def _answer(tokens: Sequence[int]) -> list[int]:
    """The answer proper: up to (not including) the first stop token."""
    out = []
    for t in tokens:
        if t in STOPS:
            break
        out.append(int(t))
    return out


@dataclass(frozen=True)
class Agreement:
    cases: int
    identical: int  # same greedy answer, token for token
    inside_output_vocab: int  # fp32 answers made only of tokens the restricted output layer can write

    @property
    def rate(self) -> float:
        return self.identical / self.cases if self.cases else 0.0


def reference_answers(model: Any, prompts: dict[str, list[int]], max_tokens: int, cache: Path,
                      log: Log) -> dict[str, list[int]]:
    """fp32 greedy answers by `transformers.generate`, cached by (case, prompt tokens, max_tokens)."""
    import torch

    stored: dict[str, list[int]] = json.loads(cache.read_text()) if cache.exists() else {}

    def key(case_id: str, ids: list[int]) -> str:
        return f"{case_id}:{max_tokens}:{hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]}"

    todo = [(cid, ids) for cid, ids in prompts.items() if key(cid, ids) not in stored]
    for n, (cid, ids) in enumerate(todo, 1):
        with torch.inference_mode():
            out = model.generate(torch.tensor([ids]), max_new_tokens=max_tokens, do_sample=False,
                                 eos_token_id=list(STOPS), pad_token_id=0)
        stored[key(cid, ids)] = out[0, len(ids):].tolist()
        if n % 10 == 0 or n == len(todo):
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(stored))
            log(f"  fp32 reference: {n}/{len(todo)} new answers")
    return {cid: stored[key(cid, ids)] for cid, ids in prompts.items()}


def engine_answers(engine, prompts: dict[str, str], prefixes: dict[str, str], max_tokens: int) -> dict[str, list[int]]:
    return {cid: list(engine.generate(p, max_tokens=max_tokens, prefix=prefixes[cid]).tokens)
            for cid, p in prompts.items()}


def compare(reference: dict[str, list[int]], ours: dict[str, list[int]],
            columns: Callable[[str], Sequence[int] | None]) -> Agreement:
    """`columns(case id)`: the tokens the engine's output layer offers for that case's prompt (None: all)."""
    same = sum(_answer(reference[c]) == _answer(ours[c]) for c in reference)
    inside = sum((kept := columns(c)) is None or set(_answer(reference[c])) <= set(np.asarray(kept).tolist())
                 for c in reference)
    return Agreement(len(reference), same, inside)

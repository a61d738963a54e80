"""A short follow-up set: the examples a change to the generator is about, plus a random replay of the rest.

Why: on a CPU without bf16 (AVX2 only) training runs at ~140 tokens/s, so a full pass over the 2.6M-token mix
takes five hours. Run 11 instead went on from run 7 for one pass over ~1,050 examples (~390k tokens, 46 min):
every example of what the generator of commit e82e3b8 added (texts of several sentences to write, lower-case
folder names, commands over the whole home folder, files right in ~) and event updates, which the dev split
misses most, topped up with a seeded random sample of everything else so the rest is not forgotten.

Run 12 (`--focus nocall`, 2,800 examples) did the same for the answers in words: every no-call example of
the kinds the dev split still gets wrong (advice about commands, references with nothing to resolve them, two
steps of which no tool does the first) and of the BFCL irrelevance kinds, 1,428, with a replay of 1,372 others.

Run 13 (`--focus forms`) went on from run 7 with every call to a `synthetic.FORM_FAMILIES` declaration (a city
with its state, a rate as a decimal, an amount in words as a number, flags a phrase switches on), the BFCL
simple_python misses of the soup of runs 7, 9, 11 and 12 that are about reading the declaration.

    python -m training.data.focus --data train.jsonl --out focus.jsonl [--focus nocall --total 2800 --seed 12]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from training.data.synthetic import FORM_FAMILIES

# Path parts only the new generator writes (catalog_gen.SUBDIRS, folder_in).
NEW_FOLDERS = ("reports", "blog", "rust-playground", "/data", "old-stuff", "photos 2024", "invoices", "/tmp",
               "~/sites", "~/datasets")


NOCALL_SOURCES = ("nocall", "seed", "seal-irrelevant", "synthetic-irrelevant")


def is_nocall_focus(record: dict) -> bool:
    """A reply in words where a model that calls too eagerly would call (run 12)."""
    return not record.get("calls") and record["source"] in NOCALL_SOURCES


def is_focus(record: dict) -> bool:
    """Whether a training record (a line of train.jsonl) shows what the generator of e82e3b8 added (run 11)."""
    for call in record.get("calls") or []:
        args = call.get("arguments", {})
        if call["name"] == "write_file" and len(args.get("content", "")) > 40:
            return True
        if re.search(r" ~( |$)", args.get("command", "")):
            return True
        if any(part in json.dumps(args) for part in NEW_FOLDERS) or call["name"] == "update_event":
            return True
    return False


FORM_NAMES = frozenset(name for family in FORM_FAMILIES for name in family.names)


def is_forms_focus(record: dict) -> bool:
    """A call to a declaration that asks for a form the request does not say, or a flag a phrase sets (run 13)."""
    return any(call["name"] in FORM_NAMES for call in record.get("calls") or [])


FOCUS = {"generator": is_focus, "nocall": is_nocall_focus, "forms": is_forms_focus}


def select(records: list[dict], total: int, seed: int,
           focus_of: Callable[[dict], bool] = is_focus) -> list[dict]:
    """The focus records topped up to `total` with a random replay of the others, shuffled."""
    rng = random.Random(seed)
    focus = [r for r in records if focus_of(r)]
    rest = [r for r in records if not focus_of(r)]
    chosen = focus + rng.sample(rest, max(total - len(focus), 0))
    rng.shuffle(chosen)
    return chosen


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="train.jsonl from training.data.generate")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--total", type=int, default=1050)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--focus", choices=sorted(FOCUS), default="generator", help="which examples all go in")
    args = ap.parse_args(argv)
    records = [json.loads(line) for line in args.data.read_text("utf-8").splitlines()]
    focus_of = FOCUS[args.focus]
    chosen = select(records, args.total, args.seed, focus_of)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen), "utf-8")
    print(json.dumps({"examples": len(chosen), "focus": sum(map(focus_of, chosen))}))


if __name__ == "__main__":
    main()

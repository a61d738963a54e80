"""A short follow-up set: the examples a change to the generator is about, plus a random replay of the rest.

Why: on a CPU without bf16 (AVX2 only) training runs at ~140 tokens/s, so a full pass over the 2.6M-token mix
takes five hours. Run 11 instead went on from run 7 for one pass over ~1,050 examples (~390k tokens, 46 min):
every example of what the generator of commit e82e3b8 added (texts of several sentences to write, lower-case
folder names, commands over the whole home folder, files right in ~) and event updates, which the dev split
misses most, topped up with a seeded random sample of everything else so the rest is not forgotten.

    python -m training.data.focus --data train.jsonl --out focus.jsonl     # ~2 s
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

# Path parts only the new generator writes (catalog_gen.SUBDIRS, folder_in).
NEW_FOLDERS = ("reports", "blog", "rust-playground", "/data", "old-stuff", "photos 2024", "invoices", "/tmp",
               "~/sites", "~/datasets")


def is_focus(record: dict) -> bool:
    """Whether a training record (a line of train.jsonl) shows what the follow-up is about."""
    for call in record.get("calls") or []:
        args = call.get("arguments", {})
        if call["name"] == "write_file" and len(args.get("content", "")) > 40:
            return True
        if re.search(r" ~( |$)", args.get("command", "")):
            return True
        if any(part in json.dumps(args) for part in NEW_FOLDERS) or call["name"] == "update_event":
            return True
    return False


def select(records: list[dict], total: int, seed: int) -> list[dict]:
    """The focus records topped up to `total` with a random replay of the others, shuffled."""
    rng = random.Random(seed)
    focus = [r for r in records if is_focus(r)]
    rest = [r for r in records if not is_focus(r)]
    chosen = focus + rng.sample(rest, max(total - len(focus), 0))
    rng.shuffle(chosen)
    return chosen


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="train.jsonl from training.data.generate")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--total", type=int, default=1050)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)
    records = [json.loads(line) for line in args.data.read_text("utf-8").splitlines()]
    chosen = select(records, args.total, args.seed)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen), "utf-8")
    print(json.dumps({"examples": len(chosen), "focus": sum(map(is_focus, chosen))}))


if __name__ == "__main__":
    main()

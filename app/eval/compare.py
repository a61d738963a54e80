"""Two prediction files of the same cases side by side: which cases each passes, and whether that is noise.

    python -m app.eval.compare BEFORE.jsonl AFTER.jsonl

Why: the dev split has 123 cases, and candidate adapters were long compared by their totals ("100 against 98").
A candidate that gains three cases and loses five is not shown to be worse by that: only the cases on which
the two disagree carry information, and with few of them an exact McNemar test (a sign test on those cases)
says how often a difference that large comes from two equally good models. The 95 % Wilson interval beside
each pass rate says how far a set of this size pins it down.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from app.errors import DeskmateError


@dataclass(frozen=True)
class Comparison:
    """The cases both files hold, scored by `passed`; `gained` pass only after, `lost` only before."""

    n: int
    before: int
    after: int
    gained: tuple[str, ...]
    lost: tuple[str, ...]

    @property
    def p_value(self) -> float:
        """Exact two-sided McNemar p: the chance of a split at least this uneven among the disagreeing cases
        if each were equally likely to go either way."""
        b, c = len(self.gained), len(self.lost)
        k, m = min(b, c), b + c
        if m == 0:
            return 1.0
        tail = sum(math.comb(m, i) for i in range(k + 1)) / 2**m
        return min(1.0, 2 * tail)


def wilson(passed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a pass rate (it stays inside 0-1 for rates near either end)."""
    if n == 0:
        return 0.0, 1.0
    p = passed / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _passed(path: Path) -> dict[str, bool]:
    try:
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise DeskmateError(f"Could not read the predictions in {path}: {exc}") from exc
    if any("passed" not in r or "id" not in r for r in rows):
        raise DeskmateError(f"{path} is not a file written by `deskmate eval --predictions` "
                            "(a line lacks id or passed).")
    return {r["id"]: bool(r["passed"]) for r in rows}


def compare(before: Path, after: Path) -> Comparison:
    """Score two prediction files on the cases they share (in `before`'s order)."""
    a, b = _passed(before), _passed(after)
    shared = [i for i in a if i in b]
    if not shared:
        raise DeskmateError(f"{before} and {after} share no case ids; compare predictions of the same cases.")
    return Comparison(len(shared), sum(a[i] for i in shared), sum(b[i] for i in shared),
                      tuple(i for i in shared if b[i] and not a[i]), tuple(i for i in shared if a[i] and not b[i]))


def report(c: Comparison) -> str:
    def rate(k: int) -> str:
        lo, hi = wilson(k, c.n)
        return f"{k}/{c.n} ({100 * k / c.n:.1f} %, 95 % interval {100 * lo:.1f}-{100 * hi:.1f})"
    lines = [f"before  {rate(c.before)}", f"after   {rate(c.after)}",
             f"gained  {len(c.gained)}: {', '.join(c.gained) or '-'}",
             f"lost    {len(c.lost)}: {', '.join(c.lost) or '-'}",
             f"exact McNemar p = {c.p_value:.3f}" + ("  (as likely as not noise)" if c.p_value >= 0.5 else "")]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    args = ap.parse_args(argv)
    try:
        c = compare(args.before, args.after)
    except DeskmateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report(c))
    print(json.dumps({"n": c.n, "before": c.before, "after": c.after, "gained": list(c.gained),
                      "lost": list(c.lost), "p_value": round(c.p_value, 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

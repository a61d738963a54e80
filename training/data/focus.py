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
simple_python misses of the soup of runs 7, 9, 11 and 12 that are about reading the declaration. In the soup
it cost answers in words (BFCL irrelevance 72.9 -> 70.4 %), so run 14 adds `--also near-forms=300`: requests
a form-family declaration cannot serve, answered in words.

    python -m training.data.focus --data train.jsonl --out focus.jsonl [--focus nocall --total 2800 --seed 12]
    python -m training.data.focus ... --focus forms --also near-forms=300 --total 1080 --seed 14

Run 15 went on from the shipped soup itself, merged into the base (`finetune --base-adapter`), on a sample of
every kind above plus a replay, so that what each ingredient learned, and the soup diluted, is trained once more
in one place; `--focus-limit` keeps the forms from taking the set over, as they did in run 13:

    python -m training.data.focus ... --focus forms --focus-limit 350 --also near-forms=150 --also nocall=400 \
        --also generator=300 --total 1700 --seed 15

Run 15 lost BFCL parallel (a call per item of a list): its set had 148 answers of several calls in 1,700. Run 16
goes on from the shipped adapter (soup and stacked/) with those answers first:

    python -m training.data.focus ... --focus parallel --focus-limit 550 --also nocall=300 --also forms=200 \
        --also near-forms=100 --also generator=250 --total 1700 --seed 16

Run 17 goes on from the shipped adapter with follow-ups that point back at a listing (`history.reference_examples`,
new in the generator), the kind the dev split's history cases miss:

    python -m training.data.focus ... --focus reference --focus-limit 500 --also nocall=300 --also parallel=150 \
        --also forms=150 --also generator=200 --total 1500 --seed 17

Run 18 goes on from the shipped adapter with declarations that take a list (`arrays.array_examples`, new in the
generator: one call holding every item), beside several-call answers to scalar parameters as the contrast:

    python -m training.data.focus ... --focus array --focus-limit 600 --also parallel=300 --also nocall=300 \
        --also generator=150 --also forms=100 --total 1700 --seed 18

Run 18 called far more readily where no offered function fits (BFCL irrelevance 77.9 -> 66.7 %); run 19 takes
fewer list calls and every request on a list family's subject that its function cannot serve (new in the
generator, 150 a seed), with more answers in words beside them:

    python -m training.data.focus ... --focus array --focus-limit 500 --also array-near=450 --also nocall=300 \
        --also parallel=200 --also generator=100 --also forms=50 --total 1700 --seed 19

Run 20 went on from run 7 instead (an ingredient, as run 14 was) with the list calls and the near misses of the
list and form families; the shipped adapter plus a quarter of its change gained irrelevance and lost dev cases,
having seen ~100 calls to the catalog in 1,500. Run 21 is the same with a replay of the catalog's own calls beside it:

    python -m training.data.focus ... --focus array --focus-limit 450 --also array-near=300 --also near-forms=150 \
        --also catalog=450 --also parallel=100 --total 1600 --seed 21

Every candidate of runs 18-21 lost the same two dev cases: a calendar request with no calendar granted answered
with a folder, and `wc -l` run with the file as its `cwd`. Run 22 is run 20 with the examples that teach those two
beside it (not shipped: its refusals came back where the group was granted, and the `cwd` habit stayed):

    python -m training.data.focus ... --focus array --focus-limit 450 --also array-near=350 --also near-forms=200 \
        --also nocall=250 --also ungranted=200 --also file-command=137 --also forms=100 --also parallel=50 \
        --total 1850 --seed 22

The misses most common to the dev split, the holdout and BFCL are now a named optional argument left out: the
folder of a search, the `cwd` of a command, the location of an event, the flag a phrase sets ("including the
precipitation"). Run 23 went on from run 7 with calls that give an optional argument of their declaration (not
shipped: BFCL's left-out flags stayed left out, docs/evaluation.md):

    python -m training.data.focus ... --focus optional --focus-limit 700 --also nocall=250 --also near-forms=100 \
        --also array=150 --also parallel=100 --also ungranted=50 --total 1600 --seed 23

Run 24 went on from the shipped adapter (`finetune --base-adapter`) with new events whose request names the calendar
as where they go, which the shipped model read as the location (not shipped: BFCL irrelevance fell 4 points):

    python -m training.data.focus ... --focus calendar-target --focus-limit 300 --also catalog=200 --also nocall=120 \
        --also optional=100 --also parallel=80 --also forms=50 --also array=50 --total 1000 --seed 24
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from app.tools.catalog import Catalog
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


_DECLARES_FORM = re.compile(r"^(%s)\(" % "|".join(sorted(FORM_NAMES)), re.MULTILINE)


def is_near_forms(record: dict) -> bool:
    """An answer in words to a request the form-family declarations offered cannot serve (run 14)."""
    return not record.get("calls") and bool(_DECLARES_FORM.search(record["prompt"]))


def is_parallel(record: dict) -> bool:
    """Several calls in one answer: one function per item of a list, or two steps at once (run 16)."""
    return len(record.get("calls") or []) >= 2


def is_reference(record: dict) -> bool:
    """A follow-up that points back at an item of a listing: 'cancel the second one' (run 17)."""
    return record["source"] == "reference"


def is_array(record: dict) -> bool:
    """A call whose declaration takes a list: every item in one call (`arrays.array_examples`, run 18)."""
    return record["source"] == "synthetic-array"


def is_array_near(record: dict) -> bool:
    """A request on a list family's subject that its function cannot serve, answered in words (run 19)."""
    return record["id"].startswith("synan-")


CATALOG_NAMES = frozenset(tool.name for tool in Catalog.builtin())


def is_catalog(record: dict) -> bool:
    """Calls to the built-in catalog's tools: a replay meant to keep a lesson about other declarations from
    drifting on Deskmate's own job (run 21; it did not keep the dev cases, docs/evaluation.md)."""
    calls = record.get("calls") or []
    return bool(calls) and all(call["name"] in CATALOG_NAMES for call in calls)


def is_ungranted(record: dict) -> bool:
    """A catalog request whose group is not granted, answered in words: "add 'Flight to Oslo' on July 9" with no
    calendar must not become a folder (the dev case every list-lesson candidate lost, run 22)."""
    return record["source"] == "ungranted"


_FILE_IN_COMMAND = re.compile(r"~?/[^\s'\"]*\.\w{1,5}\b")


def is_file_command(record: dict) -> bool:
    """A shell command on a file named in the command itself, with no `cwd`: `wc -l ~/data.csv`, not
    `wc -l` run "in" the file (the other dev case those candidates lost, run 22)."""
    return any(call["name"] == "run_command" and "cwd" not in call["arguments"]
               and _FILE_IN_COMMAND.search(call["arguments"].get("command", ""))
               for call in record.get("calls") or [])


# A declaration line of the prompt (`render.declare`): its name, then its parameters up to the closing parenthesis.
_DECLARATION = re.compile(r"^([\w.\-]+)\((.*?)\)(?: - |$)", re.MULTILINE)
_OPTIONAL = re.compile(r"(?:^|, )([\w.\-]+)\?")


def is_optional(record: dict) -> bool:
    """A call that gives an optional argument of its declaration, because the request names it: the folder of a
    search, the `cwd` of a command, a flag a phrase sets (run 23)."""
    declared = {m.group(1): set(_OPTIONAL.findall(m.group(2))) for m in _DECLARATION.finditer(record["prompt"])}
    return any(declared.get(call["name"], set()) & set(call["arguments"]) for call in record.get("calls") or [])


def is_calendar_target(record: dict) -> bool:
    """A new event whose request names the calendar as where it goes ("... to my calendar"), not a place (run 24)."""
    return record["source"] == "calendar-target"


FOCUS = {"generator": is_focus, "catalog": is_catalog, "parallel": is_parallel, "nocall": is_nocall_focus,
         "forms": is_forms_focus, "near-forms": is_near_forms, "reference": is_reference, "array": is_array,
         "array-near": is_array_near, "ungranted": is_ungranted, "file-command": is_file_command,
         "optional": is_optional, "calendar-target": is_calendar_target}


def select(records: list[dict], total: int, seed: int,
           focus_of: Callable[[dict], bool] = is_focus,
           also: dict[Callable[[dict], bool], int] | None = None, focus_limit: int = 0) -> list[dict]:
    """The focus records (at most `focus_limit` of them at random, if set), `also`'s counts of other kinds at
    random, then a random replay of the rest up to `total`, shuffled."""
    rng = random.Random(seed)
    chosen = [r for r in records if focus_of(r)]
    rest = [r for r in records if not focus_of(r)]
    if focus_limit and len(chosen) > focus_limit:
        chosen = rng.sample(chosen, focus_limit)  # the focus records left out are not replayed either
    for kind, count in (also or {}).items():
        pool = [r for r in rest if kind(r)]
        extra = rng.sample(pool, min(count, len(pool)))
        taken = {id(r) for r in extra}
        chosen += extra
        rest = [r for r in rest if id(r) not in taken]
    chosen += rng.sample(rest, max(total - len(chosen), 0))
    rng.shuffle(chosen)
    return chosen


def _also(text: str) -> tuple[str, int]:
    kind, _, count = text.partition("=")
    if kind not in FOCUS or not count.isdigit():
        raise argparse.ArgumentTypeError(f"expected KIND=COUNT with KIND one of {', '.join(sorted(FOCUS))}")
    return kind, int(count)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="train.jsonl from training.data.generate")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--total", type=int, default=1050)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--focus", choices=sorted(FOCUS), default="generator", help="which examples all go in")
    ap.add_argument("--focus-limit", type=int, default=0, metavar="N",
                    help="take N of the focus examples at random instead of all")
    ap.add_argument("--also", type=_also, action="append", default=[], metavar="KIND=COUNT",
                    help="COUNT random examples of another kind before the replay (repeatable)")
    args = ap.parse_args(argv)
    records = [json.loads(line) for line in args.data.read_text("utf-8").splitlines()]
    focus_of = FOCUS[args.focus]
    also = {FOCUS[kind]: count for kind, count in args.also}
    chosen = select(records, args.total, args.seed, focus_of, also, args.focus_limit)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen), "utf-8")
    counts = {kind: sum(map(FOCUS[kind], chosen)) for kind in [args.focus, *(k for k, _ in args.also)]}
    print(json.dumps({"examples": len(chosen), "focus": counts}))


if __name__ == "__main__":
    main()

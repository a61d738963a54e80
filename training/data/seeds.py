"""The seed cases: a deterministic dev split, and train cases turned into Examples.

The dev split is stratified by first expected tool (no-call is its own stratum) and
drawn with a fixed seed, so `training/data/dev.jsonl` is the same on every machine.
Seed no-call cases carry no answer text, so one is written here from the case's
grant and the kind of request (the evaluation only checks that no call is made).
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from app.calls import ToolCall
from app.prompt.render import Context, Message, messages_from_history
from app.tools.catalog import Catalog

from training.data.common import Example, conversation, not_granted_text, random_home, random_now, say

SHARED = Path(__file__).resolve().parents[3] / "shared"  # ../shared beside the checkout
SEED_DIR = SHARED / "data" / "seed"
DEV_SHARE = 0.15
SPLIT_SEED = 20261126


def load_cases(seed_dir: Path = SEED_DIR) -> list[dict[str, Any]]:
    cases = []
    for path in sorted(Path(seed_dir).glob("*.jsonl")):
        cases += [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return cases


def stratum(case: dict[str, Any]) -> str:
    return case["expected"][0]["name"] if case["expected"] else "(none)"


def split(cases: list[dict[str, Any]], share: float = DEV_SHARE, seed: int = SPLIT_SEED) -> tuple[list, list]:
    """(train, dev): per stratum, round(share * n) cases (at least one) go to dev."""
    by: dict[str, list] = defaultdict(list)
    for case in sorted(cases, key=lambda c: c["id"]):
        by[stratum(case)].append(case)
    rng = random.Random(seed)
    dev_ids: set[str] = set()
    for name in sorted(by):
        group = by[name]
        k = max(1, round(share * len(group)))
        dev_ids |= {c["id"] for c in rng.sample(group, k)}
    train = [c for c in cases if c["id"] not in dev_ids]
    dev = [c for c in cases if c["id"] in dev_ids]
    return train, dev


def first_value(value: Any) -> Any:
    """A training target takes the first of an `any_of` list (cases.md)."""
    if isinstance(value, dict) and "any_of" in value:
        return value["any_of"][0]
    return value


def case_context(case: dict[str, Any]) -> Context:
    return Context(datetime.fromisoformat(case["now"]), case["home"], tuple(case.get("folders") or ("~",)))


# --- words for the seed no-call cases -------------------------------------------------------------

_GROUP_HINTS = (
    ("calendar", r"calendar|meeting|standup|event|free hour|schedule|\badd '|appointment"),
    ("system", r"battery|cpu|process|top processes|been on|memory|\bkill\b"),
    ("shell", r"^run |git |pip |npm |ping |^(sudo )"),
    ("files", r"folder|file|downloads|desktop|documents|pictures|~/|\.txt|\.zip|\.png|resume"),
)
_UNSUPPORTED = (
    (r"e-?mail", "send email"), (r"\btext\b|sms", "send text messages"), (r"web|flights", "search the web"),
    (r"weather", "check the weather"), (r"play .*music|music", "play music"), (r"order|buy|amazon", "order or buy things"),
    (r"book a table|book me|call ", "make phone calls or bookings"), (r"twitter|post ", "post on social media"),
    (r"invite", "send invitations"), (r"share", "share things with other people"), (r"sync", "sync with online services"),
    (r"accept", "answer meeting invitations"), (r"convert", "convert documents"), (r"zip", "make zip archives"),
    (r"restore|trash", "restore files from the trash"), (r"repeat", "make repeating events"),
    (r"translate", "translate"),
)
_KNOWLEDGE = {
    "how many days does february 2028 have?": "February 2028 has 29 days, since 2028 is a leap year.",
    "how do i show hidden files in finder?": "In Finder, press Cmd+Shift+. (period) to show or hide hidden files.",
    "what's the difference between a .docx and a .doc file?": ".doc is the old binary Word format; .docx is the newer, zipped XML format used since Word 2007.",
    "what's the capital of australia?": "The capital of Australia is Canberra.",
    "whats 15% of 240": "15% of 240 is 36.",
    "how many minutes are in 3.5 hours": "3.5 hours is 210 minutes.",
    "what does ram actually stand for": "RAM stands for Random Access Memory.",
    "what's a symlink, in simple words?": "A symlink is a shortcut: a small file that points to another file or folder.",
    "difference between kill and kill -9?": "kill sends SIGTERM, asking the process to exit cleanly; kill -9 sends SIGKILL, which stops it at once without cleanup.",
    "how do i make a folder from the terminal? just tell me the command, don't do anything": "Use mkdir, for example: mkdir my-folder (add -p to create missing parent folders).",
    "translate 'good morning' into japanese": "'Good morning' in Japanese is ohayou gozaimasu (おはようございます).",
    "is 221 a prime number?": "No, 221 is not prime: it is 13 × 17.",
    "what's the difference between moving something to the trash and deleting it permanently?": "The trash keeps the item so you can restore it; deleting permanently removes it for good.",
    "how do i exit vim": "Press Esc, then type :q and Enter to quit, :wq to save and quit, or :q! to quit without saving.",
    "what does the -r flag do in grep?": "grep -r searches recursively through all files in a folder and its subfolders.",
    "what's the difference between sigterm and sigkill?": "SIGTERM asks a process to stop and lets it clean up; SIGKILL ends it immediately and cannot be caught.",
    "explain what git rebase -i headx3 does": "",
    "is ps aux or top better for seeing memory use?": "top (or htop) shows memory use live and sorted; ps aux gives a one-time snapshot you can sort or filter.",
    "write me a bash one-liner that renames all .jpeg files to .jpg, i'll run it myself": "for f in *.jpeg; do mv \"$f\" \"${f%.jpeg}.jpg\"; done",
    "what does chmod 755 mean?": "chmod 755 lets the owner read, write and run the file, and everyone else read and run it.",
    "explain what git rebase -i head~3 does": "It opens an editor listing your last three commits so you can reorder, edit, squash or drop them.",
}
_CHITCHAT = ("You're welcome!", "Happy to help.", "Hi! What can I do for you?", "Anytime. Let me know if you need anything else.")


def nocall_text(case: dict[str, Any], rng: random.Random) -> str | None:
    """Words for a seed case whose answer is no call; None when no fitting answer can be written here."""
    request = case["request"].strip()
    low = request.lower()
    if low in _KNOWLEDGE:
        return _KNOWLEDGE[low] or None
    granted = set(case["granted"])
    for group, pattern in _GROUP_HINTS:
        if re.search(pattern, low) and group not in granted:
            if group == "system" and "shell" in granted and "kill" not in low:
                continue
            return not_granted_text(rng, group)
    for pattern, what in _UNSUPPORTED:
        if re.search(pattern, low):
            return f"Sorry, I can't {what}: none of my tools can do that."
    if "~/" in low or "folder" in low:
        folders = ", ".join(case.get("folders") or ["~"])
        return f"That folder isn't one you granted me (granted: {folders}). You can add it in Settings."
    if re.search(r"rm -rf|delete everything|kill all", low):
        return "I won't do that: it would remove or stop far too much. Tell me exactly what you want gone."
    if re.search(r"^(hi|hey|hello|good (morning|night)|thanks|thank you|ok|you're|bye|never mind)", low):
        if "bye" in low or "night" in low:
            return "Good night!"
        if "never mind" in low:
            return "Okay, forgotten."
        return rng.choice(_CHITCHAT)
    if "what can you do" in low:
        return "I can work with your files, calendar, shell commands and system, for the groups you've granted. Just ask."
    if "like mondays" in low:
        return "I don't have feelings about days, but I can help make your Mondays easier."
    return rng.choice((
        "Could you tell me a bit more? Which one do you mean, and what exactly should I do?",
        "I'm not sure what you mean. Can you say which file, event or program, and what to do with it?",
        "Happy to help, but I need more detail first: what exactly should I do?",
    ))


def case_to_example(case: dict[str, Any], catalog: Catalog, rng: random.Random, *, vary: bool = False) -> Example | None:
    history = messages_from_history(case.get("history") or [])
    ctx = case_context(case)
    groups = tuple(case["granted"])
    if vary:
        # Same request and answer in another place and time: the decision must not hinge on them.
        home = random_home(rng)
        ctx = Context(random_now(rng), home, ctx.folders)
        if case["expected"] and rng.random() < 0.5:
            groups = tuple(g for g in ("files", "calendar", "shell", "system"))
    messages = history + [Message("user", case["request"])]
    if case["expected"]:
        answer = Message("assistant", calls=tuple(
            ToolCall(e["name"], {k: first_value(v) for k, v in e["arguments"].items()}) for e in case["expected"]))
    else:
        if history and history[-1].role == "assistant" and any(m.role == "tool" for m in history):
            return None  # the answer would have to quote the earlier result; not written by rule
        text = nocall_text(case, rng)
        if text is None:
            return None
        answer = say(text)
    suffix = "-v" if vary else ""
    return Example(conversation(catalog, groups, ctx, messages), answer, "seed", case["id"] + suffix)


def seed_examples(cases: Iterable[dict[str, Any]], catalog: Catalog, rng: random.Random, variants: float) -> list[Example]:
    out = []
    for case in cases:
        ex = case_to_example(case, catalog, rng)
        if ex:
            out.append(ex)
        if case["expected"] and rng.random() < variants:
            ex = case_to_example(case, catalog, rng, vary=True)
            if ex:
                out.append(ex)
    return out

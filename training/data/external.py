"""Tools from outside the catalog, so the model learns to read declarations.

Seal-Tools queries (only those whose calls do not feed one another through
`API_call_N`) are offered their own tools plus a few distractors, or, for an
irrelevance example, only tools that do not fit (answer in words). The glaive demo
conversations are turned into the same Conversation shape. All declare group
"external", so render_prefix writes their descriptions.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from app.calls import ToolCall
from app.prompt.render import Conversation, Message
from app.tools.catalog import ArgumentError, ToolSpec

from training.data.common import NO_FIT, Example, home_context, say

EXTERNAL_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "external"  # ../shared beside the checkout
SEAL_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array", "dict": "object"}

def seal_tools(root: Path = EXTERNAL_DIR) -> dict[str, ToolSpec]:
    out = {}
    for line in (root / "seal_tools/raw/tool.jsonl").read_text("utf-8").splitlines():
        t = json.loads(line)
        props = {}
        for name, p in t["parameters"].items():
            schema: dict[str, Any] = {"type": SEAL_TYPES.get(p.get("type", "str"), "string")}
            if p.get("description"):
                schema["description"] = p["description"]
            props[name] = schema
        required = [r for r in t.get("required", []) if r in props]
        out[t["api_name"]] = ToolSpec(t["api_name"], t.get("api_description", ""),
                                      {"type": "object", "properties": props, "required": required})
    return out


def seal_fields(root: Path = EXTERNAL_DIR) -> dict[str, str]:
    """Each Seal tool's field ("Sports/Basketball"): distractors from the same field make the name matter."""
    rows = (json.loads(line) for line in (root / "seal_tools/raw/tool.jsonl").read_text("utf-8").splitlines())
    return {t["api_name"]: t.get("field", "") for t in rows}


def _distractors(rng: random.Random, needed: list[str], names: list[str], fields: dict[str, str],
                 by_field: dict[str, list[str]]) -> list[str]:
    """0-3 random tools, or (BFCL multiple offers siblings: area of a circle beside area of a triangle)
    1-4 tools of the first needed tool's own field, or else of its area."""
    field = fields.get(needed[0], "")
    siblings = [x for x in by_field.get(field, []) if x not in needed]
    if not siblings:  # a field of one tool: its area ("Sports") instead
        siblings = [x for x in by_field.get(field.split("/")[0], []) if x not in needed]
    if siblings and rng.random() < 0.6:
        return rng.sample(siblings, min(len(siblings), rng.randint(1, 4)))
    return [x for x in rng.sample(names, rng.randint(0, 3)) if x not in needed]


def _coerce(spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any] | None:
    """Seal's values are often strings for numbers; make them fit the schema or give up."""
    fixed = {}
    for k, v in args.items():
        kind = spec.properties.get(k, {}).get("type")
        try:
            if kind == "integer" and isinstance(v, str):
                v = int(v)
            elif kind == "number" and isinstance(v, str):
                v = float(v)
            elif kind == "boolean" and isinstance(v, str) and v.lower() in ("true", "false"):
                v = v.lower() == "true"
            elif kind == "string" and isinstance(v, (int, float)) and not isinstance(v, bool):
                v = str(v)
        except ValueError:
            return None
        fixed[k] = v
    try:
        return spec.validate(fixed)
    except ArgumentError:
        return None


def seal_examples(rng: random.Random, n_calls: int, n_irrelevant: int, root: Path = EXTERNAL_DIR) -> list[Example]:
    tools = seal_tools(root)
    names = sorted(tools)
    fields = seal_fields(root)
    by_field: dict[str, list[str]] = {}
    for name in names:
        field = fields.get(name, "")
        for key in {field, field.split("/")[0]}:
            by_field.setdefault(key, []).append(name)
    rows = []
    for split in ("dev", "test_in_domain", "test_out_domain"):
        for line in (root / f"seal_tools/raw/{split}.jsonl").read_text("utf-8").splitlines():
            rows.append(json.loads(line))
    usable = []
    for row in rows:
        if "API_call_" in json.dumps([c["parameters"] for c in row["calling"]]):
            continue  # nested: one call feeds another
        if any(c["api"] not in tools for c in row["calling"]) or len(row["calling"]) > 3:
            continue
        fixed = [_coerce(tools[c["api"]], c["parameters"]) for c in row["calling"]]
        if any(f is None for f in fixed):
            continue
        usable.append((row, [ToolCall(c["api"], f) for c, f in zip(row["calling"], fixed)]))
    rng.shuffle(usable)
    out = []
    for row, answer_calls in usable[:n_calls]:
        needed = list(dict.fromkeys(c.name for c in answer_calls))
        offered = [tools[x] for x in needed + _distractors(rng, needed, names, fields, by_field)]
        rng.shuffle(offered)
        conv = Conversation(tuple(offered), home_context(rng), (Message("user", row["query"]),))
        out.append(Example(conv, Message("assistant", calls=tuple(answer_calls)), "seal", f"seal-{row['id']}"))
    for row, answer_calls in usable[n_calls:n_calls + n_irrelevant]:
        needed = {c.name for c in answer_calls}
        offered = [tools[x] for x in rng.sample(names, rng.randint(1, 3)) if x not in needed]
        if not offered:
            continue
        conv = Conversation(tuple(offered), home_context(rng), (Message("user", row["query"]),))
        out.append(Example(conv, say(rng.choice(NO_FIT)), "seal-irrelevant", f"seal-irr-{row['id']}"))
    return out


def glaive_examples(rng: random.Random, max_answer_chars: int = 300, root: Path = EXTERNAL_DIR) -> list[Example]:
    """Every assistant turn (call or short answer) of the glaive demo, with the turns before it."""
    data = json.loads((root / "glaive_demo/glaive_toolcall_en_demo.json").read_text("utf-8"))
    out = []
    for i, item in enumerate(data):
        specs = [ToolSpec(t["name"], t.get("description", ""), t.get("parameters") or {"type": "object", "properties": {}})
                 for t in json.loads(item.get("tools") or "[]")]
        by_name = {s.name: s for s in specs}
        ctx = home_context(rng)
        texts = 0
        history: list[Message] = []
        for j, turn in enumerate(item["conversations"]):
            role, value = turn["from"], turn["value"]
            if role == "human":
                history.append(Message("user", value))
            elif role == "observation":
                history.append(Message("tool", value))
            elif role == "function_call":
                obj = json.loads(value)
                args = obj.get("arguments") or {}
                if isinstance(args, str):
                    args = json.loads(args)
                spec = by_name.get(obj["name"])
                if spec is None:
                    break
                try:
                    args = spec.validate(args)
                except ArgumentError:
                    break
                answer = Message("assistant", calls=(ToolCall(obj["name"], args),))
                if history and history[0].role == "user":
                    out.append(Example(Conversation(tuple(specs), ctx, tuple(history)), answer, "glaive", f"gl-{i}-{j}"))
                history.append(answer)
            else:  # gpt: keep short answers that follow a tool result, or that decline with tools on offer
                answer = say(value.strip())
                after_tool = bool(history) and history[-1].role == "tool"
                if (history and history[0].role == "user" and len(value) <= max_answer_chars
                        and (after_tool or (specs and texts < 1))):
                    texts += 0 if after_tool else 1
                    out.append(Example(Conversation(tuple(specs), ctx, tuple(history)), answer, "glaive", f"gl-{i}-{j}"))
                history.append(answer)
    return out

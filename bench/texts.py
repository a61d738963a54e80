"""Prompts of a given length made of the app's own kind of text (instructions, tool docs)."""

from __future__ import annotations

import json
from importlib import resources

from app.prompt.render import END, INSTRUCTION, START


def _english() -> str:
    raw = json.loads(resources.files("app.tools").joinpath("catalog.json").read_text("utf-8"))
    parts = [INSTRUCTION, raw.get("about", "")]
    for tool in raw["tools"]:
        parts.append(f"{tool['name']}: {tool['description']}")
        parts += [f"{k}: {v.get('description', '')}" for k, v in tool["parameters"].get("properties", {}).items()]
    return "\n".join(parts)


def prompt_of_length(tokenizer, tokens: int) -> str:
    """A Gemma user turn of about `tokens` tokens (exact up to a token at the seams)."""
    head, tail = f"<bos>{START}user\n", f"{END}\n{START}model\n"
    budget = tokens - len(tokenizer.encode(head + tail))
    body_ids: list[int] = []
    text = _english()
    piece = tokenizer.encode(text)
    while len(body_ids) < budget:
        body_ids += piece
    body = tokenizer.decode(body_ids[:budget])
    return head + body + tail

"""docs/benchmarks.md: the measured table, written between markers so hand-written notes stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

START, END = "<!-- bench:start -->", "<!-- bench:end -->"

TARGETS = {  # key: (label, target text, passes?)
    "decode_tok_s": ("Decode", ">= 100 tok/s", lambda v: v >= 100),
    "prefill_tok_s": ("Prefill, 500-token prompt", ">= 1,000 tok/s", lambda v: v >= 1000),
    "call_p50_s": ("Request -> parsed call, p50 (warm prefix)", "<= 0.4 s", lambda v: v <= 0.4),
    "call_p95_s": ("Request -> parsed call, p95 (warm prefix)", "-", None),
    "cold_start_s": ("Cold start (new process -> engine ready)", "<= 3 s", lambda v: v <= 3),
    "peak_rss_mb": ("Peak RSS, 2,000-token context", "<= 500 MB", lambda v: v <= 500),
    "model_mb": ("Model files on disk (model.onnx + data)", "<= 300 MB", lambda v: v <= 300),
    "agreement": ("INT8 = fp32 greedy answer (seed requests)", ">= 95%", lambda v: v >= 0.95),
}


def _fmt(value: Any, key: str = "") -> str:
    if value is None:
        return "n/a"
    if key == "agreement":
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 10 else f"{value:,.0f}"
    return str(value)


def render(f: dict[str, Any]) -> str:
    rows = ["| Figure | Measured | Target | Met |", "|---|---|---|---|"]
    for key, (label, target, ok) in TARGETS.items():
        value = f.get(key)
        met = "" if ok is None or value is None else ("yes" if ok(value) else "**no**")
        rows.append(f"| {label} | {_fmt(value, key)} | {target} | {met} |")
    llama = f.get("llamacpp_decode_tok_s")
    if llama:
        ratio = f["decode_tok_s"] / llama
        rows.append(f"| Decode vs llama.cpp, same run | {ratio:.2f}x | >= 1x | {'yes' if ratio >= 1 else '**no**'} |")
    side = ["| Runtime | Decode tok/s | Prefill tok/s (500-token prompt) | Files MB | What |", "|---|---|---|---|---|"]
    for name, b in f["side_by_side"].items():
        side.append(f"| {name} | {_fmt(b.get('decode_tok_s'))} | {_fmt(b.get('prefill_tok_s'))} | "
                    f"{_fmt(b.get('model_mb'))} | {b.get('note', '')} |")
    prefill = ", ".join(f"{n} tokens: {_fmt(v)} tok/s" for n, v in f["prefill_by_length"].items())
    a = f["agreement_detail"]
    c = f["calls_detail"]
    return "\n".join([
        START,
        f"Measured {f['date']} on **{f['cpu']}** ({f['cores']} cores, {f['threads']} threads used), "
        f"model `{f['model']}` ({f['output_vocab']} output tokens).  ",
        f"Reproduce: `{f['command']}`  ",
        f"Load average while measuring: {f['load_before']} before, {f['load_after']} after. {f['load_note']}",
        "",
        *rows,
        "",
        f"Prefill: {prefill}. Cold start: loaded {_fmt(f['cold_detail']['process_to_loaded_s'])} s after the "
        f"process started, first token at {_fmt(f['cold_detail']['process_to_first_token_s'])} s.",
        f"Calls: {c['cases']} seed cases (every {c.get('every', 1)}th), {c['with_call']} answered with a call "
        f"({c['well_formed']} well-formed replies); p50/p95 over all replies: "
        f"{_fmt(c['all_p50_s'])} / {_fmt(c['all_p95_s'])} s.",
        f"Agreement: {a['identical']}/{a['cases']} seed requests (every {a['every']}th case, up to "
        f"{a['max_tokens']} tokens) give the same greedy answer as PyTorch fp32; {a['inside_output_vocab']} of "
        f"the fp32 answers use only tokens of the restricted output layer.",
        "",
        "Side by side, same prompt, same threads, greedy:",
        "",
        *side,
        END,
    ])


def write(doc: Path, figures: dict[str, Any]) -> None:
    """Replace the measured block of `doc` (or append it), keeping everything else."""
    block = render(figures)
    text = doc.read_text("utf-8") if doc.exists() else "# Benchmarks\n\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, "utf-8")

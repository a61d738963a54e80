"""LoRA fine-tune of the dequantized Gemma 3 270M on rendered Deskmate examples.

    python -m training.finetune --data training/data/generated/train.jsonl --run v1 \
        --out models/adapters/deskmate-v1 --epochs 1 --time-budget-min 70

Why it looks like this:
- The loss is taken on the model's turn only, and the 262k-vocab output projection
  is applied only at those positions (hidden states from the decoder, gathered,
  then the tied head): on a CPU the full-sequence logits would cost more than the
  whole decoder.
- Examples are batched by length (little padding) under a token budget per batch,
  so memory stays flat and well under the machine's 24 GiB.
- bf16 autocast (AMX on this CPU), SDPA attention, a fixed seed. The device comes
  from `accelerate`, so the same command runs on a GPU unchanged.
- A time budget stops the run cleanly (adapter saved) if the machine is slower than
  planned; a checkpoint is saved every `--save-every-min` minutes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
PAD_TO = 32
TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass(frozen=True)
class Config:
    data: str
    run: str
    out: str
    epochs: float = 1.0
    lr: float = 5e-4
    warmup_steps: int = 30
    rank: int = 32
    alpha: int = 32
    dropout: float = 0.0
    batch_size: int = 8
    batch_tokens: int = 4096
    max_len: int = 768
    limit: int = 0
    seed: int = 0
    time_budget_min: float = 0.0
    save_every_min: float = 15.0
    bf16: bool = True
    threads: int = 0
    init_adapter: str = ""  # continue from this adapter (warm start) instead of a fresh LoRA
    base_adapter: str = ""  # merge this adapter into the base first: the new LoRA is trained on top of it


@dataclass(frozen=True)
class Item:
    """One tokenized example: `ids` = prompt + target; the loss covers ids[n_prompt:]."""

    ids: list[int]
    n_prompt: int
    source: str


def load_items(cfg: Config, tokenizer) -> tuple[list[Item], int]:
    """Tokenize prompt and target separately (as at runtime: the model continues the prompt's tokens)."""
    rows = [json.loads(line) for line in Path(cfg.data).read_text("utf-8").splitlines() if line.strip()]
    if cfg.limit:
        rows = rows[: cfg.limit]
    items, dropped = [], 0
    for row in rows:
        p = tokenizer.encode(row["prompt"]).ids
        t = tokenizer.encode(row["target"].rstrip("\n")).ids  # runtime stops at <end_of_turn>; no loss on the newline
        if len(p) + len(t) > cfg.max_len:
            dropped += 1
            continue
        items.append(Item(p + t, len(p), row.get("source", "")))
    return items, dropped


def make_batches(items: list[Item], cfg: Config, rng: random.Random) -> list[list[Item]]:
    """Sort by length, cut into batches under both limits, shuffle the batch order."""
    order = sorted(items, key=lambda it: (len(it.ids), rng.random()))
    batches, cur = [], []
    for it in order:
        longest = max([len(x.ids) for x in cur] + [len(it.ids)])
        if cur and (len(cur) >= cfg.batch_size or longest * (len(cur) + 1) > cfg.batch_tokens):
            batches.append(cur)
            cur = []
        cur.append(it)
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def collate(batch: list[Item], device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask, flat positions predicting a target token, those target tokens)."""
    width = -(-max(len(it.ids) for it in batch) // PAD_TO) * PAD_TO  # few distinct shapes: kernels are reused
    ids = torch.zeros(len(batch), width, dtype=torch.long)
    mask = torch.zeros(len(batch), width, dtype=torch.long)
    pos, labels = [], []
    for row, it in enumerate(batch):
        ids[row, : len(it.ids)] = torch.tensor(it.ids)
        mask[row, : len(it.ids)] = 1
        for j in range(it.n_prompt, len(it.ids)):
            pos.append(row * width + j - 1)  # the hidden state at j-1 predicts token j
            labels.append(it.ids[j])
    return ids.to(device), mask.to(device), torch.tensor(pos, device=device), torch.tensor(labels, device=device)


def target_loss(model, ids, mask, pos, labels, softcap: float | None) -> torch.Tensor:
    """Cross-entropy on the target tokens only, projecting to the vocabulary just there."""
    base = model.get_base_model()
    hidden = base.model(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
    picked = hidden.reshape(-1, hidden.shape[-1]).index_select(0, pos)
    logits = base.lm_head(picked).float()
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    return F.cross_entropy(logits, labels)


def learning_rate(cfg: Config, step: int, planned: int, elapsed_s: float) -> float:
    """Warmup, then linear decay to zero by the planned step or by the time budget, whichever comes first.

    Tying the decay to the clock as well means a run on a busier machine still ends
    with a cooled-down learning rate instead of being cut off at full speed.
    """
    progress = (step - 1) / max(1, planned)
    if cfg.time_budget_min:
        progress = max(progress, elapsed_s / (cfg.time_budget_min * 60))
    return cfg.lr * min(1.0, step / max(1, cfg.warmup_steps)) * max(0.0, 1.0 - progress)


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def load_base(models_dir: Path, adapter: Path | None = None):
    """The dequantized base (with `adapter` merged, if given) and the tokenizer training uses."""
    from app.model.gguf_source import base_gguf
    from app.model.loader import load_torch_model
    from app.model.tokenizer import base_tokenizer

    tokenizer = base_tokenizer(models_dir)
    model = load_torch_model(base_gguf(models_dir), adapter)
    return model, tokenizer


def plot_loss(log_path: Path, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in map(json.loads, log_path.read_text().splitlines()) if "loss" in r]
    steps = [r["step"] for r in rows]
    loss = [r["loss"] for r in rows]
    k = max(1, len(loss) // 50)
    smooth = [sum(loss[max(0, i - k): i + 1]) / len(loss[max(0, i - k): i + 1]) for i in range(len(loss))]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, loss, alpha=0.3, label="loss per step")
    ax.plot(steps, smooth, label=f"moving mean ({k + 1} steps)")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy on the model's turns")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("Deskmate LoRA fine-tune")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def summary_from_log(log_path: Path) -> tuple[Config, dict]:
    """The run's config and outcome, read back from its log (also used to redo the card of a finished run)."""
    rows = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    start = next(r for r in rows if r.get("event") == "start")
    steps = [r for r in rows if "loss" in r and "step" in r]
    losses = [r["loss"] for r in steps]
    last = steps[-1]
    summary = {"examples": start["examples"], "dropped": start["dropped"], "tokens": last["tokens"],
               "tokens_total": start["tokens"],
               "steps": len(steps), "planned_steps": start["planned_steps"],
               "stopped_early": any(r.get("event") == "time_budget" for r in rows),
               "minutes": last["elapsed_s"] / 60, "tokens_per_s": last["tok_s"],
               "peak_rss_gb": max(r["rss_gb"] for r in steps),
               "loss_start": sum(losses[:20]) / len(losses[:20]), "loss_end": sum(losses[-50:]) / len(losses[-50:]),
               "device": start["device"], "threads": start["threads"]}
    return Config(**start["config"]), summary


def finish(log_path: Path, out: Path) -> dict:
    """Write the loss curve and the model card beside the adapter."""
    cfg, summary = summary_from_log(log_path)
    plot_loss(log_path, out / "loss.png")
    write_card(out, cfg, summary)
    return summary


def write_card(out: Path, cfg: Config, summary: dict) -> None:
    stats_path = Path(cfg.data).with_name("stats.json")
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    lines = [
        "# deskmate-v1 LoRA adapter",
        "",
        "LoRA adapter for Gemma 3 270M (base: `gemma-3-270m-q4_k_m.gguf`, dequantized to fp32), trained to answer",
        "Deskmate prompts (`app/prompt/render.py`) with `call:NAME{JSON}` lines or plain words. `deskmate model build`",
        "merges it into the base and exports the INT8 ONNX model.",
        "",
        "## Data",
        f"- Generated by `python -m training.data.generate --seed 0` ({stats.get('examples', '?')} examples): "
        f"{json.dumps(stats.get('by_source', {}))}.",
        f"- No-call examples: {stats.get('no_call', '?')}; external-tool examples (Seal-Tools, glaive, synthetic declarations): {stats.get('external', '?')}.",
        f"- The dev split (`training/data/dev.jsonl`, {stats.get('dev_cases', '?')} seed cases) and the independently written holdout "
        "(`training/data/holdout.jsonl`) are never trained on; no BFCL data is used.",
        f"- {summary['examples']} examples kept for training ({summary['dropped']} longer than {cfg.max_len} tokens "
        f"dropped); {summary['tokens']:,} of their {summary.get('tokens_total', 0):,} tokens seen.",
        "",
        "## Hyperparameters",
        f"LoRA r={cfg.rank}, alpha={cfg.alpha}, dropout={cfg.dropout} on {', '.join(TARGET_MODULES)}; AdamW lr {cfg.lr} "
        f"(warmup {cfg.warmup_steps} steps, linear decay to zero by the last step or by the {cfg.time_budget_min:g}-minute "
        f"time budget, whichever comes first), up to {cfg.batch_size} examples / {cfg.batch_tokens} tokens per batch "
        f"(batched by length), {cfg.epochs} epoch(s), seed {cfg.seed}, bf16 autocast={cfg.bf16}, SDPA attention, "
        + (f"warm start from `{cfg.init_adapter}`, " if cfg.init_adapter else "")
        + (f"trained on top of `{cfg.base_adapter}` merged into the base, " if cfg.base_adapter else "")
        + "loss on the model's turn only (output projection computed only at those positions).",
        "",
        "## Training run",
        f"- Device: {summary['device']} ({summary['threads']} threads); wall time {summary['minutes']:.1f} min; "
        f"{summary['tokens_per_s']:.0f} tokens/s; peak RSS {summary['peak_rss_gb']:.1f} GB.",
        f"- Steps: {summary['steps']} of {summary['planned_steps']} planned"
        + (" (stopped by the time budget)" if summary.get("stopped_early") else "") + ".",
        f"- Loss: first 20 steps mean {summary['loss_start']:.3f}; last 50 steps mean {summary['loss_end']:.3f}.",
        "- Loss curve: `loss.png`. Log: `training/runs/<run>/log.jsonl` (not committed).",
        "",
        "## Results",
        "To be filled with MEASURED numbers from `deskmate eval` (dev split, BFCL files); see docs/evaluation.md.",
        "",
        "## Reproduce",
        "```",
        "python -m training.data.generate --seed 0 --out training/data/generated/",
        f"python -m training.finetune --data training/data/generated/train.jsonl --run {cfg.run} --out {cfg.out} "
        f"--epochs {cfg.epochs:g} --lr {cfg.lr:g} --warmup-steps {cfg.warmup_steps} --rank {cfg.rank} "
        f"--time-budget-min {cfg.time_budget_min:g}"
        + (f" --init-adapter {cfg.init_adapter}" if cfg.init_adapter else "")
        + (f" --base-adapter {cfg.base_adapter}" if cfg.base_adapter else ""),
        "```",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines), "utf-8")


def parse_args(argv: list[str] | None) -> Config:
    ap = argparse.ArgumentParser(description="LoRA fine-tune of Gemma 3 270M for Deskmate.")
    defaults = Config(data="", run="", out="")
    ap.add_argument("--data", required=True)
    ap.add_argument("--run", required=True, help="run name: logs go to training/runs/<run>/")
    ap.add_argument("--out", default=str(REPO / "models/adapters/deskmate-v1"))
    for name in ("epochs", "lr", "warmup_steps", "rank", "alpha", "dropout", "batch_size", "batch_tokens", "max_len",
                 "limit", "seed", "time_budget_min", "save_every_min", "threads", "init_adapter", "base_adapter"):
        value = getattr(defaults, name)
        ap.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    ap.add_argument("--no-bf16", dest="bf16", action="store_false")
    ap.add_argument("--finish-only", action="store_true",
                    help="do not train: redo loss.png and README.md in --out from training/runs/<run>/log.jsonl")
    ns = vars(ap.parse_args(argv))
    if ns.pop("finish_only"):
        summary = finish(REPO / "training/runs" / ns["run"] / "log.jsonl", Path(ns["out"]))
        print(json.dumps({"event": "finished", **summary}))
        sys.exit(0)
    return Config(**ns)


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    from accelerate import Accelerator
    from peft import LoraConfig, PeftModel, get_peft_model

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    device = accelerator.device
    run_dir = REPO / "training/runs" / cfg.run
    run_dir.mkdir(parents=True, exist_ok=True)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "log.jsonl"
    log = log_path.open("w", buffering=1)

    def emit(row: dict) -> None:
        log.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)

    t0 = time.time()
    # With --base-adapter (e.g. the shipped soup) the new LoRA is trained on top of it: stack the result in stacked/.
    model, tokenizer = load_base(REPO / "models/built", Path(cfg.base_adapter) if cfg.base_adapter else None)
    model.config.use_cache = False
    softcap = getattr(model.config, "final_logit_softcapping", None)
    if cfg.init_adapter:  # a second run goes on from the first one's weights (rank and targets come with them)
        model = PeftModel.from_pretrained(model, cfg.init_adapter, is_trainable=True)
    else:
        lora = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, target_modules=TARGET_MODULES,
                          bias="none", task_type="CAUSAL_LM")
        model = get_peft_model(model, lora)
    items, dropped = load_items(cfg, tokenizer)
    rng = random.Random(cfg.seed)
    epochs = max(1, math.ceil(cfg.epochs))
    schedule: list[list[Item]] = []
    for e in range(epochs):
        schedule += make_batches(items, cfg, rng)
    planned = int(len(schedule) * cfg.epochs / epochs)
    schedule = schedule[:planned]
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=0.0)
    model, optimizer = accelerator.prepare(model, optimizer)
    model.train()
    emit({"event": "start", "config": asdict(cfg), "examples": len(items), "dropped": dropped, "planned_steps": planned,
          "trainable_params": sum(p.numel() for p in trainable), "device": str(device),
          "threads": torch.get_num_threads(), "load_s": round(time.time() - t0, 1),
          "target_tokens": sum(len(i.ids) - i.n_prompt for i in items), "tokens": sum(len(i.ids) for i in items)})
    t_train = time.time()
    last_save = t_train
    tokens_seen, losses, stopped = 0, [], False
    for step, batch in enumerate(schedule, 1):
        ids, mask, pos, labels = collate(batch, device)
        lr = learning_rate(cfg, step, planned, time.time() - t_train)
        for group in optimizer.param_groups:
            group["lr"] = lr
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            loss = target_loss(accelerator.unwrap_model(model), ids, mask, pos, labels, softcap)
        accelerator.backward(loss)
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens_seen += int(mask.sum())
        elapsed = time.time() - t_train
        losses.append(loss.item())
        emit({"step": step, "loss": round(losses[-1], 4), "lr": round(lr, 7), "batch": len(batch),
              "width": ids.shape[1], "targets": len(labels), "tokens": tokens_seen, "elapsed_s": round(elapsed, 1),
              "tok_s": round(tokens_seen / elapsed, 1), "rss_gb": round(rss_gb(), 2)})
        if cfg.save_every_min and time.time() - last_save > cfg.save_every_min * 60:
            accelerator.unwrap_model(model).save_pretrained(run_dir / "checkpoint")
            last_save = time.time()
        if cfg.time_budget_min and elapsed > cfg.time_budget_min * 60:
            stopped = True
            emit({"event": "time_budget", "step": step})
            break
    accelerator.unwrap_model(model).save_pretrained(out)
    emit({"event": "saved", "out": str(out), "stopped_early": stopped})
    log.close()
    summary = finish(log_path, out)
    print(json.dumps({"event": "done", **summary}), flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""Average LoRA adapters into one: a weight-space "soup" of runs that share a starting point.

    python -m training.soup --out models/adapters/deskmate-v1 \
        0.5:runs/run7-adapter 0.5:runs/run9-adapter

Runs warm-started from the same adapter stay close in weight space, and averaging their
weight changes often keeps what each learned while cancelling part of what each got
wrong (Wortsman et al., "Model soups", 2022). Each LoRA adds (alpha / r) * B @ A to a
weight; the soup adds sum_i w_i (alpha_i / r_i) B_i A_i exactly, as one adapter of rank
sum_i r_i: the A matrices stacked, the B matrices side by side, each scaled by its weight
(and alpha = r, so peft's scaling is 1). `deskmate model build` merges it like any adapter.

A weight may be negative (after `--`: `--out ... -- 0.25:run14 -0.25:run7`); that soup, written to
`models/adapters/deskmate-v1/stacked/`, turns the committed soup into one with a quarter of run 7 replaced
by run 14 (the loader merges `stacked/` after the folder's own adapter), so the large committed file need
not be rewritten.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

WEIGHTS = "adapter_model.safetensors"
CONFIG = "adapter_config.json"


@dataclass(frozen=True)
class Ingredient:
    """One adapter folder and its weight in the soup."""

    weight: float
    folder: Path

    @classmethod
    def parse(cls, text: str) -> "Ingredient":
        weight, _, folder = text.partition(":")
        if not folder:
            raise argparse.ArgumentTypeError(f"{text!r}: write WEIGHT:FOLDER, e.g. 0.5:models/adapters/deskmate-v1")
        return cls(float(weight), Path(folder))


def soup(ingredients: list[Ingredient], out: Path) -> Path:
    """Write the averaged adapter to `out` (config from the first ingredient); returns `out`."""
    if not ingredients:
        raise ValueError("A soup needs at least one adapter.")
    configs = [json.loads((i.folder / CONFIG).read_text()) for i in ingredients]
    tensors = [load_file(str(i.folder / WEIGHTS)) for i in ingredients]
    if any(set(t) != set(tensors[0]) for t in tensors):
        raise ValueError("These adapters do not adapt the same layers; they cannot be averaged.")
    scales = [i.weight * c["lora_alpha"] / c["r"] for i, c in zip(ingredients, configs)]
    merged: dict[str, np.ndarray] = {}
    for name in tensors[0]:
        if ".lora_A." in name:  # [r, in]: stacked
            merged[name] = np.concatenate([t[name] for t in tensors], axis=0)
        elif ".lora_B." in name:  # [out, r]: side by side, scaled
            merged[name] = np.concatenate([s * t[name] for s, t in zip(scales, tensors)], axis=1)
        else:
            raise ValueError(f"Unexpected tensor {name} in a LoRA adapter.")
    rank = sum(c["r"] for c in configs)
    config = dict(configs[0], r=rank, lora_alpha=rank, rank_pattern={}, alpha_pattern={})
    out.mkdir(parents=True, exist_ok=True)
    (out / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    save_file(merged, str(out / WEIGHTS))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the averaged adapter")
    ap.add_argument("ingredients", nargs="+", type=Ingredient.parse, metavar="WEIGHT:FOLDER")
    args = ap.parse_args(argv)
    path = soup(args.ingredients, args.out)
    print(f"wrote {path} (rank {json.loads((path / CONFIG).read_text())['r']})")


if __name__ == "__main__":
    main()

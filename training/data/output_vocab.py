"""The common part of the model's output vocabulary: every token of the training mix.

Why: per decoded token the output projection reads one row per logits column, and with the 173,554 Latin-script
pieces of Gemma's 262k vocabulary it was half of all the weights read. The build now computes a fixed set of
columns (this list, the single characters and bytes, then the lowest ids up to 32,768) plus, per request, the
prompt's own rarer tokens (app/model/export.py, `prompt_tokens`). This list is what the model was trained to write
and read: the tokens of every prompt and answer of the generator's mixes (the seed cases, the catalog's generated
requests, Seal-Tools and glaive declarations). It holds ids of the base GGUF's tokenizer, which the build checks by
hash. Never from the dev split or BFCL.

    python -m training.data.output_vocab --data training/data/generated/s0/train.jsonl \
        training/data/generated/s1/train.jsonl training/data/generated/s2/train.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.model.build import OUTPUT_VOCAB_FILE


def token_ids(tokenizer, texts: list[str]) -> set[int]:
    """Every token id of `texts` (tokenized as the app does: special tokens matched)."""
    return {i for enc in tokenizer.encode_batch(texts, add_special_tokens=False) for i in enc.ids}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, nargs="+", required=True, help="train.jsonl files of training.data.generate")
    ap.add_argument("--out", type=Path, default=OUTPUT_VOCAB_FILE)
    args = ap.parse_args(argv)
    from app.model.gguf_source import base_gguf
    from app.model.tokenizer import cached_tokenizer
    from app.paths import AppPaths

    tokenizer = cached_tokenizer(base_gguf(AppPaths.for_user().models))
    texts = []
    for path in args.data:
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line)
            texts += [record["prompt"], record["target"]]
    ids = token_ids(tokenizer, texts)
    args.out.write_text(json.dumps({
        "about": "Token ids (Gemma 3 base GGUF tokenizer) of every prompt and answer of the training mix: "
                 "the common part of the output vocabulary. Written by python -m training.data.output_vocab.",
        "examples": len(texts) // 2,
        "ids": sorted(ids),
    }, separators=(",", ":")) + "\n", "utf-8")
    print(json.dumps({"examples": len(texts) // 2, "tokens": len(ids), "out": str(args.out)}))


if __name__ == "__main__":
    main()

"""Regenerate tests/data/llamacpp_tokens.jsonl.gz: llama.cpp's tokenization of thousands of texts.

The golden file is the reference our rebuilt BPE tokenizer (app/model/tokenizer.py)
must match token for token. It is produced by llama.cpp itself on the same base GGUF,
`Llama(gguf, vocab_only=True).tokenize(text, add_bos=False, special=True)`, which is
how Gemma 3 text is tokenized by the reference implementation.

Run from the checkout (llama-cpp-python must be installed: pip install -e '.[bench]'):

    .venv/bin/python tests/data/make_llamacpp_tokens.py

Texts: the seed requests, Seal-Tools queries and tool descriptions, the glaive
sample, rendered Deskmate prompts, and synthetic edge cases (unicode, emoji, CJK,
whitespace runs, code, numbers, paths with spaces, prompt markers), all
deterministic (fixed seed) so a rerun gives the same file.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data"
OUT = Path(__file__).with_name("llamacpp_tokens.jsonl.gz")
SEED = 20261126


def seed_texts() -> list[str]:
    texts = []
    for path in sorted((SHARED / "seed").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                texts.append(case["request"])
                texts.append(json.dumps(case.get("expected", []), ensure_ascii=False))
    return texts


def seal_texts(rng: random.Random) -> list[str]:
    raw = SHARED / "external" / "seal_tools" / "raw"
    queries = []
    for name in ("dev.jsonl", "test_in_domain.jsonl", "test_out_domain.jsonl"):
        for line in (raw / name).read_text(encoding="utf-8").splitlines():
            queries.append(json.loads(line)["query"])
    tools = [json.loads(line) for line in (raw / "tool.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = rng.sample(queries, min(1500, len(queries)))
    for tool in rng.sample(tools, min(600, len(tools))):
        texts.append(tool["api_description"])
        texts.append(json.dumps(tool["parameters"], ensure_ascii=False))
    return texts


def glaive_texts() -> list[str]:
    data = json.loads((SHARED / "external" / "glaive_demo" / "glaive_toolcall_en_demo.json").read_text(encoding="utf-8"))
    texts = []
    for example in data:
        texts.extend(turn["value"] for turn in example["conversations"])
        texts.append(example.get("tools", ""))
    return [t for t in texts if t]


def prompt_texts(rng: random.Random) -> list[str]:
    """Whole Deskmate prompts as the engine sees them (markers, tool list, context)."""
    from app.prompt.render import Context, Conversation, Message, render
    from app.tools.catalog import Catalog

    catalog = Catalog.builtin()
    requests = [json.loads(line)["request"] for line in (SHARED / "seed" / "mixed.jsonl").read_text().splitlines() if line]
    texts = []
    for i, request in enumerate(rng.sample(requests, 40)):
        tools = tuple(t for t in catalog if rng.random() < 0.7) or tuple(catalog)
        ctx = Context(now=datetime(2026, 11, 26, 9, 15), home="/home/alex", folders=("~/Documents", "~/My Files"))
        texts.append(render(Conversation(tools=tools, context=ctx, messages=(Message("user", request),))))
    return texts


POOLS = {
    "latin": list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") + ["é", "ü", "ß", "ñ", "ø", "œ", "Ł", "ț", "ğ"],
    "words": ["hello", "world", "the", "file", "Documents", "calendar", "meeting", "tomorrow", "at", "3pm",
              "réunion", "Straße", "naïve", "coöperate", "don't", "it's", "e-mail", "U.S.A.", "résumé", "über"],
    "cjk": ["日本語", "中文", "한국어", "テキスト", "漢字", "東京", "北京", "서울", "の", "是", "我们", "ひらがな", "カタカナ"],
    "scripts": ["Привет мир", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Γειά σου Κόσμε",
                "Xin chào thế giới", "ሰላም ልዑል", "ཀུན་", "ᚠᛇᚻ", "𐍈𐌰𐌹"],
    "emoji": ["🙂", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇫🇷", "🤖", "✅", "⚠️", "🔥", "😀😃😄", "🧑🏿‍💻", "©", "™"],
    "combining": ["e\u0301", "a\u0308", "n\u0303", "\u0915\u094d\u0937", "Z\u0351\u036b\u0343\u036a", "\ufeff", "\u200b", "\u200d"],
    "spaces": [" ", "  ", "   ", "    ", " " * 8, " " * 31, " " * 32, " " * 45, "\t", "\t\t", "\t" * 31, "\t" * 33,
               "\n", "\n\n", "\n" * 3, "\n" * 31, "\n" * 40, "\r\n", "\r", " \n", "\n ", " \t ", "\u00a0", "\u3000",
               "\u2009", "\v", "\f", "\u2028"],
    "markers": ["<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>", "<start_of_turn>user\n",
                "<start_of_turn>model\n", "<end_of_turn>\n", "<unused0>", "<unused99>", "<unused6241>", "[multimodal]",
                "<start_of_image>", "<end_of_image>", "<td>", "</div>", "<b>", "<blockquote>", "<start_of_tur", "end_of_turn>",
                "<bos", "<0x41>", "<0x0A>", "<0xZZ>", "\u2581", "\u2581\u2581", "call:", "---\n", "<", ">", "</", "<<bos>>"],
    "code": ["def f(x):\n    return x + 1\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}", "SELECT * FROM t WHERE a='b';",
             "ls -la ~/Documents | grep '.pdf'", "rm -rf /tmp/x && echo done", "{\"path\": \"~/a b/c.txt\", \"n\": 3}",
             "x = [1, 2.5, -3e10, 0x1F, 1_000_000]", "if a != b and c >= d: pass", "console.log(`${a}`);", "#!/bin/bash\n",
             "<html><body><div class=\"x\">hi</div></body></html>", "$HOME/.config/deskmate/config.json", "C:\\Users\\Alex\\My Documents\\a.txt"],
    "numbers": ["0", "7", "42", "123", "2026", "3.14159", "-17", "1,000,000", "12:30", "2026-11-26", "09:15", "+33 6 12 34 56 78",
                "1e-5", "99.99%", "$1,234.56", "€5", "½", "²", "٣", "१२३", "一二三"],
    "paths": ["~/Documents/My Report (final) v2.docx", "/home/alex/Music/Daft Punk - One More Time.mp3", "~/Téléchargements/été.jpg",
              "./a/../b/./c", "~/Desktop/untitled folder/", "/tmp/x y z/ ", "~/Documents/日本語.txt", "~/.bashrc", "file:///etc/hosts"],
}


def synthetic_texts(rng: random.Random, n: int = 1200) -> list[str]:
    """Random mixes of the pools above, plus random code points, to hit the corner cases."""
    texts = []
    names = list(POOLS)
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            pool = POOLS[rng.choice(names)]
            parts.append(rng.choice(pool))
            if rng.random() < 0.5:
                parts.append(rng.choice([" ", "", "", "\n", "  ", ", ", "."]))
        texts.append("".join(parts))
    for _ in range(300):  # random code points from the whole range (no surrogates)
        chars = []
        for _ in range(rng.randint(1, 20)):
            cp = rng.choice([rng.randint(0x20, 0x7E), rng.randint(0xA0, 0x2FFF), rng.randint(0x3000, 0xD7FF),
                             rng.randint(0xE000, 0xFFFD), rng.randint(0x10000, 0x1FAFF), rng.randint(0x1, 0x1F)])
            chars.append(chr(cp))
        texts.append("".join(chars))
    # Fixed singles: the empty string, lone whitespace and each marker alone.
    texts += ["", " ", "  ", "\n", "\t", "hello world", "Hello World", " hello", "hello ", "HELLO", "x" * 300,
              "a " * 200, "😀" * 50, "日本" * 100, "ab" * 150]
    texts += [m for m in POOLS["markers"]] + [" " + m + " " for m in POOLS["markers"]]
    return texts


def all_texts() -> list[str]:
    rng = random.Random(SEED)
    texts = seed_texts() + seal_texts(rng) + glaive_texts() + prompt_texts(rng) + synthetic_texts(rng)
    seen, unique = set(), []
    for t in texts:
        if t not in seen:
            seen.add(t)
            unique.append(t)
    return unique


def main() -> None:
    import llama_cpp

    from app.model.gguf_source import base_gguf, expected_sha256
    from app.paths import AppPaths

    gguf_path = base_gguf(AppPaths.for_user().models)
    llama = llama_cpp.Llama(str(gguf_path), vocab_only=True, verbose=False)
    texts = all_texts()
    # mtime=0: the same texts give a byte-identical file, so a rerun shows no diff.
    with gzip.GzipFile(OUT, "wb", compresslevel=9, mtime=0) as raw, io.TextIOWrapper(raw, encoding="utf-8") as fh:
        header = {"gguf_sha256": expected_sha256(), "llama_cpp_python": llama_cpp.__version__, "texts": len(texts)}
        fh.write(json.dumps(header) + "\n")
        for text in texts:
            ids = llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
            fh.write(json.dumps({"text": text, "ids": ids}, ensure_ascii=False) + "\n")
    print(f"wrote {len(texts)} texts to {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

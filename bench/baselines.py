"""The comparisons run beside the engine: PyTorch fp32, the naive ONNX export, llama.cpp.

Each decodes greedily after the same prompt and reports tokens per second measured
between the first and the last decoded token, so prompt processing is not counted.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

Log = Callable[[str], None]


@dataclass(frozen=True)
class Baseline:
    decode_tok_s: float | None
    prefill_tok_s: float | None = None  # at the same prompt
    model_mb: float | None = None
    note: str = ""


def _rate(stamps: list[float]) -> float:
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0


# -- PyTorch fp32 --------------------------------------------------------------------


def torch_baseline(model: Any, prompt_ids: list[int], tokens: int, threads: int) -> Baseline:
    """`transformers.generate` (greedy, KV cache), timestamps from a streamer."""
    import torch
    from transformers.generation.streamers import BaseStreamer

    class Stamps(BaseStreamer):
        def __init__(self) -> None:
            self.times: list[float] = []

        def put(self, value: Any) -> None:
            self.times.append(time.perf_counter())

        def end(self) -> None:
            pass

    torch.set_num_threads(threads)
    ids = torch.tensor([prompt_ids])
    stamps = Stamps()
    start = time.perf_counter()
    with torch.inference_mode():
        model.generate(ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False, streamer=stamps,
                       pad_token_id=0)
    # put() is called once with the prompt, then once per new token.
    decode = stamps.times[1:]
    prefill_s = decode[0] - start
    size = sum(p.numel() * p.element_size() for p in model.parameters()) / 1e6
    return Baseline(_rate(decode), len(prompt_ids) / prefill_s, size, "fp32, dequantized GGUF")


# -- the naive export: optimum-cli + quantize_dynamic ----------------------------------


def ensure_naive(model: Any, naive_dir: Path, log: Log) -> Path:
    """models/built/naive/model_int8.onnx: what `optimum-cli export onnx` + quantize_dynamic give."""
    out = naive_dir / "model_int8.onnx"
    if out.exists():
        return out
    from onnxruntime.quantization import QuantType, quantize_dynamic

    hf_dir, fp32_dir = naive_dir / "hf", naive_dir / "fp32"
    log("  naive: saving the PyTorch model for optimum")
    model.save_pretrained(hf_dir)
    log("  naive: optimum-cli export onnx (minutes)")
    cli = Path(sys.executable).with_name("optimum-cli")
    subprocess.run([str(cli), "export", "onnx", "--model", str(hf_dir), "--task", "text-generation-with-past",
                    str(fp32_dir)], check=True, capture_output=True)
    log("  naive: quantize_dynamic (per-channel int8)")
    quantize_dynamic(str(fp32_dir / "model.onnx"), str(out), weight_type=QuantType.QInt8, per_channel=True,
                     use_external_data_format=False)
    return out


def naive_baseline(path: Path, prompt_ids: list[int], tokens: int, threads: int) -> Baseline:
    """Greedy decoding with the optimum graph: inputs_ids/attention_mask/position_ids/past_key_values.*."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    names = {i.name: i for i in session.get_inputs()}
    pasts = [n for n in names if n.startswith("past_key_values.")]
    kv_heads, head_dim = names[pasts[0]].shape[1], names[pasts[0]].shape[3]
    feed: dict[str, np.ndarray] = {n: np.zeros((1, kv_heads, 0, head_dim), np.float32) for n in pasts}
    ids = list(prompt_ids)
    step = ids
    stamps: list[float] = []
    start = time.perf_counter()
    prefill_s = 0.0
    for _ in range(tokens):
        n = len(ids)
        feed["input_ids"] = np.array([step], np.int64)
        if "attention_mask" in names:
            feed["attention_mask"] = np.ones((1, n), np.int64)
        if "position_ids" in names:
            feed["position_ids"] = np.arange(n - len(step), n, dtype=np.int64)[None]
        outputs = session.run(None, feed)
        token = int(outputs[0][0, -1].argmax())
        stamps.append(time.perf_counter())
        prefill_s = prefill_s or stamps[0] - start
        for name, value in zip((o.name for o in session.get_outputs()[1:]), outputs[1:]):
            feed[name.replace("present", "past_key_values")] = value
        ids.append(token)
        step = [token]
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
    return Baseline(_rate(stamps), len(prompt_ids) / prefill_s, size, "optimum-cli export + quantize_dynamic")


# -- llama.cpp -----------------------------------------------------------------------


def llamacpp_baseline(gguf: Path, prompt_ids: list[int], tokens: int, threads: int) -> Baseline | None:
    """llama-cpp-python on the same Q4_K_M file, greedy; None when it is not installed."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    llm = Llama(model_path=str(gguf), n_ctx=4096, n_threads=threads, n_threads_batch=threads, verbose=False)
    stamps: list[float] = []
    start = time.perf_counter()
    for _token in llm.generate(prompt_ids, top_k=1, temp=0.0, reset=True):
        stamps.append(time.perf_counter())
        if len(stamps) == tokens:
            break
    return Baseline(_rate(stamps), len(prompt_ids) / (stamps[0] - start), gguf.stat().st_size / 1e6,
                    "llama-cpp-python, Q4_K_M GGUF")

"""Open the ONNX model with ONNX Runtime and read the facts the exporter stored in it.

Runtime only: onnxruntime and numpy. Thread settings matter on small machines: one
intra-op thread per physical core, no inter-op pool (the graph is one chain of ops).
Threads spin between ops instead of sleeping (ONNX Runtime's default, `spin`): a decoded
token has ~150 ops, and waking a sleeping thread for each cost 15-20 % of decode speed
(2026-11-27, 2-core AMD machine: 98-100 tok/s asleep, 116-121 spinning) for the same CPU
time per token (20.4-20.5 ms asleep, 20.5-21.3 spinning). The spinning stops soon after a
generation: 33-37 ms of CPU in the 3 s after one, none later.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np
import onnxruntime as ort

from app.engine.rope import Rope

# Same keys as app.model.export writes (not imported: export is build-time code).
META_CONFIG = "deskmate.config"
META_OUTPUT_TOKENS = "deskmate.output_tokens"
META_PROMPT_TOKENS = "deskmate.prompt_tokens"


@dataclass(frozen=True)
class ModelInfo:
    """What the engine needs to know about the graph: its cache shape and output vocabulary."""

    layers: int
    kv_heads: int
    head_dim: int
    vocab_size: int
    max_context: int
    eos_ids: tuple[int, ...]
    output_tokens: np.ndarray | None  # [V'] token id of each fixed logits column, None = the whole vocab
    kv_dtype: np.dtype = np.dtype(np.float32)  # the cache's element type, as the graph declares it
    # Per layer: positions left of the newest one its attention reads (None: all). Models
    # built before recipe 3 do not say, and keep every position.
    windows: tuple[int | None, ...] | None = None
    # Rotary frequencies by kind, when the graph takes its rotary tables as inputs (recipe 3).
    rope: dict[str, Rope] | None = None
    # Sorted ids the graph adds as further logits columns when the engine names them
    # (`extra_tokens`: the prompt's own tokens); None when the graph has no such input.
    prompt_tokens: np.ndarray | None = None

    @property
    def output_size(self) -> int:
        """Fixed logits columns (without the prompt's extra ones)."""
        return self.vocab_size if self.output_tokens is None else len(self.output_tokens)

    @cached_property
    def producible(self) -> np.ndarray | None:
        """Every token the model can output in some request (None: all), for constrained decoding."""
        if self.output_tokens is None or self.prompt_tokens is None:
            return self.output_tokens
        return np.union1d(self.output_tokens, self.prompt_tokens)

    @cached_property
    def _is_prompt_token(self) -> np.ndarray:
        """[vocab] True where `prompt_tokens` holds the id: a lookup per request instead of intersecting
        with the 140k sorted ids, which cost ~50 ms of every request's prefill."""
        mask = np.zeros(self.vocab_size, dtype=bool)
        mask[self.prompt_tokens] = True
        return mask

    def columns(self, prompt: Sequence[int]) -> np.ndarray | None:
        """Token id of each logits column for a request whose prompt is `prompt` (None: the whole vocab)."""
        if self.prompt_tokens is None:
            return self.output_tokens
        ids = np.asarray(prompt, dtype=np.int64)
        extra = np.unique(ids[self._is_prompt_token[ids]])  # sorted, each once
        return np.concatenate([self.output_tokens, extra])


def default_threads() -> int:
    """One thread per physical core (hyper-threads do not help these kernels)."""
    try:
        import psutil

        cores = psutil.cpu_count(logical=False)
    except ImportError:  # pragma: no cover - psutil is a runtime dependency
        cores = None
    return max(1, cores or os.cpu_count() or 1)


def open_session(model_path: Path, threads: int | None = None, *, spin: bool = True) -> tuple[ort.InferenceSession, ModelInfo]:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or default_threads()
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    # No arena: a long prompt's scratch tensors go back to malloc (and to the OS, see
    # Engine) instead of staying reserved for the life of the app; decode speed is the same.
    so.enable_cpu_mem_arena = False
    session = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    return session, read_info(session)


def _ids(text: str | None) -> np.ndarray | None:
    return np.array([int(t) for t in text.split(",")], dtype=np.int64) if text else None


_KV_TYPES = {"tensor(float)": np.dtype(np.float32), "tensor(float16)": np.dtype(np.float16)}


def read_info(session: ort.InferenceSession) -> ModelInfo:
    meta = session.get_modelmeta().custom_metadata_map
    if META_CONFIG not in meta:
        raise ValueError("This ONNX file was not made by `deskmate model build` (no deskmate.config metadata).")
    cfg = json.loads(meta[META_CONFIG])
    return ModelInfo(
        layers=int(cfg["layers"]), kv_heads=int(cfg["kv_heads"]), head_dim=int(cfg["head_dim"]),
        vocab_size=int(cfg["vocab_size"]), max_context=int(cfg["max_context"]),
        eos_ids=tuple(int(e) for e in cfg["eos_ids"]),
        output_tokens=_ids(meta.get(META_OUTPUT_TOKENS)),
        kv_dtype=_KV_TYPES[next(i.type for i in session.get_inputs() if i.name == "past_key.0")],
        windows=tuple(int(cfg["sliding_window"]) if local else None for local in cfg["sliding"])
        if "sliding" in cfg else None,
        rope={kind: Rope(np.array(r["inv_freq"], dtype=np.float32), float(r["scaling"]))
              for kind, r in cfg["rope"].items()} if "rope" in cfg else None,
        prompt_tokens=_ids(meta.get(META_PROMPT_TOKENS)),
    )

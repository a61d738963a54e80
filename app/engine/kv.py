"""The KV cache: one preallocated K and V buffer per layer that ONNX Runtime fills in place.

GroupQueryAttention writes the new keys/values straight into its past buffer when the
same tensor is bound as both `past_key.{i}` and `present_key.{i}` (ORT's shared-buffer
mode). So a decoding step copies nothing: the buffers are bound once and the graph is
told how many positions are valid (`seqlens_k`, `total_sequence_length`). Each buffer
spans the model's whole context but is mapped lazily (`memory.lazy_zeros`): only the
positions written take memory, and a long prompt never copies the cache to grow it.

Gemma 3's local layers attend only to the last `window` positions (512 of the 2,000 a
long conversation holds, in 15 of its 18 layers), so positions that leave every local
window are given back as the cache grows (`advance`): they read as zeros afterwards,
which the attention masks out anyway.

A prefix snapshot is a copy of the first n positions; restoring it makes the cache look
exactly as if those n tokens had just been prefilled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import onnxruntime as ort

from app.engine import memory
from app.engine.memory import lazy_zeros


@dataclass(frozen=True)
class KVSnapshot:
    """The cached keys/values of the first `length` tokens: arrays [B, KV, length, D] per layer."""

    tokens: tuple[int, ...]
    keys: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]

    @property
    def length(self) -> int:
        return len(self.tokens)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.keys + self.values)


# Release out-of-window positions in steps of at least this many (one madvise per buffer).
RELEASE_STEP = 64


class KVCache:
    """Per-layer K/V buffers [1, kv_heads, max_context, head_dim] and the number of valid positions.

    `windows[i]` is how many positions left of the newest one layer i's attention reads
    (ORT's `local_window_size`), None for a global layer.
    """

    def __init__(self, layers: int, kv_heads: int, head_dim: int, max_context: int, dtype=np.float32,
                 windows: Sequence[int | None] | None = None):
        self.layers, self.kv_heads, self.head_dim, self.max_context = layers, kv_heads, head_dim, max_context
        self.windows = tuple(windows) if windows is not None else (None,) * layers
        if len(self.windows) != layers:
            raise ValueError(f"{len(self.windows)} windows given for {layers} layers.")
        self.length = 0
        self._released = 0  # positions [0, _released) of the local layers are given back
        self._local = [i for i, w in enumerate(self.windows) if w is not None]
        # How far left of the newest position any local layer reads (0: no local layer).
        self._reach = max((self.windows[i] for i in self._local), default=0)
        shape = (1, kv_heads, max_context, head_dim)
        self.keys = [lazy_zeros(shape, dtype) for _ in range(layers)]
        self.values = [lazy_zeros(shape, dtype) for _ in range(layers)]
        # OrtValues wrap the numpy memory (no copy); binding one to past and present shares it.
        self.ort_keys = [ort.OrtValue.ortvalue_from_numpy(a) for a in self.keys]
        self.ort_values = [ort.OrtValue.ortvalue_from_numpy(a) for a in self.values]

    def check(self, total: int) -> None:
        """Raise if `total` positions do not fit the model's context."""
        if total > self.max_context:
            raise ValueError(f"{total} tokens do not fit the model's context of {self.max_context}.")

    def reset(self) -> None:
        """Empty the cache (the next prefill writes from position 0)."""
        self.length = 0
        self._released = 0

    def advance(self, total: int) -> None:
        """`total` positions are now valid; release what no local window can reach again.

        The next token, at position `total`, reads positions from `total - window` on.
        """
        self.length = total
        cut = total - self._reach
        if not self._local or cut - self._released < RELEASE_STEP:
            return
        row = self.head_dim  # elements per position and head
        for i in self._local:
            for buf in (self.keys[i], self.values[i]):
                for head in range(self.kv_heads):
                    base = head * self.max_context * row
                    # From 0 each time: the page across the last cut was kept then.
                    memory.release(buf, base, base + cut * row)
        self._released = cut

    def bind(self, binding: ort.IOBinding) -> None:
        for i in range(self.layers):
            for name, value in ((f"key.{i}", self.ort_keys[i]), (f"value.{i}", self.ort_values[i])):
                binding.bind_ortvalue_input(f"past_{name}", value)
                binding.bind_ortvalue_output(f"present_{name}", value)

    def snapshot(self, tokens: tuple[int, ...]) -> KVSnapshot:
        """Copy the first len(tokens) positions (those tokens must be what the cache holds)."""
        n = len(tokens)
        if n > self.length:
            raise ValueError(f"The cache holds {self.length} positions, not {n}.")
        return KVSnapshot(tokens, tuple(k[:, :, :n].copy() for k in self.keys),
                          tuple(v[:, :, :n].copy() for v in self.values))

    def restore(self, snap: KVSnapshot) -> None:
        """Load a snapshot into the buffers."""
        self.check(snap.length)
        n = snap.length
        for dst, src in zip(self.keys + self.values, snap.keys + snap.values):
            dst[:, :, :n] = src
        self.length = n
        self._released = 0  # rewritten from the snapshot

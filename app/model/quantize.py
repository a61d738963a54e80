"""Quantize the exported fp32 graph to 8-bit weights, the tied embedding stored once.

Build-time only. Every MatMul with a constant weight becomes ONNX Runtime's MatMulNBits
(8-bit, block-wise along K, int8 compute with `accuracy_level=4`), the kernel ONNX Runtime
tunes for LLM decoding on CPU. The tied embedding is quantized once, in the layout MatMulNBits
reads ([V, K] row per output, blocks along K), and that same initializer feeds:

    GatherBlockQuantized(table_q, input_ids, scales)      # the input embedding
    MatMulNBits(h, table_q [or Gather(table_q, keep)], ...)  # the output projection

so the file holds one 262k x 640 INT8 table instead of two (439 MB -> under 300 MB).
Why not `quantize_dynamic`: it quantizes Gather and MatMul weights separately (two copies)
and its MatMulInteger path is slower per decoded token than MatMulNBits here (docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from app.model.export import MS, save_model

BITS = 8
ZERO_POINT = 1 << (BITS - 1)  # the ops' default zero point for unsigned 8-bit data: symmetric


def quantize_blocks(w_nk: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-block 8-bit quantization along the last axis, in MatMulNBits' layout.

    Args:
        w_nk: float weights [N, K], K a multiple of block_size.
    Returns:
        (q [N, K/block_size, block_size] uint8 with zero point 128, scales [N, K/block_size] float32).
    """
    n, k = w_nk.shape
    if k % block_size:
        raise ValueError(f"K={k} is not a multiple of the block size {block_size}.")
    blocks = w_nk.reshape(n, k // block_size, block_size).astype(np.float32)
    scales = np.abs(blocks).max(axis=-1) / 127.0
    safe = np.where(scales == 0, 1.0, scales)
    q = np.clip(np.rint(blocks / safe[..., None]), -127, 127) + ZERO_POINT
    return q.astype(np.uint8), scales.astype(np.float32)


def quantize_columns(w_kn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-output-column int8: (q [K, N] int8, scales [N] float32)."""
    scales = np.abs(w_kn).max(axis=0) / 127.0
    safe = np.where(scales == 0, 1.0, scales)
    q = np.clip(np.rint(w_kn / safe), -127, 127).astype(np.int8)
    return q, scales.astype(np.float32)


def _matmul_nbits(a: str, b: str, scales: str, out: str, k: int, n: int, block_size: int, name: str) -> onnx.NodeProto:
    return helper.make_node("MatMulNBits", [a, b, scales], [out], name=name, domain=MS,
                            K=k, N=n, bits=BITS, block_size=block_size, accuracy_level=4)


def quantize_graph(model: onnx.ModelProto, *, layers: str = "dynamic", block_size: int = 32,
                   embed_block_size: int = 64) -> onnx.ModelProto:
    """Rewrite `model` (from app.model.export.build_graph) in place with 8-bit weights.

    layers: "dynamic" = DynamicQuantizeMatMul (per-column int8 weights, activations quantized
    per call; MLAS's VNNI/AMX integer GEMM, 5x faster on long prompts), or "nbits" =
    MatMulNBits (block-wise weights and activations, more precise, slow prefill).
    """
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    consumers: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            consumers[name] = consumers.get(name, 0) + 1
    new_inits: list[onnx.TensorProto] = []
    drop: set[str] = set()
    nodes: list[onnx.NodeProto] = []

    # The tied table: quantized once, rows = tokens, blocks along the hidden axis. The
    # scales are stored [V, nb, 1] for GatherBlockQuantized; MatMulNBits reads a Reshape of
    # them to [V, nb] (folded at load time, a 10 MB copy in memory, none on disk).
    table = numpy_helper.to_array(inits["embed_table"])  # [V, H]
    vocab, hidden = table.shape
    table_q, table_s = quantize_blocks(table, embed_block_size)  # [V, nb, bs], [V, nb]
    del table
    nb = hidden // embed_block_size
    new_inits += [numpy_helper.from_array(table_q, "embed_q"),
                  numpy_helper.from_array(table_s[..., None], "embed_scales_3d"),
                  numpy_helper.from_array(np.array([vocab, nb], dtype=np.int64), "embed_scales_shape"),
                  numpy_helper.from_array(np.array([0, 0, hidden], dtype=np.int64), "embed_out_shape")]
    nodes.append(helper.make_node("Reshape", ["embed_scales_3d", "embed_scales_shape"], ["embed_scales"]))
    drop.add("embed_table")

    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in inits and layers == "dynamic":
            base = node.input[1]
            q, s = quantize_columns(numpy_helper.to_array(inits[base]))  # [K, N] int8, [N]
            new_inits += [numpy_helper.from_array(q, base + ".q"), numpy_helper.from_array(s, base + ".scales")]
            drop.add(base)
            nodes.append(helper.make_node("DynamicQuantizeMatMul", [node.input[0], base + ".q", base + ".scales"],
                                          node.output, name=node.name, domain=MS))
        elif node.op_type == "MatMul" and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])  # [K, N]
            q, s = quantize_blocks(np.ascontiguousarray(w.T), block_size)
            base = node.input[1]
            new_inits += [numpy_helper.from_array(q, base + ".q"), numpy_helper.from_array(s, base + ".scales")]
            drop.add(base)
            nodes.append(_matmul_nbits(node.input[0], base + ".q", base + ".scales", node.output[0],
                                       w.shape[0], w.shape[1], block_size, node.name))
        elif node.op_type == "Gather" and node.input[0] == "embed_table" and node.input[1] == "input_ids":
            nodes.append(helper.make_node("GatherBlockQuantized", ["embed_q", "input_ids", "embed_scales_3d"],
                                          ["embed_blocks"], name=node.name, domain=MS, bits=BITS,
                                          block_size=embed_block_size, gather_axis=0, quantize_axis=2))
            nodes.append(helper.make_node("Reshape", ["embed_blocks", "embed_out_shape"], node.output))  # [B,T,H]
        elif node.op_type == "Gather" and node.input[0] == "embed_table":  # the kept rows for the output
            nodes.append(helper.make_node("Gather", ["embed_q", node.input[1]], [node.output[0] + ".q"], axis=0))
            nodes.append(helper.make_node("Gather", ["embed_scales", node.input[1]], [node.output[0] + ".scales"], axis=0))
            keep = numpy_helper.to_array(inits[node.input[1]])
            head_rows = (node.output[0], len(keep))
        elif node.op_type == "Gemm":  # the output projection by the (kept rows of the) tied table
            head = node.input[1]
            b, s = ("embed_q", "embed_scales") if head == "embed_table" else (head + ".q", head + ".scales")
            n = vocab if head == "embed_table" else head_rows[1]
            nodes.append(_matmul_nbits(node.input[0], b, s, node.output[0], hidden, n, embed_block_size, node.name))
        else:
            nodes.append(node)

    del graph.node[:]
    graph.node.extend(nodes)
    kept = [t for t in graph.initializer if t.name not in drop]
    del graph.initializer[:]
    graph.initializer.extend(kept + new_inits)
    return model


def quantize_int8(fp32_path: Path, out_path: Path, *, layers: str = "dynamic", block_size: int = 32,
                  embed_block_size: int = 64) -> Path:
    """Quantize `fp32_path` (app.model.export) into `out_path` (+ `out_path.data`); returns out_path."""
    model = onnx.load(str(fp32_path), load_external_data=True)
    quantize_graph(model, layers=layers, block_size=block_size, embed_block_size=embed_block_size)
    return save_model(model, Path(out_path))

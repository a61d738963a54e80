"""Quantize the exported fp32 graph to 8-bit weights, the tied embedding stored once.

Build-time only. Every MatMul with a constant weight becomes ONNX Runtime's MatMulNBits
(8-bit, block-wise along K, int8 compute with `accuracy_level=4`), the kernel ONNX Runtime
tunes for LLM decoding on CPU. The tied embedding is quantized once, in the layout MatMulNBits
reads ([V, K] row per output, blocks along K), and that same initializer feeds:

    GatherBlockQuantized(table_q, rows_of(input_ids), scales)  # the input embedding
    MatMulNBits(h, table_q [or its first V' rows], ...)       # the output projection

so the file holds one 262k x 640 INT8 table instead of two (439 MB -> under 300 MB).
Why not `quantize_dynamic`: it quantizes Gather and MatMul weights separately (two copies),
and its per-tensor activation rounding (DynamicQuantizeMatMul, `layers="dynamic"`) changed
the greedy answer on 12 of 52 seed requests against 2 of 52 for block-wise MatMulNBits;
it prefills 3x faster, but answers that match the trained model come first
(docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from app.model.export import MS, save_model

BITS = 8


def quantize_blocks(w_nk: np.ndarray, block_size: int, bits: int = BITS) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-block quantization along the last axis, in MatMulNBits' layout.

    Args:
        w_nk: float weights [N, K], K a multiple of block_size.
        bits: 8, or 4 (two values a byte, low nibble first).
    Returns:
        (q [N, K/block_size, block_size * bits / 8] uint8 with the ops' default zero point
        2^(bits-1), scales [N, K/block_size] float32).
    """
    n, k = w_nk.shape
    if k % block_size:
        raise ValueError(f"K={k} is not a multiple of the block size {block_size}.")
    if bits not in (4, 8):
        raise ValueError(f"{bits}-bit weights are not supported (4 or 8).")
    qmax = (1 << (bits - 1)) - 1
    blocks = w_nk.reshape(n, k // block_size, block_size).astype(np.float32)
    scales = np.abs(blocks).max(axis=-1) / qmax
    safe = np.where(scales == 0, 1.0, scales)
    q = (np.clip(np.rint(blocks / safe[..., None]), -qmax, qmax) + (qmax + 1)).astype(np.uint8)
    if bits == 4:
        q = q[..., 0::2] | (q[..., 1::2] << 4)
    return q, scales.astype(np.float32)


def quantize_columns(w_kn: np.ndarray, levels: int = 63) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-output-column weights in [-levels, levels]: (q [K, N] int8, scales [N] float32).

    7 bits (63) by default, as ONNX Runtime's `reduce_range`: on CPUs without VNNI (AVX2 only) its u8 x s8
    kernels add pairs of products in 16 bits, which saturate with full 8-bit weights (the tiny test
    model's logits correlated 0.978 with fp32 at 127 levels on such a CPU, 0.999 at 63).
    """
    scales = np.abs(w_kn).max(axis=0) / float(levels)
    safe = np.where(scales == 0, 1.0, scales)
    q = np.clip(np.rint(w_kn / safe), -levels, levels).astype(np.int8)
    return q, scales.astype(np.float32)


def _matmul_nbits(a: str, b: str, scales: str, out: str, k: int, n: int, block_size: int, name: str,
                  bits: int = BITS) -> onnx.NodeProto:
    return helper.make_node("MatMulNBits", [a, b, scales], [out], name=name, domain=MS,
                            K=k, N=n, bits=bits, block_size=block_size, accuracy_level=4)


def quantize_graph(model: onnx.ModelProto, *, layers: str = "nbits", block_size: int = 32,
                   embed_block_size: int = 64, embed_bits: int = BITS, mlp_bits: int = BITS) -> onnx.ModelProto:
    """Rewrite `model` (from app.model.export.build_graph) in place with 8-bit weights.

    layers: "nbits" = MatMulNBits (block-wise weights and activations: close to fp32), or
    "dynamic" = DynamicQuantizeMatMul (per-column 7-bit weights, activations rounded per tensor;
    MLAS's VNNI/AMX integer GEMM prefills ~3x faster, but answers drift from fp32).
    embed_bits: 8, or 4 for a tied table half the size, read twice as fast per decoded token
    (a variant the benchmark compares; its rounding shows in the INT8-fp32 agreement).
    mlp_bits: 8, or 4 for the MLP weights (gate/up and down: 63 % of the layers' weights).
    """
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    table = _Table.quantize(graph, inits, embed_block_size, embed_bits)
    new_inits, nodes = table.initializers(), table.setup_nodes()

    for node in graph.node:
        w = inits.get(node.input[1]) if len(node.input) > 1 else None
        if node.op_type == "MatMul" and w is not None:
            base = node.input[1]
            if layers == "dynamic":
                q, sc = quantize_columns(numpy_helper.to_array(w))  # [K, N] int8, [N]
                nodes.append(helper.make_node("DynamicQuantizeMatMul", [node.input[0], base + ".q", base + ".scales"],
                                              node.output, name=node.name, domain=MS))
            else:
                k, n = w.dims
                bits = mlp_bits if base.endswith((".gate_up", ".down")) else BITS
                q, sc = quantize_blocks(np.ascontiguousarray(numpy_helper.to_array(w).T), block_size, bits)
                nodes.append(_matmul_nbits(node.input[0], base + ".q", base + ".scales", node.output[0],
                                           k, n, block_size, node.name, bits))
            new_inits += [numpy_helper.from_array(q, base + ".q"), numpy_helper.from_array(sc, base + ".scales")]
        elif node.op_type == "Gather" and node.input[0] == "embed_table":
            nodes += table.embedding_nodes(node.input[1], node.output[0])
        elif node.op_type == "Slice" and node.input[0] == "embed_table":
            continue  # the head rows are their own initializer now
        elif node.op_type == "Gemm" and node.input[1] in table.head_names:
            nodes.append(table.output_node(node.input[0], node.output[0], node.name))
        # (the other Gemm, of the prompt's extra rows, multiplies gathered rows in fp32: kept)
        else:
            nodes.append(node)

    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in nodes for name in node.input}
    kept = [t for t in list(graph.initializer) + new_inits if t.name in used]  # fp32 weights and leftovers go
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return model


class _Table:
    """The tied embedding, quantized once and stored as two row ranges.

    Rows [0, split) are the output vocabulary (all rows when it is not restricted) and
    rows [split, V) the tokens that are only ever read. Two initializers rather than one
    plus a Slice: ONNX Runtime would fold the Slice at load time by reading the whole
    table into memory first (a 200 MB spike); this way the output projection prepacks
    its own rows and the embedding lookups touch only the memory-mapped rows they read.
    """

    def __init__(self, q: np.ndarray, scales: np.ndarray, split: int, block_size: int, bits: int,
                 head_names: frozenset[str] = frozenset({"embed_table"})):
        self.q, self.scales, self.split, self.block_size, self.bits = q, scales, split, block_size, bits
        self.head_names = head_names  # what the output Gemm multiplies by: the table, or its head Slice
        self.vocab, self.blocks, _ = q.shape
        self.hidden = self.blocks * block_size

    @classmethod
    def quantize(cls, graph: onnx.GraphProto, inits: dict[str, onnx.TensorProto], block_size: int,
                 bits: int) -> "_Table":
        table = numpy_helper.to_array(inits["embed_table"])  # [V, H], kept rows first (export)
        head = next((n for n in graph.node if n.op_type == "Slice" and n.input[0] == "embed_table"), None)
        split = int(numpy_helper.to_array(inits[head.input[2]])[0]) if head is not None else len(table)
        q, scales = quantize_blocks(table, block_size, bits)  # [V, nb, bs * bits / 8], [V, nb]
        names = {"embed_table"} | ({head.output[0]} if head is not None else set())
        return cls(q, scales, split, block_size, bits, frozenset(names))

    def _ranges(self) -> list[tuple[str, int, int]]:
        parts = [("embed_head", 0, self.split)]
        return parts + ([("embed_rest", self.split, self.vocab)] if self.split < self.vocab else [])

    def initializers(self) -> list[onnx.TensorProto]:
        out = []
        for name, a, b in self._ranges():
            out += [numpy_helper.from_array(self.q[a:b], f"{name}.q"),
                    numpy_helper.from_array(self.scales[a:b, :, None], f"{name}.scales_3d")]
        out += [numpy_helper.from_array(np.array(v, dtype=np.int64), k) for k, v in
                {"embed_head.scales_shape": [self.split, self.blocks], "embed_out_shape": [0, 0, self.hidden]}.items()]
        if self.split < self.vocab:
            out.append(numpy_helper.from_array(np.array([-1, -2], dtype=np.int64), "embed_block_axes"))
            out += [numpy_helper.from_array(np.array(v, dtype=np.int32), k) for k, v in
                    {"embed_split": self.split, "embed_last_head_row": self.split - 1, "zero_row": 0}.items()]
        return out

    def setup_nodes(self) -> list[onnx.NodeProto]:
        # MatMulNBits reads scales as [N, nb]; GatherBlockQuantized as [N, nb, 1] (folded, small).
        return [helper.make_node("Reshape", ["embed_head.scales_3d", "embed_head.scales_shape"], ["embed_head.scales"])]

    def _gather(self, name: str, rows: str, out: str) -> onnx.NodeProto:
        return helper.make_node("GatherBlockQuantized", [f"{name}.q", rows, f"{name}.scales_3d"], [out], domain=MS,
                                bits=self.bits, block_size=self.block_size, gather_axis=0, quantize_axis=2)

    def embedding_nodes(self, rows: str, out: str) -> list[onnx.NodeProto]:
        """rows [B,T] -> embeddings [B,T,H], each row read from whichever range holds it.

        (Intermediate names start with `out`: the input embedding and the prompt's extra
        output rows are two lookups.)"""
        t = f"{out}."
        if self.split == self.vocab:
            return [self._gather("embed_head", rows, t + "blocks"),
                    helper.make_node("Reshape", [t + "blocks", "embed_out_shape"], [out])]
        return [
            helper.make_node("Min", [rows, "embed_last_head_row"], [t + "head_rows"]),
            self._gather("embed_head", t + "head_rows", t + "head_blocks"),  # [B,T,nb,bs]
            helper.make_node("Sub", [rows, "embed_split"], [t + "rest_rows_signed"]),
            helper.make_node("Max", [t + "rest_rows_signed", "zero_row"], [t + "rest_rows"]),
            self._gather("embed_rest", t + "rest_rows", t + "rest_blocks"),
            helper.make_node("Less", [rows, "embed_split"], [t + "in_head"]),
            helper.make_node("Unsqueeze", [t + "in_head", "embed_block_axes"], [t + "in_head_4d"]),  # [B,T,1,1]
            helper.make_node("Where", [t + "in_head_4d", t + "head_blocks", t + "rest_blocks"], [t + "blocks"]),
            helper.make_node("Reshape", [t + "blocks", "embed_out_shape"], [out]),  # [B,T,H]
        ]

    def output_node(self, hidden_in: str, out: str, name: str) -> onnx.NodeProto:
        """logits = hidden [B,H] x rows[0, split)^T, from the head rows' own quantized weights."""
        return _matmul_nbits(hidden_in, "embed_head.q", "embed_head.scales", out, self.hidden, self.split,
                             self.block_size, name, self.bits)


def quantize_int8(fp32_path: Path, out_path: Path, *, layers: str = "nbits", block_size: int = 32,
                  embed_block_size: int = 64, embed_bits: int = BITS, mlp_bits: int = BITS) -> Path:
    """Quantize `fp32_path` (app.model.export) into `out_path` (+ `out_path.data`); returns out_path."""
    model = onnx.load(str(fp32_path), load_external_data=True)
    quantize_graph(model, layers=layers, block_size=block_size, embed_block_size=embed_block_size,
                   embed_bits=embed_bits, mlp_bits=mlp_bits)
    return save_model(model, Path(out_path))

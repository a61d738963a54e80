"""Which ONNX Runtime kernel for which matrix: `python -m bench.kernels [--threads N]`.

Times one weight matrix alone in a one-node graph, for one row (a decoded token) and
for 500 rows (a prompt), with the quantized kernels the export can choose from. The
matrices are the model's: the output projection's fixed columns (173,554 x 640 until build
recipe 5, 32,768 x 640 since) and an MLP projection (640 x 2,048). Random weights: the
timings depend on shapes, not on values.
The relative error (against float32 on the same random input) shows what each kernel's
rounding costs; real activations have outliers, which per-tensor quantization (Dynamic-
QuantizeMatMul) suffers from more than block-wise (MatMulNBits).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
from onnx import ModelProto, TensorProto, helper, numpy_helper

from app.model.export import MS
from app.model.quantize import quantize_blocks, quantize_columns


@dataclass(frozen=True)
class Kernel:
    name: str
    model: ModelProto


def _graph(k: int, n: int, node: object, inits: list) -> ModelProto:
    graph = helper.make_graph([node], "one", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["m", k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", n])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)])


def matmul_nbits(w_nk: np.ndarray, bits: int, block: int = 32, zero_points: bool = False) -> ModelProto:
    """Symmetric block quantization (zero point 2^(bits-1)), int8 compute (accuracy_level 4).

    zero_points=True stores that same zero point explicitly, one byte a block (8-bit only):
    the numbers are identical, but ONNX Runtime picks another kernel.
    """
    n, k = w_nk.shape
    q, scales = quantize_blocks(w_nk, block, bits)  # the build's own rounding and layout
    inputs = ["x", "q", "s"]
    inits = [numpy_helper.from_array(q, "q"), numpy_helper.from_array(scales.reshape(-1), "s")]
    if zero_points:
        inputs.append("z")
        inits.append(numpy_helper.from_array(np.full(n * (k // block), 1 << (bits - 1), np.uint8), "z"))
    node = helper.make_node("MatMulNBits", inputs, ["y"], domain=MS, K=k, N=n, bits=bits, block_size=block,
                            accuracy_level=4)
    return _graph(k, n, node, inits)


def dynamic_int8(w_nk: np.ndarray) -> ModelProto:
    """Per-column int8 weights, activations quantized per call (what `quantize_dynamic` gives)."""
    q, scales = quantize_columns(np.ascontiguousarray(w_nk.T))
    node = helper.make_node("DynamicQuantizeMatMul", ["x", "q", "s"], ["y"], domain=MS)
    return _graph(w_nk.shape[1], w_nk.shape[0], node, [numpy_helper.from_array(q, "q"),
                                                       numpy_helper.from_array(scales, "s")])


def time_ms(model: ModelProto, x: np.ndarray, threads: int, repeats: int) -> tuple[float, np.ndarray]:
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "1")  # as the app runs
    session = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    for _ in range(3):
        y = session.run(None, {"x": x})[0]
    start = time.perf_counter()
    for _ in range(repeats):
        session.run(None, {"x": x})
    return (time.perf_counter() - start) / repeats * 1000, y


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    print("| Matrix | Kernel | 1 row, ms | 500 rows, ms | Relative error |\n|---|---|---|---|---|")
    shapes = (("output projection 173,554 x 640 (recipe 4)", 173_554, 640),
              ("output projection 32,768 x 640 (recipe 5)", 32_768, 640), ("MLP projection 640 x 2,048", 2048, 640))
    for label, n, k in shapes:
        w = (rng.standard_normal((n, k)) * 0.02).astype(np.float32)
        for kernel in (Kernel("MatMulNBits 8-bit", matmul_nbits(w, 8)),
                       Kernel("MatMulNBits 8-bit, zero points stored", matmul_nbits(w, 8, zero_points=True)),
                       Kernel("MatMulNBits 4-bit", matmul_nbits(w, 4)),
                       Kernel("DynamicQuantizeMatMul int8", dynamic_int8(w))):
            cells = []
            for rows in (1, 500):
                x = rng.standard_normal((rows, k)).astype(np.float32)
                ms, y = time_ms(kernel.model, x, args.threads, 40 if rows == 1 else 5)
                cells.append(ms)
            ref = x @ w.T
            err = float(np.abs(y - ref).mean() / np.abs(ref).mean())
            print(f"| {label} | {kernel.name} | {cells[0]:.2f} | {cells[1]:.1f} | {err:.3f} |", flush=True)


if __name__ == "__main__":
    main()

"""Export a Gemma 3 text model to one lean ONNX graph for ONNX Runtime's CPU kernels.

Build-time only (reads a transformers model). Why we write the graph ourselves rather than
tracing it with torch.onnx or optimum: the traced graph is what the naive export ships
(~2,000 small nodes, logits for every position, the tied embedding stored twice). Here
each layer is the handful of fused ONNX Runtime ops an optimizer would aim for:

    x, h   = SkipSimplifiedLayerNorm(prev_out, h, 1+w_in)     # x: [B,T,640], h: residual
    qkv    = MatMul(x, Wqkv)                                  # [B,T,4*256 + 2*1*256]
    a      = GroupQueryAttention(qkv, past_k, past_v, ...)    # q/k RMS norm, RoPE, causal (+window)
    o      = SimplifiedLayerNorm(MatMul(a, Wo), 1+w_post_attn)
    y, h   = SkipSimplifiedLayerNorm(o, h, 1+w_pre_ff)
    g, u   = Split(MatMul(y, Wgate_up))                       # [B,T,2048] each
    out    = SimplifiedLayerNorm(MatMul(FastGelu(g) * u, Wdown), 1+w_post_ff)

Graph inputs / outputs (B = batch, T = new tokens, P = cached tokens or the KV buffer's capacity):

    input_ids             int64   [B, T]
    seqlens_k             int32   [B]        tokens in the cache after this step, minus one
    total_sequence_length int32   []         max over the batch of (seqlens_k + 1)
    past_key.{i}          KV      [B, 1, P, 256]   one per layer (kv_heads=1, head_dim=256)
    past_value.{i}        KV      [B, 1, P, 256]   KV = float32 (the app's build) or float16
    rope_{cos,sin}_{global,local}  KV  [R, 128]     rotary tables for positions 0..R-1, R >= total
    extra_tokens          int64   [E]        with `prompt_tokens` only: ids of further logits columns
 -> logits                float32 [B, V'+E]  the LAST position only; V' = len(keep_tokens) or the vocab
    present_key.{i}       KV      [B, 1, P', 256]  P' = P + T, or P when the caller binds the same
    present_value.{i}     KV      [B, 1, P', 256]  buffer to past and present (preallocated KV cache)

With a float16 cache, attention runs in float16 (q, k, v cast in, the rotary tables given
in float16, its output cast back) and the cache takes half the memory; on the whole model ONNX
Runtime's CPU kernels were slower with it (docs/benchmarks.md), so the app builds float32.

The tied 262k x 640 embedding is one initializer: the input Gather reads it and the output
Gemm (transB) multiplies by it, or by a Slice of its first rows, which hold the
`keep_tokens` (folded by ONNX Runtime at load time, so the file still holds one copy).
With `prompt_tokens` the logits gain E more columns, for the `extra_tokens` the engine
names per request (the prompt's own tokens): those rows are gathered like input embeddings
and multiplied in full precision. So the fixed output layer, the largest read per decoded
token, can be a few tens of thousands of common pieces, while a name, path or tool the
user's request spells in rarer pieces can still be copied token for token.
Facts the engine needs ride in the model's metadata (`META_*`), among them the rotary
frequencies: the engine computes the tables for the positions in use (app/engine/rope.py)
rather than the graph holding them for the whole context (17 MB resident).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import set_external_data

MODEL_FILE = "model.onnx"
OPSET = 17
MS = "com.microsoft"

# Metadata keys (ONNX custom metadata, read by the engine through onnxruntime).
META_CONFIG = "deskmate.config"  # JSON: layers, kv_heads, head_dim, vocab_size, max_context, ...
META_OUTPUT_TOKENS = "deskmate.output_tokens"  # comma-separated token ids of the logits columns, if restricted
META_PROMPT_TOKENS = "deskmate.prompt_tokens"  # ids the engine may add as columns (`extra_tokens`), if any


@dataclass(frozen=True)
class GemmaShape:
    """The few numbers of a Gemma 3 text config the graph depends on."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab_size: int
    sliding_window: int
    sliding: tuple[bool, ...]  # per layer: local (sliding-window) attention or global
    eps: float
    scaling: float  # attention scale: query_pre_attn_scalar ** -0.5
    bos_id: int
    eos_ids: tuple[int, ...]

    @classmethod
    def from_config(cls, cfg: Any) -> "GemmaShape":
        layer_types = getattr(cfg, "layer_types", None) or [
            "sliding_attention" if (i + 1) % cfg.sliding_window_pattern else "full_attention"
            for i in range(cfg.num_hidden_layers)
        ]
        eos = cfg.eos_token_id if isinstance(cfg.eos_token_id, (list, tuple)) else [cfg.eos_token_id]
        if getattr(cfg, "final_logit_softcapping", None) or getattr(cfg, "attn_logit_softcapping", None):
            raise ValueError("Logit soft-capping is not supported by this export (Gemma 3 does not use it).")
        return cls(
            layers=cfg.num_hidden_layers,
            hidden=cfg.hidden_size,
            heads=cfg.num_attention_heads,
            kv_heads=cfg.num_key_value_heads,
            head_dim=cfg.head_dim,
            intermediate=cfg.intermediate_size,
            vocab_size=cfg.vocab_size,
            sliding_window=cfg.sliding_window,
            sliding=tuple(t == "sliding_attention" for t in layer_types),
            eps=float(cfg.rms_norm_eps),
            scaling=float(cfg.query_pre_attn_scalar) ** -0.5,
            bos_id=int(cfg.bos_token_id),
            eos_ids=tuple(int(e) for e in eos),
        )


_BYTE_PIECE = re.compile(r"<0x[0-9A-F]{2}>\Z")
ALWAYS_OUTPUT = ("<pad>", "<eos>", "<start_of_turn>", "<end_of_turn>")


def select_output_tokens(tokenizer: Any, *, size: int = 32768, texts: Iterable[str] = (),
                         include: Iterable[int] = (), allow: Callable[[str], bool] | None = None) -> list[int]:
    """Token ids for a restricted output vocabulary (`export_onnx(keep_tokens=...)`).

    The output projection is the largest weight read per decoded token (262k x 640);
    the app only ever writes English words, JSON and paths. Kept, in this order:
    the turn markers, all 256 byte tokens (so any text can still be spelled), whitespace
    runs, every single character `allow` accepts (Gemma lists them last, after the merges),
    every token of `texts` and `include` that `allow` accepts, then the lowest ids (the
    earliest BPE merges) that `allow` accepts, until `size` ids. The tokenizer is not changed.
    """
    vocab: dict[str, int] = tokenizer.get_vocab(with_added_tokens=True)
    ok = allow or (lambda _piece: True)
    pieces = {i: p for p, i in vocab.items()}
    keep = {vocab[p] for p in ALWAYS_OUTPUT if p in vocab}
    keep |= {i for p, i in vocab.items() if _BYTE_PIECE.match(p) or (p and not p.strip(" \t\n\r\u2581"))}
    keep |= {i for p, i in vocab.items() if len(p.lstrip("\u2581") or p) == 1 and ok(p)}
    wanted = set(include)
    for enc in tokenizer.encode_batch(list(texts), add_special_tokens=False):
        wanted.update(enc.ids)
    keep |= {i for i in wanted if i in pieces and ok(pieces[i])}
    special = {t.content for t in tokenizer.get_added_tokens_decoder().values() if t.special}
    for piece, tid in sorted(vocab.items(), key=lambda kv: kv[1]):
        if len(keep) >= size:
            break
        if piece in special or piece.startswith("<unused") or not ok(piece):
            continue
        keep.add(tid)
    return sorted(keep)


class _Graph:
    """Collects nodes and initializers with unique names; the export reads top to bottom."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[TensorProto] = []
        self._n = 0

    def const(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.array(array, order="C"), name))  # keeps 0-d shapes
        return name

    def op(self, op_type: str, inputs: Sequence[str], n_out: int = 1, *, domain: str = "",
           outputs: Sequence[str] | None = None, **attrs: Any) -> list[str]:
        self._n += 1
        outs = list(outputs) if outputs else [f"{op_type.lower()}_{self._n}_{k}" for k in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=f"{op_type}_{self._n}",
                                           domain=domain, **attrs))
        return outs


def _np(t: Any) -> np.ndarray:
    return t.detach().to("cpu").float().numpy()


def _head_norm(g: _Graph, x: str, heads: int, weight: str, eps: float) -> str:
    """Gemma's per-head RMS norm of q or k: [B,T,heads*D] -> [B,T,heads,D] -> norm -> back."""
    if heads > 1:
        (x,) = g.op("Reshape", [x, "heads_shape"])
    (x,) = g.op("SimplifiedLayerNormalization", [x, weight], axis=-1, epsilon=eps, stash_type=1)
    if heads > 1:
        (x,) = g.op("Reshape", [x, "merge_shape"])
    return x


KV_DTYPES = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16}


def _rope(model: Any) -> dict[str, dict[str, Any]]:
    """The rotary embeddings' inverse frequencies and scaling, by kind ("global", "local"):
    the engine computes the tables from them as transformers' Gemma3RotaryEmbedding does."""
    rope = {}
    for kind, rotary in (("global", model.model.rotary_emb), ("local", model.model.rotary_emb_local)):
        inv_freq = rotary.inv_freq.detach().float().numpy()
        rope[kind] = {"inv_freq": [float(f) for f in inv_freq], "scaling": float(rotary.attention_scaling)}
    return rope


ROPE_INPUTS = tuple(f"rope_{fn}_{kind}" for kind in ("global", "local") for fn in ("cos", "sin"))


def build_graph(model: Any, *, keep_tokens: Sequence[int] | None = None,
                prompt_tokens: Sequence[int] | None = None, max_context: int = 8192,
                kv_dtype: str = "float32") -> onnx.ModelProto:
    """The ONNX model of `model` (a transformers Gemma3ForCausalLM) as described above:
    fp32 weights, the KV cache (and attention) in `kv_dtype`."""
    s = GemmaShape.from_config(model.config)
    if kv_dtype not in KV_DTYPES:
        raise ValueError(f"kv_dtype must be one of {', '.join(KV_DTYPES)}, not {kv_dtype!r}.")
    kv_type = KV_DTYPES[kv_dtype]
    half = kv_type != TensorProto.FLOAT
    sd = {k: v for k, v in model.state_dict().items()}
    g = _Graph()
    p = "model."  # transformers' prefix for the decoder stack

    def norm_w(key: str) -> np.ndarray:  # Gemma's RMSNorm multiplies by (1 + weight)
        return 1.0 + _np(sd[key])

    def linear(key: str) -> np.ndarray:  # nn.Linear stores [out, in]; MatMul wants [in, out]
        return _np(sd[key]).T

    # The tied table [V, 640], shared by input and output. With keep_tokens its rows are
    # reordered kept-first, so the output reads rows [0, V') (a Slice: contiguous, no copy on
    # disk) and input ids go through a position map; common input tokens then also sit in
    # those first rows, so the pages ONNX Runtime memory-maps for the embedding stay few.
    table = _np(sd[p + "embed_tokens.weight"])
    ids = "input_ids"
    if keep_tokens is not None:
        kept = np.zeros(s.vocab_size, dtype=bool)
        kept[list(keep_tokens)] = True
        extra = np.asarray(prompt_tokens or [], dtype=np.int64)
        kept[extra] = True  # then the prompt tokens' rows: read as inputs and as extra columns
        order = np.concatenate([np.asarray(keep_tokens, dtype=np.int64), extra, np.flatnonzero(~kept)])  # row -> token
        table = table[order]
        position = np.empty(s.vocab_size, dtype=np.int32)
        position[order] = np.arange(s.vocab_size, dtype=np.int32)  # token -> row
        (ids,) = g.op("Gather", [g.const("token_rows", position), "input_ids"], axis=0)
    g.const("embed_table", table)
    g.const("last_index", np.array([-1], dtype=np.int64))
    q_size, kv_size = s.heads * s.head_dim, s.kv_heads * s.head_dim
    g.const("qkv_split", np.array([q_size, kv_size, kv_size], dtype=np.int64))
    g.const("heads_shape", np.array([0, 0, -1, s.head_dim], dtype=np.int64))
    g.const("merge_shape", np.array([0, 0, -1], dtype=np.int64))

    # Embedding: Gather rows, times sqrt(hidden) (Gemma3TextScaledWordEmbedding).
    (emb,) = g.op("Gather", ["embed_table", ids], axis=0)  # [B,T,640]
    embed_scale = float(model.model.embed_tokens.embed_scale)
    (h,) = g.op("Mul", [emb, g.const("embed_scale", np.array(embed_scale, dtype=np.float32))])

    outputs = []
    prev = None  # the previous layer's normed MLP output, added to the residual h by SkipSLN
    for i in range(s.layers):
        L = f"{p}layers.{i}."
        if prev is None:
            (x,) = g.op("SimplifiedLayerNormalization", [h, g.const(f"l{i}.in_norm", norm_w(L + "input_layernorm.weight"))],
                        axis=-1, epsilon=s.eps, stash_type=1)
        else:
            x, _, _, h = g.op("SkipSimplifiedLayerNormalization",
                              [prev, h, g.const(f"l{i}.in_norm", norm_w(L + "input_layernorm.weight"))],
                              n_out=4, domain=MS, epsilon=s.eps)
        wqkv = np.concatenate([linear(L + f"self_attn.{n}_proj.weight") for n in "qkv"], axis=1)
        (qkv,) = g.op("MatMul", [x, g.const(f"l{i}.qkv", wqkv)])  # [B,T,(H+2*KV)*D]
        q, k, v = g.op("Split", [qkv, "qkv_split"], n_out=3, axis=-1)
        q = _head_norm(g, q, s.heads, g.const(f"l{i}.q_norm", norm_w(L + "self_attn.q_norm.weight")), s.eps)
        k = _head_norm(g, k, s.kv_heads, g.const(f"l{i}.k_norm", norm_w(L + "self_attn.k_norm.weight")), s.eps)
        if half:
            q, k, v = (g.op("Cast", [t], to=kv_type)[0] for t in (q, k, v))
        rope = "local" if s.sliding[i] else "global"
        attn, _, _ = g.op(
            "GroupQueryAttention",
            [q, k, v, f"past_key.{i}", f"past_value.{i}", "seqlens_k", "total_sequence_length",
             f"rope_cos_{rope}", f"rope_sin_{rope}"],
            outputs=[f"attn_{i}", f"present_key.{i}", f"present_value.{i}"], domain=MS,
            num_heads=s.heads, kv_num_heads=s.kv_heads, scale=s.scaling, do_rotary=1, rotary_interleaved=0,
            # HF's window of W keys includes the query itself; ORT counts keys left of it.
            local_window_size=s.sliding_window if s.sliding[i] else -1,
        )
        outputs += [f"present_key.{i}", f"present_value.{i}"]
        if half:
            (attn,) = g.op("Cast", [f"attn_{i}"], to=TensorProto.FLOAT)
        if i == s.layers - 1:  # only the last position feeds the logits: drop the rest early
            (attn,) = g.op("Gather", [attn, "last_index"], axis=1)  # [B,1,H*D]
            (h,) = g.op("Gather", [h, "last_index"], axis=1)
        (o,) = g.op("MatMul", [attn, g.const(f"l{i}.o", linear(L + "self_attn.o_proj.weight"))])
        (o,) = g.op("SimplifiedLayerNormalization", [o, g.const(f"l{i}.post_attn_norm", norm_w(L + "post_attention_layernorm.weight"))],
                    axis=-1, epsilon=s.eps, stash_type=1)
        y, _, _, h = g.op("SkipSimplifiedLayerNormalization",
                          [o, h, g.const(f"l{i}.pre_ff_norm", norm_w(L + "pre_feedforward_layernorm.weight"))],
                          n_out=4, domain=MS, epsilon=s.eps)
        wgu = np.concatenate([linear(L + "mlp.gate_proj.weight"), linear(L + "mlp.up_proj.weight")], axis=1)
        (gu,) = g.op("MatMul", [y, g.const(f"l{i}.gate_up", wgu)])  # [B,T,2*I]
        gate, up = g.op("Split", [gu], n_out=2, axis=-1)
        (act,) = g.op("FastGelu", [gate], domain=MS)  # gelu_pytorch_tanh
        (act,) = g.op("Mul", [act, up])
        (d,) = g.op("MatMul", [act, g.const(f"l{i}.down", linear(L + "mlp.down_proj.weight"))])
        (prev,) = g.op("SimplifiedLayerNormalization", [d, g.const(f"l{i}.post_ff_norm", norm_w(L + "post_feedforward_layernorm.weight"))],
                       axis=-1, epsilon=s.eps, stash_type=1)

    final, _, _, _ = g.op("SkipSimplifiedLayerNormalization", [prev, h, g.const("final_norm", norm_w(p + "norm.weight"))],
                          n_out=4, domain=MS, epsilon=s.eps)  # [B,1,640]
    (final,) = g.op("Reshape", [final, g.const("flat_shape", np.array([-1, s.hidden], dtype=np.int64))])  # [B,640]
    head = "embed_table"
    if keep_tokens is not None:  # the first V' rows are the kept tokens, in keep_tokens order
        (head,) = g.op("Slice", ["embed_table", g.const("head_start", np.array([0], np.int64)),
                                 g.const("head_end", np.array([len(keep_tokens)], np.int64)),
                                 g.const("head_axis", np.array([0], np.int64))])
    if not prompt_tokens:
        g.op("Gemm", [final, head], outputs=["logits"], transB=1)  # [B,V']
    else:
        (fixed,) = g.op("Gemm", [final, head], transB=1)  # [B,V']
        (rows,) = g.op("Gather", ["token_rows", "extra_tokens"], axis=0)  # [E]
        (rows,) = g.op("Unsqueeze", [rows, g.const("axis_0", np.array([0], np.int64))])  # [1,E]
        (extra,) = g.op("Gather", ["embed_table", rows], axis=0)  # [1,E,640]
        (extra,) = g.op("Reshape", [extra, "flat_shape"])  # [E,640]
        (extra,) = g.op("Gemm", [final, extra], transB=1)  # [B,E]
        g.op("Concat", [fixed, extra], outputs=["logits"], axis=1)  # [B,V'+E]

    kv = ["batch", s.kv_heads, "past_sequence", s.head_dim]
    kv_out = ["batch", s.kv_heads, "total_sequence", s.head_dim]
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, ["batch"]),
        helper.make_tensor_value_info("total_sequence_length", TensorProto.INT32, []),
    ]
    for i in range(s.layers):
        inputs += [helper.make_tensor_value_info(f"past_key.{i}", kv_type, kv),
                   helper.make_tensor_value_info(f"past_value.{i}", kv_type, kv)]
    inputs += [helper.make_tensor_value_info(name, kv_type, ["rope_positions", s.head_dim // 2])
               for name in ROPE_INPUTS]
    out_vocab: int | str = len(keep_tokens) if keep_tokens is not None else s.vocab_size
    if prompt_tokens:
        inputs.append(helper.make_tensor_value_info("extra_tokens", TensorProto.INT64, ["extra"]))
        out_vocab = "columns"
    graph_outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", out_vocab])]
    graph_outputs += [helper.make_tensor_value_info(n, kv_type, kv_out) for n in outputs]

    graph = helper.make_graph(g.nodes, "gemma3_decoder", inputs, graph_outputs, g.inits)
    model_proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)],
                                    producer_name="deskmate")
    meta = {
        "layers": s.layers, "kv_heads": s.kv_heads, "head_dim": s.head_dim, "vocab_size": s.vocab_size,
        "max_context": max_context, "sliding_window": s.sliding_window, "sliding": list(s.sliding),
        "rope": _rope(model), "bos_id": s.bos_id, "eos_ids": list(s.eos_ids),
    }
    helper.set_model_props(model_proto, {
        META_CONFIG: json.dumps(meta),
        **({META_OUTPUT_TOKENS: ",".join(str(int(t)) for t in keep_tokens)} if keep_tokens is not None else {}),
        **({META_PROMPT_TOKENS: ",".join(str(int(t)) for t in prompt_tokens)} if prompt_tokens else {}),
    })
    return model_proto


def save_model(model_proto: onnx.ModelProto, path: Path, *, align: int = 4096) -> Path:
    """Write `path` plus `path.data` holding the weights (over 2 GB cannot live in a protobuf).

    Each large tensor starts at a multiple of `align` bytes: ONNX Runtime then memory-maps
    it instead of copying it, so pages never read (embedding rows of tokens never seen)
    cost no memory.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = path.with_name(path.name + ".data")
    offset = 0
    with open(data, "wb") as f:
        for tensor in model_proto.graph.initializer:
            if not tensor.HasField("raw_data") or len(tensor.raw_data) < 1024:
                continue
            offset = -(-offset // align) * align
            size = len(tensor.raw_data)
            f.seek(offset)
            f.write(tensor.raw_data)
            set_external_data(tensor, data.name, offset=offset, length=size)
            tensor.ClearField("raw_data")
            tensor.data_location = TensorProto.EXTERNAL
            offset += size
    onnx.save_model(model_proto, str(path))
    return path


def export_onnx(model: Any, out_dir: Path, *, keep_tokens: Sequence[int] | None = None,
                prompt_tokens: Sequence[int] | None = None, max_context: int = 8192,
                kv_dtype: str = "float32") -> Path:
    """Export `model` (transformers Gemma3ForCausalLM, fp32) to `out_dir/model.onnx` (+ .data).

    Args:
        model: the PyTorch model (LoRA already merged).
        out_dir: folder to write into (created).
        keep_tokens: token ids whose logits the graph computes (all of them if None). The
            tokenizer and input vocabulary are unchanged; the engine maps columns back to ids.
        prompt_tokens: token ids outside `keep_tokens` the engine may add as columns per
            request (`extra_tokens`); needs `keep_tokens`.
        max_context: longest sequence (prompt + answer) the engine will run.
        kv_dtype: "float32" (matches PyTorch to rounding) or "float16" (half the cache memory).
    Returns:
        The path of the fp32 `model.onnx`.
    """
    if keep_tokens is not None:
        keep_tokens = sorted(set(int(t) for t in keep_tokens))
        if keep_tokens[0] < 0 or keep_tokens[-1] >= model.config.vocab_size:
            raise ValueError(f"keep_tokens must be ids in [0, {model.config.vocab_size}).")
    if prompt_tokens:
        if keep_tokens is None:
            raise ValueError("prompt_tokens needs keep_tokens: with the whole vocabulary every token is a column.")
        prompt_tokens = sorted(set(int(t) for t in prompt_tokens))
        if set(prompt_tokens) & set(keep_tokens) or prompt_tokens[0] < 0 or prompt_tokens[-1] >= model.config.vocab_size:
            raise ValueError(f"prompt_tokens must be ids in [0, {model.config.vocab_size}) not in keep_tokens.")
    graph = build_graph(model, keep_tokens=keep_tokens, prompt_tokens=prompt_tokens or None,
                        max_context=max_context, kv_dtype=kv_dtype)
    return save_model(graph, Path(out_dir) / MODEL_FILE)

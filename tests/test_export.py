"""The ONNX export and INT8 quantization, checked against PyTorch on the tiny random Gemma 3.

The tiny model has a sliding window of 8, so a 20-token prompt exercises local and
global attention; prompts are fed in pieces to exercise the KV cache (past + new tokens).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from app.engine.rope import rotary_tables  # noqa: E402
from app.engine.session import read_info  # noqa: E402
from app.model.export import META_CONFIG, META_OUTPUT_TOKENS, export_onnx, select_output_tokens  # noqa: E402
from app.model.quantize import quantize_int8  # noqa: E402

PROMPT = [2, 105, 2364, 107, 9259, 1902, 236888, 563, 506, 1646, 1217, 236881, 108, 3048, 107, 4368, 5437, 532, 2343, 1109]


def test_restricted_int8_rows_are_stored_once(exported):
    """With an output vocabulary, the table is split in two row ranges, together V rows."""
    model = onnx.load(str(exported["keep_int8"]), load_external_data=False)
    rows = {t.name: t.dims[0] for t in model.graph.initializer if t.name in ("embed_head.q", "embed_rest.q")}
    keep = len(set(range(0, 262144, 7)) | {1, 106})
    assert rows == {"embed_head.q": keep, "embed_rest.q": 262144 - keep}
    assert not [t for t in model.graph.initializer if t.name == "embed_table"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, tiny_gemma) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("export")
    keep = list(range(0, 262144, 7)) + [1, 106]
    paths = {
        "fp32": export_onnx(tiny_gemma, root / "fp32"),
        "keep": export_onnx(tiny_gemma, root / "keep", keep_tokens=keep),
        "fp16kv": export_onnx(tiny_gemma, root / "fp16kv", kv_dtype="float16"),
        "prompt": export_onnx(tiny_gemma, root / "prompt", keep_tokens=keep, prompt_tokens=range(3, 262144, 7)),
    }
    paths["int8"] = quantize_int8(paths["fp32"], root / "int8" / "model.onnx")
    paths["dynamic"] = quantize_int8(paths["fp32"], root / "dynamic" / "model.onnx", layers="dynamic")
    paths["keep_int8"] = quantize_int8(paths["keep"], root / "keep_int8" / "model.onnx")
    paths["keep_table4"] = quantize_int8(paths["keep"], root / "keep_table4" / "model.onnx", embed_bits=4)
    paths["prompt_int8"] = quantize_int8(paths["prompt"], root / "prompt_int8" / "model.onnx")
    return paths


def run_pieces(path: Path, pieces: list[list[int]], extra: list[int] = ()) -> list[np.ndarray]:
    """Feed the pieces one after another through the graph (past K/V carried), logits of each;
    `extra`: the ids of further columns, for a graph exported with `prompt_tokens`."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    layers = sum(1 for i in session.get_inputs() if i.name.startswith("past_key."))
    kv = session.get_inputs()[3]
    dtype = np.float16 if kv.type == "tensor(float16)" else np.float32
    past = [np.zeros((1, kv.shape[1], 0, kv.shape[3]), dtype)] * (2 * layers)
    tables = rotary_tables(read_info(session).rope, sum(map(len, pieces)), dtype)  # as the engine computes them
    seen, logits = 0, []
    for piece in pieces:
        seen += len(piece)
        feed = {"input_ids": np.array([piece], np.int64), "seqlens_k": np.array([seen - 1], np.int32),
                "total_sequence_length": np.array(seen, np.int32), **tables}
        if any(i.name == "extra_tokens" for i in session.get_inputs()):
            feed["extra_tokens"] = np.array(extra, np.int64)
        feed.update({f"past_{kind}.{i}": past[2 * i + (kind == "value")] for i in range(layers) for kind in ("key", "value")})
        out = session.run(None, feed)
        logits.append(out[0][0])
        past = out[1:]
    return logits


def torch_last_logits(model, ids: list[int]) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0, -1].numpy()


def test_fp32_export_matches_pytorch(exported, tiny_gemma):
    """Logits of the last position equal PyTorch's, whole prompt or piece by piece."""
    ref = torch_last_logits(tiny_gemma, PROMPT)
    (whole,) = run_pieces(exported["fp32"], [PROMPT])
    pieces = run_pieces(exported["fp32"], [PROMPT[:11], PROMPT[11:17], PROMPT[17:19], PROMPT[19:]])
    scale = np.abs(ref).max()
    assert whole.shape == ref.shape == (262144,)
    assert np.abs(whole - ref).max() < 1e-4 * scale
    assert np.abs(pieces[-1] - ref).max() < 1e-4 * scale
    assert np.abs(pieces[1] - torch_last_logits(tiny_gemma, PROMPT[:17])).max() < 1e-4 * scale


def test_float16_cache_tracks_fp32_and_halves_the_cache(exported):
    """kv_dtype="float16": the cache travels in float16, logits stay within float16 rounding."""
    ref = run_pieces(exported["fp32"], [PROMPT[:11], PROMPT[11:]])[-1]
    half = run_pieces(exported["fp16kv"], [PROMPT[:11], PROMPT[11:]])[-1]
    session = ort.InferenceSession(str(exported["fp16kv"]), providers=["CPUExecutionProvider"])
    kv_types = {i.type for i in session.get_inputs() + session.get_outputs() if "_key." in i.name or "_value." in i.name}
    assert kv_types == {"tensor(float16)"}
    assert np.abs(half - ref).max() < 1e-2 * np.abs(ref).max()
    assert np.argsort(half)[-5:].tolist() == np.argsort(ref)[-5:].tolist()


def test_export_rejects_an_unknown_cache_type(tiny_gemma, tmp_path):
    with pytest.raises(ValueError, match="kv_dtype"):
        export_onnx(tiny_gemma, tmp_path, kv_dtype="bfloat16")


def test_restricted_output_vocabulary_is_the_kept_columns(exported):
    """keep_tokens: the logits are exactly the kept columns; the ids ride in the metadata."""
    full = run_pieces(exported["fp32"], [PROMPT])[0]
    kept = run_pieces(exported["keep"], [PROMPT])[0]
    kept_int8 = run_pieces(exported["keep_int8"], [PROMPT[:9], PROMPT[9:]])[-1]
    full_int8 = run_pieces(exported["int8"], [PROMPT[:9], PROMPT[9:]])[-1]
    meta = {p.key: p.value for p in onnx.load(str(exported["keep"]), load_external_data=False).metadata_props}
    ids = np.array([int(t) for t in meta[META_OUTPUT_TOKENS].split(",")])
    assert list(ids) == sorted(set(range(0, 262144, 7)) | {1, 106})
    assert np.allclose(kept, full[ids], atol=1e-5)
    assert np.allclose(kept_int8, full_int8[ids], atol=1e-4)  # same rows, whichever range they sit in
    assert '"max_context"' in meta[META_CONFIG]


@pytest.mark.parametrize("extra", [[3, 262142, 10, 66], []])
def test_prompt_tokens_add_the_named_columns(exported, extra):
    """prompt_tokens: the logits are the kept columns, then one column per id in `extra_tokens`
    (none is fine), the same values a full-vocabulary graph gives; the ids ride in the metadata."""
    full = run_pieces(exported["fp32"], [PROMPT])[0]
    keep = sorted(set(range(0, 262144, 7)) | {1, 106})
    out = run_pieces(exported["prompt"], [PROMPT], extra)[0]
    assert out.shape == (len(keep) + len(extra),)
    assert np.allclose(out, full[keep + extra], atol=1e-5)
    full_int8 = run_pieces(exported["int8"], [PROMPT[:9], PROMPT[9:]])[-1]
    out_int8 = run_pieces(exported["prompt_int8"], [PROMPT[:9], PROMPT[9:]], extra)[-1]
    assert np.allclose(out_int8[:len(keep)], full_int8[keep], atol=1e-4)
    # the extra columns multiply the same 8-bit rows, in fp32 rather than with 8-bit activations
    assert np.allclose(out_int8[len(keep):], full_int8[extra], atol=2e-2 * np.abs(full_int8).max())
    session = ort.InferenceSession(str(exported["prompt_int8"]), providers=["CPUExecutionProvider"])
    info = read_info(session)
    assert info.prompt_tokens.tolist() == list(range(3, 262144, 7))
    assert info.columns([3, 5, 10, 10, 106]).tolist() == keep + [3, 10]  # the prompt's tokens not fixed, once each
    assert len(info.producible) == len(keep) + len(info.prompt_tokens)


def test_export_rejects_prompt_tokens_that_overlap_or_stand_alone(tiny_gemma, tmp_path):
    with pytest.raises(ValueError, match="prompt_tokens needs keep_tokens"):
        export_onnx(tiny_gemma, tmp_path, prompt_tokens=[3])
    with pytest.raises(ValueError, match="not in keep_tokens"):
        export_onnx(tiny_gemma, tmp_path, keep_tokens=[1, 2, 3], prompt_tokens=[3, 4])


@pytest.mark.parametrize("kind", ["int8", "dynamic"])
def test_int8_close_to_fp32_and_table_stored_once(exported, kind):
    """The INT8 graph tracks fp32, and the tied 262k-row table is stored once, as 8-bit."""
    ref = run_pieces(exported["fp32"], [PROMPT])[0]
    q = run_pieces(exported[kind], [PROMPT[:12], PROMPT[12:]])[-1]
    assert np.corrcoef(ref, q)[0, 1] > 0.99
    model = onnx.load(str(exported[kind]), load_external_data=False)
    big = [t for t in model.graph.initializer if np.prod(t.dims) >= 262144 * 16]  # a table, not its scales
    assert [(t.name, t.data_type) for t in big] == [("embed_head.q", onnx.TensorProto.UINT8)]
    fp32_bytes = (exported["fp32"].parent / "model.onnx.data").stat().st_size
    assert (exported[kind].parent / "model.onnx.data").stat().st_size < fp32_bytes / 3


def test_select_output_tokens_keeps_bytes_markers_single_characters_and_texts(hf_tokenizer):
    catalog = "call:create_event{\"title\": \"Lunch\"} ~/Documents"
    vocab = hf_tokenizer.get_vocab(with_added_tokens=True)
    ascii_only = lambda piece: piece.replace("\u2581", " ").isascii()  # noqa: E731
    keep = set(select_output_tokens(hf_tokenizer, size=4096, texts=[catalog], include=[vocab["▁tomorrow"]],
                                    allow=ascii_only))
    assert len(keep) == 4096
    assert {vocab["<end_of_turn>"], vocab["<eos>"], vocab["<0xEA>"], vocab["<0x00>"]} <= keep
    assert set(hf_tokenizer.encode(catalog, add_special_tokens=False).ids) <= keep
    assert {vocab["~"], vocab["_"], vocab["▁tomorrow"]} <= keep  # single characters sit at the end of Gemma's ids
    assert vocab["<unused0>"] not in keep and vocab["é"] not in keep


def test_export_rejects_bad_keep_tokens(tiny_gemma, tmp_path):
    with pytest.raises(ValueError, match="keep_tokens"):
        export_onnx(tiny_gemma, tmp_path, keep_tokens=[5, 262144])


def test_a_4bit_table_halves_the_rows_and_still_tracks_fp32(exported):
    """embed_bits=4: both row ranges packed two values a byte, read by the lookup and the head."""
    ref = run_pieces(exported["keep"], [PROMPT])[0]
    q4 = run_pieces(exported["keep_table4"], [PROMPT[:12], PROMPT[12:]])[-1]
    q8 = run_pieces(exported["keep_int8"], [PROMPT[:12], PROMPT[12:]])[-1]
    assert np.corrcoef(ref, q4)[0, 1] > 0.97
    assert np.abs(q4 - ref).mean() > np.abs(q8 - ref).mean()  # coarser, as it should be
    dims = {m: {t.name: list(t.dims) for t in onnx.load(str(exported[m]), load_external_data=False).graph.initializer}
            for m in ("keep_int8", "keep_table4")}
    for name in ("embed_head.q", "embed_rest.q"):
        rows, blocks, width = dims["keep_int8"][name]
        assert dims["keep_table4"][name] == [rows, blocks, width // 2]


def test_4bit_mlp_weights_halve_those_layers_only_and_still_track_fp32(exported, tmp_path):
    """mlp_bits=4 (a bench variant): gate/up and down packed two values a byte, the rest 8-bit."""
    path = quantize_int8(exported["fp32"], tmp_path / "mlp4" / "model.onnx", mlp_bits=4)
    ref = run_pieces(exported["fp32"], [PROMPT])[0]
    q4 = run_pieces(path, [PROMPT[:12], PROMPT[12:]])[-1]
    assert np.corrcoef(ref, q4)[0, 1] > 0.97
    dims = {m: {t.name: list(t.dims) for t in onnx.load(str(p), load_external_data=False).graph.initializer}
            for m, p in (("int8", exported["int8"]), ("mlp4", path))}
    for layer in (0, 1):
        for name in (f"l{layer}.gate_up.q", f"l{layer}.down.q"):
            rows, blocks, width = dims["int8"][name]
            assert dims["mlp4"][name] == [rows, blocks, width // 2]
        assert dims["mlp4"][f"l{layer}.qkv.q"] == dims["int8"][f"l{layer}.qkv.q"]

"""The model build: idempotent, atomic, and its manifest catches corrupt or outdated models.

Fast tests run the real pipeline (export_onnx + quantize_int8 + tokenizer + manifest)
on the tiny random-weight Gemma 3 (tests/fixtures/models.py); the real model is only
used by tests marked `model`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.errors import DeskmateError, ModelCorrupt, ModelMissing
from app.model import manifest as mf
from app.model.build import build_model
from app.paths import AppPaths
from tests.fixtures.models import TINY_NAME

REBUILD = "deskmate model build --force"


def _paths(root: Path) -> AppPaths:
    return AppPaths(home=root / "home", config=root / "config", data=root / "data", models=root / "models")


def _snapshot(model_dir: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in model_dir.iterdir()}


@pytest.fixture
def tiny_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny built model (mtimes kept, so its verification stamp holds)."""
    target = tmp_path / "models" / TINY_NAME
    shutil.copytree(tiny_model_dir, target)
    return target


def _clock(start: datetime):
    ticks = iter(range(10_000))
    return lambda: start + timedelta(minutes=next(ticks))


# --- the built folder ---------------------------------------------------------------------------

def test_tiny_build_has_the_model_tokenizer_and_a_manifest_of_every_file(tiny_model_dir, hf_tokenizer):
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {"model.onnx", "tokenizer.model", "manifest.json"} <= names
    assert "tokenizer.json" not in names  # the build's form of the tokenizer stays with the build
    assert not any(n.startswith(".") and n != mf.STAMP_FILE for n in names)  # no temp leftovers

    manifest = mf.verify(tiny_model_dir, full=True)
    listed = {f.path for f in manifest.files}
    assert listed == {p.name for p in tiny_model_dir.iterdir() if p.is_file()} - {"manifest.json", mf.STAMP_FILE}
    for entry in manifest.files:
        assert mf.sha256_file(tiny_model_dir / entry.path) == entry.sha256
    assert manifest.tokenizer_sha256 == next(f.sha256 for f in manifest.files if f.path == "tokenizer.model")
    assert manifest.inputs.adapter is None and manifest.adapter_choice == "none"
    assert manifest.inputs.recipe_version == mf.RECIPE_VERSION
    from app.tools.catalog import Catalog

    assert manifest.inputs.catalog_sha256 == Catalog.builtin().sha256
    assert set(manifest.tool_names) == {t.name for t in Catalog.builtin()}

    # The model folder's tokenizer is the real one.
    from app.engine.tokenizer import GemmaTokenizer

    text = "<bos>hello world  <start_of_turn>"
    assert GemmaTokenizer.from_file(tiny_model_dir).encode(text) == hf_tokenizer.encode(text).ids


def test_tiny_model_is_int8_and_restricted_to_the_output_vocabulary(tiny_model_dir):
    import onnx
    import onnxruntime as ort

    graph = onnx.load(str(tiny_model_dir / "model.onnx"), load_external_data=False).graph
    assert any(n.op_type == "MatMulNBits" for n in graph.node)
    session = ort.InferenceSession(str(tiny_model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    notes = mf.read_manifest(tiny_model_dir).notes
    assert notes["output_tokens"] == 32768 and notes["prompt_output_tokens"] > 100_000
    assert [i.name for i in session.get_inputs() if i.name == "extra_tokens"] == ["extra_tokens"]


def test_output_vocabulary_keeps_what_the_app_writes(hf_tokenizer):
    from app.model.build import latin_output_tokens

    keep = set(latin_output_tokens(hf_tokenizer))
    text = 'call:create_event{"title": "Réunion with Zoë", "start": "tomorrow at 12:30"}<end_of_turn>'
    assert set(hf_tokenizer.encode(text).ids) <= keep
    assert {hf_tokenizer.token_to_id(t) for t in ("<eos>", "<end_of_turn>", "<0xE6>")} <= keep
    assert hf_tokenizer.token_to_id("<unused5>") not in keep
    assert not set(hf_tokenizer.encode("日本語").ids) <= keep


def test_output_vocabulary_fixed_part_is_what_the_model_was_trained_to_write(hf_tokenizer):
    """The fixed columns hold the training mix's tokens (Latin pieces only); every other piece, in any script,
    is a column only when the prompt has it; unused slots and control pieces never are."""
    from app.model.build import latin_output_tokens, output_vocab, writable_tokens

    vocab = output_vocab(hf_tokenizer)
    fixed, from_prompt = set(vocab.fixed), set(vocab.from_prompt)
    assert len(fixed) == 32768 and not fixed & from_prompt and fixed <= set(latin_output_tokens(hf_tokenizer))
    assert from_prompt == set(writable_tokens(hf_tokenizer)) - fixed
    assert set(hf_tokenizer.encode("~/Pictures/日本旅行 مرحبا").ids) <= fixed | from_prompt
    assert not {hf_tokenizer.token_to_id(t) for t in ("<unused5>", "<start_of_image>")} & (fixed | from_prompt)
    trained = 'call:search_files{"query": "slides", "folder": "~/Downloads"}\nSorry, no available tool handles that.'
    assert set(hf_tokenizer.encode(trained).ids) <= fixed
    assert hf_tokenizer.token_to_id("\u2581méthodique") in from_prompt


# --- idempotence ----------------------------------------------------------------------------------

def test_second_build_is_a_no_op(tmp_path, tiny_recipe):
    paths = _paths(tmp_path)
    seen: list[tuple[str, float]] = []
    first = build_model(paths, TINY_NAME, no_adapter=True, recipe=tiny_recipe,
                        progress=lambda stage, f: seen.append((stage, f)), clock=_clock(datetime(2026, 11, 26, 9)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [s for s, _ in seen][:3] == ["base model", "tokenizer", "load"]
    manifest_text = (first / "manifest.json").read_text()
    before = _snapshot(first)

    def must_not_run(*_args):
        raise AssertionError("an up-to-date build must not load or export anything")

    idle = dataclasses.replace(tiny_recipe, load_model=must_not_run, export=must_not_run)
    seen.clear()
    second = build_model(paths, TINY_NAME, no_adapter=True, recipe=idle, progress=lambda s, f: seen.append((s, f)),
                         clock=_clock(datetime(2027, 1, 1)))
    assert second == first
    assert (second / "manifest.json").read_text() == manifest_text
    assert _snapshot(second) == before  # not a byte rewritten
    assert seen[-1] == ("up to date", 1.0)

    # --force rebuilds, and only the build time in the manifest differs.
    forced = build_model(paths, TINY_NAME, no_adapter=True, recipe=tiny_recipe, force=True,
                         clock=_clock(datetime(2027, 1, 1)))
    old, new = json.loads(manifest_text), json.loads((forced / "manifest.json").read_text())
    assert new["created"] == "2027-01-01T00:00:00" != old["created"]
    assert new["fingerprint"] == old["fingerprint"]
    assert {k: v for k, v in new.items() if k != "created"} == {k: v for k, v in old.items() if k != "created"}


def test_a_corrupt_model_is_rebuilt_not_reused(tiny_copy, tiny_recipe):
    paths = _paths(tiny_copy.parent.parent)
    data = tiny_copy / "model.onnx.data"
    _flip_byte(data, keep_mtime=False)
    rebuilt = build_model(paths, TINY_NAME, no_adapter=True, recipe=tiny_recipe)
    mf.verify(rebuilt, full=True)


# --- manifest mismatch ----------------------------------------------------------------------------

def _edit_manifest(model_dir: Path, edit) -> None:
    raw = json.loads((model_dir / "manifest.json").read_text())
    edit(raw)
    (model_dir / "manifest.json").write_text(json.dumps(raw))


def test_model_built_for_another_catalog_must_be_rebuilt(tiny_copy):
    _edit_manifest(tiny_copy, lambda raw: raw["inputs"].update(catalog_sha256="0" * 64))
    with pytest.raises(ModelCorrupt) as err:
        mf.verify(tiny_copy)  # runtime default: compared with this app's catalog
    assert "tool catalog changed" in str(err.value) and REBUILD in str(err.value)
    mf.verify(tiny_copy, check_current=False)  # the files themselves are fine


def test_model_built_by_an_older_recipe_must_be_rebuilt(tiny_copy):
    _edit_manifest(tiny_copy, lambda raw: raw["inputs"].update(recipe_version=0))
    with pytest.raises(ModelCorrupt, match="build recipe 0"):
        mf.verify(tiny_copy)


def test_changed_adapter_is_detected(tiny_copy, tmp_path):
    manifest = mf.read_manifest(tiny_copy)
    adapter = tmp_path / "adapters" / "mine"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    (adapter / "adapter_model.safetensors").write_bytes(b"weights-1")
    with_adapter = dataclasses.replace(manifest.inputs, adapter=mf.AdapterInfo.of(adapter))
    with pytest.raises(ModelCorrupt, match=r"adapter \(mine\) is available but not built in.*--force"):
        mf.verify(tiny_copy, expected=with_adapter)

    # The same adapter folder with other weights has another identity.
    (adapter / "adapter_model.safetensors").write_bytes(b"weights-2")
    assert mf.AdapterInfo.of(adapter) != with_adapter.adapter
    assert mf.AdapterInfo.of(adapter).name == "mine"


def test_editing_an_adapters_model_card_keeps_its_identity(tmp_path):
    """The card and loss plot beside the weights do not change what gets built."""
    adapter = tmp_path / "adapters" / "mine"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    (adapter / "adapter_model.safetensors").write_bytes(b"weights-1")
    before = mf.AdapterInfo.of(adapter)
    (adapter / "README.md").write_text("results: measured later")
    (adapter / "loss.png").write_bytes(b"png")
    assert mf.AdapterInfo.of(adapter) == before


def test_default_adapter_appearing_after_the_build_makes_it_outdated(tiny_copy, monkeypatch, tmp_path):
    _edit_manifest(tiny_copy, lambda raw: raw.update(adapter_choice="default"))
    mf.verify(tiny_copy)  # no default adapter for this name: up to date
    adapter = tmp_path / "adapters" / TINY_NAME
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    monkeypatch.setattr(mf, "default_adapter_dir", lambda name: adapter if name == TINY_NAME else None)
    with pytest.raises(ModelCorrupt, match="available but not built in"):
        mf.verify(tiny_copy)


def test_build_merges_an_adapter_and_rebuilds_when_it_changes(tmp_path, tiny_recipe, tiny_copy):
    """A real PEFT LoRA adapter for the tiny model: merged into the weights, tracked in the manifest."""
    import torch
    from peft import LoraConfig, get_peft_model

    from tests.fixtures.models import make_tiny_gemma

    adapter = tmp_path / "adapters" / "tiny-lora"
    peft_model = get_peft_model(make_tiny_gemma(), LoraConfig(r=4, target_modules=["q_proj", "v_proj", "down_proj"]))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)  # LoRA starts as a no-op; make it change the weights
    peft_model.save_pretrained(str(adapter))

    paths = _paths(tiny_copy.parent.parent)  # starts from the adapter-free tiny model
    base_manifest = mf.read_manifest(tiny_copy)
    built = build_model(paths, TINY_NAME, adapter=adapter, recipe=tiny_recipe)
    manifest = mf.verify(built, full=True)
    assert manifest.adapter_choice == "explicit"
    assert manifest.inputs.adapter == mf.AdapterInfo.of(adapter)
    weights = {f.path: f.sha256 for f in manifest.files}
    assert weights["model.onnx.data"] != {f.path: f.sha256 for f in base_manifest.files}["model.onnx.data"]

    # Same adapter: nothing to do. Changed adapter: rebuilt.
    assert build_model(paths, TINY_NAME, adapter=adapter, recipe=tiny_recipe) == built
    assert (built / "manifest.json").read_text() == (tiny_copy / "manifest.json").read_text()
    (adapter / "README.md").write_text("retrained\n")
    build_model(paths, TINY_NAME, adapter=adapter, recipe=tiny_recipe)
    assert mf.read_manifest(built).inputs.adapter == mf.AdapterInfo.of(adapter)


def test_adapter_folder_without_config_is_refused(tmp_path, tiny_recipe):
    (tmp_path / "not-an-adapter").mkdir()
    with pytest.raises(DeskmateError, match="not a LoRA adapter"):
        build_model(_paths(tmp_path), TINY_NAME, adapter=tmp_path / "not-an-adapter", recipe=tiny_recipe)


# --- corrupt or missing files ---------------------------------------------------------------------

def _flip_byte(path: Path, *, keep_mtime: bool, offset: int = 1000) -> None:
    st = path.stat()
    with path.open("r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_flipped_byte_is_reported_with_the_rebuild_command(tiny_copy):
    _flip_byte(tiny_copy / "model.onnx.data", keep_mtime=False)
    with pytest.raises(ModelCorrupt) as err:
        mf.verify(tiny_copy)
    message = str(err.value)
    assert "model.onnx.data" in message and "damaged" in message and REBUILD in message


def test_quick_check_trusts_the_stamp_and_full_check_rehashes(tiny_copy):
    mf.verify(tiny_copy, full=True)
    _flip_byte(tiny_copy / "tokenizer.model", keep_mtime=True, offset=5000)  # same size, same mtime
    mf.verify(tiny_copy)  # the quick check trusts the last full check
    with pytest.raises(ModelCorrupt, match="tokenizer.model does not match its checksum"):
        mf.verify(tiny_copy, full=True)


def test_truncated_and_missing_files(tiny_copy):
    data = tiny_copy / "model.onnx.data"
    with data.open("r+b") as fh:
        fh.truncate(data.stat().st_size // 2)
    with pytest.raises(ModelCorrupt, match="bytes where .* were written"):
        mf.verify(tiny_copy)
    data.unlink()
    with pytest.raises(ModelCorrupt, match="missing model.onnx.data"):
        mf.verify(tiny_copy)


def test_missing_model_or_manifest(tmp_path, tiny_copy):
    with pytest.raises(ModelMissing, match="does not exist. Build it with: deskmate model build"):
        mf.verify(tmp_path / "nowhere")
    (tiny_copy / "manifest.json").unlink()
    with pytest.raises(ModelMissing, match="no manifest.json"):
        mf.verify(tiny_copy)


def test_unreadable_manifest(tiny_copy):
    (tiny_copy / "manifest.json").write_text("{not json")
    with pytest.raises(ModelCorrupt, match="unreadable.*--force"):
        mf.verify(tiny_copy)
    (tiny_copy / "manifest.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(ModelCorrupt, match="unreadable"):
        mf.verify(tiny_copy)


# --- atomicity ------------------------------------------------------------------------------------

def test_interrupted_build_leaves_the_previous_model_in_place(tiny_copy, tiny_recipe):
    paths = _paths(tiny_copy.parent.parent)
    before = _snapshot(tiny_copy)
    manifest_text = (tiny_copy / "manifest.json").read_text()

    def export_then_crash(model, out_dir: Path, keep):
        out_dir.mkdir(parents=True)
        (out_dir / "model.onnx").write_bytes(b"half a model")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        build_model(paths, TINY_NAME, no_adapter=True, force=True,
                    recipe=dataclasses.replace(tiny_recipe, export=export_then_crash))
    assert _snapshot(tiny_copy) == before
    assert (tiny_copy / "manifest.json").read_text() == manifest_text
    mf.verify(tiny_copy, full=True)
    assert not [p for p in paths.models.iterdir() if ".building-" in p.name]


def test_crash_between_the_swap_renames_is_recovered(tiny_copy, tiny_recipe):
    """If the process died after setting the old model aside, the next build puts it back."""
    paths = _paths(tiny_copy.parent.parent)
    aside = tiny_copy.with_name(f".{TINY_NAME}.old-4242")
    tiny_copy.rename(aside)
    leftover = paths.models / f".{TINY_NAME}.building-xyz"
    leftover.mkdir()

    def must_not_run(*_args):
        raise AssertionError("the recovered model is up to date")

    path = build_model(paths, TINY_NAME, no_adapter=True, recipe=dataclasses.replace(tiny_recipe, load_model=must_not_run))
    assert path == tiny_copy and not aside.exists() and not leftover.exists()
    mf.verify(path, full=True)


# --- CLI --------------------------------------------------------------------------------------------

def test_cli_info_prints_the_manifest(tiny_copy, monkeypatch, capsys):
    from app.cli import main

    monkeypatch.delenv("DESKMATE_HOME", raising=False)
    monkeypatch.setenv("DESKMATE_MODELS", str(tiny_copy.parent))
    assert main(["model", "info", "--name", TINY_NAME]) == 0
    out = capsys.readouterr().out
    assert "status     ok" in out and "model.onnx" in out and "v1" in out

    assert main(["model", "info", "--name", TINY_NAME, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == TINY_NAME

    _flip_byte(tiny_copy / "model.onnx", keep_mtime=False, offset=100)
    assert main(["model", "info", "--name", TINY_NAME]) == 1
    assert REBUILD in capsys.readouterr().err


def test_cli_info_without_a_model_says_how_to_build(tmp_path, monkeypatch, capsys):
    from app.cli import main

    monkeypatch.delenv("DESKMATE_HOME", raising=False)
    monkeypatch.setenv("DESKMATE_MODELS", str(tmp_path))
    assert main(["model", "info"]) == 1
    assert "Build it with: deskmate model build" in capsys.readouterr().err


def test_cli_build_in_an_installed_app_says_the_model_ships_with_it(tmp_path, monkeypatch, capsys):
    import sys

    from app.cli import main

    (tmp_path / "models").mkdir()  # what PyInstaller unpacks beside the executable
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert main(["model", "build"]) == 1
    err = capsys.readouterr().err
    assert "ships its model ready-built" in err and "Traceback" not in err


# --- the real model ---------------------------------------------------------------------------------

@pytest.mark.model
def test_real_model_is_built_lean_and_up_to_date(real_model_dir):
    manifest = mf.verify(real_model_dir, full=True)
    assert manifest.size <= 300 * 1024 * 1024 + 6 * 1024 * 1024  # model files + the 5 MB tokenizer.model
    onnx_bytes = sum(f.size for f in manifest.files if f.path.startswith("model.onnx"))
    assert onnx_bytes <= 300 * 1024 * 1024
    assert build_model(AppPaths.for_user(), manifest.name) == real_model_dir  # a no-op now


@pytest.mark.model
def test_dequantized_torch_model_is_the_real_gemma(base_gguf_path, hf_tokenizer):
    """The PyTorch model the build exports: tied head, and it continues text like Gemma does."""
    import torch

    from app.model.loader import load_torch_model

    model = load_torch_model(base_gguf_path)
    assert model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    assert model.config.vocab_size == hf_tokenizer.get_vocab_size() == 262144
    from gguf import GGUFReader
    from gguf.quants import dequantize

    stored = next(t for t in GGUFReader(str(base_gguf_path)).tensors if t.name == "token_embd.weight")
    table = dequantize(stored.data, stored.tensor_type).reshape(262144, -1)
    rows = [0, 2, 105, 23391, 262143]  # the head is the GGUF's one embedding table, exactly
    assert torch.equal(model.get_output_embeddings().weight[rows].detach(), torch.from_numpy(table[rows]).float())

    def greedy(prompt: str, n: int) -> list[int]:
        ids = hf_tokenizer.encode(prompt).ids
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), max_new_tokens=n, do_sample=False)
        return out[0, len(ids):].tolist()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # torch's spinning worker threads crawl on a busy 2-core machine
    try:
        counting = greedy("<bos>1, 2, 3, 4,", 6)
        france = greedy("<bos>The capital of France is", 10)
    finally:
        torch.set_num_threads(threads)
    assert hf_tokenizer.decode(counting, skip_special_tokens=False).startswith(" 5, 6")
    assert "France" in hf_tokenizer.decode(france, skip_special_tokens=False)

    # Same greedy tokens as llama.cpp running the quantized file itself, when it is installed
    # (in a child process: a llama.cpp built for another CPU dies with SIGILL).
    if importlib.util.find_spec("llama_cpp") is not None:
        code = (
            "import json, sys, llama_cpp\n"
            "ll = llama_cpp.Llama(sys.argv[1], n_ctx=128, n_threads=1, verbose=False)\n"
            "out = []\n"
            "for t in ll.generate(ll.tokenize(b'<bos>The capital of France is', add_bos=False, special=True), temp=0.0, top_k=1):\n"
            "    out.append(t)\n"
            "    if len(out) == 10: break\n"
            "print(json.dumps(out))\n"
        )
        run = subprocess.run([sys.executable, "-c", code, str(base_gguf_path)], capture_output=True, text=True, timeout=300)
        if run.returncode == 0:
            assert json.loads(run.stdout.strip().splitlines()[-1]) == france


@pytest.mark.slow
def test_damaged_cached_base_model_is_assembled_again(tmp_path):
    from app.model.gguf_source import base_gguf, base_gguf_path, expected_sha256

    damaged = base_gguf_path(tmp_path)
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"GGUF but not really")
    path = base_gguf(tmp_path)
    assert path == damaged and mf.sha256_file(path) == expected_sha256()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    stamp = path.with_name(path.name + ".sha256").read_text()
    assert stamp.startswith(expected_sha256())
    assert base_gguf(tmp_path) == path  # now trusted through its stamp


def test_a_second_build_waits_for_the_first_then_finds_the_model_up_to_date(tiny_copy, tiny_recipe):
    import fcntl
    import threading

    paths = _paths(tiny_copy.parent.parent)
    seen: list[str] = []
    result: list[Path] = []
    waiting = threading.Event()

    def progress(stage: str, _fraction: float) -> None:
        seen.append(stage)
        if stage == "waiting for another build":
            waiting.set()

    with (paths.models / f".{TINY_NAME}.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # "another build" holds the lock
        worker = threading.Thread(target=lambda: result.append(
            build_model(paths, TINY_NAME, no_adapter=True, recipe=tiny_recipe, progress=progress)))
        worker.start()
        assert waiting.wait(60)
        assert not result  # still waiting while the lock is held
        fcntl.flock(held, fcntl.LOCK_UN)
    worker.join(120)
    assert result == [tiny_copy] and seen[-1] == "up to date"

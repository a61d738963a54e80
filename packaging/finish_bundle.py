"""Last step after PyInstaller, on every platform: seal the bundled model, refuse build-time packages.

    python packaging/finish_bundle.py BUNDLE_DIR

BUNDLE_DIR is the folder that holds `models/` (dist/deskmate/_internal on Linux and Windows,
Deskmate.app/Contents/Frameworks on macOS).

- Sealing: an installed app's model folder is read-only, so the model check's stamp
  (`.verified`, each file's size and mtime) must ship with it, or every start would re-hash
  ~300 MB. Packages keep whole-second mtimes (a .deb's tar, a zip), so mtimes are rounded to
  the second first and the stamp is written from a full re-hash.
- Build-time packages (PyTorch, transformers, gguf, optimum, onnx, ...) must not be in the
  bundle: the app only runs the model; they are gigabytes and the spec excludes them.

Run with the Python that has Deskmate installed (it uses app.model.manifest).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Top-level names (packages, dist-info, shared libraries) that only build the model.
FORBIDDEN = ("torch", "torchvision", "torchaudio", "transformers", "gguf", "optimum", "onnx", "onnxscript",
             "peft", "accelerate", "safetensors", "libtorch", "libc10", "matplotlib")


def forbidden_in(bundle: Path) -> list[Path]:
    """Entries of `bundle` (two levels deep) that belong to a build-time-only package."""
    found = []
    for path in [*bundle.iterdir(), *(p for d in bundle.iterdir() if d.is_dir() and not d.is_symlink()
                                      for p in d.iterdir())]:
        name = path.name.lower()
        stem = name.split(".")[0].split("-")[0]
        if stem in FORBIDDEN or any(name.startswith(f + "_") and f.startswith("lib") for f in FORBIDDEN):
            found.append(path)
    return sorted(found)


def seal_models(bundle: Path) -> list[Path]:
    """Round every model file's mtime to the second and write a fresh verification stamp."""
    from app.model.manifest import STAMP_FILE, verify

    sealed = []
    for manifest in sorted((bundle / "models").glob("*/manifest.json")):
        model = manifest.parent
        (model / STAMP_FILE).unlink(missing_ok=True)
        for p in model.rglob("*"):
            st = p.stat()
            os.utime(p, ns=(st.st_atime_ns // 10**9 * 10**9, st.st_mtime_ns // 10**9 * 10**9))
        # The bundled app re-checks the build inputs itself at load (with its own catalog and adapter).
        verify(model, full=True, check_current=False)
        sealed.append(model)
    return sealed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seal the bundled model; refuse build-time packages.")
    parser.add_argument("bundle", type=Path, help="the folder holding models/ (dist/deskmate/_internal)")
    args = parser.parse_args(argv)
    bad = forbidden_in(args.bundle)
    if bad:
        print("finish_bundle: build-time packages in the bundle (fix the excludes in packaging/deskmate.spec): "
              + ", ".join(str(p) for p in bad), file=sys.stderr)
        return 1
    sealed = seal_models(args.bundle)
    if not sealed:
        print(f"finish_bundle: no model under {args.bundle / 'models'}; the app would have nothing to run.",
              file=sys.stderr)
        return 1
    for model in sealed:
        print(f"sealed {model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`deskmate model build|info`: build the model with a progress bar, or show what is built."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.model.build import DEFAULT_NAME


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("model", help="build or inspect the on-device model")
    sub = parser.add_subparsers(dest="model_command", metavar="ACTION", required=True)

    build = sub.add_parser("build", help="build the INT8 ONNX model from the PyPI base (and the LoRA adapter)")
    build.add_argument("--name", default=DEFAULT_NAME, help=f"model name (default {DEFAULT_NAME})")
    choice = build.add_mutually_exclusive_group()
    choice.add_argument("--adapter", type=Path, metavar="DIR", help="merge this LoRA adapter folder")
    choice.add_argument("--no-adapter", action="store_true", help="build the base model without an adapter")
    build.add_argument("--force", action="store_true", help="rebuild even if the model is up to date")
    build.set_defaults(func=run_build)

    info = sub.add_parser("info", help="print the built model's manifest and check its files")
    info.add_argument("--name", default=DEFAULT_NAME, help=f"model name (default {DEFAULT_NAME})")
    info.add_argument("--full", action="store_true", help="re-hash every file")
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    info.set_defaults(func=run_info)


def build_tools_missing() -> str | None:
    """Why this installation cannot build models, or None when it can.

    An installed Deskmate carries its model ready-built and none of PyTorch; building
    needs a source checkout set up by `./dev` (the `build` extra).
    """
    from importlib.util import find_spec

    from app.paths import bundled_models

    if bundled_models() is not None:
        return ("This installed Deskmate ships its model ready-built, so there is nothing to build. "
                "Building models needs a source checkout: see docs/install.md.")
    missing = [name for name in ("torch", "transformers", "gguf", "tqdm") if find_spec(name) is None]
    if missing:
        return (f"Building the model needs {', '.join(missing)}, which this environment lacks. "
                "Install the build extra (`pip install -e '.[build]'`) or run `./dev run` from a checkout.")
    return None


def run_build(args: argparse.Namespace) -> int:
    import logging

    from app.errors import DeskmateError

    reason = build_tools_missing()
    if reason is not None:
        raise DeskmateError(reason)

    from tqdm import tqdm

    from app.model.build import build_model
    from app.paths import AppPaths

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with tqdm(total=100, unit="%", bar_format="{desc:<12} {bar} {n:.0f}% [{elapsed}]") as bar:

        def progress(stage: str, fraction: float) -> None:
            bar.set_description_str(stage)
            bar.update(max(0.0, fraction * 100 - bar.n))

        path = build_model(AppPaths.for_user(), args.name, adapter=args.adapter, no_adapter=args.no_adapter,
                           progress=progress, force=args.force)
    print(f"model ready: {path}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from app.model.manifest import verify
    from app.paths import AppPaths

    model_dir = AppPaths.for_user().models / args.name
    manifest = verify(model_dir, full=args.full)
    if args.json:
        print(json.dumps(manifest.to_json(), indent=2))
        return 0
    inputs = manifest.inputs
    adapter = f"{inputs.adapter.name} ({inputs.adapter.sha256[:12]})" if inputs.adapter else "none"
    lines = [
        f"model      {manifest.name} at {model_dir}",
        f"built      {manifest.created} by deskmate {manifest.app_version}, recipe {inputs.recipe_version}",
        f"base       {inputs.base_sha256[:16]}…",
        f"adapter    {adapter} [{manifest.adapter_choice}]",
        f"catalog    v{inputs.catalog_version} {inputs.catalog_sha256[:12]} ({len(manifest.tool_names)} tools)",
        f"tokenizer  {manifest.tokenizer_sha256[:12]}",
        f"size       {manifest.size / 1e6:.1f} MB",
    ]
    lines += [f"  {f.path:<20} {f.size / 1e6:9.1f} MB  {f.sha256[:12]}" for f in manifest.files]
    lines += [f"{k:<10} {v}" for k, v in manifest.notes.items()]
    lines.append("status     ok (files match the manifest)")
    print("\n".join(lines))
    return 0

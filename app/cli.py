"""The `deskmate` command: the app by default, subcommands for everything else.

Each subcommand lives in its own module exposing `register(subparsers)`; this file
only wires them, so `deskmate --help` stays fast (heavy imports happen in `run`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from app import __version__
from app.errors import DeskmateError

SUBCOMMAND_MODULES = (
    "app.model.cli",  # deskmate model build|info
    "app.terminal.chat",  # deskmate chat
    "app.terminal.ask",  # deskmate ask
    "app.terminal.log",  # deskmate log, deskmate undo
    "app.eval.cli",  # deskmate eval
    "app.bench_cli",  # deskmate bench
    "app.gui.screenshots",  # deskmate screenshots
    "app.gui.main",  # deskmate gui [--hidden], deskmate ask-popup
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deskmate", description="Deskmate: an on-device desktop assistant.")
    parser.add_argument("--version", action="version", version=f"deskmate {__version__}")
    parser.add_argument("--selftest", action="store_true", help="check the model, tools and keyring offscreen, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a subcommand not built yet in this checkout
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.selftest:
            from app.selftest import run as selftest

            return selftest()
        if args.command is None:
            from app.gui.main import run as gui

            return gui()
        return int(args.func(args) or 0)
    except DeskmateError as exc:
        print(f"deskmate: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

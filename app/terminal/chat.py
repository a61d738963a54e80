"""`deskmate chat`: a plain terminal REPL over the engine, for trying the model.

Each turn is rendered exactly as the app renders it (instructions, tool declarations,
context, history), so what you see is what the app's model proposes. Calls are shown,
never run: `deskmate ask` is the one that acts. Ctrl-C stops an answer; Ctrl-D or
/quit leaves; /reset forgets the conversation.
"""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import datetime
from typing import TextIO

from app.errors import ModelMissing

DEFAULT_MODEL = "deskmate-v1"
HELP = "commands: /reset (new conversation), /quit (or Ctrl-D); Ctrl-C stops an answer"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("chat", help="talk to the built model in the terminal (calls are shown, not run)")
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="NAME", help=f"built model to use (default {DEFAULT_MODEL})")
    p.add_argument("--grant", default="files,calendar,shell,system", metavar="GROUPS",
                   help="tool groups declared to the model (default: all)")
    p.add_argument("--unconstrained", action="store_true", help="decode without the tool-call grammar")
    p.add_argument("--max-tokens", type=int, default=256, metavar="N", help="answer length limit (default 256)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads (default: one per core)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    from app.paths import AppPaths

    stdin, out = stdin or sys.stdin, out or sys.stdout
    paths = AppPaths.for_user()
    model_dir = paths.models / args.model
    if not (model_dir / "manifest.json").is_file():
        build = "deskmate model build" + ("" if args.model == DEFAULT_MODEL else f" --name {args.model}")
        raise ModelMissing(f"No built model at {model_dir}. Build it first with `{build}` (a few minutes, once).")
    print(f"Loading {model_dir} ...", file=out, flush=True)
    from app.engine import Engine
    from app.engine.assistant import Assistant
    from app.prompt.render import Context, Conversation, Message
    from app.tools.catalog import Catalog

    assistant = Assistant(Engine.load(model_dir, threads=args.threads), max_tokens=args.max_tokens)
    tools = Catalog.builtin().for_groups(g.strip() for g in args.grant.split(",")).tools
    history: list[Message] = []
    print(HELP, file=out, flush=True)
    while True:
        print("you> ", end="", file=out, flush=True)
        line = stdin.readline()
        if not line or line.strip() in ("/quit", "/exit"):
            print(file=out)
            return 0
        request = line.strip()
        if request == "/reset":
            history.clear()
            continue
        if not request:
            continue
        conv = Conversation(tools, Context(datetime.now(), str(paths.home), ("~",)),
                            (*history, Message("user", request)))
        print("model> ", end="", file=out, flush=True)
        reply = _answer(assistant, conv, not args.unconstrained, out)
        if reply is None:
            continue
        history += [Message("user", request), Message("assistant", reply.text)]
        print(f"\n  [{reply.new_tokens} tokens, {reply.first_token_s:.2f} s to first, {reply.tokens_s:.0f} tok/s"
              f"{', stopped' if reply.finish == 'cancelled' else ''}]", file=out, flush=True)


def _answer(assistant, conv, constrained: bool, out: TextIO):
    """Run one reply on a worker thread so Ctrl-C here cancels it cleanly (the engine stops
    after the current token) instead of tearing through the decode loop."""
    cancel = threading.Event()
    box: dict = {}

    def work() -> None:
        try:
            box["reply"] = assistant.reply(conv, on_text=lambda t: print(t, end="", file=out, flush=True),
                                           cancel=cancel, constrained=constrained)
        except BaseException as exc:  # shown on the main thread
            box["error"] = exc

    worker = threading.Thread(target=work, name="deskmate-chat", daemon=True)
    worker.start()
    while worker.is_alive():
        try:
            worker.join(0.1)
        except KeyboardInterrupt:
            cancel.set()
    if "error" in box:
        raise box["error"]
    return box.get("reply")

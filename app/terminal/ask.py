"""`deskmate ask "..."`: one request through the agent loop, approved in the terminal.

Uses the built model, or `--scripted FILE` (replies replayed in order) to try the
loop without one. `--grant` and `--folder` grant groups and folders for this
request only; they are not saved.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from app.errors import DeskmateError

EPILOG = """examples:
  deskmate ask "what's on my calendar tomorrow?"
  deskmate ask --grant shell "how big is my home folder?"
  deskmate ask --folder ~/Projects "list my projects"
  deskmate ask --scripted replies.json "tidy my downloads"   (no model needed)
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ask", help="one request in the terminal, with an approval prompt",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("request", nargs="+", help="what you want done, in your own words")
    p.add_argument("--grant", action="append", default=[], metavar="GROUPS",
                   help="grant tool groups for this request only, e.g. files,calendar (groups: files, calendar, shell, system)")
    p.add_argument("--folder", action="append", default=[], metavar="PATH",
                   help="grant a folder to the file tools for this request only (also grants 'files'); repeatable")
    p.add_argument("--scripted", type=Path, metavar="FILE",
                   help="replay model replies from FILE (a JSON list, or one reply per line) instead of the model")
    p.add_argument("--yes", action="store_true",
                   help="approve read and write calls once without asking (destructive and execute calls still ask)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="deny a call nobody answered within SECONDS (default: the settings' approval timeout)")
    p.add_argument("--model", default="deskmate-v1", metavar="NAME", help="built model to use (default deskmate-v1)")
    p.add_argument("--max-steps", type=int, default=6, metavar="N", help="model steps before giving up (default 6)")
    p.set_defaults(func=run)


def _groups(values: list[str]) -> list[str]:
    from app.policy.config import GROUPS

    groups = [g.strip() for v in values for g in v.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise DeskmateError(f"Unknown tool group {', '.join(unknown)}; the groups are {', '.join(GROUPS)}.")
    return groups


def _folder(value: str, home: Path) -> str:
    """`~` is the app's home (injected: tests and DESKMATE_HOME set it), not the process's."""
    if value == "~" or value.startswith("~/"):
        path = home / value[2:]
    else:
        path = Path(value)
    if not path.is_dir():
        raise DeskmateError(f"--folder {value}: there is no such folder.")
    return str(path.resolve())


def run(args: argparse.Namespace, stdin=None, stdout=None, stderr=None) -> int:
    from app.agent.backends import ScriptedModel
    from app.agent.events import Answer, Decided, Executed, Failed, Refused, TextDelta
    from app.agent.session import AUTO, build_session
    from app.paths import AppPaths
    from app.terminal.approve import TerminalApprover

    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    request = " ".join(args.request).strip()
    if not request:
        raise DeskmateError("Say what you want done, e.g. deskmate ask \"what's on today?\"")
    groups = _groups(args.grant)
    paths = AppPaths.for_user()
    folders = [_folder(f, paths.home) for f in args.folder]
    if folders and "files" not in groups:
        groups.append("files")
    model = ScriptedModel.from_file(args.scripted) if args.scripted else AUTO
    session = build_session(paths, model=model, model_name=args.model,
                            grant_groups=groups, grant_folders=folders, max_steps=args.max_steps)
    try:
        for warning in session.warnings:
            if not (session.model is None and warning == session.model_problem):
                print(f"note: {warning}", file=stderr)
        if session.model is None:
            raise DeskmateError(f"{session.model_problem}")
        load = getattr(session.model, "load", None)
        if callable(load) and not getattr(session.model, "loaded", True):
            print("Loading the model…", file=stderr, flush=True)
            load()
        timeout = args.timeout if args.timeout is not None else session.config.config.approval_timeout_s
        approver = TerminalApprover(stdin, stdout, yes=args.yes, timeout_s=timeout)
        cancel = threading.Event()
        streamed = False
        status = 1
        try:
            for event in session.ask(request, approver, cancel=cancel):
                if isinstance(event, TextDelta):
                    stdout.write(event.text)
                    stdout.flush()
                    streamed = True
                elif isinstance(event, Decided):
                    if not event.decision.by.startswith("user") and event.decision.by != "timeout":
                        verdict = "allowed" if event.decision.approves else "denied"
                        print(f"{event.proposal.summary} — {verdict} ({event.decision.by})", file=stdout)
                    elif not event.decision.approves:
                        print("  denied" + (f": {event.decision.reason}" if event.decision.reason else ""), file=stdout)
                elif isinstance(event, Executed):
                    r = event.result
                    print(f"  ✓ {r.text or 'done'}" if r.ok else f"  ✗ {r.error}", file=stdout)
                elif isinstance(event, Refused):
                    print(f"  refused: {event.reason}", file=stdout)
                elif isinstance(event, Answer):
                    print("" if streamed else event.text, file=stdout)
                    status = 0
                elif isinstance(event, Failed):
                    if streamed:
                        print(file=stdout)
                    print(f"deskmate: {event.message}", file=stderr)
                    status = 1
        except KeyboardInterrupt:
            cancel.set()
            print("\ndeskmate: cancelled; nothing more was run.", file=stderr)
            return 130
        return status
    finally:
        session.close()

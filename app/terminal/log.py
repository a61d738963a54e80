"""`deskmate log`, `deskmate undo`, `deskmate rules`: what happened, reversing it, and what is remembered.

    deskmate log [--limit N]     recent activity, oldest first; undoable actions are marked
    deskmate log --verify        check the hash chain: a changed or removed entry is reported (exit 1)
    deskmate undo [ID]           undo a file action (the newest undoable one without ID)
    deskmate undo --list         what can be undone
    deskmate rules [--revoke ID] remembered 'always allow' approvals, one by one
"""

from __future__ import annotations

import argparse
import sys

from app.errors import DeskmateError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("log", help="recent activity; --verify checks it was not tampered with")
    p.add_argument("--verify", action="store_true", help="check the hash chain of the whole log")
    p.add_argument("--limit", type=int, default=30, metavar="N", help="how many entries to show (default 30)")
    p.set_defaults(func=run_log)

    u = subparsers.add_parser("undo", help="undo a file action from the log")
    u.add_argument("id", nargs="?", type=int, help="the log entry to undo (default: the newest undoable one)")
    u.add_argument("--list", action="store_true", help="list what can be undone")
    u.set_defaults(func=run_undo)

    r = subparsers.add_parser("rules", help="list or revoke remembered 'always allow' approvals")
    r.add_argument("--revoke", metavar="ID", action="append", default=[], help="forget one remembered approval")
    r.set_defaults(func=run_rules)


def _open_log():
    from app.audit.log import AuditLog
    from app.paths import AppPaths
    from app.policy.secrets import Secrets

    paths = AppPaths.for_user().ensure()
    secrets = Secrets()
    return AuditLog(paths.audit_db, secrets.audit_key()), secrets


def run_log(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise DeskmateError("--limit must be at least 1.")
    log, secrets = _open_log()
    try:
        if secrets.problem:
            print(f"note: {secrets.problem}", file=sys.stderr)
        if args.verify:
            report = log.verify()
            print(report.summary())
            return 0 if report.ok else 1
        entries = log.recent(args.limit)
        if not entries:
            print("Nothing has happened yet.")
            return 0
        undoable = {a.entry_id for a in log.undoable()}
        for e in entries:
            mark = f"   (undo: deskmate undo {e.id})" if e.id in undoable else ""
            print(f"#{e.id:<5} {e.ts.replace('T', ' ')}  {e.kind:<9} {e.text}{mark}")
        return 0
    finally:
        log.close()


def run_undo(args: argparse.Namespace) -> int:
    from app.agent.session import build_session

    session = build_session(model=None)
    try:
        if args.list:
            actions = session.undoable()
            if not actions:
                print("Nothing can be undone.")
            for a in actions:
                print(f"#{a.entry_id:<5} {a.ts.replace('T', ' ')}  {a.tool:<12} {a.text}")
            return 0
        action, result = session.undo(args.id)
        if result.ok:
            print(f"Undone #{action.entry_id}: {action.text}" + (f" — {result.text}" if result.text else ""))
            return 0
        print(f"deskmate: could not undo #{action.entry_id}: {result.error}", file=sys.stderr)
        return 1
    finally:
        session.close()


def run_rules(args: argparse.Namespace) -> int:
    from app.paths import AppPaths
    from app.policy.config import ConfigStore

    store = ConfigStore(AppPaths.for_user().ensure())
    if store.warning:
        print(f"note: {store.warning}", file=sys.stderr)
    for rule_id in args.revoke:
        rule = store.revoke(rule_id)
        print(f"Forgot: always allow {rule.describe()}")
    if args.revoke:
        return 0
    if not store.rules():
        print("No remembered approvals: every write asks first.")
    for rule in store.rules():
        print(f"{rule.id}  always allow {rule.describe()}  (since {rule.created.replace('T', ' ')})")
    return 0

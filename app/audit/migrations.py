"""Schema migrations for the audit log, as named functions applied once each (in order).

Like `llm`'s migrations: each function's name is recorded in `_migrations` when it
has run, so a newer app upgrades an older log in place and never runs a step twice.
Add new steps at the end; never edit or reorder a step that has shipped.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the steps this database has not seen; returns their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        with db:  # one transaction per step: a failed step leaves no half schema
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                       (fn.__name__, datetime.now(timezone.utc).isoformat(timespec="seconds")))
        applied.append(fn.__name__)
    return applied


@migration
def m001_entries(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL,          -- local ISO time from the injected clock
            kind TEXT NOT NULL,        -- request|proposal|decision|result|refused|error|answer|undo
            turn TEXT NOT NULL,        -- groups the entries of one request
            proposal_id TEXT NOT NULL DEFAULT '',
            tool TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,        -- one readable line for `deskmate log`
            body TEXT NOT NULL,        -- the details as canonical JSON
            alg TEXT NOT NULL,         -- 'hmac-sha256' (keyring key) or 'sha256' (no keyring)
            prev TEXT NOT NULL,        -- the previous entry's hash ('' for the first)
            hash TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX entries_proposal ON entries (proposal_id)")


@migration
def m002_append_only(db: sqlite3.Connection) -> None:
    # The app itself can only append; an edit has to go around it (and verify() will see it).
    db.execute("CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries "
               "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    db.execute("CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries "
               "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")

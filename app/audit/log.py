"""The activity log: every request, proposal, decision, result and undo, hash-chained.

SQLite (stdlib), append-only: triggers refuse UPDATE and DELETE, and each entry's
hash covers its content and the previous entry's hash, keyed with an HMAC key
from the keyring. `verify()` therefore shows an entry that was changed or removed
by someone who went around the app (removing the newest entries is seen through
SQLite's AUTOINCREMENT counter). With no keyring the chain is plain SHA-256 (see
app.policy.secrets for why there is no key file instead).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from app.audit.migrations import migrate
from app.calls import Decision, Proposal, ToolCall, ToolResult, UndoRecord
from app.errors import DeskmateError

HMAC = "hmac-sha256"
PLAIN = "sha256"
OUTPUT_CAP = 4000  # characters of a tool's output kept in the log (a read_file can be large)


class AuditError(DeskmateError):
    """The log cannot be opened or written."""


@dataclass(frozen=True)
class Entry:
    id: int
    ts: str
    kind: str
    turn: str
    proposal_id: str
    tool: str
    text: str
    body: Mapping[str, Any]
    alg: str


@dataclass(frozen=True)
class UndoableAction:
    """A file action whose result carries an UndoRecord and that was not undone yet."""

    entry_id: int
    ts: str
    tool: str
    text: str
    record: UndoRecord


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    problems: tuple[str, ...] = ()  # definite tampering: changed, removed, reordered entries
    unkeyed: int = 0  # entries written without the keyring key (plain SHA-256)
    unchecked: int = 0  # keyed entries that could not be checked because the key is missing
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.problems:
            head = f"The audit log was tampered with ({len(self.problems)} problem(s) in {self.entries} entries):"
            return "\n".join([head, *(f"  - {p}" for p in self.problems), *self.notes])
        return "\n".join([f"The audit log is intact ({self.entries} entries).", *self.notes])


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _cap_output(output: Any) -> Any:
    text = _canonical(output)
    return output if len(text) <= OUTPUT_CAP else {"truncated": text[:OUTPUT_CAP]}


class AuditLog:
    def __init__(self, db_path: Path, key: bytes | None, clock: Callable[[], datetime] = datetime.now):
        self.path = Path(db_path)
        self.key = key
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The agent runs on a worker thread in the GUI; one connection behind a lock serves all.
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            migrate(self._db)
        except sqlite3.DatabaseError as exc:
            raise AuditError(
                f"The audit log {self.path} could not be opened ({exc}). "
                "Move the file aside to start a new log; keep it if you want to inspect it."
            ) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- the chain -------------------------------------------------------------
    def _digest(self, alg: str, prev: str, fields: Sequence[Any]) -> str:
        message = (prev + "\x1f" + _canonical(list(fields))).encode()
        if alg == HMAC:
            if self.key is None:
                raise ValueError("no key")
            return hmac.new(self.key, message, hashlib.sha256).hexdigest()
        return hashlib.sha256(message).hexdigest()

    def _append(self, kind: str, turn: str, text: str, body: Mapping[str, Any],
                proposal_id: str = "", tool: str = "") -> int:
        ts = self._clock().isoformat(timespec="seconds")
        body_json = _canonical(body)
        alg = HMAC if self.key is not None else PLAIN
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")  # the read of the head and the insert are one step
                row = self._db.execute("SELECT hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
                seq = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name='entries'").fetchone()
                prev = row[0] if row else ""
                new_id = (seq[0] if seq else 0) + 1
                fields = (new_id, ts, kind, turn, proposal_id, tool, text, body_json, alg)
                digest = self._digest(alg, prev, fields)
                self._db.execute(
                    "INSERT INTO entries (id, ts, kind, turn, proposal_id, tool, text, body, alg, prev, hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*fields, prev, digest))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise AuditError(f"Could not write to the audit log {self.path} ({exc}).") from None
        return new_id

    # -- recording -------------------------------------------------------------
    def record_request(self, turn: str, request: str) -> int:
        return self._append("request", turn, f"Asked: {request}", {"request": request})

    def record_proposal(self, turn: str, proposal: Proposal, edited_from: str = "") -> int:
        body = {"arguments": dict(proposal.call.arguments), "group": proposal.group, "risk": proposal.risk.value,
                "summary": proposal.summary, "preview": proposal.preview, "scope": proposal.scope}
        if edited_from:
            body["edited_from"] = edited_from
        prefix = "Edited proposal" if edited_from else "Proposed"
        return self._append("proposal", turn, f"{prefix} ({proposal.risk.value}): {proposal.summary}", body,
                            proposal.id, proposal.call.name)

    def record_decision(self, turn: str, proposal: Proposal, decision: Decision) -> int:
        body: dict[str, Any] = {"decision": decision.kind.value, "by": decision.by, "reason": decision.reason}
        if decision.arguments is not None:
            body["arguments"] = dict(decision.arguments)
        words = {"approve_once": "Approved once", "approve_session": "Approved for this session",
                 "always": "Always allowed", "edit": "Edited and approved", "deny": "Denied"}[decision.kind.value]
        text = f"{words} by {decision.by}: {proposal.summary}" + (f" ({decision.reason})" if decision.reason else "")
        return self._append("decision", turn, text, body, proposal.id, proposal.call.name)

    def record_result(self, turn: str, proposal: Proposal, result: ToolResult) -> int:
        body = {"ok": result.ok, "text": result.text, "error": result.error, "output": _cap_output(result.output),
                "duration_s": round(result.duration_s, 4),
                "undo": {"action": result.undo.action, "data": dict(result.undo.data)} if result.undo else None}
        text = (f"Done: {result.text or proposal.summary}" if result.ok
                else f"Failed: {proposal.summary}: {result.error}")
        return self._append("result", turn, text, body, proposal.id, proposal.call.name)

    def record_refused(self, turn: str, call: ToolCall, reason: str) -> int:
        return self._append("refused", turn, f"Refused {call.name}: {reason}",
                            {"arguments": dict(call.arguments), "reason": reason}, tool=call.name)

    def record_error(self, turn: str, message: str, raw: str = "") -> int:
        return self._append("error", turn, message, {"message": message, "raw": raw[:OUTPUT_CAP]})

    def record_answer(self, turn: str, text: str) -> int:
        return self._append("answer", turn, f"Answered: {text[:200]}", {"text": text})

    def record_undo(self, undone: UndoableAction, result: ToolResult, turn: str = "undo") -> int:
        body = {"undoes": undone.entry_id, "ok": result.ok, "text": result.text, "error": result.error,
                "duration_s": round(result.duration_s, 4)}
        text = (f"Undid #{undone.entry_id}: {undone.text}" if result.ok
                else f"Undo of #{undone.entry_id} failed: {result.error}")
        return self._append("undo", turn, text, body, tool=undone.tool)

    # -- reading ---------------------------------------------------------------
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Entry]:
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [Entry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8]) for r in rows]

    _COLUMNS = "id, ts, kind, turn, proposal_id, tool, text, body, alg"

    def recent(self, n: int = 20) -> list[Entry]:
        """The newest n entries, oldest first (how a log reads)."""
        rows = self._rows(f"SELECT {self._COLUMNS} FROM entries ORDER BY id DESC LIMIT ?", (n,))
        return rows[::-1]

    def entries(self, turn: str | None = None) -> list[Entry]:
        if turn is None:
            return self._rows(f"SELECT {self._COLUMNS} FROM entries ORDER BY id")
        return self._rows(f"SELECT {self._COLUMNS} FROM entries WHERE turn = ? ORDER BY id", (turn,))

    def undoable(self) -> list[UndoableAction]:
        """File actions that can still be undone, newest first."""
        undone = {e.body.get("undoes") for e in self._rows(f"SELECT {self._COLUMNS} FROM entries "
                                                            "WHERE kind = 'undo'") if e.body.get("ok")}
        out = []
        for e in self._rows(f"SELECT {self._COLUMNS} FROM entries WHERE kind = 'result' ORDER BY id DESC"):
            undo = e.body.get("undo")
            if e.body.get("ok") and undo and e.id not in undone:
                out.append(UndoableAction(e.id, e.ts, e.tool, e.text.removeprefix("Done: "),
                                          UndoRecord(undo["action"], dict(undo["data"]))))
        return out

    # -- checking --------------------------------------------------------------
    def verify(self) -> VerifyReport:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, ts, kind, turn, proposal_id, tool, text, body, alg, prev, hash FROM entries ORDER BY id"
            ).fetchall()
            seq_row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name='entries'").fetchone()
        problems: list[str] = []
        unkeyed = unchecked = 0
        notes: list[str] = []
        prev_hash, prev_id, seen_keyed = "", 0, False
        for row in rows:
            entry_id, alg, prev, digest = row[0], row[8], row[9], row[10]
            if entry_id != prev_id + 1:
                missing = f"#{prev_id + 1}" if entry_id == prev_id + 2 else f"#{prev_id + 1}–#{entry_id - 1}"
                problems.append(f"Entry {missing} was removed.")
            if prev != prev_hash:
                problems.append(f"Entry #{entry_id} does not follow the entry before it (the chain is broken).")
            if alg == HMAC:
                seen_keyed = True
                if self.key is None:
                    unchecked += 1
                elif not hmac.compare_digest(self._digest(HMAC, prev, row[:9]), digest):
                    problems.append(f"Entry #{entry_id} was changed after it was written.")
            elif alg == PLAIN:
                unkeyed += 1
                if seen_keyed and self.key is not None:
                    notes.append(f"Entry #{entry_id} was written without the keyring key.")
                if self._digest(PLAIN, prev, row[:9]) != digest:
                    problems.append(f"Entry #{entry_id} was changed after it was written.")
            else:
                problems.append(f"Entry #{entry_id} has an unknown hash kind {alg!r}.")
            prev_hash, prev_id = digest, entry_id
        last = seq_row[0] if seq_row else 0
        if last > prev_id:
            gone = f"#{last}" if last == prev_id + 1 else f"#{prev_id + 1}–#{last}"
            problems.append(f"The newest entries ({gone}) were removed.")
        if unchecked:
            notes.append(f"{unchecked} entries are keyed but the keyring key is not available, so their "
                         "content could not be checked (only their order).")
        if unkeyed and not seen_keyed:
            notes.append("The log is chained without a secret key (no keyring): it shows edits and removals, "
                         "but not a log rewritten as a whole.")
        return VerifyReport(len(rows), tuple(problems), unkeyed, unchecked, tuple(notes))

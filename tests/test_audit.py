"""The audit log: append-only SQLite, hash chain, tamper detection, undoable actions."""

from __future__ import annotations

import sqlite3

import pytest

from app.audit.log import AuditError, AuditLog, UndoableAction
from app.audit.migrations import MIGRATIONS, migrate
from app.calls import Decision, DecisionKind, Proposal, Risk, ToolCall, ToolResult, UndoRecord


def _fill(log: AuditLog) -> Proposal:
    p = Proposal(ToolCall("write_file", {"path": "~/Documents/a.txt", "content": "hi"}), "files", Risk.WRITE,
                 "Write ~/Documents/a.txt", scope="~/Documents")
    log.record_request("t1", "write hi to a.txt")
    log.record_proposal("t1", p)
    log.record_decision("t1", p, Decision(DecisionKind.EDIT, arguments={"path": "~/Documents/a.txt", "content": "ho"}))
    log.record_result("t1", p, ToolResult(True, {"ok": True}, "Wrote 2 bytes", duration_s=0.01,
                                          undo=UndoRecord("remove_created", {"path": "/h/Documents/a.txt"})))
    log.record_answer("t1", "Done.")
    return p


def _tamper(path, sql, params=()):
    """Someone with access to the file, going around the app (and its triggers)."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER IF EXISTS entries_no_update")
    db.execute("DROP TRIGGER IF EXISTS entries_no_delete")
    db.execute(sql, params)
    db.commit()
    db.close()


def test_records_everything_and_verifies(audit_log):
    _fill(audit_log)
    entries = audit_log.recent(10)
    assert [e.kind for e in entries] == ["request", "proposal", "decision", "result", "answer"]
    decision = entries[2]
    assert decision.body["by"] == "user" and decision.body["arguments"]["content"] == "ho"  # who + edited args
    assert decision.ts == "2026-11-26T09:15:02"  # when, from the injected clock
    assert entries[3].body["duration_s"] == 0.01 and entries[3].body["ok"] is True
    assert all(e.alg == "hmac-sha256" for e in entries)
    report = audit_log.verify()
    assert report.ok and report.entries == 5 and "intact" in report.summary()


def test_app_cannot_update_or_delete(audit_log):
    _fill(audit_log)
    db = sqlite3.connect(audit_log.path)
    for sql in ("UPDATE entries SET text = 'x' WHERE id = 2", "DELETE FROM entries WHERE id = 2"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)
    db.close()


def test_changed_entry_detected(audit_log):
    _fill(audit_log)
    _tamper(audit_log.path, "UPDATE entries SET body = replace(body, 'ho', 'rm -rf ~') WHERE id = 3")
    report = audit_log.verify()
    assert not report.ok
    assert report.problems == ("Entry #3 was changed after it was written.",)
    assert "tampered" in report.summary()


def test_rehashed_entry_without_key_detected(audit_log):
    """Recomputing a plain SHA-256 over the edit does not help: the chain is keyed."""
    import hashlib
    import json

    _fill(audit_log)
    db = sqlite3.connect(audit_log.path)
    row = db.execute("SELECT id, ts, kind, turn, proposal_id, tool, text, body, alg, prev FROM entries WHERE id=2").fetchone()
    db.close()
    forged = list(row[:9])
    forged[6] = "Proposed (write): something harmless"
    digest = hashlib.sha256((row[9] + "\x1f" + json.dumps(forged, sort_keys=True, ensure_ascii=False,
                                                          separators=(",", ":"))).encode()).hexdigest()
    _tamper(audit_log.path, "UPDATE entries SET text = ?, hash = ? WHERE id = 2", (forged[6], digest))
    problems = audit_log.verify().problems
    assert "Entry #2 was changed after it was written." in problems
    assert "Entry #3 does not follow the entry before it (the chain is broken)." in problems


def test_removed_entry_detected(audit_log):
    _fill(audit_log)
    _tamper(audit_log.path, "DELETE FROM entries WHERE id = 3")
    problems = audit_log.verify().problems
    assert "Entry #3 was removed." in problems


def test_removed_newest_entries_detected(audit_log):
    _fill(audit_log)
    _tamper(audit_log.path, "DELETE FROM entries WHERE id >= 4")
    assert audit_log.verify().problems == ("The newest entries (#4–#5) were removed.",)


def test_tampering_seen_by_a_fresh_process(audit_log, secrets_store, app_paths):
    _fill(audit_log)
    audit_log.close()
    _tamper(app_paths.audit_db, "UPDATE entries SET ts = '2020-01-01T00:00:00' WHERE id = 1")
    fresh = AuditLog(app_paths.audit_db, secrets_store.audit_key())
    assert not fresh.verify().ok
    fresh.close()


def test_wrong_key_fails_verification(audit_log, app_paths):
    _fill(audit_log)
    other = AuditLog(app_paths.audit_db, b"not the key")
    assert len(other.verify().problems) == 5
    other.close()


def test_no_keyring_still_records_and_detects(app_paths, no_keyring):
    from app.policy.secrets import Secrets

    log = AuditLog(app_paths.audit_db, Secrets().audit_key())
    _fill(log)
    assert {e.alg for e in log.recent()} == {"sha256"}
    report = log.verify()
    assert report.ok and report.unkeyed == 5 and "without a secret key" in report.summary()
    _tamper(log.path, "DELETE FROM entries WHERE id = 2")
    assert "Entry #2 was removed." in log.verify().problems
    log.close()


def test_keyed_entries_without_key_reported_unchecked(audit_log, app_paths):
    _fill(audit_log)
    keyless = AuditLog(app_paths.audit_db, None)
    keyless.record_answer("t2", "later, with the keyring gone")
    report = keyless.verify()
    assert report.ok and report.unchecked == 5 and report.unkeyed == 1
    assert "could not be checked" in report.summary()
    keyless.close()
    assert audit_log.verify().ok  # with the key back, the mixed chain still verifies


def test_undoable_and_undo_logged(audit_log):
    _fill(audit_log)
    [action] = audit_log.undoable()
    assert isinstance(action, UndoableAction)
    assert action.entry_id == 4 and action.tool == "write_file"
    assert action.record == UndoRecord("remove_created", {"path": "/h/Documents/a.txt"})
    audit_log.record_undo(action, ToolResult(False, error="file is gone"))
    assert audit_log.undoable() == [action]  # a failed undo can be tried again
    audit_log.record_undo(action, ToolResult(True, text="Removed a.txt"))
    assert audit_log.undoable() == []
    assert audit_log.recent(1)[0].text == "Undid #4: Wrote 2 bytes"
    assert audit_log.verify().ok


def test_large_output_capped(audit_log):
    p = Proposal(ToolCall("read_file", {"path": "~/a"}), "files", Risk.READ, "Read ~/a")
    audit_log.record_result("t", p, ToolResult(True, {"content": "x" * 100_000}, "Read 100000 characters"))
    body = audit_log.recent(1)[0].body
    assert len(body["output"]["truncated"]) == 4000


def test_migrations_named_and_applied_once(audit_log):
    db = sqlite3.connect(audit_log.path)
    names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [fn.__name__ for fn in MIGRATIONS] == ["m001_entries", "m002_append_only"]
    assert migrate(db) == []  # nothing to redo
    db.close()


def test_not_a_database_is_a_clear_error(app_paths):
    app_paths.audit_db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(AuditError, match="could not be opened.*Move the file aside"):
        AuditLog(app_paths.audit_db, None)

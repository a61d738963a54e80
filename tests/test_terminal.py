"""`deskmate ask`, `log`, `undo`, `rules` through app.cli.main, with scripted replies and typed answers."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest

from app.cli import main
from app.paths import AppPaths
from app.policy.config import ConfigStore

WRITE_NOTE = 'call:write_file{"path": "~/Documents/note.txt", "content": "hello"}'


@pytest.fixture
def cli_paths(tmp_path, monkeypatch) -> AppPaths:
    """What `deskmate` sees: everything under DESKMATE_HOME in a tmp folder, no built model."""
    root = tmp_path / "dm"
    monkeypatch.setenv("DESKMATE_HOME", str(root))
    monkeypatch.setenv("DESKMATE_MODELS", str(tmp_path / "no-models"))
    paths = AppPaths.for_user()
    for sub in ("Documents", "Downloads", "Desktop"):
        (paths.home / sub).mkdir(parents=True)
    return paths


@pytest.fixture
def deskmate(cli_paths, tmp_path, monkeypatch, capsys):
    """deskmate(*argv, replies=[...], answers="y\\n") -> (exit code, stdout, stderr)."""

    def call(*argv, replies=None, answers=""):
        args = list(argv)
        if replies is not None:
            script = tmp_path / f"replies-{len(list(tmp_path.glob('replies-*')))}.json"
            script.write_text(json.dumps(replies))
            args = [args[0], "--scripted", str(script), *args[1:]]
        monkeypatch.setattr("sys.stdin", io.StringIO(answers))
        code = main(args)
        out, err = capsys.readouterr()
        return code, out, err

    return call


def note(paths):
    return paths.home / "Documents" / "note.txt"


def test_ask_yes(deskmate, cli_paths):
    code, out, err = deskmate("ask", "write hello to note.txt", replies=[WRITE_NOTE, "I wrote it."], answers="y\n")
    assert code == 0, err
    assert "Deskmate wants to:" in out and "write_file · files · write" in out
    assert "[y]es / [s]ession / [a]lways / [e]dit / [n]o" in out
    assert "I wrote it." in out and "✓" in out
    assert note(cli_paths).read_text().rstrip("\n") == "hello"


def test_ask_no_with_reason(deskmate, cli_paths):
    code, out, _ = deskmate("ask", "write hello", replies=[WRITE_NOTE, "OK, I won't."], answers="n\nwrong folder\n")
    assert code == 0 and "denied: wrong folder" in out and "OK, I won't." in out
    assert not note(cli_paths).exists()


def test_ask_edit(deskmate, cli_paths):
    code, out, _ = deskmate("ask", "write hello", replies=[WRITE_NOTE, "Done."],
                            answers='e\n{"content": "edited"}\n')
    assert code == 0 and note(cli_paths).read_text().rstrip("\n") == "edited"


def test_ask_bad_edit_json_then_no(deskmate, cli_paths):
    code, out, _ = deskmate("ask", "write hello", replies=[WRITE_NOTE, "Fine."], answers="e\n{oops\nn\n\n")
    assert "not valid JSON" in out and not note(cli_paths).exists()


def test_ask_always_then_rules_list_and_revoke(deskmate, cli_paths):
    deskmate("ask", "write hello", replies=[WRITE_NOTE, "Done."], answers="a\n")
    again = 'call:write_file{"path": "~/Documents/again.txt", "content": "again"}'
    code, out, _ = deskmate("ask", "write it again", replies=[again, "Done."])
    assert code == 0 and "Deskmate wants to" not in out and "allowed (rule:" in out
    assert (cli_paths.home / "Documents" / "again.txt").exists()
    code, out, _ = deskmate("rules")
    assert "always allow write_file in ~/Documents" in out
    rule_id = out.split()[0]
    code, out, _ = deskmate("rules", "--revoke", rule_id)
    assert code == 0 and "Forgot" in out
    assert "No remembered approvals" in deskmate("rules")[1]
    code, err = deskmate("rules", "--revoke", "nope")[0::2]
    assert code == 1 and "no remembered approval" in err


def test_ask_end_of_input_is_deny(deskmate, cli_paths):
    code, out, _ = deskmate("ask", "write hello", replies=[WRITE_NOTE, "Nothing done."], answers="")
    assert "No answer" in out and not note(cli_paths).exists()


def test_yes_flag_does_not_cover_destructive(deskmate, cli_paths):
    victim = cli_paths.home / "Documents" / "victim.txt"
    victim.write_text("keep")
    code, out, _ = deskmate("ask", "--yes", "delete victim", replies=[
        'call:delete_path{"path": "~/Documents/victim.txt"}', "Not deleted."], answers="")
    assert "Deskmate wants to:" in out and "asked every time" in out and "[s]ession" not in out
    assert victim.exists()
    code, out, _ = deskmate("ask", "--yes", "write hello", replies=[WRITE_NOTE, "Done."], answers="")
    assert code == 0 and "approved (--yes)" in out and note(cli_paths).read_text().rstrip("\n") == "hello"


def test_grant_one_off(deskmate, cli_paths):
    reply = 'call:run_command{"command": "echo deskmate-ok"}'
    code, out, _ = deskmate("ask", "run echo", replies=[reply, "Shell is not granted."])
    assert "refused:" in out and "not granted" in out
    code, out, err = deskmate("ask", "--grant", "shell", "run echo", replies=[reply, "It printed deskmate-ok."],
                              answers="y\n")
    assert code == 0, err
    assert "echo deskmate-ok" in out and "It printed deskmate-ok." in out
    code, out, _ = deskmate("ask", "run echo", replies=[reply, "Not granted again."])
    assert "refused:" in out  # the one-off grant was not saved


def test_folder_one_off(deskmate, cli_paths, tmp_path):
    extra = tmp_path / "Projects"
    extra.mkdir()
    (extra / "plan.txt").write_text("the plan")
    reply = json.dumps({"path": str(extra / "plan.txt")})
    code, out, err = deskmate("ask", "--folder", str(extra), "read the plan",
                              replies=[f"call:read_file{reply}", "It says: the plan."], answers="y\n")
    assert code == 0, err and "refused" not in out
    assert "It says: the plan." in out
    code, out, _ = deskmate("ask", "read the plan", replies=[f"call:read_file{reply}", "Can't."])
    assert "refused:" in out


def test_bad_arguments(deskmate, tmp_path):
    code, _, err = deskmate("ask", "--grant", "mail", "hi", replies=["hi"])
    assert code == 1 and "Unknown tool group mail" in err
    code, _, err = deskmate("ask", "--folder", str(tmp_path / "missing"), "hi", replies=["hi"])
    assert code == 1 and "no such folder" in err


def test_no_model_says_how_to_build(deskmate):
    code, _, err = deskmate("ask", "hi")
    assert code == 1 and "deskmate model build" in err and "--scripted" in err


def test_malformed_reply_exit_1(deskmate, cli_paths):
    code, out, err = deskmate("ask", "write", replies=['call:write_file{"path": '], answers="y\n")
    assert code == 1 and "could not be read" in err and "Nothing was run" in err
    assert "Deskmate wants to" not in out


def test_scripted_text_file(deskmate, cli_paths, tmp_path):
    script = tmp_path / "replies.txt"
    script.write_text(WRITE_NOTE + "\n\nDone with the text script.\n")
    code, out, _ = deskmate("ask", "--scripted", str(script), "write", answers="y\n")
    assert code == 0 and "Done with the text script." in out and note(cli_paths).exists()


def test_log_verify_and_undo(deskmate, cli_paths):
    note(cli_paths).write_text("original")
    overwrite = 'call:write_file{"path": "~/Documents/note.txt", "content": "new", "mode": "overwrite"}'
    deskmate("ask", "overwrite", replies=[overwrite, "Overwritten."], answers="y\n")
    assert note(cli_paths).read_text().rstrip("\n") == "new"
    code, out, _ = deskmate("log")
    assert code == 0 and "Asked: overwrite" in out and "(undo: deskmate undo" in out
    code, out, _ = deskmate("log", "--verify")
    assert code == 0 and "intact" in out
    code, out, _ = deskmate("undo", "--list")
    assert "write_file" in out
    code, out, err = deskmate("undo")
    assert code == 0, err and "Undone" in out
    assert note(cli_paths).read_text().rstrip("\n") == "original"
    code, _, err = deskmate("undo")
    assert code == 1 and "nothing to undo" in err
    # tampering is reported with exit code 1
    db = sqlite3.connect(cli_paths.audit_db)
    db.execute("DROP TRIGGER entries_no_update")
    db.execute("UPDATE entries SET text = 'nothing happened' WHERE kind = 'result'")
    db.commit()
    db.close()
    code, out, _ = deskmate("log", "--verify")
    assert code == 1 and "tampered" in out and "was changed" in out


def test_log_empty_and_limit(deskmate):
    assert deskmate("log")[1].strip() == "Nothing has happened yet."
    code, _, err = deskmate("log", "--limit", "0")
    assert code == 1 and "--limit" in err


def test_ask_with_no_keyring_notes_it(deskmate, cli_paths, no_keyring):
    code, out, err = deskmate("ask", "write", replies=[WRITE_NOTE, "Done."], answers="y\n")
    assert code == 0 and "No keyring" in err and note(cli_paths).exists()
    code, out, err = deskmate("log", "--verify")
    assert code == 0 and "without a secret key" in out


@pytest.mark.model
def test_ask_with_the_real_model(real_model_dir, deskmate, cli_paths, monkeypatch):
    """`deskmate ask` end to end on the built model: a calendar question becomes a list_events call."""
    monkeypatch.setenv("DESKMATE_MODELS", str(real_model_dir.parent))
    code, out, err = deskmate("ask", "--model", real_model_dir.name, "what's on my calendar tomorrow?",
                              answers="y\n" * 6)
    assert "Traceback" not in err
    assert "list_events · calendar · read" in out, (out, err)
    assert code == 0, err


@pytest.mark.model
def test_ask_for_an_ungranted_group_names_the_missing_permission(real_model_dir, deskmate, cli_paths, monkeypatch):
    """Only files granted: a calendar request is answered with the grant it needs; nothing is proposed."""
    monkeypatch.setenv("DESKMATE_MODELS", str(real_model_dir.parent))
    ConfigStore(cli_paths).set_grants(groups=["files"])  # the defaults grant calendar too
    code, out, err = deskmate("ask", "--model", real_model_dir.name, "--folder", "~/Documents",
                              "move the standup tomorrow to 10am", answers="n\n" * 3)
    assert "Traceback" not in err
    assert code == 0, err
    assert "calendar" in out.lower() and "Approve" not in out, out

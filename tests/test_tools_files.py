"""The file tools on real files in a temporary home: effects, refusals, caps and undo."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from app.calls import ToolCall, UndoRecord
from app.tools import files
from app.tools.base import ToolFailed
from app.tools.trash import home_trash


def call(toolbox, name: str, **arguments):
    return toolbox.run(ToolCall(name, arguments))


@pytest.fixture
def home(app_paths) -> Path:
    return app_paths.home


# ---------------------------------------------------------------- reading


def test_list_directory(toolbox, home: Path) -> None:
    docs = home / "Documents"
    (docs / "b.pdf").write_bytes(b"%PDF" * 10)
    (docs / "A.PDF").write_bytes(b"%PDF")
    (docs / "notes.txt").write_text("hi")
    (docs / "Invoices").mkdir()
    (docs / ".hidden").write_text("x")
    result = call(toolbox, "list_directory", path="~/Documents")
    assert result.ok, result.error
    names = [e["name"] for e in result.output["entries"]]
    assert names == ["A.PDF", "b.pdf", "Invoices", "notes.txt"]  # sorted, no dotfiles
    sizes = {e["name"]: e.get("size") for e in result.output["entries"]}
    assert sizes["b.pdf"] == 40 and sizes["Invoices"] is None
    only_pdf = call(toolbox, "list_directory", path="~/Documents", pattern="*.pdf")
    assert [e["name"] for e in only_pdf.output["entries"]] == ["A.PDF", "b.pdf"]  # case-insensitive glob
    assert "4 items in ~/Documents" == result.text


def test_list_directory_caps_entries(toolbox, home: Path) -> None:
    for i in range(files.MAX_LIST_ENTRIES + 5):
        (home / "Downloads" / f"f{i:04}.txt").write_text("")
    result = call(toolbox, "list_directory", path="~/Downloads")
    assert result.output["total"] == files.MAX_LIST_ENTRIES + 5
    assert len(result.output["entries"]) == files.MAX_LIST_ENTRIES and result.output["truncated"]


def test_list_a_file_or_missing_folder_fails_clearly(toolbox, home: Path) -> None:
    (home / "Documents" / "a.txt").write_text("x")
    assert "is a file, not a folder" in call(toolbox, "list_directory", path="~/Documents/a.txt").error
    assert "does not exist" in call(toolbox, "list_directory", path="~/Documents/nope").error


def test_search_files(toolbox, home: Path, fixed_now) -> None:
    deep = home / "Documents" / "2025" / "Q3"
    deep.mkdir(parents=True)
    (deep / "Invoice-Henderson.pdf").write_text("x")
    (home / "Downloads" / "invoice_old.pdf").write_text("x")
    (home / "Downloads" / "photo.jpg").write_text("x")
    (home / "Documents" / ".git").mkdir()
    (home / "Documents" / ".git" / "invoice-in-git").write_text("x")
    old = (fixed_now - timedelta(days=40)).timestamp()
    os.utime(home / "Downloads" / "invoice_old.pdf", (old, old))
    found = call(toolbox, "search_files", query="invoice")
    assert sorted(m["path"] for m in found.output["matches"]) == [
        "~/Documents/2025/Q3/Invoice-Henderson.pdf", "~/Downloads/invoice_old.pdf"]
    in_docs = call(toolbox, "search_files", query="*.pdf", folder="~/Documents")
    assert [m["path"] for m in in_docs.output["matches"]] == ["~/Documents/2025/Q3/Invoice-Henderson.pdf"]
    os.utime(deep / "Invoice-Henderson.pdf", (fixed_now.timestamp(),) * 2)
    recent = call(toolbox, "search_files", query="invoice", modified_within_days=7)
    assert [m["path"] for m in recent.output["matches"]] == ["~/Documents/2025/Q3/Invoice-Henderson.pdf"]


def test_search_outside_is_refused(toolbox, outside: Path) -> None:
    result = call(toolbox, "search_files", query="secret", folder=str(outside))
    assert not result.ok and "outside the folders you granted" in result.error


def test_read_file_text_cap_and_binary(toolbox, home: Path) -> None:
    (home / "Documents" / "note.md").write_text("# Plan\nship it\n", encoding="utf-8")
    result = call(toolbox, "read_file", path="~/Documents/note.md")
    assert result.ok and result.output["content"] == "# Plan\nship it\n" and not result.output["truncated"]
    big = home / "Documents" / "big.log"
    big.write_text("é" * files.MAX_READ_BYTES)  # two bytes each: the cap cuts a character in half
    capped = call(toolbox, "read_file", path="~/Documents/big.log")
    assert capped.ok and capped.output["truncated"] and capped.output["size"] == 2 * files.MAX_READ_BYTES
    assert len(capped.output["content"].encode()) <= files.MAX_READ_BYTES
    (home / "Documents" / "scan.pdf").write_bytes(b"%PDF-1.7\n\x00\x01\x02binary")
    binary = call(toolbox, "read_file", path="~/Documents/scan.pdf")
    assert not binary.ok and "not a text file (application/pdf)" in binary.error and "open_path" in binary.error


def test_read_through_symlink_out_is_refused(toolbox, home: Path, outside: Path) -> None:
    (home / "Documents" / "link.txt").symlink_to(outside / "secret.txt")
    result = call(toolbox, "read_file", path="~/Documents/link.txt")
    assert not result.ok and "outside" in result.error and "top secret" not in str(result.output)


def test_file_info(toolbox, home: Path, outside: Path) -> None:
    (home / "Documents" / "a.txt").write_text("hello")
    info = call(toolbox, "file_info", path="~/Documents/a.txt")
    assert info.output["type"] == "file" and info.output["size"] == 5 and info.output["kind"] == "text/plain"
    assert call(toolbox, "file_info", path="~/Documents").output["items"] == 1
    (home / "Documents" / "out").symlink_to(outside)
    link = call(toolbox, "file_info", path="~/Documents/out")
    assert link.output["type"] == "link" and link.output["points_to"] == str(outside)


# ---------------------------------------------------------------- writing


def test_write_create_refuses_to_clobber_and_undo_removes(toolbox, home: Path) -> None:
    result = call(toolbox, "write_file", path="~/Documents/Trips/packing.txt", content="passport")
    assert result.ok and (home / "Documents/Trips/packing.txt").read_text() == "passport\n"
    again = call(toolbox, "write_file", path="~/Documents/Trips/packing.txt", content="other")
    assert not again.ok and "already exists" in again.error
    assert (home / "Documents/Trips/packing.txt").read_text() == "passport\n"
    undone = toolbox.undo(result.undo)
    assert undone.ok and not (home / "Documents/Trips").exists()  # the folder it made goes too (to the trash)


def test_overwrite_keeps_old_version_and_undo_restores(toolbox, app_paths, home: Path) -> None:
    target = home / "Documents" / "todo.txt"
    target.write_text("old line\n")
    proposal = toolbox.propose(ToolCall("write_file", {"path": "~/Documents/todo.txt", "content": "new line",
                                                       "mode": "overwrite"}))
    assert proposal.summary == "Overwrite ~/Documents/todo.txt"
    assert "-old line" in proposal.preview and "+new line" in proposal.preview
    result = toolbox.run(proposal.call)
    assert result.ok and target.read_text() == "new line\n"
    backup = Path(result.undo.data["backup"])
    assert backup.read_text() == "old line\n" and app_paths.backups in backup.parents
    assert toolbox.undo(result.undo).ok and target.read_text() == "old line\n"


def test_append_adds_a_line_and_undo_restores(toolbox, home: Path) -> None:
    target = home / "Documents" / "todo.txt"
    target.write_text("milk")
    proposal = toolbox.propose(ToolCall("write_file", {"path": "~/Documents/todo.txt", "content": "eggs",
                                                       "mode": "append"}))
    assert proposal.summary == "Append to ~/Documents/todo.txt" and "+eggs" in proposal.preview
    result = toolbox.run(proposal.call)
    assert target.read_text() == "milk\neggs\n"
    assert toolbox.undo(result.undo).ok and target.read_text() == "milk"


def test_write_outside_is_refused_and_untouched(toolbox, outside: Path, home: Path) -> None:
    for path in (str(outside / "secret.txt"), "~/Documents/../../outside/secret.txt", "~/.bashrc"):
        result = call(toolbox, "write_file", path=path, content="pwned", mode="overwrite")
        assert not result.ok and "outside" in result.error
    (home / "Documents" / "out").symlink_to(outside)
    assert not call(toolbox, "write_file", path="~/Documents/out/secret.txt", content="pwned", mode="overwrite").ok
    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert not (home / ".bashrc").exists()


def test_create_folder(toolbox, home: Path) -> None:
    result = call(toolbox, "create_folder", path="~/Documents/Projects/Launch")
    assert result.ok and (home / "Documents/Projects/Launch").is_dir()
    assert call(toolbox, "create_folder", path="~/Documents/Projects/Launch").text.endswith("already exists")
    assert toolbox.undo(result.undo).ok and not (home / "Documents/Projects").exists()


def test_move_and_undo(toolbox, home: Path) -> None:
    src = home / "Downloads" / "a.pdf"
    src.write_text("pdf")
    proposal = toolbox.propose(ToolCall("move_path", {"source": "~/Downloads/a.pdf", "destination": "~/Documents"}))
    assert proposal.summary == "Move ~/Downloads/a.pdf → ~/Documents/a.pdf"
    assert proposal.scope == "~/Downloads → ~/Documents"
    result = toolbox.run(proposal.call)
    assert result.ok and not src.exists() and (home / "Documents/a.pdf").read_text() == "pdf"
    assert toolbox.undo(result.undo).ok and src.read_text() == "pdf" and not (home / "Documents/a.pdf").exists()


def test_rename_summary_and_no_clobber(toolbox, home: Path) -> None:
    (home / "Desktop" / "untitled.txt").write_text("1")
    (home / "Desktop" / "taken.txt").write_text("2")
    rename = toolbox.propose(ToolCall("move_path", {"source": "~/Desktop/untitled.txt",
                                                    "destination": "~/Desktop/notes.txt"}))
    assert rename.summary == "Rename ~/Desktop/untitled.txt → ~/Desktop/notes.txt"
    clash = call(toolbox, "move_path", source="~/Desktop/untitled.txt", destination="~/Desktop/taken.txt")
    assert not clash.ok and "already exists" in clash.error
    assert (home / "Desktop/taken.txt").read_text() == "2" and (home / "Desktop/untitled.txt").exists()


def test_move_out_or_of_a_granted_folder_is_refused(toolbox, home: Path, outside: Path) -> None:
    (home / "Documents" / "a.txt").write_text("a")
    assert not call(toolbox, "move_path", source="~/Documents/a.txt", destination=str(outside)).ok
    assert not call(toolbox, "move_path", source="~/Documents", destination="~/Downloads/Docs").ok
    assert not call(toolbox, "move_path", source=str(outside / "secret.txt"), destination="~/Documents").ok
    assert (home / "Documents/a.txt").exists() and (outside / "secret.txt").exists()


def test_copy_refuses_existing_destination_and_undo_removes_copy(toolbox, home: Path) -> None:
    templates = home / "Documents" / "Templates"
    templates.mkdir()
    (templates / "letter.txt").write_text("Dear")
    result = call(toolbox, "copy_path", source="~/Documents/Templates", destination="~/Desktop")
    assert result.ok and (home / "Desktop/Templates/letter.txt").read_text() == "Dear"
    again = call(toolbox, "copy_path", source="~/Documents/Templates", destination="~/Desktop")
    assert not again.ok and "~/Desktop/Templates already exists" in again.error
    assert toolbox.undo(result.undo).ok and not (home / "Desktop/Templates").exists()
    assert (templates / "letter.txt").exists()


def test_copy_of_folder_keeps_inner_links_as_links(toolbox, home: Path, outside: Path) -> None:
    folder = home / "Documents" / "proj"
    folder.mkdir()
    (folder / "out").symlink_to(outside / "secret.txt")
    assert call(toolbox, "copy_path", source="~/Documents/proj", destination="~/Downloads/proj").ok
    copied = home / "Downloads" / "proj" / "out"
    assert copied.is_symlink()  # the secret was not copied into the granted folder


def test_delete_goes_to_the_xdg_trash_and_undo_restores(toolbox, home: Path) -> None:
    target = home / "Documents" / "old.txt"
    target.write_text("keep me")
    proposal = toolbox.propose(ToolCall("delete_path", {"path": "~/Documents/old.txt"}))
    assert proposal.summary == "Move ~/Documents/old.txt to the trash" and proposal.risk.value == "destructive"
    result = toolbox.run(proposal.call)
    assert result.ok and not target.exists()
    trash = home_trash(home)
    assert Path(os.environ["XDG_DATA_HOME"]) in trash.parents  # the isolated XDG trash, not the real one
    trashed = Path(result.undo.data["trash_file"])
    assert trashed.parent == trash / "files" and trashed.read_text() == "keep me"
    assert Path(result.undo.data["info_file"]).read_text().startswith("[Trash Info]")
    restored = toolbox.undo(result.undo)
    assert restored.ok and target.read_text() == "keep me" and not trashed.exists()


def test_delete_a_symlink_trashes_the_link_not_its_target(toolbox, home: Path) -> None:
    real = home / "Downloads" / "real.txt"
    real.write_text("data")
    (home / "Documents" / "alias.txt").symlink_to(real)
    assert call(toolbox, "delete_path", path="~/Documents/alias.txt").ok
    assert real.read_text() == "data" and not os.path.lexists(home / "Documents" / "alias.txt")


def test_delete_refusals(toolbox, home: Path, outside: Path) -> None:
    assert "granted folder itself" in call(toolbox, "delete_path", path="~/Documents").error
    assert "outside" in call(toolbox, "delete_path", path=str(outside / "secret.txt")).error
    assert "does not exist" in call(toolbox, "delete_path", path="~/Documents/ghost.txt").error
    assert (outside / "secret.txt").exists() and (home / "Documents").is_dir()


def test_undo_when_restoring_would_clobber(toolbox, home: Path) -> None:
    target = home / "Documents" / "x.txt"
    target.write_text("1")
    result = call(toolbox, "delete_path", path="~/Documents/x.txt")
    target.write_text("new one")
    again = toolbox.undo(result.undo)
    assert not again.ok and "exists again" in again.error and target.read_text() == "new one"


def test_open_path_uses_the_injected_opener(toolbox, home: Path, open_recorder, outside: Path) -> None:
    (home / "Documents" / "report.pdf").write_text("x")
    result = call(toolbox, "open_path", path="~/Documents/report.pdf")
    assert result.ok
    log = open_recorder[1]
    assert log.read_text().splitlines() == [os.path.realpath(home / "Documents" / "report.pdf")]
    assert not call(toolbox, "open_path", path=str(outside / "secret.txt")).ok
    assert len(log.read_text().splitlines()) == 1


def test_undo_checks_the_grants_again(tool_ctx, home: Path, outside: Path) -> None:
    record = UndoRecord("move_back", {"source": str(outside / "secret.txt"), "destination": str(home / "Documents" / "x")})
    with pytest.raises(Exception, match="outside"):
        files.undo(tool_ctx, record)
    with pytest.raises(ToolFailed, match="does not know"):
        files.undo(tool_ctx, UndoRecord("format_disk", {}))

"""Settings pages against the real core: permissions change the config, activity shows real audit rows,
calendar import/export real .ics files, general edits quick commands and autostart."""

from __future__ import annotations

import json
import sqlite3

import pytest
from PySide6.QtCore import Qt

from app.calls import Decision, DecisionKind
from app.gui.activity import activity_rows
from app.gui.welcome import WelcomeDialog

OVERWRITE = 'call:write_file{"path": "~/Documents/todo.txt", "content": "new list", "mode": "overwrite"}'


@pytest.fixture
def controller(make_controller, tmp_path):
    """make(outputs, **grants) -> a shown (not started) Controller on a Wayland desktop."""
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "XDG_SESSION_TYPE": "wayland"}
    return lambda outputs=("Hi.",), **kwargs: make_controller(outputs, start=False, env=env, **kwargs)


def saved_config(app_paths) -> dict:
    return json.loads(app_paths.config_file.read_text())


def run_turn(session, request, kind=DecisionKind.APPROVE_ONCE, reason=""):
    return list(session.ask(request, lambda _p: Decision(kind, reason=reason)))


# -- permissions ------------------------------------------------------------------------------

def test_permissions_groups_change_the_config_file(controller, qtbot, app_paths):
    c = controller(groups=("files", "calendar"))
    page = c.permissions
    c.window.tabs.setCurrentWidget(page)
    assert page.group_checks["files"].isChecked() and not page.group_checks["shell"].isChecked()
    qtbot.mouseClick(page.group_checks["shell"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.group_checks["calendar"], Qt.MouseButton.LeftButton)
    assert saved_config(app_paths)["grants"]["groups"] == ["files", "shell"]
    assert [t.name for t in c.session.policy.offered_tools()] == [
        t.name for t in c.session.catalog if t.group in ("files", "shell")]
    qtbot.mouseClick(page.auto_checks["files"], Qt.MouseButton.LeftButton)
    assert saved_config(app_paths)["grants"]["auto_read"] == ["files"]
    assert not page.auto_checks["shell"].isEnabled()  # commands always ask


def test_permissions_add_and_remove_folders(controller, qtbot, app_paths):
    c = controller(folders=("~/Documents",))
    page = c.permissions
    c.window.tabs.setCurrentWidget(page)
    projects = app_paths.home / "Projects"
    projects.mkdir()
    page.pick_folder = lambda: str(projects)  # what the system folder picker would return
    qtbot.mouseClick(page.add_folder_button, Qt.MouseButton.LeftButton)
    assert saved_config(app_paths)["grants"]["folders"] == ["~/Documents", "~/Projects"]
    assert [page.folders.item(i).text() for i in range(page.folders.count())] == ["~/Documents", "~/Projects"]
    assert c.session.toolbox.ctx.folders == ("~/Documents", "~/Projects")  # the tools see it at once
    page.pick_folder = lambda: ""  # cancelled picker: nothing changes
    qtbot.mouseClick(page.add_folder_button, Qt.MouseButton.LeftButton)
    page.folders.setCurrentRow(0)
    qtbot.mouseClick(page.remove_folder_button, Qt.MouseButton.LeftButton)
    assert saved_config(app_paths)["grants"]["folders"] == ["~/Projects"]


def test_permissions_lists_session_approvals_and_forgets_them(controller, qtbot):
    c = controller(['call:list_directory{"path": "~/Documents"}', "Empty."])
    run_turn(c.session, "list", DecisionKind.APPROVE_SESSION)
    c.window.tabs.setCurrentWidget(c.permissions)  # showing the page re-reads the core
    assert "list_directory in ~/Documents" in c.permissions.session_label.text()
    qtbot.mouseClick(c.permissions.forget_button, Qt.MouseButton.LeftButton)
    assert c.session.policy.session_approvals() == ()
    assert not c.permissions.forget_button.isEnabled()


# -- activity ---------------------------------------------------------------------------------

def test_activity_shows_real_audit_rows_and_searches(controller, qtbot, app_paths):
    (app_paths.home / "Documents" / "todo.txt").write_text("old list\n")
    c = controller([OVERWRITE, "Updated.", 'call:run_command{"command": "ls"}', "Fine."])
    run_turn(c.session, "update my todo")
    run_turn(c.session, "list files", DecisionKind.DENY, reason="no shell today")
    page = c.activity
    c.window.tabs.setCurrentWidget(page)  # showing the page re-reads the log
    cells = [[page.proxy.index(r, col).data() for col in range(6)] for r in range(page.proxy.rowCount())]
    assert [row[2] for row in cells] == ["run_command", "write_file"]  # newest first
    assert cells[0][1] == "list files" and cells[0][4] == "Denied: no shell today"
    assert cells[1][4] == "Approved" and json.loads(cells[1][3])["mode"] == "overwrite"
    qtbot.keyClicks(page.search, "shell today")
    assert page.proxy.rowCount() == 1
    page.search.clear()
    assert page.proxy.rowCount() == 2


def test_activity_undo_restores_the_overwritten_file(controller, qtbot, app_paths):
    todo = app_paths.home / "Documents" / "todo.txt"
    todo.write_text("old list\n")
    c = controller([OVERWRITE, "Updated."])
    run_turn(c.session, "update my todo")
    assert todo.read_text().startswith("new list")
    page = c.activity
    c.window.tabs.setCurrentWidget(page)
    assert not page.undo_button.isEnabled()
    assert page.select_first(lambda row: row.tool == "write_file")
    assert page.undo_button.isEnabled()
    with qtbot.waitSignal(page.undone):
        qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    assert todo.read_text() == "old list\n"
    assert page.status.text().startswith("Undone")
    assert page.rows[0].decision == "Undo"  # the undo is logged and shown too
    assert not any(r.undoable for r in page.rows)


def test_activity_verify_detects_a_changed_entry(controller, qtbot, app_paths):
    c = controller(["Hello."])
    run_turn(c.session, "hi")
    page = c.activity
    c.window.tabs.setCurrentWidget(page)
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    assert "intact" in page.status.text()
    # Someone edits the log behind the app's back (dropping the append-only trigger first).
    db = sqlite3.connect(app_paths.audit_db)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("UPDATE entries SET text = 'Asked: something else' WHERE kind = 'request'")
    db.commit()
    db.close()
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    assert "tampered" in page.status.text() and page.status.objectName() == "error"


def test_activity_rows_fold_an_edit_into_one_row(controller):
    c = controller(['call:create_event{"title": "Lunch", "start": "tomorrow at 12:30"}', "Added."])
    list(c.session.ask("lunch", lambda p: Decision(DecisionKind.EDIT, arguments={"title": "Lunch with Sam",
                                                                                   "start": "tomorrow at 13:00"})))
    rows = activity_rows(c.session.audit.entries())
    assert len(rows) == 1
    assert "Lunch with Sam" in rows[0].arguments and rows[0].arguments.endswith("(edited)")
    assert rows[0].decision == "Edited" and rows[0].ok


# -- calendar ---------------------------------------------------------------------------------

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//EN
BEGIN:VEVENT
UID:dentist-1@test
DTSTART:20261127T090000
DTEND:20261127T093000
SUMMARY:Dentist
END:VEVENT
END:VCALENDAR
"""


def test_calendar_page_imports_and_exports_ics(controller, tmp_path, app_paths):
    c = controller()
    page = c.calendar
    source = tmp_path / "other.ics"
    source.write_text(ICS)
    page.pick_import = lambda: str(source)
    page.import_button.click()
    assert "Imported 1 event" in page.status.text()
    assert any("Dentist" in page.upcoming.item(i).text() for i in range(page.upcoming.count()))
    target = tmp_path / "out" / "mine.ics"
    target.parent.mkdir()
    page.pick_export = lambda: str(target)
    page.export_button.click()
    assert "Exported 1 event" in page.status.text()
    assert "SUMMARY:Dentist" in target.read_text()


def test_calendar_page_reports_a_broken_file(controller, tmp_path):
    c = controller()
    bad = tmp_path / "bad.ics"
    bad.write_text("this is not a calendar")
    c.calendar.pick_import = lambda: str(bad)
    c.calendar.import_button.click()
    assert c.calendar.status.objectName() == "error" and "nothing was imported" in c.calendar.status.text()


# -- general and first run ---------------------------------------------------------------------

def test_quick_commands_editor_updates_config_and_tray(controller, qtbot, app_paths):
    c = controller()
    page = c.general
    assert [a.text() for a in c.tray.quick_actions] == ["What's on today?", "System status", "Show my downloads"]
    page.quick.setCurrentRow(1)
    page.remove_quick()
    page.quick.item(0).setText("Free time tomorrow?")  # an edit in place
    page.quick.setCurrentRow(1)
    page.move_quick(-1)
    expected = ["Show my downloads", "Free time tomorrow?"]
    assert saved_config(app_paths)["quick_commands"] == expected
    assert [a.text() for a in c.tray.quick_actions] == expected
    assert c.tray.menu.actions()[0].text() == "Show my downloads"


def test_start_at_login_writes_and_removes_the_autostart_entry(controller, qtbot, tmp_path, app_paths):
    c = controller()
    c.window.tabs.setCurrentWidget(c.general)
    entry = tmp_path / "xdg" / "autostart" / "deskmate.desktop"
    assert not c.general.autostart_check.isChecked() and not entry.exists()  # off by default
    check = c.general.autostart_check
    qtbot.keyClick(check, Qt.Key.Key_Space)  # keyboard only
    assert entry.exists() and "gui --hidden" in entry.read_text()
    assert saved_config(app_paths)["autostart"] is True
    qtbot.keyClick(check, Qt.Key.Key_Space)
    assert not entry.exists() and saved_config(app_paths)["autostart"] is False


def test_general_page_explains_the_shortcut_and_shows_the_model(controller, tmp_path):
    c = controller()
    assert "Wayland" in c.general.shortcut_note.text() and "deskmate ask-popup" in c.general.shortcut_note.text()
    model_dir = tmp_path / "models" / "deskmate-v1"
    model_dir.mkdir(parents=True)
    (model_dir / "manifest.json").write_text(json.dumps({"name": "deskmate-v1", "quantization": "int8"}))
    c.general.set_model(model_dir)
    assert '"quantization": "int8"' in c.general.manifest.toPlainText()
    c.general.set_model(tmp_path / "models" / "missing")
    assert "deskmate model build" in c.general.manifest.toPlainText()


def test_welcome_grants_the_chosen_groups(controller, qtbot, app_paths):
    c = controller()
    c.state.setValue("welcomed", False)
    dialog = c.show_welcome()
    qtbot.addWidget(dialog)
    assert isinstance(dialog, WelcomeDialog) and not dialog.build_button.isVisible()  # a model is there
    dialog.checks["system"].setChecked(False)
    dialog.checks["shell"].setChecked(True)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert saved_config(app_paths)["grants"]["groups"] == ["files", "calendar", "shell"]
    assert c.state.value("welcomed", type=bool)


def test_welcome_offers_the_build_when_no_model(qtbot):
    dialog = WelcomeDialog(("files",), ("~/Documents",), model_ready=False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.build_button.isVisible()
    with qtbot.waitSignal(dialog.build_requested):
        qtbot.mouseClick(dialog.build_button, Qt.MouseButton.LeftButton)
    dialog.set_progress("Exporting to ONNX", 0.5)
    assert dialog.progress.value() == 50 and dialog.model_status.text() == "Exporting to ONNX"
    dialog.build_failed("No module named 'torch'")
    assert dialog.build_button.isEnabled() and "torch" in dialog.model_status.text()

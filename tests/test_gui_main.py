"""Starting the app: first run, the single instance, `deskmate ask-popup` talking to the running app."""

from __future__ import annotations

import pytest

from app.cli import build_parser
from app.gui import instance
from app.gui.main import start
from tests.fixtures.gui import tame


@pytest.fixture
def started(qtbot, app_paths):
    made = []

    def make(**kwargs):
        # no real model build here: test_gui_model covers the first-run build on the tiny model
        controller = start(paths=app_paths, build_missing_model=False, **kwargs)
        if controller is not None:
            made.append(tame(controller, qtbot))
        return controller

    yield make
    for c in made:
        c.shutdown()
        c.instance_server.server.close()
        if c.welcome is not None:
            c.welcome.close()


def test_first_run_shows_the_window_and_the_welcome_with_the_build(started, qtbot):
    c = started()
    assert c is not None
    qtbot.waitExposed(c.window)
    assert c.window.isVisible() and c.window.windowTitle() == "Deskmate"
    assert c.welcome is not None and c.welcome.isVisible()
    assert c.welcome.build_button.isVisible()  # no model in this tmp home
    assert "not built" in c.window.model_label.text()
    assert c.general.manifest.toPlainText().startswith("No model built at")


def test_a_second_start_hands_over_to_the_running_app(started, qtbot, app_paths):
    c = started()
    c.window.hide()
    assert started(message="ask") is None  # `deskmate ask-popup` while Deskmate runs
    qtbot.waitUntil(c.popup.isVisible, timeout=5000)
    c.popup.hide()
    assert started() is None  # `deskmate` again: the window comes back
    qtbot.waitUntil(c.window.isVisible, timeout=5000)


def test_nobody_listening_means_no_running_app(qapp, tmp_path):
    assert instance.send(tmp_path / "nobody-here", "show", timeout_ms=100) is False


def test_cli_has_the_gui_subcommands():
    parser = build_parser()
    args = parser.parse_args(["gui", "--hidden"])
    assert args.command == "gui" and args.hidden
    assert parser.parse_args(["ask-popup"]).command == "ask-popup"

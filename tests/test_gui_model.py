"""The first-run build and the background model load, through the welcome dialog and the status bar.

The build runs the real pipeline (export, INT8 quantization, tokenizer, manifest) on the
tiny random Gemma 3 (`tiny_recipe`), then the real engine loads it off the GUI thread.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from app.agent.session import DEFAULT_MODEL, build_session
from app.calls import DecisionKind
from app.gui.autostart import Autostart
from app.gui.controller import Controller
from app.gui.shortcut import support


@pytest.mark.slow
def test_first_run_builds_the_model_by_itself_with_progress_then_loads_it(qtbot, app_paths, tiny_recipe):
    session = build_session(app_paths)  # no model in this tmp home
    assert session.model is None
    c = Controller(session, state=QSettings(str(app_paths.config / "gui.ini"), QSettings.Format.IniFormat),
                   model_dir=app_paths.models / DEFAULT_MODEL,
                   autostart=Autostart.for_platform(app_paths.home, env={}, platform="linux"),
                   shortcut_support=support(env={}, platform="linux"), build_missing_model=True)
    c.build_options = {"recipe": tiny_recipe, "no_adapter": True}
    c.exit_app = lambda: None
    qtbot.addWidget(c.window)
    try:
        fractions = []
        c.window.progress.valueChanged.connect(fractions.append)
        c.start()  # no click: the first run starts the build
        dialog = c.welcome
        assert dialog is not None and c.building
        assert dialog.progress.isVisible() and not dialog.build_button.isEnabled()
        qtbot.waitUntil(lambda: c.session.model is not None and c.session.model.loaded, timeout=600_000)
        qtbot.waitUntil(lambda: "ready" in c.window.model_label.text(), timeout=10_000)
        assert not c.building
        build = fractions[:fractions.index(100) + 1]  # then the load starts its own bar
        assert len(build) > 2 and build == sorted(build)  # the build's progress only moves forward
        assert (app_paths.models / DEFAULT_MODEL / "manifest.json").is_file()
        assert '"' in c.general.manifest.toPlainText()  # the manifest, as JSON
        assert not dialog.build_button.isVisible() and "ready" in dialog.model_status.text()
        assert not c.window.progress.isVisible()
        # One turn on the real engine (random weights: words or a call, both valid by construction).
        c.ask("What's on today?")
        qtbot.waitUntil(lambda: not c.busy or bool(c.waiting), timeout=300_000)
        for card in list(c.waiting.values()):
            card.decide(DecisionKind.DENY, reason="test")
        qtbot.waitUntil(lambda: not c.busy, timeout=300_000)
        assert c.window.speed_label.text().endswith(" tokens/s")  # the last answer's speed, from the engine
    finally:
        c.shutdown()

"""`deskmate screenshots --out DIR`: PNGs of the real widgets, for the README and reviews.

Everything runs in a throwaway home with a fixed clock and a scripted model, so the
pictures are the same on every machine and nothing of the user's is shown or
touched: a few earlier turns fill the activity log through the real core, then the
window is grabbed with a real approval card waiting, followed by the settings pages
and the tray menu. Rendered offscreen unless a display is asked for.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

FIXED_NOW = datetime(2026, 11, 26, 9, 15)  # a Thursday morning
SIZE = (1040, 720)

# The earlier turns (model replies) that fill the activity log.
HISTORY = (
    ("Add lunch with Sam tomorrow at 12:30",
     ['call:create_event{"title": "Lunch with Sam", "start": "tomorrow at 12:30", "location": "Café Nord"}',
      "Lunch with Sam is on your calendar for Friday at 12:30."], "approve_once"),
    ("What's in my Downloads?",
     ['call:list_directory{"path": "~/Downloads"}', "You have 2 files in Downloads: invoice-0412.pdf and photo.jpg."],
     "always"),
    ("Move the invoice to Documents",
     ['call:move_path{"source": "~/Downloads/invoice-0412.pdf", "destination": "~/Documents/invoice-0412.pdf"}',
      "Moved invoice-0412.pdf to Documents."], "approve_once"),
    ("How big is my home folder?",
     ['call:run_command{"command": "du -sh ~"}', "All right, I won't run it."], "deny"),
)
REQUEST = "Replace my todo list with: buy milk, call Sam, book dentist"
PENDING = ['call:write_file{"path": "~/Documents/todo.txt", "content": "buy milk\\ncall Sam\\nbook dentist\\n", '
           '"mode": "overwrite"}', "Your todo list is updated."]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("screenshots", help="render PNG screenshots of the app's windows")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="folder for the PNGs")
    parser.add_argument("--on-screen", action="store_true", help="use the real display instead of offscreen")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.on_screen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    for path in render(Path(args.out)):
        print(path)
    return 0


@dataclass
class _Clock:
    """A clock that starts at FIXED_NOW and moves a few seconds per reading (ordered log times)."""

    now: datetime = FIXED_NOW

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=7)
        return self.now


def _wait(app, condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not reach the state to photograph in time")
        app.processEvents()
        time.sleep(0.01)


def _demo_home(home: Path) -> None:
    for sub in ("Documents", "Downloads", "Desktop"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "Downloads" / "invoice-0412.pdf").write_bytes(b"%PDF-1.4 demo\n")
    (home / "Downloads" / "photo.jpg").write_bytes(b"\xff\xd8demo")
    (home / "Documents" / "todo.txt").write_text("buy eggs\nbuy milk\nwater the plants\n", encoding="utf-8")


def render(out: Path) -> list[Path]:
    """Write main-window.png, permissions.png, activity.png, tray-menu.png (and more) into `out`."""
    from PySide6.QtCore import QPoint, QSettings
    from PySide6.QtWidgets import QApplication

    from app.agent.backends import ScriptedModel
    from app.agent.session import DEFAULT_MODEL, build_session
    from app.calls import Decision, DecisionKind
    from app.gui import style
    from app.gui.autostart import Autostart
    from app.gui.controller import Controller
    from app.gui.shortcut import support
    from app.paths import AppPaths

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["deskmate"])
    style.apply(app)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="deskmate-shots-") as tmp:
        root = Path(tmp)
        paths = AppPaths(home=root / "home", config=root / "config", data=root / "data", models=root / "models").ensure()
        _demo_home(paths.home)
        clock = _Clock()
        replies = [r for _req, script, _d in HISTORY for r in script] + PENDING
        session = build_session(paths, clock=clock, model=ScriptedModel(replies))
        session.config.set_grants(groups=["files", "calendar", "shell", "system"],
                                  folders=["~/Documents", "~/Downloads", "~/Desktop"], auto_read=["system"])
        session.refresh()
        for request, _script, kind in HISTORY:  # earlier turns, through the real core
            decision = Decision(DecisionKind(kind), reason="not now" if kind == "deny" else "")
            list(session.ask(request, lambda _p, d=decision: d))
        session.new_conversation()

        state = QSettings(str(paths.config / "gui.ini"), QSettings.Format.IniFormat)
        state.setValue("welcomed", True)
        # The General page shows the manifest of the model built on this machine, when there is one.
        built = AppPaths.for_user().models / DEFAULT_MODEL
        have_model = (built / "manifest.json").is_file()
        controller = Controller(session, state=state, model_dir=built if have_model else None,
                                autostart=Autostart.for_platform(paths.home, env={}, platform="linux"),
                                shortcut_support=support(env={"XDG_SESSION_TYPE": "wayland",
                                                              "XDG_CURRENT_DESKTOP": "GNOME"}, platform="linux"))
        window = controller.window
        window.resize(*SIZE)
        window.show()
        try:
            controller.chat.add_user("What's on today?")
            controller.chat.finish_answer("You have one event today: Team stand-up at 10:00. "
                                          "Tomorrow: Lunch with Sam at 12:30 (Café Nord).")
            controller.ask(REQUEST)
            _wait(app, lambda: bool(controller.waiting))
            # The replies are scripted, so the model line says which model is built here (no speed is shown).
            window.set_model_status(f"Model: {DEFAULT_MODEL} ready" if have_model else "Model: demo (scripted replies)")
            window.chat.scroll_to_end()
            for _ in range(5):  # let the layout settle and the scroll land
                app.processEvents()

            def shot(name: str, widget) -> None:
                app.processEvents()
                path = out / f"{name}.png"
                if not widget.grab().save(str(path)):
                    raise OSError(f"Could not write {path}.")
                written.append(path)

            shot("main-window", window)
            window.tabs.setCurrentWidget(controller.permissions)
            shot("permissions", window)
            window.tabs.setCurrentWidget(controller.activity)
            controller.activity.verify()
            shot("activity", window)
            window.tabs.setCurrentWidget(controller.general)
            shot("general", window)
            menu = controller.tray.menu
            menu.popup(QPoint(0, 0))
            _wait(app, menu.isVisible, 5)
            shot("tray-menu", menu)
            menu.hide()
            window.tabs.setCurrentWidget(controller.chat)
            card = next(iter(controller.waiting.values()))
            card.decide(DecisionKind.DENY, reason="screenshots")
            _wait(app, lambda: not controller.busy)
        finally:
            controller.shutdown()
            window.hide()
            window.deleteLater()
            app.processEvents()
    return written

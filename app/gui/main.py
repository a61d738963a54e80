"""The desktop app's composition root: `deskmate` with no subcommand runs `run()`.

One place builds the QApplication, the core session and the controller (Mu's
app.run). A second start hands over to the running app through a local socket:
`deskmate` raises its window, `deskmate ask-popup` (bind it to a desktop shortcut)
opens its Ask window.
"""

from __future__ import annotations

import argparse
import os
import sys

from app.paths import AppPaths

APP_ID = "deskmate"


def register(subparsers: argparse._SubParsersAction) -> None:
    gui = subparsers.add_parser("gui", help="the desktop app (what `deskmate` alone runs)")
    gui.add_argument("--hidden", action="store_true", help="start in the tray without opening the window")
    gui.set_defaults(func=lambda args: run(hidden=args.hidden))
    popup = subparsers.add_parser("ask-popup", help="open the small Ask window of the running app "
                                                    "(for a desktop keyboard shortcut)")
    popup.set_defaults(func=lambda args: run(message="ask"))


def run(*, hidden: bool = False, message: str = "show", paths: AppPaths | None = None) -> int:
    """Start the app (or wake the running one); returns the process exit code."""
    from PySide6.QtWidgets import QApplication

    controller = start(hidden=hidden, message=message, paths=paths)
    if controller is None:
        return 0  # the running Deskmate took over
    app = QApplication.instance()
    app.aboutToQuit.connect(controller.shutdown)  # also on a session logout
    code = int(app.exec())
    if controller.unfinished:  # quit during a model build: leave without tearing down its thread
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def start(*, hidden: bool = False, message: str = "show", paths: AppPaths | None = None,
          build_missing_model: bool | None = None):
    """Build and show the app; None when another Deskmate of this user is running (it got `message`).

    `build_missing_model`: start building a missing model by itself; None = when this
    installation has the build tools (a checkout set up by `./dev`).
    """
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.agent.session import DEFAULT_MODEL, build_session
    from app.gui import instance, style
    from app.gui.controller import Controller
    from app.gui.icons import icon

    paths = (paths or AppPaths.for_user()).ensure()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Deskmate")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(icon())
    app.setQuitOnLastWindowClosed(False)  # the tray keeps running; Quit is explicit
    if instance.send(paths.config, message):
        return None
    style.apply(app)
    session = build_session(paths)
    state = QSettings(str(paths.config / "gui.ini"), QSettings.Format.IniFormat)
    from app.model.cli import build_tools_missing

    if build_missing_model is None:  # the tools are looked up only when there is something to build
        build_missing_model = session.model is None and build_tools_missing() is None
    controller = Controller(session, state=state, model_dir=paths.models / DEFAULT_MODEL,
                            build_missing_model=build_missing_model)
    server = instance.InstanceServer(paths.config, controller)
    server.received.connect(controller.handle_message)
    server.listen()
    controller.start(hidden=hidden)
    controller.instance_server = server
    if message == "ask":
        controller.popup.popup()
    return controller

"""`deskmate --selftest`: is this installation able to work? Checked offscreen, then exit.

It checks what a packaged install can get wrong, each with a line that says what
to do: the Qt platform plugins load; the keyring backend keeps a secret; the
granted folders exist; the built model loads and answers one request with a tool
proposal, through the real window's worker thread and approval card. The turn
runs in a throwaway home (the proposal is denied), so nothing of the user's is
touched; the user's config is only read.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REQUEST = "What's on my calendar today?"
TURN_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fatal: bool = True  # a failed non-fatal check is a warning: the app still works

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.fatal else "warn")
        return f"{mark} {self.name}: {self.detail}"


def check_keyring() -> Check:
    """Store, read back and delete a throwaway secret (under its own service name)."""
    from app.policy.secrets import Secrets, SecretsUnavailable

    secrets = Secrets(service="deskmate-selftest")
    if not secrets.available:
        return Check("keyring", False, f"{secrets.problem} (Set PYTHON_KEYRING_BACKEND to choose a backend.)")
    try:
        secrets.set("probe", "ok")
        value = secrets.get("probe")
        secrets.delete("probe")
    except SecretsUnavailable as exc:
        return Check("keyring", False, str(exc))
    if value != "ok":
        return Check("keyring", False, f"{type(secrets.backend).__name__} did not give the secret back; "
                                       "unlock or repair the keyring.")
    return Check("keyring", True, f"{type(secrets.backend).__module__}.{type(secrets.backend).__name__} keeps secrets")


def check_folders(paths) -> Check:
    """The folders the user granted to the file tools exist and can be read (only reads the config)."""
    from app.policy.config import ConfigStore

    config = ConfigStore(paths)
    if config.warning is not None:
        return Check("tool folders", False, str(config.warning), fatal=False)
    grants = config.config.grants
    if "files" not in grants.groups:
        return Check("tool folders", True, "file tools are not granted; nothing to check")
    missing, unreadable = [], []
    for folder in grants.folders:
        path = Path(folder.replace("~", str(paths.home), 1) if folder.startswith("~") else folder)
        if not path.is_dir():
            missing.append(folder)
        elif not os.access(path, os.R_OK | os.X_OK):
            unreadable.append(folder)
    if missing or unreadable:
        problems = ([f"missing: {', '.join(missing)}"] if missing else []) + \
                   ([f"not readable: {', '.join(unreadable)}"] if unreadable else [])
        return Check("tool folders", False, "; ".join(problems) + " — create them or remove them in Settings › Permissions",
                     fatal=False)
    return Check("tool folders", True, ", ".join(grants.folders) or "no folders granted")


def check_turn(model_dir: Path, log: Callable[[str], None]) -> list[Check]:
    """Load the model and answer one request through the real controller, offscreen, in a throwaway home.

    Lines for the slow steps are logged as they finish (loading takes a while); the rest are returned.
    """
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.agent.backends import EngineModel
    from app.agent.session import build_session
    from app.calls import DecisionKind
    from app.errors import DeskmateError
    from app.gui.controller import Controller
    from app.paths import AppPaths

    app = QApplication.instance() or QApplication(["deskmate"])
    qt = Check("Qt", True, f"platform plugin {app.platformName()!r} loaded")
    log(qt.line())
    started = time.perf_counter()
    try:
        model = EngineModel(model_dir)
        model.load()
    except DeskmateError as exc:
        return [qt, Check("model", False, str(exc))]
    except Exception as exc:  # a broken onnxruntime install, a bad file: say what it was
        return [qt, Check("model", False, f"{model_dir} could not be loaded ({type(exc).__name__}: {exc}); "
                                          "rebuild it with `deskmate model build --force`.")]
    loaded = Check("model", True, f"{model_dir.name} loaded in {time.perf_counter() - started:.1f} s")
    log(loaded.line())
    checks = [qt, loaded]

    with tempfile.TemporaryDirectory(prefix="deskmate-selftest-") as tmp:
        root = Path(tmp)
        paths = AppPaths(home=root / "home", config=root / "config", data=root / "data", models=model_dir.parent).ensure()
        for sub in ("Documents", "Downloads", "Desktop"):
            (paths.home / sub).mkdir(parents=True)
        session = build_session(paths, model=model)
        state = QSettings(str(paths.config / "gui.ini"), QSettings.Format.IniFormat)
        state.setValue("welcomed", True)
        controller = Controller(session, state=state, model_dir=model_dir)
        proposals = []
        ending = ""
        try:
            controller.ask(REQUEST)
            deadline = time.monotonic() + TURN_TIMEOUT_S
            while controller.busy and not controller.waiting and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.01)
            if controller.waiting:
                card = next(iter(controller.waiting.values()))
                proposals.append(card.proposal)
                card.decide(DecisionKind.DENY, reason="self-test")  # through the card, as a user would
            while controller.busy and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.01)
            timed_out = controller.busy
            # What the turn ended with, in the log's words ("Answered: ...", or the error).
            ending = next((e.text for e in reversed(session.audit.recent(5)) if e.kind in ("answer", "error")), "")
        finally:
            controller.shutdown()
            controller.window.deleteLater()
            app.processEvents()
    if timed_out:
        return checks + [Check("answer", False, f"no answer within {TURN_TIMEOUT_S:.0f} s; the model is too slow "
                                                "or stuck (try `deskmate bench`).")]
    if not proposals:
        said = f" ({ending[:160]})" if ending else ""
        return checks + [Check("answer", False, f"the model answered {REQUEST!r} without proposing a tool call{said}; "
                                                "the built model may be the wrong one (no fine-tuned adapter?) — "
                                                "rebuild it with `deskmate model build --force`.")]
    p = proposals[0]
    return checks + [Check("answer", True, f"{REQUEST!r} -> {p.call.name} ({p.summary})")]


def run(log: Callable[[str], None] = print, paths=None, model_name: str | None = None) -> int:
    """Run every check, print one line each; 0 when nothing fatal failed, else 1."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.agent.session import DEFAULT_MODEL
    from app.paths import AppPaths

    paths = paths or AppPaths.for_user()
    checks = [check_keyring(), check_folders(paths)]
    for c in checks:
        log(c.line())
    turn = check_turn(paths.models / (model_name or DEFAULT_MODEL), log)
    for c in turn:
        if not (c.name == "Qt" or (c.name == "model" and c.ok)):  # those were printed as they happened
            log(c.line())
    checks += turn
    failed = [c for c in checks if not c.ok and c.fatal]
    log("self-test passed" if not failed else f"self-test failed: {len(failed)} problem(s) above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run())

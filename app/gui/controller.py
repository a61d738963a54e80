"""The controller: wires the core session to the window, tray, cards and pages.

Mu's split: widgets only show things and emit what the user did; this object owns
the running turn (a TurnWorker on a QThread), turns AgentEvents into view updates,
and answers proposals through the worker's ApprovalBroker. Business rules stay in
the core (app.agent, app.policy); nothing here decides what may run.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path
from typing import Callable

import psutil
import shiboken6
from PySide6.QtCore import QObject, QSettings, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from app.agent.approval import PAUSE_REASON
from app.agent.events import Answer, Decided, Executed, Failed, Proposed, Refused, TextDelta
from app.calls import Decision, DecisionKind, Proposal
from app.gui import shortcut
from app.gui.activity import ActivityPage
from app.gui.ask_popup import AskPopup
from app.gui.autostart import Autostart
from app.gui.calendar_page import CalendarPage
from app.gui.card import ApprovalCard
from app.gui.general import GeneralPage
from app.gui.permissions import PermissionsPage
from app.gui.tray import Tray
from app.gui.welcome import WelcomeDialog
from app.gui.window import MainWindow
from app.gui.worker import TurnWorker, run_in_background, start_on_thread

QUIT_QUESTION = "A call is waiting for your answer. Quit anyway? It will be denied."
BUILD_QUESTION = "The model is still being built. Quit anyway? The build stops and starts over next time."


def _alive(thread: QThread) -> bool:
    """False once Qt deleted the thread object (deleteLater after it finished)."""
    return shiboken6.isValid(thread)


class Controller(QObject):
    """Signals: turn_finished() after each turn (tests and screenshots wait on it)."""

    turn_finished = Signal()
    model_ready = Signal()

    def __init__(self, session, *, state: QSettings, model_dir: Path | None = None,
                 autostart: Autostart | None = None, shortcut_support: shortcut.ShortcutSupport | None = None,
                 build_missing_model: bool = False):
        """`build_missing_model`: start building the model by itself when none is there (the app's
        first run from a checkout); off in tests and screenshots, which build only when asked."""
        super().__init__()
        self.build_missing_model = build_missing_model
        self.session = session
        self.state = state
        self.model_dir = model_dir
        self.cards: dict[str, ApprovalCard] = {}
        self.waiting: dict[str, ApprovalCard] = {}
        self.queue: deque[str] = deque()
        self.worker: TurnWorker | None = None
        self.thread: QThread | None = None
        self.tasks: list[QThread] = []  # model loading and building
        self.last_waiting: str | None = None
        self.confirm_quit: Callable[[str], bool] = self._ask_quit
        self.exit_app: Callable[[], None] = QApplication.quit
        self.hotkey: shortcut.WindowsHotkey | None = None
        self.build_options: dict = {}  # extra build_model arguments (tests build the tiny model)
        self.building = False
        self.unfinished: list[QThread] = []
        self._closed = False

        self.window = MainWindow()
        self.chat = self.window.chat
        self.activity = ActivityPage(session)
        self.permissions = PermissionsPage(session)
        self.calendar = CalendarPage(session)
        self.autostart = autostart or Autostart.for_platform(session.paths.home)
        support = shortcut_support or shortcut.support()
        self.general = GeneralPage(session, self.autostart, support, model_dir)
        self.window.add_page(self.activity, "&Activity")
        self.window.add_page(self.permissions, "&Permissions")
        self.window.add_page(self.calendar, "Ca&lendar")
        self.window.add_page(self.general, "&General")
        self.tray = Tray(session.config.config.quick_commands)
        self.popup = AskPopup()
        self.welcome: WelcomeDialog | None = None

        self.chat.submitted.connect(self.ask)
        self.chat.stop_requested.connect(self.stop)
        self.window.hidden_to_tray.connect(self._hidden_to_tray)
        self.window.quit_requested.connect(self.quit)
        self.window.resume_requested.connect(lambda: self.set_paused(False))
        self.window.new_conversation.connect(self.new_conversation)
        self.window.tabs.currentChanged.connect(self._tab_changed)
        self.permissions.pause_toggled.connect(self.set_paused)
        self.general.quick_commands_changed.connect(self.tray.set_quick_commands)
        self.general.shortcut_changed.connect(self._register_hotkey)
        self.activity.undone.connect(lambda message: self.chat.add_notice(message))
        self.tray.quick_command.connect(self.ask_from_outside)
        self.tray.ask.connect(self.popup.popup)
        self.tray.pause_toggled.connect(self.set_paused)
        self.tray.open_window.connect(self.show_window)
        self.tray.quit.connect(self.quit)
        self.tray.message_clicked.connect(self.open_waiting_card)
        self.popup.asked.connect(self.ask_from_outside)

        self.memory_timer = QTimer(self)
        self.memory_timer.setInterval(3000)
        self.memory_timer.timeout.connect(self.update_memory)
        self.update_memory()
        self.set_paused(session.paused)
        self._show_model_state()

    # --- start and stop ------------------------------------------------------------------

    def start(self, hidden: bool = False) -> None:
        """Show the tray (if the desktop has one) and the window; welcome on first run; load the model."""
        self.window.keep_in_tray = self.tray.show()
        self.memory_timer.start()
        if not (hidden and self.window.keep_in_tray):
            self.window.bring_up()
            self.window.focus_input()
        for warning in self.session.warnings:
            if warning != self.session.model_problem:
                self.chat.add_notice(warning)
        if not self.state.value("welcomed", False, type=bool):
            self.show_welcome()
        self._register_hotkey(self.session.config.config.shortcut)
        if self.session.model is None and self.build_missing_model:
            self.build_model()  # progress in the welcome dialog and the status bar; the button retries a failure
        else:
            self.load_model()

    def show_window(self) -> None:
        self.window.bring_up()

    def _hidden_to_tray(self) -> None:
        if not self.state.value("tray_notice_shown", False, type=bool):
            self.tray.notify("Deskmate is still running",
                             "It stays in the tray so quick commands and Ask… keep working. Quit from the tray menu.")
            self.state.setValue("tray_notice_shown", True)

    def _ask_quit(self, question: str) -> bool:
        answer = QMessageBox.question(self.window, "Quit Deskmate", question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def quit(self) -> bool:
        """Quit, after asking when a call waits for an answer; False when the user keeps the app."""
        if self.waiting and not self.confirm_quit(QUIT_QUESTION):
            self.show_window()
            self.open_waiting_card()
            return False
        if self.building and not self.confirm_quit(BUILD_QUESTION):
            return False
        self.shutdown()
        self.exit_app()
        return True

    def shutdown(self, wait_ms: int = 10000) -> None:
        """Stop the running turn, wait for the worker threads, close the core (once)."""
        if self._closed:
            return
        self._closed = True
        self.queue.clear()
        if self.worker is not None:
            self.worker.stop("Deskmate was closed.")
        for thread in [self.thread, *self.tasks]:
            if thread is not None and _alive(thread):
                thread.wait(wait_ms)
        # A model build cannot be interrupted; main.run() then ends the process without
        # destroying its thread (the build writes to a temporary folder, so nothing is damaged).
        self.unfinished = [t for t in [self.thread, *self.tasks] if t is not None and _alive(t) and t.isRunning()]
        self.memory_timer.stop()
        if self.hotkey is not None:
            self.hotkey.unregister()
        self.tray.hide()
        self.popup.close()
        self.session.close()

    # --- turns ------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def ask_from_outside(self, text: str) -> None:
        """A quick command or the Ask window: bring the window up and run the request."""
        self.show_window()
        self.window.tabs.setCurrentWidget(self.chat)
        self.ask(text)

    def ask(self, text: str) -> None:
        if self.busy:
            self.queue.append(text)
            self.chat.add_notice(f"Queued until the current request is done: {text}")
            return
        self.chat.add_user(text)
        self.chat.set_busy(True)
        self.window.set_speed(None)
        worker = TurnWorker(lambda approve, cancel: self.session.ask(text, approve, cancel=cancel),
                            self.session.config.config.approval_timeout_s)
        worker.event.connect(self._on_event)
        worker.waiting.connect(self._on_waiting)
        worker.crashed.connect(self._on_crash)
        worker.done.connect(self._on_done)
        self.worker = worker
        self.thread = start_on_thread(worker, self)

    def new_conversation(self) -> None:
        """Forget the conversation so far (the activity log keeps everything)."""
        if self.busy:
            self.chat.add_notice("Stop the current request first (Esc), then start a new conversation.")
            return
        self.session.new_conversation()
        self.cards.clear()
        self.chat.clear()
        self.window.focus_input()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.chat.add_notice("Stopping…")

    def _on_event(self, event) -> None:
        if self._closed:
            return  # queued from the worker after shutdown
        if isinstance(event, TextDelta):
            self.chat.append_answer(event.text)
        elif isinstance(event, Proposed):
            self._add_card(event.proposal)
        elif isinstance(event, Decided):
            card = self.cards.get(event.proposal.id)
            if card is not None:
                card.show_decision(event.decision)
            self._settled(event.proposal.id)
        elif isinstance(event, Executed):
            card = self._card_for_result(event.proposal)
            if card is not None:
                card.show_result(event.result)
        elif isinstance(event, Refused):
            card = self._edited_card()
            if card is not None and event.call.name == card.proposal.call.name:
                card.show_refused(event.reason)
            else:
                self.chat.add_notice(f"Not run — {event.call.name}: {event.reason}", error=True)
        elif isinstance(event, Answer):
            self.chat.finish_answer(event.text)
        elif isinstance(event, Failed):
            self.chat.add_notice(event.message, error=True)  # words already streamed stay as they are

    def _add_card(self, proposal: Proposal) -> ApprovalCard:
        spec = self.session.catalog.get(proposal.call.name) if proposal.call.name in self.session.catalog else None
        card = ApprovalCard(proposal, spec)
        card.set_active(False)  # until the agent really asks (a remembered rule may answer first)
        card.decided.connect(self.decide)
        self.cards[proposal.id] = card
        self.chat.add_card(card)
        return card

    def _on_waiting(self, proposal: Proposal) -> None:
        card = self.cards.get(proposal.id) or self._add_card(proposal)
        card.set_active(True)
        self.waiting[proposal.id] = card
        self.last_waiting = proposal.id
        self.tray.set_waiting(True)
        self.chat.reveal(card)
        if self.window.isVisible() and not self.window.isMinimized():
            card.focus_default()
        else:
            self.tray.notify("Deskmate needs your answer", f"{proposal.summary}\nClick to review it.")

    def decide(self, proposal_id: str, decision: Decision) -> None:
        """A card's answer goes to the waiting agent (a late answer after a timeout is ignored)."""
        if self.window.isActiveWindow():
            self.chat.input.setFocus(Qt.FocusReason.OtherFocusReason)  # the keyboard goes back to the request line
        if self.worker is None or not self.worker.answer(proposal_id, decision):
            card = self.cards.get(proposal_id)
            if card is not None and proposal_id not in self.waiting:
                card.status.setText(card.status.text() + " — too late, the call was already settled.")

    def _settled(self, proposal_id: str) -> None:
        self.waiting.pop(proposal_id, None)
        self.tray.set_waiting(bool(self.waiting))

    def _card_for_result(self, proposal: Proposal) -> ApprovalCard | None:
        """The card of an executed proposal; an edited call runs under a new id, shown on its original card."""
        return self.cards.get(proposal.id) or self._edited_card()

    def _edited_card(self) -> ApprovalCard | None:
        for card in reversed(list(self.cards.values())):
            if card.decision is not None and card.decision.kind is DecisionKind.EDIT and card.result_box is None:
                return card
        return None

    def _on_crash(self, message: str) -> None:
        self.chat.add_notice(f"Something went wrong inside Deskmate: {message.splitlines()[0]}", error=True)

    def _on_done(self) -> None:
        self.worker = None
        self.thread = None
        if self._closed:
            return  # the session is closed: nothing left to refresh
        for proposal_id in list(self.waiting):
            self._settled(proposal_id)
        self.chat.set_busy(False)
        self.window.set_speed(self._last_speed())
        self.activity.refresh()
        self.permissions.refresh()
        self.turn_finished.emit()
        if self.queue:
            self.ask(self.queue.popleft())

    def _last_speed(self) -> float | None:
        output = getattr(self.session.model, "last_output", None)
        speed = getattr(output, "tokens_s", None)
        return float(speed) if speed else None

    def open_waiting_card(self) -> None:
        """The tray notification was clicked: show the window with the waiting card focused."""
        self.show_window()
        self.window.tabs.setCurrentWidget(self.chat)
        card = self.waiting.get(self.last_waiting or "") or next(iter(self.waiting.values()), None)
        if card is not None:
            self.chat.reveal(card)
            card.focus_default()

    # --- pause ------------------------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        if paused and not self.session.paused:
            self.session.pause()
            if self.worker is not None:
                self.worker.deny_waiting(PAUSE_REASON, by="pause")
        elif not paused and self.session.paused:
            self.session.resume()
        self.window.set_paused(self.session.paused)
        self.tray.set_paused(self.session.paused)
        self.permissions.set_paused(self.session.paused)

    # --- model -------------------------------------------------------------------------------

    def _show_model_state(self) -> None:
        if self.session.model is None:
            self.window.set_model_status("Model: not built — see the welcome screen or run `deskmate model build`")
        elif not getattr(self.session.model, "loaded", True):
            self.window.set_model_status("Model: not loaded yet")
        else:
            self.window.set_model_status("Model: ready")

    def run_task(self, fn, on_success, on_failure, on_progress=None) -> QThread:
        """Run `fn(progress)` off the GUI thread; the callbacks run on the GUI thread."""
        thread = run_in_background(fn, self, on_success, on_failure, on_progress)
        self.tasks = [t for t in self.tasks if _alive(t)] + [thread]
        return thread

    def load_model(self) -> None:
        """Load the built model off the GUI thread, so the first answer does not wait for it."""
        load = getattr(self.session.model, "load", None)
        if not callable(load) or getattr(self.session.model, "loaded", True):
            self._show_model_state()
            return
        self.window.set_model_status("Model: loading…", 0.0)
        self.run_task(lambda _progress: load(), self._model_loaded,
                      lambda message: self.window.set_model_status(f"Model: failed to load — {message}"))

    def _model_loaded(self, _assistant=None) -> None:
        name = self.model_dir.name if self.model_dir else "model"
        self.window.set_model_status(f"Model: {name} ready")
        self.general.set_model(self.model_dir)
        self.model_ready.emit()

    def build_model(self) -> None:
        """Build the model (first run) with progress in the welcome dialog and the status bar."""
        from app.agent.backends import EngineModel

        paths, name = self.session.paths, (self.model_dir.name if self.model_dir else "deskmate-v1")

        def build(progress):
            from app.model.build import build_model  # build-time code: torch, only when asked

            return build_model(paths, name, progress=progress, **self.build_options)

        def built(model_dir) -> None:
            self.building = False
            self.model_dir = Path(model_dir)
            self.session.model = EngineModel(self.model_dir)
            self.session.model_problem = None
            if self.welcome is not None:
                self.welcome.set_model_ready(True)
            self.load_model()

        def failed(message: str) -> None:
            self.building = False
            if "No module named" in message:
                message += " — building needs the build tools: `pip install 'deskmate[build]'` (or `./dev run`)."
            self.window.set_model_status(f"Model: build failed — {message}")
            if self.welcome is not None:
                self.welcome.build_failed(message)

        def progress(stage: str, fraction: float) -> None:
            message = f"Building the model: {stage}"
            self.window.set_model_status(message, fraction)
            if self.welcome is not None:
                self.welcome.set_progress(message, fraction)

        self.window.set_model_status("Model: building…", 0.0)
        if self.welcome is not None:
            self.welcome.show_building()
        self.building = True
        self.run_task(build, built, failed, progress)

    # --- first run, hotkey, memory ----------------------------------------------------------

    def show_welcome(self) -> WelcomeDialog:
        grants = self.session.config.config.grants
        self.welcome = WelcomeDialog(grants.groups, grants.folders, self.session.model is not None, self.window)
        self.welcome.build_requested.connect(self.build_model)
        self.welcome.grants_chosen.connect(self._welcome_done)
        self.welcome.setWindowModality(Qt.WindowModality.NonModal)
        self.welcome.show()
        return self.welcome

    def _welcome_done(self, groups: list[str]) -> None:
        self.session.config.set_grants(groups=groups)
        self.state.setValue("welcomed", True)
        self.permissions.refresh()
        self.window.focus_input()

    def _register_hotkey(self, sequence: str) -> None:
        if os.name != "nt":
            return  # elsewhere the desktop's own shortcut runs `deskmate ask-popup` (see General)
        if self.hotkey is None:
            self.hotkey = shortcut.WindowsHotkey()
            self.hotkey.triggered.connect(self.popup.popup)
            QApplication.instance().installNativeEventFilter(self.hotkey)
        problem = self.hotkey.register(sequence)
        if problem:
            self.general.shortcut_note.setText(problem)

    def update_memory(self) -> None:
        self.window.set_memory(psutil.Process().memory_info().rss)

    def _tab_changed(self, _index: int) -> None:
        page = self.window.tabs.currentWidget()
        if page is self.activity:
            self.activity.refresh()
        elif page is self.permissions:
            self.permissions.refresh()

    def handle_message(self, message: str) -> None:
        """From a second start: "show" raises the window, "ask" opens the Ask window."""
        if message == "ask":
            self.popup.popup()
        elif message == "show":
            self.show_window()

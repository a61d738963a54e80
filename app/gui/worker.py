"""Running the core off the GUI thread: agent turns, model loading and building.

Workers talk to the window only through Qt signals (queued onto the GUI thread);
they never touch a widget. The agent asks for approval by calling `approve` on the
worker thread: the core's ApprovalBroker announces the proposal (`waiting`) and
blocks until the GUI answers, the user stops the turn, or the time runs out (no
answer is a deny).
"""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable, Iterator

from PySide6.QtCore import QObject, QThread, Signal

from app.agent.approval import ApprovalBroker
from app.calls import Decision, DecisionKind, Proposal

STOPPED = "Stopped by the user; nothing more was run."
Approve = Callable[[Proposal], Decision]
# Starts one agent turn: given the approval callback and a cancel flag, yields AgentEvents.
TurnStarter = Callable[[Approve, threading.Event], Iterator[Any]]


class TurnWorker(QObject):
    """One agent turn on its own thread.

    Signals:
        event(object): each AgentEvent, in order.
        waiting(object): the Proposal the agent now waits on (the card needs an answer).
        crashed(str): an unexpected error, with the traceback for the log.
        done(): the turn is over (after its Answer or Failed event, or a crash).
    """

    event = Signal(object)
    waiting = Signal(object)
    crashed = Signal(str)
    done = Signal()

    def __init__(self, start: TurnStarter, timeout_s: float):
        super().__init__()
        self._start = start
        self.broker = ApprovalBroker(self.waiting.emit, timeout_s)
        self.cancel_flag = threading.Event()

    def approve(self, proposal: Proposal) -> Decision:
        """Called by the agent on this worker's thread; blocks until answered (after Stop: denies at once)."""
        if self.cancel_flag.is_set():
            return Decision(DecisionKind.DENY, reason=STOPPED, by="user")
        return self.broker(proposal)

    def answer(self, proposal_id: str, decision: Decision) -> bool:
        """Called from the GUI thread; False when the proposal no longer waits (timed out, stopped)."""
        return self.broker.answer(proposal_id, decision)

    def stop(self, reason: str = STOPPED) -> None:
        """Called from the GUI thread: cancel generation and deny anything waiting."""
        self.cancel_flag.set()
        self.broker.deny_all(reason, by="user")

    def deny_waiting(self, reason: str, by: str) -> None:
        """Deny what waits now (Pause all tools, Quit) without cancelling the turn."""
        self.broker.deny_all(reason, by=by)

    def run(self) -> None:
        try:
            for item in self._start(self.approve, self.cancel_flag):
                self.event.emit(item)
        except Exception as exc:  # the GUI must survive any core bug; it shows the message
            self.crashed.emit(f"{exc}\n\n{traceback.format_exc()}")
        finally:
            self.done.emit()


class Task(QObject):
    """A function run off the GUI thread (loading or building the model).

    The function gets a `progress(message, fraction)` callback; its signals carry
    progress, the return value, or the error message back to the GUI thread.
    """

    progress = Signal(str, float)
    succeeded = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, fn: Callable[[Callable[[str, float], None]], Any]):
        super().__init__()
        self._fn = fn

    def run(self) -> None:
        try:
            self.succeeded.emit(self._fn(lambda message, fraction: self.progress.emit(message, float(fraction))))
        except Exception as exc:
            self.failed.emit(str(exc) or type(exc).__name__)
        finally:
            self.done.emit()


class Relay(QObject):
    """Delivers a Task's outcome to plain callbacks on the GUI thread.

    PySide runs a lambda or function connected to a worker's signal on the worker's
    thread; a bound method of a QObject living on the GUI thread is queued there.
    So the callbacks hang off this object, which lives where it was made.
    """

    def __init__(self, parent: QObject, on_success: Callable[[Any], None], on_failure: Callable[[str], None],
                 on_progress: Callable[[str, float], None] | None = None):
        super().__init__(parent)
        self._on_success, self._on_failure, self._on_progress = on_success, on_failure, on_progress

    def succeeded(self, value: Any) -> None:
        self._on_success(value)

    def failed(self, message: str) -> None:
        self._on_failure(message)

    def progress(self, message: str, fraction: float) -> None:
        if self._on_progress is not None:
            self._on_progress(message, fraction)

    def finished(self) -> None:
        self.deleteLater()


def run_in_background(fn: Callable[[Callable[[str, float], None]], Any], parent: QObject,
                      on_success: Callable[[Any], None], on_failure: Callable[[str], None],
                      on_progress: Callable[[str, float], None] | None = None) -> QThread:
    """Run `fn(progress)` on a new thread; the callbacks run on the GUI thread (Anki's QueryOp)."""
    task = Task(fn)
    relay = Relay(parent, on_success, on_failure, on_progress)
    task.succeeded.connect(relay.succeeded)
    task.failed.connect(relay.failed)
    task.progress.connect(relay.progress)
    task.done.connect(relay.finished)
    return start_on_thread(task, parent)


class _Keeper(QObject):
    """Holds a worker until its thread has finished, then lets it go on the GUI thread.

    The worker is a Python-owned QObject: Python frees it when the last reference
    goes. Dropping that reference while its thread still runs (the GUI forgets a turn
    as soon as `done` arrives) or also asking Qt to delete it (`deleteLater` on the
    thread's exit) would free it twice or under the running thread. So exactly one
    path frees it: this keeper, after `finished`, on the GUI thread.
    """

    def __init__(self, worker: QObject, parent: QObject):
        super().__init__(parent)
        self._worker: QObject | None = worker

    def release(self) -> None:
        self._worker = None
        self.deleteLater()


def start_on_thread(worker: TurnWorker | Task, parent: QObject) -> QThread:
    """Move `worker` to a new QThread owned by `parent`, run it, and clean both up when done."""
    thread = QThread(parent)
    keeper = _Keeper(worker, parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.done.connect(thread.quit)
    thread.finished.connect(keeper.release)  # queued: runs on the GUI thread, after the thread is done
    thread.finished.connect(thread.deleteLater)
    thread.start()
    return thread

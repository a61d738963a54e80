"""The composition root: one place that builds the core for a front end.

`build_session()` wires the config, policy, secrets, audit log, toolbox and model
backend over injected paths and clock; the terminal (`deskmate ask/log/undo`) and
the GUI both use it, so they cannot disagree about what is granted or logged.
Problems that do not stop the app (corrupt config, no keyring, no built model) are
collected in `Session.warnings` for the front end to show.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Iterator

from app.agent.backends import EngineModel, ModelBackend
from app.agent.events import AgentEvent, Answer
from app.agent.loop import MAX_STEPS, Agent, Approve
from app.audit.log import AuditLog, UndoableAction
from app.calls import ToolResult
from app.errors import DeskmateError, ModelMissing
from app.paths import AppPaths
from app.policy.config import ConfigStore
from app.policy.grants import Policy
from app.policy.secrets import Secrets
from app.prompt.render import Message
from app.tools.catalog import Catalog

DEFAULT_MODEL = "deskmate-v1"
AUTO = "auto"  # build_session(model=AUTO): the built model if there is one


class NothingToUndo(DeskmateError):
    """`deskmate undo` with no undoable action (or an id that is not one)."""


@dataclass
class Session:
    paths: AppPaths
    clock: Callable[[], datetime]
    catalog: Catalog
    config: ConfigStore
    secrets: Secrets
    policy: Policy
    audit: AuditLog
    toolbox: object  # app.tools.toolbox.Toolbox (imported lazily)
    model: ModelBackend | None
    model_problem: str | None = None
    max_steps: int = MAX_STEPS
    history: list[Message] = field(default_factory=list)
    opener: Callable | None = None  # how open_path opens a file (None: the desktop's default application)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Things the user should know that do not stop the app."""
        out = []
        if self.config.warning is not None:
            out.append(str(self.config.warning))
        if self.secrets.problem:
            out.append(self.secrets.problem)
        if self.model_problem:
            out.append(self.model_problem)
        return tuple(out)

    # -- turns ---------------------------------------------------------------------
    def agent(self) -> Agent:
        if self.model is None:
            raise ModelMissing(self.model_problem or "No model is loaded. Build one with `deskmate model build`.")
        if tuple(getattr(getattr(self.toolbox, "ctx", None), "folders", ())) != self.policy.folders:
            self.refresh()  # folders were granted or removed in the settings since the toolbox was built
        return Agent(self.model, self.toolbox, self.policy, self.audit, self.clock, self.max_steps,
                     home=self.paths.home)

    def ask(self, request: str, approve: Approve, *, on_text: Callable[[str], None] | None = None,
            cancel: threading.Event | None = None) -> Iterator[AgentEvent]:
        """One turn of the ongoing conversation; the request and its answer join the history."""
        agent = self.agent()
        answer = None
        for event in agent.run(request, approve, history=tuple(self.history), on_text=on_text, cancel=cancel):
            if isinstance(event, Answer):
                answer = event.text
            yield event
        # Only words are kept across turns: tool turns are bulky and the model re-asks what it needs.
        self.history.append(Message("user", request))
        if answer is not None:
            self.history.append(Message("assistant", answer))
        del self.history[:-12]

    def new_conversation(self) -> None:
        self.history.clear()

    # -- grants and pause ------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild the toolbox after the granted folders changed (settings, onboarding)."""
        self.toolbox = _make_toolbox(self.paths, self.policy.folders, self.clock, self.catalog, self.opener,
                                     self.policy.pause_event)

    def pause(self) -> None:
        """Pause all tools: pending approvals are denied, a running command is stopped, new calls refused."""
        self.policy.pause()

    def resume(self) -> None:
        self.policy.resume()

    def on_pause(self, listener: Callable[[], None]) -> None:
        """Run `listener` when tools are paused (a front end denies its open approval cards)."""
        self.policy.on_pause(listener)

    @property
    def paused(self) -> bool:
        return self.policy.paused

    # -- undo ------------------------------------------------------------------------
    def undoable(self) -> list[UndoableAction]:
        return self.audit.undoable()

    def undo(self, entry_id: int | None = None) -> tuple[UndoableAction, ToolResult]:
        """Undo one logged file action (the newest when no id is given); the undo is logged too."""
        actions = self.audit.undoable()
        if not actions:
            raise NothingToUndo("There is nothing to undo: no file action in the log can be reversed.")
        if entry_id is None:
            action = actions[0]
        else:
            action = next((a for a in actions if a.entry_id == entry_id), None)
            if action is None:
                ids = ", ".join(str(a.entry_id) for a in actions[:10])
                raise NothingToUndo(f"Entry {entry_id} is not an action that can be undone. Undoable: {ids}.")
        try:
            result = self.toolbox.undo(action.record)  # type: ignore[attr-defined]
        except DeskmateError as exc:
            result = ToolResult(ok=False, error=str(exc))
        self.audit.record_undo(action, result)
        return action, result

    def close(self) -> None:
        self.audit.close()


def _make_toolbox(paths: AppPaths, folders: Iterable[str], clock: Callable[[], datetime], catalog: Catalog,
                  opener: Callable | None = None, cancel: threading.Event | None = None):
    from app.tools.toolbox import ToolContext, Toolbox  # the tools pull in psutil, icalendar, dateparser

    extra = {}
    if cancel is not None and "cancel" in {f.name for f in dataclasses.fields(ToolContext)}:
        extra["cancel"] = cancel  # pausing all tools stops a running command
    return Toolbox(ToolContext(paths, tuple(folders), clock, opener=opener, **extra), catalog)


def build_session(paths: AppPaths | None = None, *, clock: Callable[[], datetime] = datetime.now,
                  model: ModelBackend | str | None = AUTO, model_name: str = DEFAULT_MODEL,
                  grant_groups: Iterable[str] = (), grant_folders: Iterable[str] = (),
                  secrets: Secrets | None = None, catalog: Catalog | None = None,
                  max_steps: int = MAX_STEPS, opener: Callable | None = None) -> Session:
    """Build the core. `model`: a backend, AUTO (the built model at paths.models/model_name,
    loaded on first use; a missing one is a warning and `agent()` raises ModelMissing), or None."""
    paths = (paths or AppPaths.for_user()).ensure()
    catalog = catalog or Catalog.builtin()
    config = ConfigStore(paths, clock)
    policy = Policy(config, catalog, extra_groups=grant_groups, extra_folders=grant_folders)
    secrets = secrets or Secrets()
    audit = AuditLog(paths.audit_db, secrets.audit_key(), clock)
    toolbox = _make_toolbox(paths, policy.folders, clock, catalog, opener, policy.pause_event)
    problem = None
    backend: ModelBackend | None
    if model == AUTO:
        try:
            backend = EngineModel(paths.models / model_name)
        except ModelMissing as exc:
            backend, problem = None, str(exc)
    else:
        backend = model  # type: ignore[assignment]
    session = Session(paths, clock, catalog, config, secrets, policy, audit, toolbox, backend, problem, max_steps,
                      opener=opener)
    return session

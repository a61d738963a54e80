"""The policy: what the model is offered, what is refused outright, what runs without asking.

Order of gates for one call (the agent loop applies them):
1. `check(call)`: paused, unknown tool or ungranted group -> ToolRefused, before any
   proposal is built and before the user sees anything.
2. `auto_decision(proposal)`: a session approval, a remembered 'always' rule, or a
   read-only tool of a group set to run without asking -> a Decision; else None and
   the front end asks. Destructive and execute risks always return None.
3. `settle(proposal, decision)`: the decision that really applies (a 'session' or
   'always' answer on a risk that may not be remembered counts once) and remembers it.

"Pause all tools" lives here too, because every gate must see it at once.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Callable, Iterable

from app.calls import Decision, DecisionKind, Proposal, Risk, ToolCall
from app.errors import ToolRefused
from app.policy.config import ConfigStore, Grants
from app.tools.catalog import Catalog, ToolSpec

PAUSED = "All tools are paused; nothing runs until you resume them."


class Policy:
    def __init__(self, config: ConfigStore, catalog: Catalog | None = None, *,
                 extra_groups: Iterable[str] = (), extra_folders: Iterable[str] = ()):
        """`extra_groups`/`extra_folders` are one-off grants (`deskmate ask --grant/--folder`):
        in force for this Policy only, never written to the config."""
        self.config = config
        self.catalog = catalog or Catalog.builtin()
        self.extra_groups = tuple(extra_groups)
        self.extra_folders = tuple(extra_folders)
        self._session: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.pause_event = threading.Event()
        self._pause_listeners: list[Callable[[], None]] = []

    # -- grants --------------------------------------------------------------
    @property
    def grants(self) -> Grants:
        g = self.config.config.grants
        return Grants(
            groups=tuple(dict.fromkeys(g.groups + self.extra_groups)),
            folders=tuple(dict.fromkeys(g.folders + self.extra_folders)),
            auto_read=g.auto_read,
        )

    @property
    def groups(self) -> tuple[str, ...]:
        return self.grants.groups

    @property
    def folders(self) -> tuple[str, ...]:
        return self.grants.folders

    def offered_tools(self, catalog: Catalog | None = None) -> Catalog:
        """Only granted tools are declared to the model (files also need at least one folder)."""
        groups = [g for g in self.groups if g != "files" or self.folders]
        return (catalog or self.catalog).for_groups(groups)

    def grantable_tools(self, catalog: Catalog | None = None) -> tuple[ToolSpec, ...]:
        """The built-in tools not offered now: granting their group (or a folder) would offer them."""
        catalog = catalog or self.catalog
        return catalog.others(self.offered_tools(catalog))

    def check(self, call: ToolCall) -> ToolSpec:
        """The call's ToolSpec, or ToolRefused before the call becomes a proposal."""
        if self.paused:
            raise ToolRefused(PAUSED)
        if call.name not in self.catalog:
            raise ToolRefused(f"There is no tool called {call.name!r}; nothing was run.")
        spec = self.catalog.get(call.name)
        if spec.group not in self.groups:
            raise ToolRefused(
                f"{call.name} needs the {spec.group!r} tools, which are not granted. "
                f"Grant them in the settings (or `deskmate ask --grant {spec.group}`) to use it."
            )
        if spec.group == "files" and not self.folders:
            raise ToolRefused(f"{call.name} needs a granted folder; none is granted.")
        return spec

    # -- decisions -----------------------------------------------------------
    def auto_decision(self, proposal: Proposal) -> Decision | None:
        """A decision that needs no question, or None when the user must be asked."""
        if self.paused:
            return Decision(DecisionKind.DENY, reason=PAUSED, by="pause")
        if not proposal.risk.rememberable:
            return None  # destructive and execute always ask
        key = (proposal.call.name, proposal.scope)
        with self._lock:
            if key in self._session:
                return Decision(DecisionKind.APPROVE_SESSION, by="session")
        rule = self.config.find_rule(*key)
        if rule is not None:
            return Decision(DecisionKind.ALWAYS, by=f"rule:{rule.id}")
        if proposal.risk is Risk.READ and proposal.group in self.grants.auto_read:
            return Decision(DecisionKind.APPROVE_ONCE, by=f"auto:{proposal.group}")
        return None

    def settle(self, proposal: Proposal, decision: Decision) -> Decision:
        """The decision that applies, remembered when it asks to be.

        'Session' and 'always' on a destructive or execute call count once: those
        risks are asked every time, whatever the front end offered.
        """
        if decision.kind in (DecisionKind.APPROVE_SESSION, DecisionKind.ALWAYS) and decision.by == "user":
            if not proposal.can_remember:
                return replace(decision, kind=DecisionKind.APPROVE_ONCE)
            key = (proposal.call.name, proposal.scope)
            if decision.kind is DecisionKind.APPROVE_SESSION:
                with self._lock:
                    self._session.add(key)
            else:
                self.config.add_rule(*key)
        return decision

    def session_approvals(self) -> tuple[tuple[str, str], ...]:
        with self._lock:
            return tuple(sorted(self._session))

    def forget_session(self) -> None:
        with self._lock:
            self._session.clear()

    # -- pause -----------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self.pause_event.is_set()

    def on_pause(self, listener: Callable[[], None]) -> None:
        """Called (on the pausing thread) when tools are paused: deny pending approvals, kill commands."""
        self._pause_listeners.append(listener)

    def pause(self) -> None:
        self.pause_event.set()
        for listener in list(self._pause_listeners):
            listener()

    def resume(self) -> None:
        self.pause_event.clear()

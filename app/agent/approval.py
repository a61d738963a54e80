"""Asking a front end on another thread, with a deadline: the GUI's approval callable.

The agent loop calls `approve(proposal)` and blocks. A windowed front end cannot
answer on that thread, so `ApprovalBroker` hands the proposal over (`notify`), waits
for `answer()` from the UI thread, and turns silence into a deny ("No answer is a
deny"). Pausing all tools denies every pending approval at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from app.calls import Decision, DecisionKind, Proposal

TIMEOUT_REASON = "No answer in time; nothing was run."
PAUSE_REASON = "All tools were paused."


@dataclass
class _Pending:
    proposal: Proposal
    done: threading.Event = field(default_factory=threading.Event)
    decision: Decision | None = None


class ApprovalBroker:
    def __init__(self, notify: Callable[[Proposal], None], timeout_s: float | None = 300.0):
        self.notify = notify
        self.timeout_s = timeout_s
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def __call__(self, proposal: Proposal) -> Decision:
        """Block until the front end answers, the deadline passes, or tools are paused."""
        slot = _Pending(proposal)
        with self._lock:
            self._pending[proposal.id] = slot
        try:
            self.notify(proposal)
            if not slot.done.wait(self.timeout_s):
                return Decision(DecisionKind.DENY, reason=TIMEOUT_REASON, by="timeout")
            assert slot.decision is not None
            return slot.decision
        finally:
            with self._lock:
                self._pending.pop(proposal.id, None)

    def answer(self, proposal_id: str, decision: Decision) -> bool:
        """Give the decision for a pending proposal; False when it is no longer pending."""
        with self._lock:
            slot = self._pending.get(proposal_id)
            if slot is None or slot.done.is_set():
                return False
            slot.decision = decision
            slot.done.set()
            return True

    def pending(self) -> tuple[Proposal, ...]:
        with self._lock:
            return tuple(s.proposal for s in self._pending.values() if not s.done.is_set())

    def deny_all(self, reason: str = PAUSE_REASON, by: str = "pause") -> int:
        """Deny everything still waiting (used on pause); returns how many were denied."""
        with self._lock:
            slots = [s for s in self._pending.values() if not s.done.is_set()]
            for s in slots:
                s.decision = Decision(DecisionKind.DENY, reason=reason, by=by)
                s.done.set()
        return len(slots)

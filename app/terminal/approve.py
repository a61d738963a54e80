"""The terminal's approval prompt: a readable card and a one-letter answer.

    Deskmate wants to: Create event 'Lunch with Sam' Fri 27 Nov 12:30–13:30
      create_event · calendar · write
    [y]es / [s]ession / [a]lways / [e]dit / [n]o ?

Session and always are offered only where they may be remembered (read and write
risk); destructive and execute calls show their preview and are asked every time,
even with `--yes`. End of input or no answer in time is a deny.
"""

from __future__ import annotations

import json
import select
import sys
from typing import Any, TextIO

from app.calls import Decision, DecisionKind, Proposal

NO_ANSWER = "No answer; nothing was run."


class TerminalApprover:
    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None, *,
                 yes: bool = False, timeout_s: float | None = None):
        self.stdin = stdin or sys.stdin
        self.out = stdout or sys.stdout
        self.yes = yes
        self.timeout_s = timeout_s

    def __call__(self, proposal: Proposal) -> Decision:
        self.show(proposal)
        if self.yes and proposal.can_remember:
            self._say("  approved (--yes)")
            return Decision(DecisionKind.APPROVE_ONCE, by="user:--yes")
        options = "[y]es / [s]ession / [a]lways / [e]dit / [n]o" if proposal.can_remember else "[y]es / [e]dit / [n]o"
        for _ in range(5):
            answer = self._ask(f"{options} ? ")
            if answer is None:  # the loop reports the deny
                return Decision(DecisionKind.DENY, reason=NO_ANSWER, by="timeout")
            key = answer.strip().lower()[:1]
            if key == "y":
                return Decision(DecisionKind.APPROVE_ONCE)
            if key in ("s", "a") and proposal.can_remember:
                return Decision(DecisionKind.APPROVE_SESSION if key == "s" else DecisionKind.ALWAYS)
            if key == "e":
                edited = self._edit(proposal)
                if edited is not None:
                    return Decision(DecisionKind.EDIT, arguments=edited)
                continue
            if key == "n":
                reason = self._ask("  Reason (optional, told to the assistant): ")
                return Decision(DecisionKind.DENY, reason=(reason or "").strip())
            self._say("  Please answer with one letter: " + options)
        return Decision(DecisionKind.DENY, reason=NO_ANSWER, by="timeout")

    def show(self, proposal: Proposal) -> None:
        spec = f"{proposal.call.name} · {proposal.group} · {proposal.risk.value}"
        lines = ["", f"Deskmate wants to: {proposal.summary}", f"  {spec}" + (f" · in {proposal.scope}" if proposal.scope else "")]
        if proposal.preview:
            lines += ["  " + line for line in proposal.preview.splitlines()]
        if not proposal.can_remember:
            lines.append(f"  ({proposal.risk.value} calls are asked every time)")
        self._say("\n".join(lines))

    def _edit(self, proposal: Proposal) -> dict[str, Any] | None:
        current = json.dumps(proposal.call.arguments, ensure_ascii=False)
        self._say(f"  Current arguments: {current}")
        text = self._ask("  Changes as JSON (e.g. {\"start\": \"tomorrow at 1pm\"}; null removes one; empty cancels): ")
        if text is None or not text.strip():
            return None
        try:
            changes = json.loads(text)
        except json.JSONDecodeError as exc:
            self._say(f"  That is not valid JSON ({exc.msg}); nothing changed.")
            return None
        if not isinstance(changes, dict):
            self._say("  Give a JSON object of argument names and values; nothing changed.")
            return None
        merged = dict(proposal.call.arguments)
        for name, value in changes.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return merged

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _ask(self, prompt: str) -> str | None:
        """One line from the user; None at end of input or when the time runs out."""
        self.out.write(prompt)
        self.out.flush()
        if self.timeout_s is not None:
            try:
                ready, _, _ = select.select([self.stdin], [], [], self.timeout_s)
            except (OSError, ValueError, TypeError):  # not a selectable stream (tests, Windows): no deadline
                ready = [self.stdin]
            if not ready:
                self.out.write("\n")
                return None
        line = self.stdin.readline()
        return line.rstrip("\n") if line else None

"""The agent loop: request -> model -> parse -> validate -> policy -> approval -> run -> result -> model ...

Written as a generator of typed AgentEvents (app.agent.events) so every front end
watches the same turn. Every gate that can stop a call stops it before anything
runs: malformed output ends the turn (logged, never executed); an ungranted,
unknown or invalid call is refused and the refusal goes back to the model; a denial
goes back as `{"denied": true, "reason": ...}` so the model can acknowledge it.
The number of model steps in one turn is bounded.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Generator, Iterator, Protocol, Sequence

from app.agent.backends import ModelBackend
from app.agent.events import AgentEvent, Answer, Decided, Executed, Failed, Proposed, Refused, TextDelta
from app.audit.log import AuditLog
from app.calls import Decision, DecisionKind, Proposal, ToolCall, ToolResult
from app.errors import DeskmateError, ToolRefused
from app.policy.grants import PAUSED, Policy
from app.prompt.parse import ParseError, parse_reply
from app.prompt.render import CALL_PREFIX, END, Context, Conversation, Message, tool_result_text
from app.tools.catalog import ArgumentError

Approve = Callable[[Proposal], Decision]
MAX_STEPS = 6


def result_for_model(result: ToolResult) -> dict[str, Any]:
    """What goes back to the model in the tool turn for a call that ran (training data writes the same)."""
    if result.ok:
        return result.output if result.output is not None else {"ok": True}
    # A failed command's output (exit code, stderr) is what lets the model explain the failure.
    return {"ok": False, "error": result.error or "The tool failed.", **(result.output or {})}


class ToolRunner(Protocol):
    """What the loop needs from app.tools.toolbox.Toolbox."""

    def propose(self, call: ToolCall) -> Proposal: ...
    def run(self, call: ToolCall) -> ToolResult: ...


class Agent:
    def __init__(self, model: ModelBackend, toolbox: ToolRunner, policy: Policy, audit: AuditLog,
                 clock: Callable[[], datetime] = datetime.now, max_steps: int = MAX_STEPS,
                 home: Path | str | None = None):
        self.model = model
        self.toolbox = toolbox
        self.policy = policy
        self.audit = audit
        self.clock = clock
        self.max_steps = max_steps
        if home is None:  # the Toolbox knows the home its tools resolve `~` against
            home = toolbox.ctx.paths.home  # type: ignore[attr-defined]
        self.home = str(home)

    def run(self, request: str, approve: Approve, *, history: Sequence[Message] = (),
            on_text: Callable[[str], None] | None = None,
            cancel: threading.Event | None = None) -> Iterator[AgentEvent]:
        """One turn. Ends with exactly one Answer or Failed event."""
        turn = uuid.uuid4().hex[:12]
        self.audit.record_request(turn, request)
        tools = self.policy.offered_tools().tools
        grantable = self.policy.grantable_tools()
        messages: list[Message] = [*history, Message("user", request)]
        for _step in range(self.max_steps):
            if cancel is not None and cancel.is_set():
                yield self._fail(turn, "Cancelled; nothing more was run.")
                return
            conv = Conversation(tools, Context(self.clock(), self.home, self.policy.folders), tuple(messages),
                                grantable)
            try:
                raw = yield from self._generate(conv, on_text, cancel)
            except DeskmateError as exc:
                yield self._fail(turn, str(exc))
                return
            except Exception as exc:  # a model bug must end the turn in words, not a traceback
                yield self._fail(turn, f"The model failed ({type(exc).__name__}: {exc}).")
                return
            if cancel is not None and cancel.is_set():
                yield self._fail(turn, "Cancelled; nothing more was run.")
                return
            try:
                reply = parse_reply(raw)
            except ParseError as exc:
                yield self._fail(turn, f"{exc} Nothing was run.", raw)
                return
            if not reply.calls:
                if not reply.text:
                    yield self._fail(turn, "The model gave an empty answer.", raw)
                    return
                self.audit.record_answer(turn, reply.text)
                yield Answer(reply.text)
                return
            messages.append(Message("assistant", calls=reply.calls))
            for call in reply.calls:
                if cancel is not None and cancel.is_set():
                    yield self._fail(turn, "Cancelled; the remaining calls were not run.")
                    return
                result = yield from self._handle(turn, call, approve)
                messages.append(Message("tool", tool_result_text(result)))
            if self.policy.paused:
                yield self._fail(turn, PAUSED)
                return
        yield self._fail(turn, f"Stopped after {self.max_steps} model steps without a final answer; "
                               "try a simpler request or do it in smaller steps.")

    # -- one model step ----------------------------------------------------------
    def _generate(self, conv: Conversation, on_text: Callable[[str], None] | None,
                  cancel: threading.Event | None) -> Generator[AgentEvent, None, str]:
        """Run the model on a worker thread so its words can be yielded as they come.

        Deltas are held back until it is clear the reply is not a `call:` line:
        front ends show words, never raw call text.
        """
        stop = cancel if cancel is not None else threading.Event()
        events: queue.Queue[tuple[str, Any]] = queue.Queue()

        def work() -> None:
            try:
                events.put(("done", self.model.reply(conv, on_text=lambda t: events.put(("text", t)), cancel=stop)))
            except BaseException as exc:  # handed to the consuming thread
                events.put(("error", exc))

        worker = threading.Thread(target=work, name="deskmate-model", daemon=True)
        worker.start()
        held, streaming, is_call = "", False, False
        try:
            while True:
                kind, value = events.get()
                if kind == "error":
                    raise value
                if kind == "done":
                    if held and not is_call and not value.lstrip().startswith(CALL_PREFIX):  # a short answer
                        yield from self._emit(held, on_text)
                    return value
                if is_call:
                    continue
                if streaming:
                    yield from self._emit(value, on_text)
                    continue
                held += value
                start = held.lstrip()
                if start.startswith(CALL_PREFIX):
                    is_call = True
                elif len(start) >= len(CALL_PREFIX) or not CALL_PREFIX.startswith(start):
                    streaming = True
                    yield from self._emit(held, on_text)
                    held = ""
        finally:
            if cancel is None and worker.is_alive():
                stop.set()  # the consumer went away mid-reply: let the model stop early

    @staticmethod
    def _emit(text: str, on_text: Callable[[str], None] | None) -> Iterator[AgentEvent]:
        text = text.replace(END, "")
        if text:
            if on_text is not None:
                on_text(text)
            yield TextDelta(text)

    # -- one call --------------------------------------------------------------------
    def _refuse(self, turn: str, call: ToolCall, reason: str) -> Refused:
        self.audit.record_refused(turn, call, reason)
        return Refused(call, reason)

    def _fail(self, turn: str, message: str, raw: str = "") -> Failed:
        self.audit.record_error(turn, message, raw)
        return Failed(message)

    def _handle(self, turn: str, call: ToolCall, approve: Approve) -> Generator[AgentEvent, None, Any]:
        """Gate, ask and run one call; returns what goes back to the model in the tool turn."""
        try:
            self.policy.check(call)
            proposal = self.toolbox.propose(call)
        except (ToolRefused, ArgumentError) as exc:
            yield self._refuse(turn, call, str(exc))
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # a tool bug must not take the turn down silently
            reason = f"Could not prepare {call.name} ({type(exc).__name__}: {exc})."
            yield self._refuse(turn, call, reason)
            return {"ok": False, "error": reason}
        self.audit.record_proposal(turn, proposal)
        yield Proposed(proposal)

        decision = self.policy.auto_decision(proposal)
        if decision is None:
            decision = self._ask(approve, proposal)
            if self.policy.paused:  # paused while the question was open
                decision = Decision(DecisionKind.DENY, reason=PAUSED, by="pause")
            decision = self.policy.settle(proposal, decision)
        self.audit.record_decision(turn, proposal, decision)
        yield Decided(proposal, decision)
        if not decision.approves:
            return {"denied": True, "reason": decision.reason or "The user denied this call."}

        if decision.kind is DecisionKind.EDIT:
            edited = ToolCall(proposal.call.name, dict(decision.arguments or {}))
            try:
                self.policy.check(edited)
                run_as = self.toolbox.propose(edited)  # the edit is validated like the model's call
            except (ToolRefused, ArgumentError) as exc:
                reason = f"The edited arguments were not accepted: {exc} Nothing was run."
                yield self._refuse(turn, edited, reason)
                return {"ok": False, "error": reason}
            self.audit.record_proposal(turn, run_as, edited_from=proposal.id)
        else:
            run_as = proposal

        if self.policy.paused:
            yield self._refuse(turn, run_as.call, PAUSED)
            return {"ok": False, "error": PAUSED}
        started = time.perf_counter()
        try:
            result = self.toolbox.run(run_as.call)
        except (ToolRefused, ArgumentError) as exc:
            result = ToolResult(ok=False, error=str(exc))
        except Exception as exc:
            result = ToolResult(ok=False, error=f"{call.name} failed ({type(exc).__name__}: {exc}).")
        if not result.duration_s:
            result = replace(result, duration_s=time.perf_counter() - started)
        self.audit.record_result(turn, run_as, result)
        yield Executed(run_as, result)
        return result_for_model(result)

    def _ask(self, approve: Approve, proposal: Proposal) -> Decision:
        try:
            decision = approve(proposal)
        except Exception as exc:  # a broken prompt is no approval
            return Decision(DecisionKind.DENY, reason=f"The approval prompt failed ({exc}).", by="error")
        if decision is None:
            return Decision(DecisionKind.DENY, reason="No answer; nothing was run.", by="timeout")
        return decision

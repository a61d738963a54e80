"""One model turn of a conversation: render, decode under the call grammar, time it.

The prompt's fixed start (instructions and tool declarations, `render_prefix`) is passed
to the engine as the prefix to cache, so a second request with the same tools skips it.
Constrained decoding uses `CallGrammar` (engine/constrain.py), compiled once per tool set.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from app.engine.engine import Engine, Finish
from app.prompt.render import END, Conversation, render, render_prefix
from app.prompt.ungranted import grant_request, nameable_tools
from app.tools.catalog import ToolSpec

DEFAULT_MAX_TOKENS = 256


@dataclass(frozen=True)
class ModelOutput:
    """The model's turn: `raw` is what it wrote (with <end_of_turn> when it ended the turn)."""

    text: str
    raw: str
    finish: Finish
    latency_s: float  # request in -> last token out
    first_token_s: float  # request in -> first text out (the prefill, mostly)
    prompt_tokens: int
    cached_tokens: int
    new_tokens: int
    tokens_s: float


def _tools_key(tools: Sequence[ToolSpec]) -> tuple[str, ...]:
    return tuple(f"{t.name}:{json.dumps(t.parameters, sort_keys=True)}" for t in tools)


class Assistant:
    """Answers conversations with the engine; `tools` (optional) are compiled ahead of time."""

    def __init__(self, engine: Engine, tools: Sequence[ToolSpec] | None = None, *,
                 max_tokens: int = DEFAULT_MAX_TOKENS):
        self.engine = engine
        self.max_tokens = max_tokens
        self._grammars: dict[tuple[str, ...], Any] = {}
        if tools:
            self._grammar(tools)

    def prepare(self) -> None:
        """Do constrained decoding's one-time set-up now (while the app starts), not on the first request."""
        from app.engine.constrain import prepare

        prepare(self.engine.tokenizer, self.engine.info.producible)

    def _grammar(self, tools: Sequence[ToolSpec]) -> Any:
        from app.engine.constrain import CallGrammar  # llguidance: loaded only when constraining

        key = _tools_key(tools)
        if key not in self._grammars:
            self._grammars[key] = CallGrammar(self.engine.tokenizer, tools, self.engine.info.producible)
        return self._grammars[key]

    def reply(self, conv: Conversation, *, on_text: Callable[[str], None] | None = None,
              cancel: threading.Event | None = None, constrained: bool = True,
              max_tokens: int | None = None) -> ModelOutput:
        """Generate the model's next turn for `conv`, streaming text to `on_text`."""
        start = time.perf_counter()
        processors = (self._grammar(nameable_tools(conv)).processor(),) if constrained else ()
        first: float | None = None
        result = None
        for event in self.engine.stream(render(conv), max_tokens=max_tokens or self.max_tokens, stop=(END,),
                                        processors=processors, cancel=cancel, prefix=render_prefix(conv.tools)):
            if event.text:
                first = first if first is not None else time.perf_counter() - start
                if on_text is not None:
                    on_text(event.text)
            result = event.result or result
        assert result is not None
        latency = time.perf_counter() - start
        note = grant_request(result.text, conv.grantable)
        return ModelOutput(
            text=note or result.text,
            raw=note + END if note else result.text + (END if result.finish == "stop" else ""),
            finish=result.finish,
            latency_s=latency,
            first_token_s=first if first is not None else latency,
            prompt_tokens=result.prompt_tokens,
            cached_tokens=result.cached_tokens,
            new_tokens=result.new_tokens,
            tokens_s=result.tokens_s,
        )

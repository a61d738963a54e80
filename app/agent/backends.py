"""Where the agent's model turns come from.

`ModelBackend` is all the loop needs: a conversation in, the raw reply text out.
`ScriptedModel` replays fixed replies (tests, and `deskmate ask --scripted FILE`
to try the loop without a built model); `EngineModel` runs the built ONNX model
through the engine's Assistant, imported only when first used so the core stays light.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Callable, Protocol, Sequence

from app.errors import DeskmateError, ModelMissing
from app.prompt.render import Conversation

OnText = Callable[[str], None]
BUILD_COMMAND = "deskmate model build"


class ModelError(DeskmateError):
    """The model could not produce a reply."""


class ModelBackend(Protocol):
    def reply(self, conv: Conversation, *, on_text: OnText | None = None,
              cancel: threading.Event | None = None) -> str:
        """The model's raw reply to the conversation (calls or words), streaming words to on_text."""
        ...


class ScriptedModel:
    """Replies with the given outputs in order; records every conversation it was shown."""

    def __init__(self, outputs: Sequence[str]):
        self.outputs = list(outputs)
        self.conversations: list[Conversation] = []

    def reply(self, conv: Conversation, *, on_text: OnText | None = None,
              cancel: threading.Event | None = None) -> str:
        self.conversations.append(conv)
        if not self.outputs:
            raise ModelError("The scripted model has no more replies (add one to the script).")
        out = self.outputs.pop(0)
        if on_text is not None:
            for piece in re.findall(r"\S+\s*|\s+", out):  # stream word by word, like a model would
                if cancel is not None and cancel.is_set():
                    break
                on_text(piece)
        return out

    @classmethod
    def from_file(cls, path: Path) -> "ScriptedModel":
        """A JSON list of replies, or a text file with one reply per non-empty line."""
        path = Path(path)
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise ModelError(f"Could not read the script {path} ({exc.strerror}).") from None
        if path.suffix == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ModelError(f"The script {path} is not valid JSON ({exc.msg}, line {exc.lineno}).") from None
            if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
                raise ModelError(f"The script {path} must be a JSON list of strings (one model reply each).")
            return cls(data)
        return cls([line for line in text.splitlines() if line.strip()])


class EngineModel:
    """The built model, loaded on first reply (or `load()`), answering through the Assistant."""

    def __init__(self, model_dir: Path, threads: int | None = None):
        self.model_dir = Path(model_dir)
        self.threads = threads
        if not (self.model_dir / "manifest.json").is_file():
            raise ModelMissing(
                f"No built model at {self.model_dir}. Build it with `{BUILD_COMMAND}` "
                "(a few minutes, once), or try the loop with `deskmate ask --scripted FILE`."
            )
        self._assistant = None
        self._lock = threading.Lock()
        self.last_output = None  # the Assistant's last ModelOutput (latency, tokens/s) for the status bar

    @property
    def loaded(self) -> bool:
        return self._assistant is not None

    def load(self):
        """Load the engine now (the GUI does this in the background at start)."""
        with self._lock:
            if self._assistant is None:
                from app.engine.engine import Engine  # runtime-only imports, deferred: onnxruntime is heavy
                from app.engine.assistant import Assistant

                engine = Engine.load(self.model_dir, threads=self.threads)
                assistant = Assistant(engine)
                assistant.prepare()
                self._assistant = assistant
            return self._assistant

    def reply(self, conv: Conversation, *, on_text: OnText | None = None,
              cancel: threading.Event | None = None) -> str:
        output = self.load().reply(conv, on_text=on_text, cancel=cancel)
        self.last_output = output
        return getattr(output, "text", None) or getattr(output, "raw", "") or ""

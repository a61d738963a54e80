"""`deskmate chat` and the Assistant over the tiny built model (real ONNX, real grammar)."""

from __future__ import annotations

import io
import threading
from datetime import datetime
from pathlib import Path

import pytest

from app.cli import build_parser
from app.errors import ModelMissing
from app.prompt.parse import parse_reply
from app.prompt.render import Context, Conversation, Message
from app.tools.catalog import Catalog


def chat_args(*extra: str):
    return build_parser().parse_args(["chat", *extra])


def test_chat_answers_resets_and_quits(tiny_model_dir: Path, monkeypatch):
    from app.terminal.chat import run

    monkeypatch.setenv("DESKMATE_MODELS", str(tiny_model_dir.parent))
    out = io.StringIO()
    code = run(chat_args("--model", tiny_model_dir.name, "--max-tokens", "6", "--threads", "1"),
               stdin=io.StringIO("hello there\n/reset\n\nwhat's on friday?\n/quit\n"), out=out)
    text = out.getvalue()
    assert code == 0
    assert text.count("model> ") == 2  # two answers; /reset and the empty line produce none
    assert text.count("tokens,") == 2 and "/reset" in text  # the help line names the commands


def test_chat_without_a_model_names_the_build_command(tmp_path, monkeypatch):
    from app.terminal.chat import run

    monkeypatch.setenv("DESKMATE_MODELS", str(tmp_path))
    with pytest.raises(ModelMissing, match="deskmate model build --name nope"):
        run(chat_args("--model", "nope"), stdin=io.StringIO(""), out=io.StringIO())


@pytest.fixture(scope="module")
def assistant(tiny_model_dir: Path):
    from app.engine import Engine
    from app.engine.assistant import Assistant

    return Assistant(Engine.load(tiny_model_dir, threads=1), max_tokens=24)


def conversation(request: str) -> Conversation:
    tools = Catalog.builtin().for_groups(("calendar",)).tools
    return Conversation(tools, Context(datetime(2026, 11, 26, 9, 15), "/home/alex"), (Message("user", request),))


def test_assistant_constrained_reply_always_parses(assistant):
    """Random weights, but under the grammar the reply is words or calls that parse."""
    texts: list[str] = []
    for request in ("lunch with Sam tomorrow at noon", "hi", "what's on friday?"):
        out = assistant.reply(conversation(request), on_text=texts.append)
        parse_reply(out.raw)  # raises ParseError if the grammar let a broken call through
        assert out.new_tokens > 0 and out.latency_s >= out.first_token_s > 0
        assert out.prompt_tokens > out.cached_tokens
    assert "".join(texts)


def test_assistant_reuses_the_prefix_and_matches_a_cold_reply(assistant, tiny_model_dir):
    from app.engine import Engine
    from app.engine.assistant import Assistant

    conv = conversation("move the dentist to 3pm")
    cold = Assistant(Engine.load(tiny_model_dir, threads=1), max_tokens=24).reply(conv, constrained=False)
    assistant.reply(conversation("warm up"), constrained=False, max_tokens=1)
    warm = assistant.reply(conv, constrained=False)
    assert cold.cached_tokens == 0 and warm.cached_tokens > 100
    assert warm.raw == cold.raw


def test_assistant_cancel(assistant):
    cancel = threading.Event()
    cancel.set()
    out = assistant.reply(conversation("hi"), cancel=cancel)
    assert out.finish == "cancelled" and out.text == "" and out.raw == ""

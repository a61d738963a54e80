"""The evaluation runner end to end: prompts built as the app builds them, replies parsed, scored, written."""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path

import pytest

from app.calls import ToolCall
from app.cli import main
from app.eval.bfcl import load_bfcl
from app.eval.cases import load_cases
from app.eval.fewshot import EXAMPLES, with_examples
from app.eval.run import evaluate_bfcl, evaluate_cases, predict
from app.prompt.parse import parse_reply
from app.prompt.render import Conversation, render

BFCL = Path(__file__).resolve().parents[2] / "shared" / "bfcl"


class ScriptedBackend:
    """A stand-in model: a fixed raw reply per request, streamed in small pieces like the engine does."""

    def __init__(self, replies: dict[str, str]):
        self.replies = replies
        self.prompts: list[str] = []
        self.conversations: list[Conversation] = []

    def reply(self, conv: Conversation, *, on_text=None) -> str:
        self.conversations.append(conv)
        self.prompts.append(render(conv))  # the same renderer the app and the engine use
        raw = self.replies[conv.messages[-1].content]
        for i in range(0, len(raw), 8):
            if on_text:
                on_text(raw[i:i + 8])
        return raw


CASES = [
    {"id": "right", "now": "2026-11-26T09:15:00", "home": "/home/alex", "granted": ["calendar"],
     "request": "lunch with Sam tomorrow at 12:30",
     "expected": [{"name": "create_event", "arguments": {"title": "Lunch with Sam", "start": "tomorrow at 12:30"}}]},
    {"id": "wrong-arg", "now": "2026-11-26T09:15:00", "home": "/home/alex", "granted": ["files"],
     "folders": ["~/Documents"], "request": "show my documents",
     "expected": [{"name": "list_directory", "arguments": {"path": "~/Documents"}}]},
    {"id": "no-call", "now": "2025-02-15T14:48:00", "home": "/home/kim", "granted": ["shell", "system"],
     "request": "how do I exit vim", "expected": []},
    {"id": "malformed", "now": "2026-11-26T09:15:00", "home": "/home/alex", "granted": ["system"],
     "request": "how busy is my cpu", "expected": [{"name": "system_status", "arguments": {}}]},
    {"id": "ungranted-tool", "now": "2026-11-26T09:15:00", "home": "/home/alex", "granted": ["system"],
     "request": "list my downloads", "expected": []},
]
REPLIES = {
    "lunch with Sam tomorrow at 12:30":
        'call:create_event{"title": "lunch with Sam", "start": "Friday at 12:30pm"}<end_of_turn>',
    "show my documents": 'call:list_directory{"path": "~/Desktop"}<end_of_turn>',
    "how do I exit vim": "Press Esc, then type :q and Enter.<end_of_turn>",
    "how busy is my cpu": 'call:system_status{"verbose": <end_of_turn>',
    "list my downloads": 'call:list_directory{"path": "~/Downloads"}<end_of_turn>',
}


@pytest.fixture
def cases_file(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
    return path


def test_cases_run_through_the_app_prompt_and_are_scored(cases_file, tmp_path):
    backend = ScriptedBackend(REPLIES)
    out_path = tmp_path / "pred.jsonl"
    with out_path.open("w") as out:
        report = evaluate_cases(load_cases(cases_file), backend, out)

    # Each case got its own context and only its granted tools, rendered by the app's renderer.
    first = backend.prompts[0]
    assert "create_event(" in first and "list_directory(" not in first
    assert "Home: /home/alex. Folders: ~. Now: Thu 2026-11-26 09:15." in first
    assert first.endswith("lunch with Sam tomorrow at 12:30<end_of_turn>\n<start_of_turn>model\n")
    assert "Folders: ~/Documents." in backend.prompts[1]
    assert "run_command(" in backend.prompts[2] and "Now: Sat 2025-02-15 14:48." in backend.prompts[2]

    lines = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [line["id"] for line in lines] == [c["id"] for c in CASES]
    by_id = {line["id"]: line for line in lines}
    assert by_id["right"]["passed"] and by_id["right"]["calls"] == [
        {"name": "create_event", "arguments": {"title": "lunch with Sam", "start": "Friday at 12:30pm"}}]
    assert set(by_id["right"]) >= {"id", "calls", "text", "latency_s"}
    assert not by_id["wrong-arg"]["passed"] and "path" in by_id["wrong-arg"]["why"]
    assert by_id["no-call"]["passed"] and by_id["no-call"]["text"] == "Press Esc, then type :q and Enter."
    assert by_id["malformed"]["calls"] == [] and "could not be read" in by_id["malformed"]["error"]
    assert not by_id["ungranted-tool"]["passed"]

    s = report.overall
    assert (s.n, s.exact, s.n_no_call, s.no_call) == (5, 0.4, 2, 0.5)
    assert s.call == round(1 / 3, 4)  # right passes; wrong-arg and malformed do not
    assert s.tool_selection == 0.6  # right, wrong-arg (right tool), no-call
    # 4 replies tried to call; the malformed one and the call to an ungranted tool are not well-formed
    assert (s.n_attempted, s.well_formed) == (4, 0.5)
    assert report.by_group["calendar"].exact == 1.0 and report.by_group["none"].n == 2
    assert report.by_tool["list_directory"].exact == 0.0 and report.by_tool["system_status"].n == 1


def test_predict_times_the_first_complete_call_line():
    ticks = count()
    backend = ScriptedBackend({"x": 'call:system_status{}\ncall:list_processes{"limit": 3}<end_of_turn>'})
    conv = load_cases_conv("x")
    pred = predict(backend, conv, clock=lambda: float(next(ticks)))
    # clock: 0 at start, then one tick per 8-character piece; the first line (20 chars) is complete in piece 3
    assert pred.first_call_s == 3.0
    assert pred.latency_s > pred.first_call_s and [c.name for c in pred.calls] == ["system_status", "list_processes"]


def test_predict_without_streaming_uses_the_whole_reply_time():
    class Quiet:
        def reply(self, conv, *, on_text=None):
            return 'call:system_status{}'

    ticks = count()
    pred = predict(Quiet(), load_cases_conv("x"), clock=lambda: float(next(ticks)))
    assert pred.first_call_s == pred.latency_s == 1.0 and pred.calls == (ToolCall("system_status", {}),)


def load_cases_conv(request: str) -> Conversation:
    from datetime import datetime

    from app.eval.cases import Case

    case = Case("t", datetime(2026, 11, 26, 9, 15), "/home/alex", ("system",), ("~",), request, ())
    from app.tools.catalog import Catalog

    return case.conversation(Catalog.builtin())


def test_fewshot_examples_are_earlier_turns_of_the_same_prompt():
    conv = load_cases_conv("how busy is my cpu")
    prompt = render(with_examples(conv))
    plain = render(conv)
    head = plain[: plain.index("how busy is my cpu")]
    assert prompt.startswith(head)  # same instruction, tools and context line: the cached prefix is unchanged
    assert prompt.endswith("<start_of_turn>user\nhow busy is my cpu<end_of_turn>\n<start_of_turn>model\n")
    for example in EXAMPLES:
        assert example.request in prompt
    # each example's answer is a model turn in the exact format the parser reads
    assert ('<start_of_turn>model\ncall:convert_currency{"amount": 20, "source": "EUR", "target": "USD"}\n'
            'call:convert_currency{"amount": 20, "source": "EUR", "target": "JPY"}<end_of_turn>') in prompt
    answers = [turn.split("<end_of_turn>")[0] for turn in prompt.split("<start_of_turn>model\n")[1:-1]]
    assert [parse_reply(a).calls for a in answers] == [e.calls for e in EXAMPLES]
    assert [parse_reply(a).text for a in answers] == [e.text for e in EXAMPLES]


def test_bfcl_entries_are_offered_their_functions_and_checked(tmp_path):
    simple = load_bfcl(BFCL / "BFCL_v4_simple_python.json")[:2]
    irrelevant = load_bfcl(BFCL / "BFCL_v4_irrelevance.json")[:2]
    backend = ScriptedBackend({
        simple[0].messages[0].content: 'call:calculate_triangle_area{"base": 10, "height": 5}<end_of_turn>',
        simple[1].messages[0].content: 'call:math.factorial{"number": 6}<end_of_turn>',
        irrelevant[0].messages[0].content: "I can't compute that with these tools.<end_of_turn>",
        irrelevant[1].messages[0].content: 'call:math.sum{"numbers": [1, 2, 3]}<end_of_turn>',
    })
    out_path = tmp_path / "bfcl.jsonl"
    with out_path.open("w") as out:
        report = evaluate_bfcl(simple + irrelevant, backend, out)
    assert "math.factorial(number:int) - Calculate the factorial" in backend.prompts[1]
    lines = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [line["passed"] for line in lines] == [True, False, True, False]
    assert "number=6" in lines[1]["why"]
    assert report.by_group["simple_python"].exact == 0.5 and report.by_group["irrelevance"].no_call == 0.5
    assert report.by_tool == {}


# ---- the command

def test_eval_command_reports_bad_inputs_before_loading_a_model(tmp_path, capsys):
    code = main(["eval", "--cases", str(tmp_path / "missing.jsonl"), "--predictions", str(tmp_path / "p.jsonl")])
    assert code == 1 and "No cases file" in capsys.readouterr().err
    code = main(["eval", "--bfcl", str(tmp_path / "missing.json"), "--predictions", str(tmp_path / "p.jsonl")])
    assert code == 1 and "No BFCL file" in capsys.readouterr().err
    code = main(["eval", "--cases", str(tmp_path / "x.jsonl"), "--answers", "a", "--predictions", "p"])
    assert code == 1 and "--answers goes with --bfcl" in capsys.readouterr().err


def test_eval_command_without_a_built_model_says_how_to_build_it(cases_file, tmp_path, capsys):
    code = main(["eval", "--cases", str(cases_file), "--predictions", str(tmp_path / "p.jsonl"),
                 "--model", str(tmp_path / "no-model")])
    err = capsys.readouterr().err
    assert code == 1 and "deskmate model build" in err


def test_eval_modules_import_neither_torch_nor_qt():
    import subprocess
    import sys

    code = ("import sys, app.eval.cli, app.eval.run, app.eval.backends, app.eval.bfcl, app.eval.cases; "
            "bad = [m for m in ('torch', 'transformers', 'PySide6') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- real backends over tiny random models: garbage out, handled well

@pytest.mark.slow
def test_torch_backend_decodes_greedily_and_the_runner_copes(tiny_gemma, gemma_tokenizer, cases_file, tmp_path):
    from app.eval.backends import TorchBackend

    backend = TorchBackend(tiny_gemma, gemma_tokenizer, constrained=False, max_tokens=12)
    conv = load_cases_conv("how busy is my cpu")
    streamed: list[str] = []
    first = backend.reply(conv, on_text=streamed.append)
    assert first == backend.reply(conv)  # greedy: deterministic
    assert "".join(streamed) == first.removesuffix("<end_of_turn>")
    assert len(gemma_tokenizer.encode(first)) <= 13
    out_path = tmp_path / "pred.jsonl"
    with out_path.open("w") as out:
        report = evaluate_cases(load_cases(cases_file), backend, out)
    lines = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert len(lines) == len(CASES) and all(line["latency_s"] > 0 for line in lines)
    assert report.overall.n == len(CASES)


@pytest.mark.slow
def test_torch_backend_uses_one_call_grammar_per_tool_set(tiny_gemma, gemma_tokenizer):
    from app.eval.backends import TorchBackend

    backend = TorchBackend(tiny_gemma, gemma_tokenizer, constrained=True, max_tokens=4)
    conv = load_cases_conv("how busy is my cpu")
    backend.reply(conv)
    assert len(backend._grammars) == 1
    backend.reply(load_cases_conv("and memory?"))
    assert len(backend._grammars) == 1  # same tools: the compiled grammar is reused
    unconstrained = TorchBackend(tiny_gemma, gemma_tokenizer, constrained=False, max_tokens=4)
    unconstrained.reply(conv)
    assert unconstrained._grammars == {}


@pytest.mark.slow
def test_eval_command_runs_the_real_onnx_engine_over_the_tiny_model(tiny_model_dir, cases_file, tmp_path, capsys):
    pred = tmp_path / "pred.jsonl"
    code = main(["eval", "--cases", str(cases_file), "--predictions", str(pred), "--model", str(tiny_model_dir),
                 "--limit", "3", "--threads", "1", "--max-tokens", "24"])
    out = capsys.readouterr().out
    assert code == 0
    metrics = json.loads(out.strip().splitlines()[-1])  # the last line is the metrics object
    assert metrics["overall"]["n"] == 3 and metrics["backend"] == "onnx" and metrics["constrained"]
    # Random weights write garbage, but under the call constraint any call they start is well-formed.
    assert metrics["overall"]["well_formed"] in (None, 1.0)
    lines = [json.loads(line) for line in pred.read_text().splitlines()]
    assert [line["id"] for line in lines] == [c["id"] for c in CASES[:3]]
    assert all(line["error"] is None and line["latency_s"] > 0 for line in lines)


@pytest.mark.slow
def test_eval_command_runs_bfcl_over_the_tiny_model(tiny_model_dir, tmp_path, capsys):
    pred = tmp_path / "bfcl.jsonl"
    code = main(["eval", "--bfcl", str(BFCL / "BFCL_v4_parallel.json"), "--predictions", str(pred),
                 "--model", str(tiny_model_dir), "--limit", "2", "--threads", "1", "--max-tokens", "24"])
    assert code == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(metrics["by_group"]) == ["parallel"] and metrics["overall"]["n"] == 2
    assert [json.loads(line)["id"] for line in pred.read_text().splitlines()] == ["parallel_0", "parallel_1"]

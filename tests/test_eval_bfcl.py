"""The BFCL loader, schema conversion and AST-style checker, on real entries of the four files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.calls import ToolCall
from app.eval.bfcl import BfclError, check_entry, load_bfcl, standardize, to_toolspec
from app.prompt.render import render
from app.tools.catalog import ArgumentError

BFCL = Path(__file__).resolve().parents[2] / "shared" / "bfcl"
FILES = {name: BFCL / f"BFCL_v4_{name}.json" for name in ("simple_python", "multiple", "parallel", "irrelevance")}


@pytest.fixture(scope="module")
def entries():
    return {name: {e.id: e for e in load_bfcl(path)} for name, path in FILES.items()}


def check(entries, category, entry_id, calls):
    return check_entry(entries[category][entry_id], calls)


def test_loads_all_four_files_with_their_answers(entries):
    assert {k: len(v) for k, v in entries.items()} == {"simple_python": 400, "multiple": 200, "parallel": 200,
                                                        "irrelevance": 240}
    simple = entries["simple_python"]["simple_python_0"]
    assert simple.category == "simple_python" and simple.messages[0].role == "user"
    assert simple.answer[0].name == "calculate_triangle_area" and simple.answer[0].params["unit"] == ("units", "")
    assert all(e.answer is None for e in entries["irrelevance"].values())
    assert len(entries["parallel"]["parallel_0"].answer) == 2


def test_every_ground_truth_passes_its_own_check(entries):
    """Instantiating each answer (first acceptable value, nested dicts filled) passes the checker."""

    def value(options):
        first = next(o for o in options if o != "")
        if isinstance(first, dict):
            return {k: value(v) for k, v in first.items() if any(o != "" for o in v)}
        if isinstance(first, list) and first and isinstance(first[0], dict):
            return [{k: value(v) for k, v in d.items() if any(o != "" for o in v)} for d in first]
        return first

    for category in ("simple_python", "multiple", "parallel"):
        for entry in entries[category].values():
            calls = [ToolCall(a.name, {k: value(v) for k, v in a.params.items() if any(o != "" for o in v)})
                     for a in entry.answer]
            result = check_entry(entry, calls)
            assert result.valid, (entry.id, result.error)


# ---- simple_python_0: calculate_triangle_area(base:int, height:int, unit?:str) = (10, 5, "units"|omitted)

def test_right_answer_passes_with_or_without_the_optional_argument(entries):
    assert check(entries, "simple_python", "simple_python_0",
                 [ToolCall("calculate_triangle_area", {"base": 10, "height": 5, "unit": "units"})]).valid
    assert check(entries, "simple_python", "simple_python_0",
                 [ToolCall("calculate_triangle_area", {"base": 10, "height": 5})]).valid


@pytest.mark.parametrize("call, error", [
    (ToolCall("triangle_area", {"base": 10, "height": 5}), "wrong function"),
    (ToolCall("calculate_triangle_area", {"base": 10}), "missing required parameter height"),
    (ToolCall("calculate_triangle_area", {"base": 10, "height": 5, "color": "red"}), "unexpected parameter color"),
    (ToolCall("calculate_triangle_area", {"base": "10", "height": 5}), "wrong type"),
    (ToolCall("calculate_triangle_area", {"base": 10.0, "height": 5}), "wrong type"),  # a float is no int
    (ToolCall("calculate_triangle_area", {"base": 10, "height": 6}), "not one of"),
    (ToolCall("calculate_triangle_area", {"base": 10, "height": 5, "unit": "cm"}), "not one of"),
])
def test_wrong_calls_fail_with_the_reason(entries, call, error):
    result = check(entries, "simple_python", "simple_python_0", [call])
    assert not result.valid and error in result.error


def test_parameter_in_schema_but_not_in_answer_is_unexpected(entries):
    # simple_python_11 answers only base and height although the schema has `unit`
    result = check(entries, "simple_python", "simple_python_11",
                   [ToolCall("calculate_triangle_area", {"base": 10, "height": 5, "unit": "units"})])
    assert not result.valid and "unexpected parameter unit" in result.error


def test_simple_needs_exactly_one_call_and_a_parse(entries):
    right = ToolCall("calculate_triangle_area", {"base": 10, "height": 5})
    assert "2 call(s)" in check(entries, "simple_python", "simple_python_0", [right, right]).error
    assert not check(entries, "simple_python", "simple_python_0", []).valid
    assert "could not be parsed" in check(entries, "simple_python", "simple_python_0", None).error


# ---- types and values

def test_int_accepted_for_float_and_bool_is_not_int(entries):
    # simple_python_14: calculate_derivative(function, x_value?:float) with x_value 0.0 or omitted
    fn = "3x**2 + 2x - 1"
    assert check(entries, "simple_python", "simple_python_14",
                 [ToolCall("calculate_derivative", {"function": fn, "x_value": 0})]).valid
    # simple_python_17: get_prime_factors(number:int, formatted?:bool)
    assert check(entries, "simple_python", "simple_python_17",
                 [ToolCall("get_prime_factors", {"number": 450, "formatted": True})]).valid
    assert not check(entries, "simple_python", "simple_python_17",
                     [ToolCall("get_prime_factors", {"number": 450, "formatted": 1})]).valid
    assert not check(entries, "simple_python", "simple_python_17",
                     [ToolCall("get_prime_factors", {"number": True})]).valid


def test_strings_compared_after_bfcl_normalization(entries):
    assert standardize("Taylor Swift") == standardize("taylor-swift") == "taylorswift"
    assert standardize("April 1, 2024") == standardize("april 1 2024")
    # simple_python_14's function is "3x**2 + 2x - 1" (or a lambda); `*`, `^` and spaces are dropped
    for written in ("3X**2+2x-1", "3x^2 + 2x - 1"):
        assert check(entries, "simple_python", "simple_python_14",
                     [ToolCall("calculate_derivative", {"function": written})]).valid
    assert not check(entries, "simple_python", "simple_python_14",
                     [ToolCall("calculate_derivative", {"function": "3x**3 + 2x - 1"})]).valid


def test_list_must_equal_one_acceptable_list(entries):
    # simple_python_13: interval (array of float) must be [1.0, 3.0]; ints are fine
    base = {"function": "x**2"}
    ok = check(entries, "simple_python", "simple_python_13",
               [ToolCall("calculate_area_under_curve", {**base, "interval": [1, 3]})])
    assert ok.valid
    for wrong in ([3, 1], [1, 3, 5], ["1", "3"], 1):
        assert not check(entries, "simple_python", "simple_python_13",
                         [ToolCall("calculate_area_under_curve", {**base, "interval": wrong})]).valid
    # simple_python_37: stops in either listed order, but not a subset
    entry = entries["simple_python"]["simple_python_37"]
    answer = {k: next(o for o in v if o != "") for k, v in entry.answer[0].params.items()}
    for stops in (["Santa Barbara", "Monterey"], ["monterey", "santa barbara"]):
        assert check_entry(entry, [ToolCall(entry.answer[0].name, {**answer, "stops": stops})]).valid
    assert not check_entry(entry, [ToolCall(entry.answer[0].name, {**answer, "stops": ["Monterey"]})]).valid


def test_dict_argument_checked_key_by_key(entries):
    # multiple_8: realestate.find_properties(..., budget={"min": 300000, "max": 400000})
    entry = entries["multiple"]["multiple_8"]
    want = entry.answer[0]
    args = {k: next(o for o in v if o != "") for k, v in want.params.items() if any(o != "" for o in v)}
    good = {**args, "budget": {"min": 300000, "max": 400000}}
    assert check_entry(entry, [ToolCall(want.name, good)]).valid
    assert not check_entry(entry, [ToolCall(want.name, {**args, "budget": {"min": 300000}})]).valid
    assert not check_entry(entry, [ToolCall(want.name, {**args, "budget": {"min": 1, "max": 400000}})]).valid
    assert not check_entry(entry, [ToolCall(want.name, {**args, "budget": {**good["budget"], "x": 1}})]).valid


# ---- multiple, parallel, irrelevance

def test_multiple_needs_the_right_function_among_those_offered(entries):
    # multiple_1 offers heron, circle area and base-height; the answer is heron(3, 4, 5)
    assert check(entries, "multiple", "multiple_1",
                 [ToolCall("math.triangle_area_heron", {"side1": 3, "side2": 4, "side3": 5})]).valid
    result = check(entries, "multiple", "multiple_1", [ToolCall("math.circle_area", {"radius": 3})])
    assert not result.valid and "wrong function" in result.error


def test_parallel_calls_pass_in_any_order_but_not_with_one_missing(entries):
    taylor = ToolCall("spotify.play", {"artist": "Taylor Swift", "duration": 20})
    maroon = ToolCall("spotify.play", {"artist": "Maroon 5", "duration": 15})
    assert check(entries, "parallel", "parallel_0", [taylor, maroon]).valid
    assert check(entries, "parallel", "parallel_0", [maroon, taylor]).valid
    assert not check(entries, "parallel", "parallel_0", [taylor]).valid
    assert not check(entries, "parallel", "parallel_0", [taylor, taylor]).valid
    swapped = ToolCall("spotify.play", {"artist": "Maroon 5", "duration": 20})
    assert not check(entries, "parallel", "parallel_0", [taylor, swapped]).valid


def test_irrelevance_passes_with_no_call_or_an_unparsable_reply(entries):
    assert check(entries, "irrelevance", "irrelevance_0", []).valid
    assert check(entries, "irrelevance", "irrelevance_0", None).valid
    result = check(entries, "irrelevance", "irrelevance_0",
                   [ToolCall("determine_body_mass_index", {"weight": 10, "height": 5})])
    assert not result.valid and "expected no call" in result.error


# ---- conversion to ToolSpecs, prompts

def test_functions_become_external_toolspecs_with_json_schema_types(entries):
    tools = entries["multiple"]["multiple_0"].tools
    assert all(t.group == "external" for t in tools)
    triangle = tools[0]
    assert triangle.parameters["type"] == "object" and triangle.required == ("side1", "side2", "side3")
    assert triangle.properties["get_area"] == {"type": "boolean", "description": triangle.properties["get_area"]["description"],
                                               "default": True}
    circle = tools[1]
    assert circle.properties["radius"]["type"] == "number"
    assert triangle.validate({"side1": 5, "side2": 4, "side3": 3})
    with pytest.raises(ArgumentError):
        triangle.validate({"side1": "5", "side2": 4})


def test_nested_types_and_any_are_converted():
    spec = to_toolspec({"name": "f", "description": "d", "parameters": {"type": "dict", "properties": {
        "xs": {"type": "array", "items": {"type": "float"}},
        "pair": {"type": "tuple", "items": {"type": "integer"}},
        "opts": {"type": "dict", "properties": {"k": {"type": "string"}}},
        "anything": {"type": "any"}}, "required": ["xs"]}})
    props = spec.properties
    assert props["xs"] == {"type": "array", "items": {"type": "number"}}
    assert props["pair"]["type"] == "array" and props["opts"]["type"] == "object"
    assert "type" not in props["anything"]
    assert spec.validate({"xs": [1, 2.5], "anything": [1, "a"]})


def test_bfcl_prompt_describes_the_offered_functions(entries):
    entry = entries["simple_python"]["simple_python_0"]
    prompt = render(entry.conversation())
    assert "calculate_triangle_area(base:int, height:int, unit?) - Calculate the area of a triangle" in prompt
    assert prompt.rstrip().endswith("<start_of_turn>model")
    assert "Find the area of a triangle with a base of 10 units" in prompt


def test_missing_answers_or_bad_lines_are_clear_errors(tmp_path):
    entries_file = tmp_path / "BFCL_v4_simple_python.json"
    entries_file.write_text(FILES["simple_python"].read_text().splitlines()[0] + "\n")
    with pytest.raises(BfclError, match="No answer for simple_python_0"):
        load_bfcl(entries_file)
    answers = tmp_path / "answers.json"
    answers.write_text('{"id": "simple_python_0", "ground_truth": [{"calculate_triangle_area": {"base": [10]}}]}\n')
    assert load_bfcl(entries_file, answers)[0].answer[0].params == {"base": (10,)}
    entries_file.write_text('{"id": "simple_python_0", "question": ]\n')
    with pytest.raises(BfclError, match="line 1"):
        load_bfcl(entries_file, answers)
    with pytest.raises(BfclError, match="No BFCL file"):
        load_bfcl(tmp_path / "missing.json")
    entries_file.write_text(json.dumps({"id": "simple_python_0", "question": [[]], "function": [
        {"name": "f", "parameters": {"type": "weird"}}]}) + "\n")
    with pytest.raises(BfclError, match="unknown parameter type"):
        load_bfcl(entries_file, answers)

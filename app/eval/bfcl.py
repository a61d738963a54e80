"""BFCL test entries (../shared/bfcl/README.md): loading, tool declarations, and an AST-style checker.

The checker follows the rules of BFCL's `ast_checker.py` (ShishirPatil/gorilla,
bfcl_eval/eval_checker/ast_eval) for Python entries, so our figures can stand beside
published ones: the function name must match; required parameters present; no
parameter outside the schema or the answer; types checked, with an int accepted for a
float; strings compared after lower-casing and removing spaces and `,./-_*^`; a list
must equal one acceptable list; `""` among acceptable values means the argument may be
left out; parallel calls in any order; irrelevance passes with no call or an
unparsable reply. Our model writes JSON arguments rather than Python source, so no
source decoding is involved.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from app.calls import ToolCall
from app.errors import DeskmateError
from app.prompt.render import Context, Conversation, Message
from app.tools.catalog import ToolSpec

# BFCL entries carry no time or home; a fixed context keeps prompts reproducible.
BFCL_CONTEXT = Context(datetime(2025, 8, 25, 12, 0), "/home/user", ("~",))

# BFCL's type names -> JSON Schema's; "any" has no JSON Schema type (left unconstrained).
_JSON_TYPES = {"dict": "object", "float": "number", "tuple": "array", "any": None,
               "string": "string", "integer": "integer", "boolean": "boolean", "array": "array",
               "object": "object", "number": "number"}
# JSON Schema type -> the Python type a parsed JSON value must have.
_PY_TYPES: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool,
                              "array": list, "object": dict}


class BfclError(DeskmateError):
    """A BFCL file could not be read; the message names the file and line."""


@dataclass(frozen=True)
class AnswerCall:
    """One ground-truth call: each parameter with its acceptable values ("" = may be left out)."""

    name: str
    params: Mapping[str, tuple[Any, ...]]


@dataclass(frozen=True)
class BfclEntry:
    id: str
    category: str  # "simple_python", "multiple", "parallel", "irrelevance", ...
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...]
    answer: tuple[AnswerCall, ...] | None  # None: no call is the right answer (irrelevance)

    def conversation(self) -> Conversation:
        return Conversation(self.tools, BFCL_CONTEXT, self.messages)

    def tool(self, name: str) -> ToolSpec | None:
        return next((t for t in self.tools if t.name == name), None)


def _convert_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            if value not in _JSON_TYPES:
                raise ValueError(f"unknown parameter type {value!r}")
            if _JSON_TYPES[value] is not None:
                out["type"] = _JSON_TYPES[value]
        elif key == "properties":
            out["properties"] = {k: _convert_schema(v) for k, v in value.items()}
        elif key == "items":
            out["items"] = _convert_schema(value)
        elif key != "optional":  # BFCL's marker; "required" already says it
            out[key] = value
    return out


def to_toolspec(function: Mapping[str, Any]) -> ToolSpec:
    """A BFCL function declaration as an app ToolSpec (group "external", so the prompt describes it)."""
    parameters = _convert_schema(function.get("parameters") or {"type": "dict", "properties": {}})
    parameters["type"] = "object"
    parameters.setdefault("properties", {})
    return ToolSpec(function["name"], function.get("description", ""), parameters, group="external")


def category_of(entry_id: str) -> str:
    """'parallel_12' -> 'parallel'; 'simple_python_0' -> 'simple_python'."""
    return entry_id.rsplit("_", 1)[0]


def _read_jsonl(path: Path) -> list[tuple[int, Any]]:
    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except FileNotFoundError:
        raise BfclError(f"No BFCL file at {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BfclError(f"Could not read {path}: {exc}") from None
    out = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                out.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise BfclError(f"{path}, line {number}: not JSON ({exc.msg}); BFCL files hold one object a line.") from None
    return out


def default_answers_path(entries_path: Path) -> Path:
    """BFCL keeps answers in possible_answer/<same file name> beside the entries."""
    return Path(entries_path).parent / "possible_answer" / Path(entries_path).name


def load_bfcl(path: Path, answers: Path | None = None) -> list[BfclEntry]:
    """Entries with their ground truth; irrelevance entries need none (no call is right)."""
    answers = answers or default_answers_path(path)
    truth: dict[str, tuple[AnswerCall, ...]] = {}
    if Path(answers).exists():
        for number, obj in _read_jsonl(answers):
            try:
                truth[obj["id"]] = tuple(AnswerCall(name, {k: tuple(v) for k, v in params.items()})
                                         for call in obj["ground_truth"] for name, params in call.items())
            except (KeyError, TypeError, AttributeError) as exc:
                raise BfclError(f"{answers}, line {number}: not a BFCL answer ({exc!r}).") from None
    entries = []
    for number, obj in _read_jsonl(path):
        try:
            category = category_of(obj["id"])
            turns = obj["question"][0]
            system = "\n".join(m["content"] for m in turns if m["role"] == "system")
            users = [m["content"] for m in turns if m["role"] == "user"]
            first = "\n".join(filter(None, [system, users[0] if users else ""]))
            messages = (Message("user", first), *(Message("user", u) for u in users[1:]))
            tools = tuple(to_toolspec(f) for f in obj["function"])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise BfclError(f"{path}, line {number}: not a BFCL entry ({exc}).") from None
        answer = truth.get(obj["id"])
        if answer is None and "irrelevance" not in category:
            raise BfclError(f"No answer for {obj['id']} in {answers}. Pass --answers with BFCL's possible_answer file.")
        entries.append(BfclEntry(obj["id"], category, messages, tools, answer))
    if not entries:
        raise BfclError(f"The BFCL file {path} holds no entries.")
    return entries


# ---- the checker ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    valid: bool
    error: str = ""


_OK = Check(True)


def standardize(text: str) -> str:
    """BFCL's string normalization: no spaces or `,./-_*^`, lower case, ' read as "."""
    return re.sub(r"[ ,./\-_*^]", "", text).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize(value) if isinstance(value, str) else value


def _type_ok(value: Any, json_type: str | None, acceptable: Sequence[Any]) -> bool:
    """Strict Python types (a bool is no int), an int allowed for a float.

    Like BFCL, a value of the same type as the acceptable answers also passes: there
    the answers spell out a value of another type than the schema declares.
    """
    if json_type is None:
        return True
    want = _PY_TYPES[json_type]
    if type(value) is want or (want is float and type(value) is int):
        return True
    answer_type = next((type(a) for a in acceptable if a != ""), None)
    return answer_type is not None and type(value) is answer_type


def _dict_ok(value: Mapping[str, Any], acceptable: Sequence[Any]) -> bool:
    for option in acceptable:
        if option == "" or not isinstance(option, Mapping):
            continue
        if all(k in option and _std(v) in [_std(a) for a in option[k]] for k, v in value.items()) and \
                all(k in value or "" in vals for k, vals in option.items()):
            return True
    return False


def _list_of_dicts_ok(value: Sequence[Any], acceptable: Sequence[Any]) -> bool:
    return any(isinstance(option, list) and len(option) == len(value)
               and all(isinstance(v, Mapping) and _dict_ok(v, [o]) for v, o in zip(value, option))
               for option in acceptable)


def _value_ok(value: Any, schema: Mapping[str, Any], acceptable: Sequence[Any]) -> bool:
    json_type = schema.get("type")
    items_type = (schema.get("items") or {}).get("type")
    if isinstance(value, dict) and json_type == "object":
        return _dict_ok(value, acceptable)
    if isinstance(value, list) and json_type == "array":
        if items_type == "object":
            return _list_of_dicts_ok(value, acceptable)
        return [_std(v) for v in value] in [[_std(a) for a in option] for option in acceptable if isinstance(option, list)]
    if isinstance(value, str):
        return standardize(value) in [standardize(a) for a in acceptable if isinstance(a, str)]
    return value in [a for a in acceptable if a != ""]


def check_call(spec: ToolSpec | None, call: ToolCall, answer: AnswerCall) -> Check:
    """One call against one ground-truth call (BFCL's simple_function_checker)."""
    if call.name != answer.name or spec is None:
        return Check(False, f"wrong function: {call.name}, expected {answer.name}")
    for param in spec.required:
        if param not in call.arguments:
            return Check(False, f"{call.name}: missing required parameter {param}")
    for param, value in call.arguments.items():
        if param not in spec.properties or param not in answer.params:
            return Check(False, f"{call.name}: unexpected parameter {param}")
        schema = spec.properties[param]
        acceptable = answer.params[param]
        if not _type_ok(value, schema.get("type"), acceptable):
            return Check(False, f"{call.name}: {param}={value!r} has the wrong type (expected {schema.get('type')})")
        items_type = (schema.get("items") or {}).get("type")
        if isinstance(value, list) and items_type in _PY_TYPES and items_type != "object":
            inner = [a for option in acceptable if isinstance(option, list) for a in option]
            if not all(_type_ok(v, items_type, inner) for v in value):
                return Check(False, f"{call.name}: {param}={value!r} has items of the wrong type (expected {items_type})")
        if not _value_ok(value, schema, acceptable):
            return Check(False, f"{call.name}: {param}={value!r} is not one of {list(acceptable)!r}")
    for param, acceptable in answer.params.items():
        if param not in call.arguments and "" not in acceptable:
            return Check(False, f"{call.name}: parameter {param} left out but required by the answer")
    return _OK


def check_entry(entry: BfclEntry, calls: Sequence[ToolCall] | None) -> Check:
    """The whole reply; `calls is None` means the reply was an unparsable call."""
    if entry.answer is None:
        return _OK if not calls else Check(False, f"called {calls[0].name}, expected no call")
    if calls is None:
        return Check(False, "the reply could not be parsed as calls")
    if len(calls) != len(entry.answer):
        return Check(False, f"{len(calls)} call(s), expected {len(entry.answer)}")
    if "parallel" not in entry.category:
        # simple and multiple: one call, checked against the expected function's declaration
        want = entry.answer[0]
        return check_call(entry.tool(want.name), calls[0], want)
    # Parallel: any order. Like BFCL, each answer takes the first unmatched call that fits it.
    used: set[int] = set()
    for want in entry.answer:
        spec = entry.tool(want.name)
        errors = []
        for index, call in enumerate(calls):
            if index in used:
                continue
            result = check_call(spec, call, want)
            if result.valid:
                used.add(index)
                break
            errors.append(result.error)
        else:
            return Check(False, f"no call matches {want.name}{dict(want.params)!r}: " + "; ".join(errors[:3]))
    return _OK

"""The tool catalog: one copy (catalog.json beside this file), everything built from it.

The model's tool list, argument validation, approval-card text and the docs' tool
table all read these ToolSpecs, so the contract cannot drift between them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any, Iterable, Mapping

import jsonschema

from app.calls import Risk, ToolCall

# Argument kinds, used by the case matcher and by summaries.
TIME_ARGS = frozenset({"start", "end", "new_start", "on", "day"})
PATH_ARGS = frozenset({"path", "folder", "source", "destination", "cwd"})


class ArgumentError(ValueError):
    """A call's arguments do not fit its tool's schema; the message is shown to the user and the model."""


@dataclass(frozen=True)
class ToolSpec:
    """One tool's declaration: a name, a group a user grants, a risk, a JSON schema."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    group: str = "external"
    risk: Risk = Risk.READ

    @property
    def properties(self) -> Mapping[str, Any]:
        return self.parameters.get("properties", {})

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.parameters.get("required", ()))

    def default(self, arg: str) -> Any:
        return self.properties.get(arg, {}).get("default")

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Return the arguments with integer-like strings coerced, or raise ArgumentError."""
        args = dict(arguments)
        for key, value in args.items():
            kind = self.properties.get(key, {}).get("type")
            if kind == "integer" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
                args[key] = int(value)
        unknown = sorted(set(args) - set(self.properties))
        if unknown:
            raise ArgumentError(f"{self.name} has no argument {', '.join(map(repr, unknown))}")
        try:
            jsonschema.validate(args, dict(self.parameters))
        except jsonschema.ValidationError as exc:
            where = ".".join(str(p) for p in exc.absolute_path) or "arguments"
            raise ArgumentError(f"{self.name}: {where}: {exc.message}") from None
        return args


class Catalog:
    """An ordered set of ToolSpecs; the built-in one loads from catalog.json."""

    def __init__(self, tools: Iterable[ToolSpec], version: int = 1, groups: Mapping[str, str] | None = None):
        self.tools: tuple[ToolSpec, ...] = tuple(tools)
        self.version = version
        self.groups: dict[str, str] = dict(groups or {})
        self._by_name = {t.name: t for t in self.tools}

    @classmethod
    def builtin(cls) -> "Catalog":
        raw = json.loads(resources.files("app.tools").joinpath("catalog.json").read_text("utf-8"))
        return cls.from_json(raw)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> "Catalog":
        tools = [
            ToolSpec(t["name"], t["description"], t["parameters"], t["group"], Risk(t["risk"]))
            for t in raw["tools"]
        ]
        return cls(tools, raw.get("version", 1), raw.get("groups"))

    @cached_property
    def sha256(self) -> str:
        import hashlib

        blob = json.dumps([(t.name, t.group, t.risk.value, t.description, t.parameters) for t in self.tools], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def __iter__(self):
        return iter(self.tools)

    def __len__(self) -> int:
        return len(self.tools)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> ToolSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise ArgumentError(f"There is no tool called {name!r}.") from None

    def for_groups(self, groups: Iterable[str]) -> "Catalog":
        """The tools a user with these granted groups may be offered, in catalog order."""
        wanted = set(groups)
        return Catalog([t for t in self.tools if t.group in wanted], self.version, self.groups)

    def others(self, offered: Iterable[ToolSpec]) -> tuple[ToolSpec, ...]:
        """The tools not among `offered`, in catalog order: what granting more would offer."""
        names = {t.name for t in offered}
        return tuple(t for t in self.tools if t.name not in names)

    def validate(self, call: ToolCall) -> ToolCall:
        """The call with validated arguments; raises ArgumentError for an unknown tool or bad arguments."""
        return ToolCall(call.name, self.get(call.name).validate(call.arguments))

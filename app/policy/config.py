"""The user's settings in one JSON file: grants, remembered approvals, quick commands.

Kept as typed dataclasses in memory and written atomically (temp file + rename),
so a crash never leaves half a file. A file that cannot be read is moved aside as
`config.json.corrupt-<timestamp>` (never overwritten: the user may want it back),
defaults are used, and `ConfigStore.warning` tells the front end what happened.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from app.errors import ConfigError
from app.paths import AppPaths

CONFIG_VERSION = 1
GROUPS = ("files", "calendar", "shell", "system")

# Shell is off until the user turns it on: it is the one group that runs arbitrary code.
DEFAULT_GROUPS = ("files", "calendar", "system")
DEFAULT_FOLDERS = ("~/Documents", "~/Downloads", "~/Desktop")
DEFAULT_QUICK_COMMANDS = ("What's on today?", "System status", "Show my downloads")
DEFAULT_SHORTCUT = "Ctrl+Alt+Space"


@dataclass(frozen=True)
class Grants:
    """What the model may be offered: tool groups, the folders file tools may touch,
    and the groups whose read-only tools run without asking (`auto_read`)."""

    groups: tuple[str, ...] = DEFAULT_GROUPS
    folders: tuple[str, ...] = DEFAULT_FOLDERS
    auto_read: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A remembered 'always allow': one tool, and for file tools one granted folder (`scope`)."""

    id: str
    tool: str
    scope: str = ""
    created: str = ""  # ISO time, for the settings list

    def describe(self) -> str:
        return f"{self.tool}" + (f" in {self.scope}" if self.scope else "")


@dataclass(frozen=True)
class Config:
    grants: Grants = field(default_factory=Grants)
    rules: tuple[Rule, ...] = ()
    quick_commands: tuple[str, ...] = DEFAULT_QUICK_COMMANDS
    shortcut: str = DEFAULT_SHORTCUT
    autostart: bool = False
    approval_timeout_s: float = 300.0  # an unanswered approval is a deny after this long

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["version"] = CONFIG_VERSION
        return data

    @classmethod
    def from_json(cls, data: Any) -> "Config":
        """Parse the file's contents; raises ValueError/TypeError/KeyError when it is not ours."""
        if not isinstance(data, dict):
            raise ValueError("the top level is not an object")
        default = cls()
        g = data.get("grants", {})
        if not isinstance(g, dict):
            raise ValueError("'grants' is not an object")
        grants = Grants(
            groups=_strings(g.get("groups", default.grants.groups), "grants.groups"),
            folders=_strings(g.get("folders", default.grants.folders), "grants.folders"),
            auto_read=_strings(g.get("auto_read", default.grants.auto_read), "grants.auto_read"),
        )
        rules_raw = data.get("rules", [])
        if not isinstance(rules_raw, list):
            raise ValueError("'rules' is not a list")
        rules = []
        for r in rules_raw:
            if not isinstance(r, dict) or not isinstance(r.get("id"), str) or not isinstance(r.get("tool"), str):
                raise ValueError(f"a rule is malformed: {r!r}")
            rules.append(Rule(r["id"], r["tool"], str(r.get("scope", "")), str(r.get("created", ""))))
        timeout = data.get("approval_timeout_s", default.approval_timeout_s)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ValueError("'approval_timeout_s' is not a positive number")
        autostart = data.get("autostart", default.autostart)
        shortcut = data.get("shortcut", default.shortcut)
        if not isinstance(autostart, bool) or not isinstance(shortcut, str):
            raise ValueError("'autostart' or 'shortcut' has the wrong type")
        return cls(
            grants=grants,
            rules=tuple(rules),
            quick_commands=_strings(data.get("quick_commands", default.quick_commands), "quick_commands"),
            shortcut=shortcut,
            autostart=autostart,
            approval_timeout_s=float(timeout),
        )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"'{where}' is not a list of strings")
    return tuple(value)


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


class ConfigStore:
    """Loads, holds and saves the Config; the only code that touches config.json."""

    def __init__(self, paths: AppPaths, clock: Callable[[], datetime] = datetime.now):
        self.path: Path = paths.config_file
        self._clock = clock
        self._lock = threading.RLock()
        self.warning: ConfigError | None = None
        self._config = self._load()

    # -- reading -----------------------------------------------------------
    def _load(self) -> Config:
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return Config()
        except OSError as exc:
            self.warning = ConfigError(f"Could not read the settings file {self.path} ({exc.strerror}); "
                                       "using defaults. Check its permissions.")
            return Config()
        try:
            return Config.from_json(json.loads(text))
        except (ValueError, TypeError, KeyError) as exc:
            kept = self._keep_aside()
            self.warning = ConfigError(
                f"The settings file could not be read ({exc}). It was kept as {kept.name} "
                "and default settings are in use; your grants and remembered approvals need to be set again."
            )
            return Config()

    def _keep_aside(self) -> Path:
        stamp = self._clock().strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():  # never overwrite an earlier kept copy
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        os.replace(self.path, target)
        return target

    def reload(self) -> Config:
        """Re-read the file (another front end may have changed it)."""
        with self._lock:
            self._config = self._load()
            return self._config

    @property
    def config(self) -> Config:
        return self._config

    # -- writing -----------------------------------------------------------
    def save(self, config: Config) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(config.to_json(), fh, indent=2, ensure_ascii=False)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._config = config

    def update(self, **changes: Any) -> Config:
        """Replace some fields and save: `store.update(autostart=True)`."""
        with self._lock:
            config = replace(self._config, **changes)
            self.save(config)
            return config

    def set_grants(self, groups: Iterable[str] | None = None, folders: Iterable[str] | None = None,
                   auto_read: Iterable[str] | None = None) -> Grants:
        with self._lock:
            g = self._config.grants
            unknown = sorted(set(groups or ()) - set(GROUPS))
            if unknown:
                raise ConfigError(f"Unknown tool group {', '.join(unknown)}; the groups are {', '.join(GROUPS)}.")
            grants = Grants(
                groups=_dedupe(groups) if groups is not None else g.groups,
                folders=_dedupe(folders) if folders is not None else g.folders,
                auto_read=_dedupe(auto_read) if auto_read is not None else g.auto_read,
            )
            self.update(grants=grants)
            return grants

    # -- remembered approvals ------------------------------------------------
    def rules(self) -> tuple[Rule, ...]:
        return self._config.rules

    def find_rule(self, tool: str, scope: str = "") -> Rule | None:
        return next((r for r in self._config.rules if r.tool == tool and r.scope == scope), None)

    def add_rule(self, tool: str, scope: str = "") -> Rule:
        with self._lock:
            existing = self.find_rule(tool, scope)
            if existing:
                return existing
            rule = Rule(uuid.uuid4().hex[:8], tool, scope, self._clock().isoformat(timespec="seconds"))
            self.update(rules=self._config.rules + (rule,))
            return rule

    def revoke(self, rule_id: str) -> Rule:
        with self._lock:
            rule = next((r for r in self._config.rules if r.id == rule_id), None)
            if rule is None:
                raise ConfigError(f"There is no remembered approval {rule_id!r}; list them to see their ids.")
            self.update(rules=tuple(r for r in self._config.rules if r.id != rule_id))
            return rule

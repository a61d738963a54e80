"""Config, grants, remembered decisions, pause and secrets — against real files and a real keyring backend."""

from __future__ import annotations

import json

import pytest

from app.calls import Decision, DecisionKind, Proposal, Risk, ToolCall
from app.errors import ConfigError, ToolRefused
from app.policy.config import DEFAULT_QUICK_COMMANDS, Config, ConfigStore, Grants
from app.policy.grants import Policy
from app.policy.secrets import AUDIT_KEY, NO_BACKEND, Secrets, SecretsUnavailable


def _proposal(name: str, group: str, risk: Risk, scope: str = "") -> Proposal:
    return Proposal(ToolCall(name, {}), group, risk, f"do {name}", scope=scope)


# -- config -------------------------------------------------------------------------

def test_defaults_when_no_file(config_store, app_paths):
    cfg = config_store.config
    assert not app_paths.config_file.exists()
    assert config_store.warning is None
    assert "shell" not in cfg.grants.groups  # the group that runs code is opt-in
    assert cfg.quick_commands == DEFAULT_QUICK_COMMANDS
    assert cfg.rules == () and cfg.autostart is False and cfg.shortcut


def test_save_roundtrip_is_atomic_json(config_store, app_paths, ticking_clock):
    config_store.set_grants(groups=["files", "shell"], folders=["~/Work"], auto_read=["system"])
    config_store.update(autostart=True, shortcut="Ctrl+Shift+D", quick_commands=("Hi",))
    data = json.loads(app_paths.config_file.read_text())
    assert data["grants"]["folders"] == ["~/Work"] and data["autostart"] is True
    assert [p.name for p in app_paths.config.iterdir()] == ["config.json"]  # no temp file left behind
    again = ConfigStore(app_paths, ticking_clock).config
    assert again.grants == Grants(("files", "shell"), ("~/Work",), ("system",))
    assert again.shortcut == "Ctrl+Shift+D" and again.quick_commands == ("Hi",) and again.autostart


def test_unknown_group_is_refused(config_store):
    with pytest.raises(ConfigError, match="Unknown tool group 'mail'|mail"):
        config_store.set_grants(groups=["files", "mail"])


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"grants": {"groups": "files"}}',
                                      '{"rules": [{"tool": 3}]}', '{"approval_timeout_s": -1}'])
def test_corrupt_config_kept_aside_and_defaults_used(app_paths, ticking_clock, content):
    app_paths.config_file.write_text(content)
    store = ConfigStore(app_paths, ticking_clock)
    assert isinstance(store.warning, ConfigError)
    kept = list(app_paths.config.glob("config.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == content  # the user's file is kept, byte for byte
    assert kept[0].name in str(store.warning)
    assert not app_paths.config_file.exists()
    assert store.config == Config()
    store.add_rule("read_file", "~/Documents")  # and it keeps working, writing a fresh file
    assert ConfigStore(app_paths, ticking_clock).config.rules[0].tool == "read_file"


def test_second_corrupt_copy_does_not_overwrite_the_first(app_paths, fixed_now):
    for text in ("{bad one", "{bad two"):
        app_paths.config_file.write_text(text)
        ConfigStore(app_paths, lambda: fixed_now)  # same timestamp both times
    kept = sorted(p.read_text() for p in app_paths.config.glob("config.json.corrupt-*"))
    assert kept == ["{bad one", "{bad two"]


def test_rules_listed_and_revoked_one_by_one(config_store, app_paths, ticking_clock):
    a = config_store.add_rule("write_file", "~/Documents")
    b = config_store.add_rule("create_event")
    assert config_store.add_rule("write_file", "~/Documents") == a  # no duplicates
    assert [r.id for r in ConfigStore(app_paths, ticking_clock).rules()] == [a.id, b.id]
    assert config_store.revoke(a.id) == a
    assert [r.id for r in ConfigStore(app_paths, ticking_clock).rules()] == [b.id]
    with pytest.raises(ConfigError, match="no remembered approval"):
        config_store.revoke(a.id)


# -- policy ---------------------------------------------------------------------------

def test_only_granted_tools_offered(config_store):
    config_store.set_grants(groups=["calendar"], folders=["~/Documents"])
    policy = Policy(config_store)
    names = {t.name for t in policy.offered_tools()}
    assert names == {"list_events", "create_event", "update_event", "delete_event", "find_free_time"}
    with pytest.raises(ToolRefused, match="'files' tools, which are not granted"):
        policy.check(ToolCall("read_file", {"path": "~/Documents/a.txt"}))
    with pytest.raises(ToolRefused, match="no tool called 'format_disk'"):
        policy.check(ToolCall("format_disk", {}))
    assert policy.check(ToolCall("list_events", {"start": "today"})).name == "list_events"


def test_files_without_folders_not_offered(config_store):
    config_store.set_grants(groups=["files", "system"], folders=[])
    policy = Policy(config_store)
    assert {t.group for t in policy.offered_tools()} == {"system"}
    with pytest.raises(ToolRefused, match="granted folder"):
        policy.check(ToolCall("list_directory", {"path": "~"}))


def test_one_off_grants_are_not_saved(config_store, app_paths, ticking_clock):
    config_store.set_grants(groups=["calendar"], folders=[])
    policy = Policy(config_store, extra_groups=["shell"], extra_folders=["/tmp/x"])
    assert "shell" in policy.groups and "/tmp/x" in policy.folders
    saved = ConfigStore(app_paths, ticking_clock).config.grants
    assert saved.groups == ("calendar",) and saved.folders == ()


def test_always_rule_scoped_to_tool_and_folder(config_store):
    policy = Policy(config_store)
    p = _proposal("write_file", "files", Risk.WRITE, "~/Documents")
    assert policy.auto_decision(p) is None
    settled = policy.settle(p, Decision(DecisionKind.ALWAYS))
    assert settled.kind is DecisionKind.ALWAYS
    rule = config_store.rules()[0]
    assert (rule.tool, rule.scope) == ("write_file", "~/Documents")
    auto = policy.auto_decision(_proposal("write_file", "files", Risk.WRITE, "~/Documents"))
    assert auto is not None and auto.kind is DecisionKind.ALWAYS and auto.by == f"rule:{rule.id}"
    assert policy.auto_decision(_proposal("write_file", "files", Risk.WRITE, "~/Downloads")) is None
    assert policy.auto_decision(_proposal("create_folder", "files", Risk.WRITE, "~/Documents")) is None
    config_store.revoke(rule.id)
    assert policy.auto_decision(p) is None


def test_session_approval_not_saved(config_store, app_paths, ticking_clock):
    policy = Policy(config_store)
    p = _proposal("create_event", "calendar", Risk.WRITE)
    policy.settle(p, Decision(DecisionKind.APPROVE_SESSION))
    assert policy.auto_decision(p).by == "session"
    assert ConfigStore(app_paths, ticking_clock).rules() == ()
    assert Policy(ConfigStore(app_paths, ticking_clock)).auto_decision(p) is None  # a new session asks again


@pytest.mark.parametrize("risk", [Risk.DESTRUCTIVE, Risk.EXECUTE])
@pytest.mark.parametrize("kind", [DecisionKind.ALWAYS, DecisionKind.APPROVE_SESSION])
def test_destructive_and_execute_never_remembered(config_store, risk, kind):
    policy = Policy(config_store)
    p = _proposal("delete_path", "files", risk, "~/Documents")
    settled = policy.settle(p, Decision(kind))
    assert settled.kind is DecisionKind.APPROVE_ONCE
    assert config_store.rules() == () and policy.session_approvals() == ()
    config_store.add_rule("delete_path", "~/Documents")  # even a rule put in the file by hand
    assert policy.auto_decision(p) is None


def test_read_tools_per_group_run_without_asking(config_store):
    config_store.set_grants(auto_read=["system"])
    policy = Policy(config_store)
    auto = policy.auto_decision(_proposal("system_status", "system", Risk.READ))
    assert auto.kind is DecisionKind.APPROVE_ONCE and auto.by == "auto:system"
    assert policy.auto_decision(_proposal("list_events", "calendar", Risk.READ)) is None
    assert policy.auto_decision(_proposal("kill_process", "system", Risk.DESTRUCTIVE)) is None


def test_pause_refuses_and_notifies(config_store):
    policy = Policy(config_store)
    heard = []
    policy.on_pause(lambda: heard.append("paused"))
    policy.pause()
    assert heard == ["paused"] and policy.paused
    with pytest.raises(ToolRefused, match="paused"):
        policy.check(ToolCall("list_events", {"start": "today"}))
    assert policy.auto_decision(_proposal("list_events", "calendar", Risk.READ)).kind is DecisionKind.DENY
    policy.resume()
    policy.check(ToolCall("list_events", {"start": "today"}))


# -- secrets ----------------------------------------------------------------------------

def test_secrets_roundtrip_and_audit_key_is_stable(secrets_store):
    secrets_store.set("caldav", "hunter2")
    assert Secrets().get("caldav") == "hunter2"
    key = secrets_store.audit_key()
    assert isinstance(key, bytes) and len(key) == 32
    assert Secrets().audit_key() == key  # created once, then read back from the keyring
    assert Secrets().get(AUDIT_KEY) == key.hex()
    secrets_store.delete("caldav")
    assert Secrets().get("caldav") is None


def test_no_keyring_backend_degrades_clearly(no_keyring):
    s = Secrets()
    assert not s.available and s.problem == NO_BACKEND
    assert "No keyring is available" in s.problem and "audit log" in s.problem
    assert s.get("anything") is None and s.audit_key() is None
    with pytest.raises(SecretsUnavailable, match="keyring"):
        s.set("caldav", "x")
    s.delete("caldav")  # harmless

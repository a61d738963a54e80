"""`deskmate --selftest`: each check passes on a working install and explains what is wrong otherwise."""

from __future__ import annotations

import pytest

from app.cli import main
from app.paths import AppPaths
from app.policy.config import ConfigStore
from app.selftest import check_folders, check_keyring, run


def test_missing_model_fails_with_the_build_command(qapp, tmp_path, monkeypatch, capsys):
    """A fresh install without a built model: exit 1 and say how to build it."""
    monkeypatch.setenv("DESKMATE_HOME", str(tmp_path / "sandbox"))
    monkeypatch.delenv("DESKMATE_MODELS", raising=False)
    assert main(["--selftest"]) == 1
    out = capsys.readouterr().out
    assert "ok   keyring" in out
    assert "FAIL model" in out and "deskmate model build" in out
    assert "self-test failed: 1 problem(s)" in out


def test_keyring_check_explains_a_missing_backend(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    check = check_keyring()
    assert not check.ok and check.fatal
    assert "No keyring is available" in check.detail and "PYTHON_KEYRING_BACKEND" in check.detail


def test_keyring_check_round_trips_a_secret_and_leaves_nothing(tmp_path):
    import keyring

    check = check_keyring()
    assert check.ok and "PlaintextKeyring" in check.detail
    assert keyring.get_password("deskmate-selftest", "probe") is None


def test_folder_check_warns_about_a_missing_granted_folder(app_paths):
    ConfigStore(app_paths).set_grants(groups=["files"], folders=["~/Documents", "~/Gone"])
    check = check_folders(app_paths)
    assert not check.ok and not check.fatal  # a warning: the app still works
    assert "missing: ~/Gone" in check.detail and "Permissions" in check.detail
    ConfigStore(app_paths).set_grants(folders=["~/Documents", "~/Downloads"])
    assert check_folders(app_paths).ok


def test_folder_check_reports_a_corrupt_config(app_paths):
    app_paths.config_file.write_text("{not json")
    check = check_folders(app_paths)
    assert not check.ok and "could not be read" in check.detail


@pytest.mark.slow
def test_selftest_runs_a_turn_on_a_built_model(qapp, tiny_model_dir, tmp_path):
    """The tiny random model loads through the real engine and the turn runs through the real window;
    random weights seldom propose a call, and then the self-test says so and what to do."""
    paths = AppPaths(home=tmp_path / "home", config=tmp_path / "config", data=tmp_path / "data",
                     models=tiny_model_dir.parent).ensure()
    lines: list[str] = []
    code = run(lines.append, paths=paths, model_name=tiny_model_dir.name)
    assert any(line.startswith(f"ok   model: {tiny_model_dir.name} loaded") for line in lines), lines
    answer = next(line for line in lines if " answer:" in line)
    if code == 0:
        assert answer.startswith("ok   answer:")
    else:
        assert answer.startswith("FAIL answer:") and "deskmate model build --force" in answer


@pytest.mark.model
@pytest.mark.slow
def test_selftest_passes_with_the_real_model(qapp, request, tmp_path):
    """The built model loads and proposes a tool call for a calendar question, through the real window."""
    model_dir = request.getfixturevalue("real_model_dir")
    paths = AppPaths(home=tmp_path / "home", config=tmp_path / "config", data=tmp_path / "data",
                     models=model_dir.parent).ensure()
    for sub in ("Documents", "Downloads", "Desktop"):
        (paths.home / sub).mkdir(parents=True)
    lines: list[str] = []
    assert run(lines.append, paths=paths, model_name=model_dir.name) == 0, "\n".join(lines)
    assert any(line.startswith("ok   answer:") and "list_events" in line for line in lines), lines

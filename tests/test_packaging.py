"""The packaged installer: the recipes' promises checked fast, then the whole .deb round trip.

The slow test builds the PyInstaller folder and the .deb, installs it on this machine with apt,
runs `deskmate --selftest` and the window from the installed copy, upgrades, removes and purges
it (packaging/smoke-deb.sh), and checks what the script measured.
"""

from __future__ import annotations

import ast
import configparser
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import debdeps  # noqa: E402  (packaging/ is not a package: its scripts run on their own)
import finish_bundle  # noqa: E402

# The system libraries Qt's xcb platform plugin links (checked with ldd/objdump on PySide6 6.12).
QT_SYSTEM_PACKAGES = (
    "libxcb-cursor0", "libxkbcommon-x11-0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1",
    "libxcb-randr0", "libxcb-render-util0", "libxcb-shape0", "libxcb-xkb1", "libegl1", "libgl1",
    "libfontconfig1", "libdbus-1-3", "libxkbcommon0", "libx11-xcb1",
)
BUILD_ONLY = ("torch", "transformers", "gguf", "optimum", "onnx", "tokenizers")


def test_control_declares_the_system_libraries_qt_needs() -> None:
    declared = debdeps.declared(PACKAGING / "debian" / "control.in")
    missing = [p for p in QT_SYSTEM_PACKAGES if p not in declared]
    assert not missing, f"control.in does not depend on {missing}"


def test_control_template_describes_an_amd64_package_with_placeholders() -> None:
    text = (PACKAGING / "debian" / "control.in").read_text(encoding="utf-8")
    fields = dict(line.split(": ", 1) for line in text.splitlines() if line and not line[0].isspace() and ": " in line)
    assert fields["Package"] == "deskmate"
    assert fields["Architecture"] == "amd64"
    assert fields["Version"] == "@VERSION@" and fields["Installed-Size"] == "@INSTALLED_SIZE@"
    assert "xdg-utils" in fields["Recommends"]
    # Alternatives keep the package installable where Debian renamed libraries (64-bit time_t).
    assert "libssl3 | libssl3t64" in " ".join(text.split())


def test_declared_reads_continuation_lines_and_alternatives(tmp_path: Path) -> None:
    control = tmp_path / "control"
    control.write_text("Package: x\nDepends: liba1 (>= 2), libb2 | libb2t64,\n libc3:amd64\nDescription: y\n")
    assert debdeps.declared(control) == {"liba1", "libb2", "libb2t64", "libc3"}


@pytest.mark.parametrize(("soname", "package"), [
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libwayland-cursor.so.0", "libwayland-cursor0"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libgssapi_krb5.so.2", "libgssapi-krb5-2"),
])
def test_debian_name_follows_the_library_naming_rule(soname: str, package: str) -> None:
    assert debdeps.debian_name(soname) == package


def test_desktop_entry_is_valid() -> None:
    desktop = PACKAGING / "deskmate.desktop"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(desktop, encoding="utf-8")
    main = entry["Desktop Entry"]
    assert main["Type"] == "Application"
    assert main["Exec"] == "deskmate" and main["Icon"] == "deskmate"
    assert main["Terminal"] == "false"
    assert "Utility;" in main["Categories"]
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(desktop)], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_icons_for_the_hicolor_theme_exist() -> None:
    for size in (16, 22, 24, 32, 48, 64, 128, 256, 512):
        png = ROOT / "assets" / f"deskmate-{size}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    assert b"<svg" in (ROOT / "assets" / "deskmate.svg").read_bytes()


def _spec_list(name: str) -> list[str]:
    tree = ast.parse((PACKAGING / "deskmate.spec").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"{name} not found in deskmate.spec")


def test_spec_excludes_the_model_building_stack() -> None:
    excludes = _spec_list("EXCLUDES")
    for package in BUILD_ONLY:
        assert package in excludes, f"deskmate.spec does not exclude {package}"


def test_maintainer_scripts_only_refresh_caches() -> None:
    for name in ("postinst", "postrm"):
        script = PACKAGING / "debian" / name
        assert os.access(script, os.X_OK), f"{name} is not executable"
        subprocess.run(["sh", "-n", str(script)], check=True)
        code = [line for line in script.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
        for line in code:
            for forbidden in ("$HOME", "/home", ".config", ".local", "rm ", "/root"):
                assert forbidden not in line, f"{name} touches user files: {line!r}"


def test_finish_bundle_finds_build_time_packages(tmp_path: Path) -> None:
    bundle = tmp_path / "_internal"
    for d in ("torch", "onnxruntime", "transformers-4.57.0.dist-info", "tokenizers", "PySide6/Qt"):
        (bundle / d).mkdir(parents=True)
    (bundle / "libtorch_cpu.so").write_bytes(b"")
    (bundle / "libonnxruntime.so.1").write_bytes(b"")
    found = {p.name for p in finish_bundle.forbidden_in(bundle)}
    assert found == {"torch", "transformers-4.57.0.dist-info", "libtorch_cpu.so"}


def _tiny_model(folder: Path) -> Path:
    from app.model.manifest import BuildInputs, write_manifest

    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(os.urandom(4096))
    (folder / "tokenizer.model").write_bytes(os.urandom(512))
    inputs = BuildInputs(base_sha256="0" * 64, adapter=None, catalog_version=1, catalog_sha256="1" * 64,
                         recipe_version=1)
    write_manifest(folder, name=folder.name, inputs=inputs, adapter_choice="none", tool_names=("list_events",),
                   now=datetime(2026, 11, 26, 9, 0))
    return folder


def test_finish_bundle_seals_the_model_for_a_read_only_install(tmp_path: Path) -> None:
    from app.model.manifest import STAMP_FILE, verify

    model = _tiny_model(tmp_path / "_internal" / "models" / "deskmate-v1")
    assert finish_bundle.main([str(tmp_path / "_internal")]) == 0
    for p in (p for p in model.iterdir() if p.name != STAMP_FILE):  # the stamp records the others' mtimes
        assert p.stat().st_mtime_ns % 10**9 == 0, f"{p.name} keeps sub-second mtime; a .deb would change it"
    stamp = model / STAMP_FILE
    before = (stamp.stat().st_ino, stamp.stat().st_mtime_ns, stamp.read_text())
    verify(model, check_current=False)  # what the installed app does at every start
    assert (stamp.stat().st_ino, stamp.stat().st_mtime_ns, stamp.read_text()) == before, \
        "verify() rewrote the stamp of an unchanged model (it would fail in a read-only install)"


def test_finish_bundle_refuses_a_bundle_without_a_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "_internal").mkdir()
    assert finish_bundle.main([str(tmp_path / "_internal")]) == 1
    assert "no model" in capsys.readouterr().err


def test_frozen_app_finds_its_bundled_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PyInstaller sets sys.frozen and sys._MEIPASS; AppPaths then looks in the bundle's models/."""
    from app.paths import AppPaths, bundled_models

    monkeypatch.delenv("DESKMATE_MODELS", raising=False)
    assert bundled_models() is None  # a checkout or a pip install
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert bundled_models() is None  # frozen, but nothing shipped
    (tmp_path / "models").mkdir()
    assert bundled_models() == tmp_path / "models"
    assert AppPaths.under(tmp_path / "sandbox").models == tmp_path / "models"
    monkeypatch.setenv("DESKMATE_MODELS", str(tmp_path / "elsewhere"))
    assert AppPaths.under(tmp_path / "sandbox").models == tmp_path / "elsewhere"  # the user's choice wins


def test_a_bundled_model_is_checked_for_integrity_not_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a packaged app (no PyTorch) "out of date, rebuild it" would be a dead end: the build inputs were
    checked when it was packaged, so only the files are checked, and damage says to reinstall."""
    from app.errors import ModelCorrupt
    from app.model.manifest import verify

    model = _tiny_model(tmp_path / "models" / "deskmate-v1")  # built for another catalog than this app's
    with pytest.raises(ModelCorrupt, match="out of date"):
        verify(model)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert verify(model).name == "deskmate-v1"
    (model / "model.onnx").write_bytes(os.urandom(4096))  # same size, other bytes
    with pytest.raises(ModelCorrupt, match="Reinstall Deskmate"):
        verify(model, full=True)


def test_scripts_are_executable_and_parse() -> None:
    for name in ("build-app.sh", "build-deb.sh", "smoke-deb.sh", "window-time.sh", "macos/build-app.sh"):
        script = PACKAGING / name
        assert os.access(script, os.X_OK), f"{name} is not executable"
        subprocess.run(["bash", "-n", str(script)], check=True)


def _apt_unavailable() -> str | None:
    missing = [t for t in ("dpkg", "dpkg-deb", "apt-get") if shutil.which(t) is None]
    if missing:
        return f"not a Debian-based system: {', '.join(missing)} missing"
    if os.geteuid() != 0:
        return "apt-get cannot install packages for this user (not root)"
    return None


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_deb_installs_runs_upgrades_and_removes_cleanly(tmp_path: Path) -> None:
    reason = _apt_unavailable()
    if reason:
        pytest.skip(f"the .deb smoke test needs dpkg and apt: {reason}")
    # The scripts get a plain environment: not the test's keyring backend or Qt platform.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHON_KEYRING_BACKEND", "QT_QPA_PLATFORM", "DESKMATE_HOME", "DESKMATE_MODELS")}
    log = tmp_path / "build.log"
    with log.open("w") as out:
        build = subprocess.run([str(PACKAGING / "build-deb.sh")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=out, text=True)
    assert build.returncode == 0, log.read_text()[-6000:]
    deb = Path(build.stdout.strip().splitlines()[-1])
    assert deb.name.startswith("deskmate_") and deb.name.endswith("_amd64.deb") and deb.is_file()

    shot = tmp_path / "installed-app.png"
    out_dir = tmp_path / "smoke"
    with log.open("a") as out:
        smoke = subprocess.run([str(PACKAGING / "smoke-deb.sh"), str(deb), "--out", str(out_dir),
                                "--screenshot", str(shot)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    assert smoke.returncode == 0, log.read_text()[-6000:]

    results = json.loads((out_dir / "results.json").read_text())
    assert results["deb_bytes"] == deb.stat().st_size
    assert results["installed_size_kib"] > 100 * 1024  # the model alone is ~300 MB
    assert results["window_first_s"] > 0 and all(s > 0 for s in results["window_next_s"])
    assert results["selftest"][-1] == "self-test passed"
    assert any(line.startswith("ok   answer:") for line in results["selftest"])
    assert results["user_files_checked"] >= 1
    assert results["upgrade"] == results["remove"] == results["purge"] == "ok"
    assert subprocess.run(["dpkg", "-s", "deskmate"], capture_output=True).returncode != 0, "package left installed"

    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert not image.isNull() and image.width() >= 320 and image.height() >= 240, "no window in the screenshot"
    colours = {image.pixel(x, y) for x in range(0, image.width(), 8) for y in range(0, image.height(), 8)}
    assert len(colours) > 8, "the screenshot is blank: no window was drawn"

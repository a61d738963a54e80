"""Confinement: every way out of the granted folders is refused before anything is touched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.errors import ToolRefused
from app.tools.paths import Confinement


@pytest.fixture
def home(app_paths) -> Path:
    return app_paths.home


@pytest.fixture
def conf(home: Path, app_paths) -> Confinement:
    return Confinement(home, ["~/Documents", "~/Downloads"], protected=[app_paths.data])


def test_tilde_relative_and_absolute_inside(conf: Confinement, home: Path) -> None:
    real_home = Path(os.path.realpath(home))
    assert conf.resolve("~/Documents/a.pdf") == real_home / "Documents" / "a.pdf"
    assert conf.resolve("Documents/a.pdf") == real_home / "Documents" / "a.pdf"  # relative to home
    assert conf.resolve(str(home / "Downloads")) == real_home / "Downloads"
    assert conf.resolve("$HOME/Documents") == real_home / "Documents"
    assert conf.resolve("~/Documents/sub/../b.txt") == real_home / "Documents" / "b.txt"
    assert conf.resolve(f"~{home.name}/Documents") == real_home / "Documents"  # ~user for the user themself


@pytest.mark.parametrize(
    "arg",
    ["~/Documents/../.bashrc", "~/Desktop/x", "~", "Pictures/p.png", "/etc/passwd", "~root/.ssh/id_rsa",
     "~/Documents/../../outside", "../../etc"],
)
def test_escapes_are_refused(conf: Confinement, arg: str) -> None:
    with pytest.raises(ToolRefused, match="outside the folders you granted|another user's home"):
        conf.resolve(arg)


def test_other_users_home_is_refused_with_its_own_message(conf: Confinement) -> None:
    with pytest.raises(ToolRefused, match=r"another user's home folder \(~bob\)"):
        conf.resolve("~bob/Documents/a.txt")


def test_symlink_pointing_out_is_refused(conf: Confinement, home: Path, outside: Path) -> None:
    link = home / "Documents" / "escape"
    link.symlink_to(outside)
    with pytest.raises(ToolRefused, match="outside"):
        conf.resolve("~/Documents/escape/secret.txt")
    file_link = home / "Documents" / "secret-link.txt"
    file_link.symlink_to(outside / "secret.txt")
    with pytest.raises(ToolRefused):
        conf.resolve("~/Documents/secret-link.txt")
    # ".." after a link is folded where the link really leads, as the OS would
    with pytest.raises(ToolRefused):
        conf.resolve("~/Documents/escape/../outside/secret.txt")


def test_link_itself_can_be_named_without_following(conf: Confinement, home: Path, outside: Path) -> None:
    link = home / "Documents" / "escape"
    link.symlink_to(outside)
    assert conf.resolve("~/Documents/escape", follow=False) == Path(os.path.realpath(home / "Documents")) / "escape"


def test_symlink_inside_to_inside_is_followed(conf: Confinement, home: Path) -> None:
    (home / "Downloads" / "real.txt").write_text("x")
    (home / "Documents" / "alias.txt").symlink_to(home / "Downloads" / "real.txt")
    assert conf.resolve("~/Documents/alias.txt") == Path(os.path.realpath(home / "Downloads" / "real.txt"))


def test_granted_folder_itself_can_be_protected(conf: Confinement) -> None:
    assert conf.resolve("~/Documents").name == "Documents"
    with pytest.raises(ToolRefused, match="granted folder itself"):
        conf.resolve("~/Documents", allow_root=False)


def test_deskmates_own_files_are_refused_even_inside_a_grant(app_paths) -> None:
    conf = Confinement(app_paths.data.parent, ["~"], protected=[app_paths.data])
    with pytest.raises(ToolRefused, match="Deskmate's own"):
        conf.resolve(str(app_paths.data / "audit.sqlite3"))


def test_nothing_granted_refuses_everything(home: Path) -> None:
    with pytest.raises(ToolRefused, match="no folders are granted"):
        Confinement(home, []).resolve("~/Documents")


def test_empty_and_nul_paths(conf: Confinement) -> None:
    with pytest.raises(ToolRefused, match="No path"):
        conf.resolve("  ")
    with pytest.raises(ToolRefused, match="NUL"):
        conf.resolve("~/Documents/a\0b")


def test_display_and_scope(home: Path, outside: Path) -> None:
    conf = Confinement(home, ["~", "~/Documents"])
    target = conf.resolve("~/Documents/Invoices/a.pdf")
    assert conf.display(target) == "~/Documents/Invoices/a.pdf"
    assert conf.display(home) == "~"
    assert conf.display(outside) == str(outside)
    assert conf.scope(target) == "~/Documents"  # the most specific grant
    assert conf.scope(conf.resolve("~/notes.txt")) == "~"


def test_expand_does_not_check(conf: Confinement, home: Path) -> None:
    assert conf.expand("~/Pictures") == Path(os.path.realpath(home)) / "Pictures"

"""Which system libraries does the bundled app need, and does the .deb declare them?

The PyInstaller folder carries Python, Qt and the wheels' libraries but not the
distribution's (X11/xcb, fontconfig, GL, OpenSSL, ...): see deskmate.spec. This
script reads every ELF file of the folder, takes the libraries it links directly
(DT_NEEDED, via `objdump -p`), and resolves those not shipped in the folder with
`ldd`, then names their Debian packages with `dpkg-query -S`. It is what
dpkg-shlibdeps does for a real Debian source package, in a few lines, for a
prebuilt folder.

    python3 packaging/debdeps.py FOLDER                 # list: soname -> package (or NOT FOUND)
    python3 packaging/debdeps.py FOLDER --control FILE  # exit 1 unless FILE's Depends covers them all
    python3 packaging/debdeps.py FOLDER --strict        # also exit 1 when a library is not found

Standard library only: it runs on the build machine's and the smoke test's python3.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


@dataclass(frozen=True)
class Need:
    soname: str
    path: str | None  # where ldd found it outside the folder; None when not found
    package: str | None  # the Debian package owning `path`
    wanted_by: str  # one file of the folder that links it (for the message)


def elf_files(folder: Path) -> list[Path]:
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            try:
                with p.open("rb") as fh:
                    if fh.read(4) == ELF_MAGIC:
                        out.append(p)
            except OSError:
                continue
    return out


def needed(elf: Path) -> list[str]:
    """DT_NEEDED entries of one ELF file (direct dependencies only)."""
    try:
        text = subprocess.run(["objdump", "-p", str(elf)], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:  # no binutils: fall back to ldd's transitive list
        return list(ldd(elf, []).keys())
    return re.findall(r"^\s*NEEDED\s+(\S+)", text, flags=re.M)


def ldd(elf: Path, search: list[Path]) -> dict[str, str | None]:
    """soname -> resolved path (None when `not found`), with the folder's library dirs searched first."""
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(str(s) for s in search))
    text = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, env=env, check=False).stdout
    found: dict[str, str | None] = {}
    for line in text.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(not found|\S+)", line)
        if m:
            found[m.group(1)] = None if m.group(2) == "not found" else m.group(2)
    return found


def owner(path: str) -> str | None:
    """The Debian package that installed `path` (merged-/usr aware)."""
    candidates = [path, os.path.realpath(path)]
    if path.startswith("/lib"):
        candidates.append("/usr" + path)
    for c in candidates:
        res = subprocess.run(["dpkg-query", "-S", c], capture_output=True, text=True, check=False)
        if res.returncode == 0 and res.stdout:
            return res.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def scan(folder: Path) -> list[Need]:
    """Every library the folder's ELF files link directly but do not ship."""
    elves = elf_files(folder)
    shipped = {p.name for p in folder.rglob("*") if ".so" in p.name}
    search = sorted({p.parent for p in elves if ".so" in p.name})
    result: dict[str, Need] = {}
    for elf in elves:
        direct = [n for n in needed(elf) if n not in shipped and n not in result]
        if not direct:
            continue
        resolved = ldd(elf, search)
        for soname in direct:
            if soname.startswith("ld-linux"):
                continue  # the dynamic loader itself (libc6)
            path = resolved.get(soname)
            if path is not None and Path(path).resolve().is_relative_to(folder.resolve()):
                continue  # shipped under another name
            result[soname] = Need(soname, path, owner(path) if path else None, str(elf.relative_to(folder)))
    return sorted(result.values(), key=lambda n: n.soname)


def debian_name(soname: str) -> str:
    """The package name Debian's library policy gives a soname (libxcb-icccm.so.4 -> libxcb-icccm4):
    a guess, used only for libraries not installed on this machine."""
    m = re.match(r"(.+?)\.so\.?(.*)$", soname)
    if not m:
        return soname.lower()
    base, version = m.group(1).lower().replace("_", "-"), m.group(2).split(".")[0]
    return f"{base}{'-' if base[-1:].isdigit() else ''}{version}"


def declared(control: Path) -> set[str]:
    """Package names in a control file's Depends (every alternative of an `a | b` counts)."""
    text = control.read_text(encoding="utf-8")
    m = re.search(r"^Depends:(.*(?:\n[ \t].*)*)", text, flags=re.M)
    if not m:
        return set()
    names = set()
    for item in m.group(1).replace("\n", " ").split(","):
        for alt in item.split("|"):
            name = alt.strip().split(" ")[0].split(":")[0]
            if name:
                names.add(name)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--control", type=Path, help="a DEBIAN/control (or template) whose Depends must cover them")
    parser.add_argument("--strict", action="store_true", help="a library that is not found is an error")
    args = parser.parse_args(argv)

    needs = scan(args.folder)
    for n in needs:
        where = n.package or (f"NOT FOUND (Debian: {debian_name(n.soname)}?)" if n.path is None else "?")
        print(f"{n.soname:<32} {where}  ({n.wanted_by})")
    problems = []
    if args.strict:
        problems += [f"{n.soname} (needed by {n.wanted_by}) is not installed" for n in needs if n.path is None]
    if args.control:
        have = declared(args.control)
        for n in needs:
            package = n.package or debian_name(n.soname)
            if package not in have:
                problems.append(f"{n.soname} (needed by {n.wanted_by}) comes from {package}, "
                                f"which {args.control} does not declare in Depends")
    for p in problems:
        print(f"debdeps: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

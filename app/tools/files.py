"""The file tools, confined to the granted folders (see app.tools.paths).

Each tool resolves its paths through ctx.confinement before it looks at the disk,
so a refused path is never read, listed or changed. Every change can be undone
without losing anything: an overwrite or append keeps the old file in
AppPaths.backups, a delete goes to the trash, and undoing a created file or
folder moves it to the trash rather than erasing it.
"""

from __future__ import annotations

import difflib
import fnmatch
import mimetypes
import os
import shutil
import stat
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from app.calls import ToolResult, UndoRecord
from app.tools import trash as trashcan
from app.tools.base import Description, ToolContext, ToolFailed
from app.tools.opener import open_path as _open
from app.tools.timeparse import format_stamp

MAX_LIST_ENTRIES = 200
MAX_SEARCH_RESULTS = 100
MAX_SEARCH_SCANNED = 200_000  # entries walked before a search gives up
MAX_READ_BYTES = 20_000  # what read_file returns to the model
MAX_WRITE_CHARS = 1_000_000
MAX_PREVIEW_LINES = 200
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", ".git", ".venv", "venv", ".cache", ".Trash"})
_TEXT_CONTROL = set(b"\t\n\r\f\b\x1b")


# ---------------------------------------------------------------- helpers


def _show(ctx: ToolContext, path: Path) -> str:
    return ctx.confinement.display(path)


def _when(timestamp: float) -> str:
    return format_stamp(datetime.fromtimestamp(timestamp))


def _kind(path: Path) -> str:
    if path.is_symlink():
        return "link"
    return "folder" if path.is_dir() else "file"


def _need(ctx: ToolContext, path: Path, *, folder: bool | None = None) -> None:
    """Fail clearly when `path` is missing or of the wrong kind."""
    if not os.path.lexists(path):
        raise ToolFailed(f"{_show(ctx, path)} does not exist.")
    if folder is True and not path.is_dir():
        raise ToolFailed(f"{_show(ctx, path)} is a file, not a folder.")
    if folder is False and path.is_dir():
        raise ToolFailed(f"{_show(ctx, path)} is a folder, not a file.")


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def _match(name: str, query: str) -> bool:
    """A glob ('*.pdf') or a part of the name ('invoice'), case-insensitive either way."""
    name, query = name.casefold(), query.casefold()
    if any(c in query for c in "*?["):
        return fnmatch.fnmatchcase(name, query)
    return query in name


@dataclass(frozen=True)
class _Text:
    text: str
    truncated: bool


def _read_text(path: Path, limit: int) -> _Text:
    """Read up to `limit` bytes of a text file; ToolFailed for a binary one."""
    with open(path, "rb") as handle:
        raw = handle.read(limit + 4)
    truncated = len(raw) > limit
    raw = raw[:limit] if truncated else raw
    if b"\0" in raw[:8192]:
        raise ToolFailed(_binary_message(path))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _Text(raw.decode("utf-16", "replace"), truncated)
    try:
        return _Text(raw.decode("utf-8-sig"), truncated)
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(raw) - 4:  # a character cut in half at the cap
            return _Text(raw[: exc.start].decode("utf-8-sig"), truncated)
    controls = sum(1 for b in raw if b < 0x20 and b not in _TEXT_CONTROL)
    if controls > len(raw) // 100:
        raise ToolFailed(_binary_message(path))
    return _Text(raw.decode("cp1252", "replace"), truncated)


def _binary_message(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "binary data"
    return (f"{path.name} is not a text file ({kind}); read_file only reads text. "
            "Use open_path to open it in its application.")


def _backup(ctx: ToolContext, path: Path) -> Path:
    """A copy of `path` in AppPaths.backups, kept for undo."""
    stamp = ctx.clock().strftime("%Y%m%dT%H%M%S")
    folder = ctx.paths.backups / f"{stamp}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    shutil.copy2(path, target)
    return target


def _ends_with_newline(content: str) -> str:
    return content if content.endswith("\n") or not content else content + "\n"


def _new_content(ctx: ToolContext, path: Path, content: str, mode: str) -> tuple[str, str]:
    """(old text, new text) of a write, for the diff and for append."""
    if len(content) > MAX_WRITE_CHARS:
        raise ToolFailed(f"That is {len(content)} characters; write_file writes at most {MAX_WRITE_CHARS}.")
    content = _ends_with_newline(content)
    if mode == "create" or not path.exists():
        return "", content
    old = _read_text(path, 10 * MAX_WRITE_CHARS)
    if old.truncated:
        raise ToolFailed(f"{_show(ctx, path)} is too large to change with write_file.")
    if mode == "append":
        joiner = "" if not old.text or old.text.endswith("\n") else "\n"
        return old.text, old.text + joiner + content
    return old.text, content


def _diff(ctx: ToolContext, path: Path, old: str, new: str) -> str:
    shown = _show(ctx, path)
    lines = list(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                      fromfile=f"{shown} (now)", tofile=f"{shown} (after)"))
    if len(lines) > MAX_PREVIEW_LINES:
        lines = lines[:MAX_PREVIEW_LINES] + [f"... {len(lines) - MAX_PREVIEW_LINES} more diff lines\n"]
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _destination(ctx: ToolContext, source: Path, destination: str) -> Path:
    """Where a move or copy lands: into an existing folder, or at the given name."""
    target = ctx.confinement.resolve(destination, follow=True)
    if target.is_dir() and not (source.is_dir() and target == source):
        target = ctx.confinement.resolve(str(target / source.name), follow=False)
    else:
        target = ctx.confinement.resolve(destination, follow=False)
    if os.path.lexists(target):
        raise ToolFailed(f"{_show(ctx, target)} already exists; choose another name or move it away first.")
    if source.is_dir() and (target == source or source in target.parents):
        raise ToolFailed(f"{_show(ctx, source)} cannot go inside itself.")
    return target


def _scope(ctx: ToolContext, *paths: Path, joiner: str = " → ") -> str:
    """The granted folder the call falls in; a call across folders gets all of them, so a rule
    remembered for one folder never covers it."""
    scopes = list(dict.fromkeys(ctx.confinement.scope(p) for p in paths))
    return scopes[0] if len(scopes) == 1 else joiner.join(scopes)


# ---------------------------------------------------------------- read tools


def describe_list_directory(ctx: ToolContext, path: str, pattern: str | None = None) -> Description:
    real = ctx.confinement.resolve(path)
    _need(ctx, real, folder=True)
    suffix = f" matching {pattern}" if pattern else ""
    return Description(f"List {_show(ctx, real)}{suffix}", scope=ctx.confinement.scope(real))


def list_directory(ctx: ToolContext, path: str, pattern: str | None = None) -> ToolResult:
    real = ctx.confinement.resolve(path)
    _need(ctx, real, folder=True)
    show_hidden = bool(pattern and pattern.startswith("."))
    entries = []
    total = 0
    with os.scandir(real) as scan:
        for entry in sorted(scan, key=lambda e: e.name.casefold()):
            if entry.name.startswith(".") and not show_hidden:
                continue
            if pattern and not _match(entry.name, pattern):
                continue
            total += 1
            if len(entries) >= MAX_LIST_ENTRIES:
                continue
            info = entry.stat(follow_symlinks=False)
            kind = "link" if entry.is_symlink() else "folder" if entry.is_dir() else "file"
            item = {"name": entry.name, "type": kind, "modified": _when(info.st_mtime)}
            if kind == "file":
                item["size"] = info.st_size
            entries.append(item)
    shown = _show(ctx, real)
    more = f" (showing the first {len(entries)})" if total > len(entries) else ""
    return ToolResult(
        ok=True,
        output={"folder": shown, "entries": entries, "total": total, "truncated": total > len(entries)},
        text=f"{total} item{'s' if total != 1 else ''} in {shown}{more}",
    )


def describe_search_files(ctx: ToolContext, query: str, folder: str | None = None,
                          modified_within_days: int | None = None) -> Description:
    roots = [ctx.confinement.resolve(folder)] if folder else list(ctx.confinement.roots)
    if folder:
        _need(ctx, roots[0], folder=True)
    where = ", ".join(_show(ctx, r) for r in roots) or "(no granted folders)"
    recent = f", changed in the last {modified_within_days} days" if modified_within_days is not None else ""
    return Description(f"Search for '{query}' in {where}{recent}",
                       scope=_scope(ctx, *roots, joiner=", ") if roots else "")


def search_files(ctx: ToolContext, query: str, folder: str | None = None,
                 modified_within_days: int | None = None) -> ToolResult:
    if not query.strip():
        raise ToolFailed("Say what to search for: part of a file name or a pattern like '*.pdf'.")
    if modified_within_days is not None and modified_within_days < 0:
        raise ToolFailed("modified_within_days cannot be negative.")
    roots = [ctx.confinement.resolve(folder)] if folder else [r for r in ctx.confinement.roots if r.is_dir()]
    if folder:
        _need(ctx, roots[0], folder=True)
    since = (ctx.clock() - timedelta(days=modified_within_days)).timestamp() if modified_within_days is not None else None
    found: list[tuple[float, Path, int]] = []
    scanned = 0
    gave_up = False
    seen: set[Path] = set()
    for root in roots:
        for current, dirs, files in os.walk(root, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
            here = Path(current)
            if here in seen:
                continue
            seen.add(here)
            for name in [*dirs, *sorted(files)]:
                scanned += 1
                if name.startswith(".") or not _match(name, query):
                    continue
                path = here / name
                try:
                    info = path.lstat()
                except OSError:
                    continue
                if since is not None and info.st_mtime < since:
                    continue
                found.append((info.st_mtime, path, info.st_size))
            if scanned > MAX_SEARCH_SCANNED:
                gave_up = True
                break
    found.sort(key=lambda item: -item[0])
    matches = [
        {"path": _show(ctx, p), "type": "folder" if p.is_dir() else "file", "modified": _when(m),
         **({"size": s} if not p.is_dir() else {})}
        for m, p, s in found[:MAX_SEARCH_RESULTS]
    ]
    note = f" (showing the newest {len(matches)})" if len(found) > len(matches) else ""
    note += " (stopped early: too many files; search a smaller folder)" if gave_up else ""
    return ToolResult(
        ok=True,
        output={"query": query, "matches": matches, "total": len(found),
                "truncated": len(found) > len(matches) or gave_up},
        text=f"{len(found)} match{'es' if len(found) != 1 else ''} for '{query}'{note}",
    )


def describe_read_file(ctx: ToolContext, path: str) -> Description:
    real = ctx.confinement.resolve(path)
    _need(ctx, real, folder=False)
    return Description(f"Read {_show(ctx, real)}", scope=ctx.confinement.scope(real))


def read_file(ctx: ToolContext, path: str) -> ToolResult:
    real = ctx.confinement.resolve(path)
    _need(ctx, real, folder=False)
    size = real.stat().st_size
    content = _read_text(real, MAX_READ_BYTES)
    cut = f" (the first {MAX_READ_BYTES // 1000} KB of {_human_size(size)})" if content.truncated else ""
    return ToolResult(
        ok=True,
        output={"path": _show(ctx, real), "content": content.text, "size": size, "truncated": content.truncated},
        text=f"Read {_show(ctx, real)}{cut}",
    )


def describe_file_info(ctx: ToolContext, path: str) -> Description:
    real = ctx.confinement.resolve(path, follow=False)
    _need(ctx, real)
    return Description(f"Show details of {_show(ctx, real)}", scope=ctx.confinement.scope(real))


def file_info(ctx: ToolContext, path: str) -> ToolResult:
    real = ctx.confinement.resolve(path, follow=False)
    _need(ctx, real)
    info = real.lstat()
    kind = _kind(real)
    output: dict[str, object] = {
        "path": _show(ctx, real),
        "type": kind,
        "modified": _when(info.st_mtime),
        "permissions": stat.filemode(info.st_mode),
    }
    if kind == "link":
        output["points_to"] = _show(ctx, Path(os.path.realpath(real)))
    elif kind == "folder":
        with os.scandir(real) as scan:
            output["items"] = sum(1 for _ in scan)
    else:
        output["size"] = info.st_size
        output["size_text"] = _human_size(info.st_size)
        output["kind"] = mimetypes.guess_type(real.name)[0] or "unknown"
    detail = output.get("size_text") or (f"{output['items']} items" if "items" in output else kind)
    return ToolResult(ok=True, output=output, text=f"{_show(ctx, real)}: {kind}, {detail}")


# ---------------------------------------------------------------- write tools


def describe_write_file(ctx: ToolContext, path: str, content: str, mode: str = "create") -> Description:
    real = ctx.confinement.resolve(path)
    shown = _show(ctx, real)
    scope = ctx.confinement.scope(real)
    if mode == "create":
        if os.path.lexists(real):
            raise ToolFailed(f"{shown} already exists; to replace it use mode 'overwrite', to add to it 'append'.")
        text = _ends_with_newline(content)
        lines = text.splitlines()
        preview = "\n".join(lines[:MAX_PREVIEW_LINES]) + (f"\n... {len(lines) - MAX_PREVIEW_LINES} more lines" if len(lines) > MAX_PREVIEW_LINES else "")
        return Description(f"Create {shown} ({len(lines)} line{'s' if len(lines) != 1 else ''})", preview, scope)
    if real.is_dir():
        raise ToolFailed(f"{shown} is a folder, not a file.")
    old, new = _new_content(ctx, real, content, mode)
    verb = "Overwrite" if mode == "overwrite" else "Append to"
    if not real.exists():
        verb = "Create"
    return Description(f"{verb} {shown}", _diff(ctx, real, old, new), scope)


def write_file(ctx: ToolContext, path: str, content: str, mode: str = "create") -> ToolResult:
    real = ctx.confinement.resolve(path)
    shown = _show(ctx, real)
    if real.is_dir():
        raise ToolFailed(f"{shown} is a folder, not a file.")
    if mode == "create" and os.path.lexists(real):
        raise ToolFailed(f"{shown} already exists; to replace it use mode 'overwrite', to add to it 'append'.")
    existed = real.exists()
    old, new = _new_content(ctx, real, content, mode)
    created_dirs = _make_parents(real.parent)
    if existed:
        backup = _backup(ctx, real)
        undo = UndoRecord("restore_backup", {"path": str(real), "backup": str(backup)})
        if mode == "append":
            with open(real, "a", encoding="utf-8") as handle:
                handle.write(new[len(old):])
        else:
            _replace(real, new)
        done = "Appended to" if mode == "append" else "Overwrote"
    else:
        with open(real, "x", encoding="utf-8") as handle:
            handle.write(new)
        undo = UndoRecord("remove_created", {"path": str(created_dirs[0] if created_dirs else real)})
        done = "Created"
    return ToolResult(ok=True, output={"path": shown, "mode": mode, "bytes": len(new.encode())},
                      text=f"{done} {shown}", undo=undo)


def _make_parents(folder: Path) -> list[Path]:
    """Create missing parent folders; return the ones created, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


def _replace(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, keeping its permissions."""
    temp = path.with_name(f".{path.name}.deskmate-{uuid.uuid4().hex[:8]}")
    try:
        temp.write_text(text, encoding="utf-8")
        shutil.copymode(path, temp)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


def describe_create_folder(ctx: ToolContext, path: str) -> Description:
    real = ctx.confinement.resolve(path)
    return Description(f"Create folder {_show(ctx, real)}", scope=ctx.confinement.scope(real))


def create_folder(ctx: ToolContext, path: str) -> ToolResult:
    real = ctx.confinement.resolve(path)
    shown = _show(ctx, real)
    if real.is_dir():
        return ToolResult(ok=True, output={"path": shown, "created": False}, text=f"{shown} already exists")
    if os.path.lexists(real):
        raise ToolFailed(f"{shown} exists and is a file, not a folder.")
    created = _make_parents(real)
    return ToolResult(ok=True, output={"path": shown, "created": True}, text=f"Created folder {shown}",
                      undo=UndoRecord("remove_created", {"path": str(created[0])}))


def describe_move_path(ctx: ToolContext, source: str, destination: str) -> Description:
    src = ctx.confinement.resolve(source, follow=False, allow_root=False)
    _need(ctx, src)
    dst = _destination(ctx, src, destination)
    verb = "Rename" if dst.parent == src.parent else "Move"
    return Description(f"{verb} {_show(ctx, src)} → {_show(ctx, dst)}", scope=_scope(ctx, src, dst))


def move_path(ctx: ToolContext, source: str, destination: str) -> ToolResult:
    src = ctx.confinement.resolve(source, follow=False, allow_root=False)
    _need(ctx, src)
    dst = _destination(ctx, src, destination)
    _make_parents(dst.parent)
    shutil.move(str(src), str(dst))
    return ToolResult(ok=True, output={"source": _show(ctx, src), "destination": _show(ctx, dst)},
                      text=f"Moved {_show(ctx, src)} → {_show(ctx, dst)}",
                      undo=UndoRecord("move_back", {"source": str(src), "destination": str(dst)}))


def describe_copy_path(ctx: ToolContext, source: str, destination: str) -> Description:
    src = ctx.confinement.resolve(source)
    _need(ctx, src)
    dst = _destination(ctx, src, destination)
    return Description(f"Copy {_show(ctx, src)} → {_show(ctx, dst)}", scope=_scope(ctx, src, dst))


def copy_path(ctx: ToolContext, source: str, destination: str) -> ToolResult:
    src = ctx.confinement.resolve(source)
    _need(ctx, src)
    dst = _destination(ctx, src, destination)
    created = _make_parents(dst.parent)
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True)  # links stay links: never copy what lies outside
    else:
        shutil.copy2(src, dst)
    return ToolResult(ok=True, output={"source": _show(ctx, src), "destination": _show(ctx, dst)},
                      text=f"Copied {_show(ctx, src)} → {_show(ctx, dst)}",
                      undo=UndoRecord("remove_created", {"path": str(created[0] if created else dst)}))


def describe_delete_path(ctx: ToolContext, path: str) -> Description:
    real = ctx.confinement.resolve(path, follow=False, allow_root=False)
    _need(ctx, real)
    preview = ""
    if real.is_dir() and not real.is_symlink():
        count = sum(len(files) for _, _, files in os.walk(real))
        preview = f"The folder and the {count} file{'s' if count != 1 else ''} in it go to the trash."
    return Description(f"Move {_show(ctx, real)} to the trash", preview, ctx.confinement.scope(real))


def delete_path(ctx: ToolContext, path: str) -> ToolResult:
    real = ctx.confinement.resolve(path, follow=False, allow_root=False)
    _need(ctx, real)
    item = trashcan.trash(real, ctx.paths.home)
    return ToolResult(ok=True, output={"path": _show(ctx, real), "trashed": True},
                      text=f"Moved {_show(ctx, real)} to the trash",
                      undo=UndoRecord("restore_from_trash",
                                      {"path": str(real), "trash_file": item.file, "info_file": item.info}))


def describe_open_path(ctx: ToolContext, path: str) -> Description:
    real = ctx.confinement.resolve(path)
    _need(ctx, real)
    return Description(f"Open {_show(ctx, real)} with its default application", scope=ctx.confinement.scope(real))


def open_path(ctx: ToolContext, path: str) -> ToolResult:
    real = ctx.confinement.resolve(path)
    _need(ctx, real)
    _open(real, ctx.opener)
    return ToolResult(ok=True, output={"path": _show(ctx, real), "opened": True}, text=f"Opened {_show(ctx, real)}")


# ---------------------------------------------------------------- undo

FILE_UNDO_ACTIONS = frozenset({"restore_backup", "move_back", "restore_from_trash", "remove_created"})


def undo(ctx: ToolContext, record: UndoRecord) -> ToolResult:
    """Reverse a file action; the paths are checked against the granted folders again."""
    data = record.data
    conf = ctx.confinement
    if record.action == "restore_backup":
        path = conf.resolve(data["path"])
        backup = Path(data["backup"])
        if not backup.is_file():
            raise ToolFailed(f"The earlier version of {_show(ctx, path)} is no longer in Deskmate's backups.")
        _make_parents(path.parent)
        shutil.copy2(backup, path)
        return ToolResult(ok=True, output={"path": _show(ctx, path)}, text=f"Restored the earlier {_show(ctx, path)}")
    if record.action == "move_back":
        src = conf.resolve(data["source"], follow=False)
        dst = conf.resolve(data["destination"], follow=False)
        if not os.path.lexists(dst):
            raise ToolFailed(f"{_show(ctx, dst)} is no longer there, so it cannot be moved back.")
        if os.path.lexists(src):
            raise ToolFailed(f"{_show(ctx, src)} exists again; move it away first, then undo.")
        _make_parents(src.parent)
        shutil.move(str(dst), str(src))
        return ToolResult(ok=True, output={"path": _show(ctx, src)}, text=f"Moved {_show(ctx, dst)} back to {_show(ctx, src)}")
    if record.action == "restore_from_trash":
        path = conf.resolve(data["path"], follow=False)
        trashcan.restore(trashcan.Trashed(path, data.get("trash_file", ""), data.get("info_file", "")))
        return ToolResult(ok=True, output={"path": _show(ctx, path)}, text=f"Restored {_show(ctx, path)} from the trash")
    if record.action == "remove_created":
        path = conf.resolve(data["path"], follow=False, allow_root=False)
        if not os.path.lexists(path):
            return ToolResult(ok=True, output={"path": _show(ctx, path)}, text=f"{_show(ctx, path)} is already gone")
        trashcan.trash(path, ctx.paths.home)
        return ToolResult(ok=True, output={"path": _show(ctx, path)}, text=f"Moved {_show(ctx, path)} to the trash")
    raise ToolFailed(f"Deskmate does not know how to undo '{record.action}'.")

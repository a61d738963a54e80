"""Turns after a tool ran: answer the result in a few words, or make the call it calls for.

A tool turn holds what the agent sends back (`app/agent/loop.py`): the tool's output,
`{"ok": false, "error": ...}` when it failed, `{"denied": true, ...}` when the user
declined, written by `tool_result_text`. The outputs below have the shapes the tools in
`app/tools/` return (a test compares them with real runs); run 6 and earlier trained on
hand-made shapes that had drifted from them.
"""

from __future__ import annotations

import random
from datetime import timedelta

from app.agent.loop import result_for_model
from app.calls import ToolCall, ToolResult
from app.prompt.render import Message, tool_result_text
from app.tools.catalog import Catalog
from app.tools.timeparse import format_span, format_stamp

from training.data.catalog_gen import (BUILDERS, DAYS, PROCS, STEMS, TITLES, b_list_directory, b_list_events, clock,
                                       file_name, folder_in, polite, random_context, typo)
from training.data.common import Example, conversation, say


def _fmt_list(items: list[str], limit: int = 4) -> str:
    if len(items) <= limit:
        return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


def _tool_turn(result) -> Message:
    return Message("tool", tool_result_text(result))


def _file_entry(rng, ctx, key: str, value: str) -> dict:
    """An entry as list_directory / search_files give it."""
    modified = ctx.now - timedelta(minutes=rng.randint(5, 90 * 24 * 60))
    return {key: value, "type": "file", "modified": format_stamp(modified), "size": rng.randint(200, 5_000_000)}


def _failed(error: str, **output) -> dict:
    """What the agent sends back for a failed call: the error, and the output when the tool gave one."""
    return result_for_model(ToolResult(ok=False, output=output or None, error=error))


def _listing(rng, ctx):
    req, ans, _ = b_list_directory(rng, ctx)
    folder = ans.calls[0].arguments["path"]
    n = rng.choice((0, 1, 2, 3, 5, 8))
    names = list(dict.fromkeys(file_name(rng) for _ in range(n)))
    entries = [_file_entry(rng, ctx, "name", x) for x in names]
    result = {"folder": folder, "entries": entries, "total": len(entries), "truncated": False}
    if not names:
        text = f"{folder} is empty." if "pattern" not in ans.calls[0].arguments else "No matching files there."
    else:
        text = f"{len(names)} item{'s' if len(names) > 1 else ''} in {folder}: {_fmt_list(names)}."
    return req, ans, result, text


def _events(rng, ctx):
    req, ans, _ = b_list_events(rng, ctx)
    day = ctx.now.replace(hour=0, minute=0)
    events = []
    for h in sorted(rng.sample(range(8, 19), rng.choice((0, 1, 2, 3)))):
        start = day.replace(hour=h)
        end = start + timedelta(minutes=rng.choice((30, 45, 60)))
        events.append({"title": rng.choice(TITLES), "start": format_stamp(start), "end": format_stamp(end),
                       "when": format_span(start, end, ctx.now)})
    result = {"from": format_stamp(day), "to": format_stamp(day + timedelta(days=1)), "events": events}
    if not events:
        text = rng.choice(("Nothing on your calendar then.", "You're free: no events then."))
    else:
        text = "You have " + _fmt_list([f"{e['start'][11:16]} {e['title']}" for e in events]) + "."
    return req, ans, result, text


def _status(rng, ctx):
    cpu = rng.randint(2, 99)
    mem_total = rng.choice((8.0, 15.5, 16.0, 31.3, 32.0))
    mem_used = round(rng.uniform(1.5, mem_total - 0.5), 1)
    disk_total = rng.choice((228.3, 251.0, 465.6, 931.5))
    free = round(rng.uniform(3, disk_total - 20), 1)
    result = {"cpu_percent": float(cpu), "cpu_count": rng.choice((2, 4, 8, 12)),
              "memory": {"total_gb": mem_total, "used_gb": mem_used, "available_gb": round(mem_total - mem_used, 1),
                         "percent": round(100 * mem_used / mem_total, 1)},
              "disk": {"path": "~", "total_gb": disk_total, "used_gb": round(disk_total - free, 1), "free_gb": free,
                       "percent": round(100 * (disk_total - free) / disk_total, 1)},
              "uptime": f"{rng.randint(1, 23)} h {rng.randint(0, 59)} min"}
    if rng.random() < 0.8:
        result["load_average"] = [round(rng.uniform(0.1, 4), 2) for _ in range(3)]
    asks = ["how much disk is free", "how's the cpu", "how much memory is free"]
    if rng.random() < 0.6:
        bat, plugged = rng.randint(5, 100), rng.random() < 0.5
        result["battery"] = {"percent": bat, "plugged_in": plugged}
        asks.append("battery?")
    req = rng.choice(asks)
    if req.startswith("battery"):
        text = f"Battery is at {bat}%" + (", charging." if plugged else ", on battery power.")
    elif "disk" in req:
        text = f"{free:g} GB free of {disk_total:g} GB."
    elif "memory" in req:
        text = f"{result['memory']['available_gb']:g} GB of {mem_total:g} GB memory is free."
    else:
        text = f"CPU is at {cpu}%."
    return req, ToolCall("system_status", {}), result, text


def _command(rng, ctx):
    req, ans, _ = BUILDERS["run_command"](rng, ctx)
    c = ans.calls[0]
    ok = rng.random() < 0.7
    output = {"command": c.arguments["command"], "cwd": c.arguments.get("cwd", "~"), "exit_code": 0 if ok else 1,
              "stdout": "Already up to date.\n" if ok else "", "stderr": "" if ok else "fatal: not a git repository\n",
              "timed_out": False, "truncated": False}
    if ok:
        return req, c, output, "Done, it finished without errors: Already up to date."
    result = _failed("The command exited with code 1.", **output)
    return req, c, result, "It failed (exit code 1): fatal: not a git repository. Is that the right folder?"


def _error(rng, ctx):
    tool = rng.choice(("read_file", "delete_path", "open_path", "file_info", "move_path"))
    req, ans, _ = BUILDERS[tool](rng, ctx)
    c = ans.calls[0]
    path = c.arguments.get("path") or c.arguments.get("source")
    kind = rng.random()
    if kind < 0.5:
        result = _failed(f"{path} does not exist.")
        text = rng.choice((f"I couldn't find {path}. Check the name, or ask me to search for it.",
                           f"{path} doesn't exist. Want me to search for a similar name?"))
    elif kind < 0.8:
        # Exactly what app/agent/loop.py sends back for a denial.
        result = {"denied": True, "reason": rng.choice(("The user denied this call.", "not now", "wrong file"))}
        text = rng.choice(("Okay, I won't do it.", "Understood, nothing was changed.", "Alright, cancelled."))
    else:
        result = _failed(f"Permission denied: {path}")
        text = f"I wasn't allowed to touch {path}: permission denied."
    return req, c, result, text


NOTES = ("buy milk", "call the landlord about the heating", "Wi-Fi password: on the fridge",
         "ship v2.1 on Friday, then write the release notes", "pick up the dry cleaning before 6")


def _read(rng, ctx):
    """A file read: answer with what it says."""
    req, ans, _ = BUILDERS["read_file"](rng, ctx)
    path = ans.calls[0].arguments["path"]
    note = rng.choice(NOTES)
    result = {"path": path, "content": note + "\n", "size": len(note.encode()) + 1, "truncated": False}
    text = rng.choice((f"It says: \"{note}\"", f"{path} says: {note}", f"Just one line: {note}"))
    return req, ans, result, text


def _done(rng, ctx):
    tool = rng.choice(("create_event", "write_file", "create_folder", "move_path", "delete_path", "kill_process"))
    req, ans, _ = BUILDERS[tool](rng, ctx)
    c = ans.calls[0]
    a = c.arguments
    if tool == "create_event":
        start = ctx.now.replace(hour=15, minute=0)
        end = start + timedelta(minutes=a.get("duration_minutes", 60))
        event = {"title": a["title"], "start": format_stamp(start), "end": format_stamp(end),
                 "when": format_span(start, end, ctx.now)}
        result, text = {"created": event}, f"Done: {a['title']} is on your calendar."
    elif tool == "write_file":
        result = {"path": a["path"], "mode": a.get("mode", "create"), "bytes": len(a["content"].encode())}
        text = f"Saved {a['path']}."
    elif tool == "create_folder":
        result, text = {"path": a["path"], "created": True}, f"Created {a['path']}."
    elif tool == "move_path":
        result, text = {"source": a["source"], "destination": a["destination"]}, f"Moved to {a['destination']}."
    elif tool == "delete_path":
        result, text = {"path": a["path"], "trashed": True}, f"{a['path']} is in the trash; you can undo this."
    else:
        pid = a.get("pid") or rng.randint(300, 9999)
        name = a.get("name") or rng.choice(PROCS)
        result, text = {"pid": pid, "name": name, "stopped": True}, f"Stopped {a.get('name') or pid}."
    return req, c, result, text


ANSWERS = (_listing, _events, _status, _command, _error, _done, _error, _done, _read)


def answer_examples(rng: random.Random, catalog: Catalog, n: int) -> list[Example]:
    """user -> call -> tool result -> short answer in words."""
    out = []
    for i in range(n):
        maker = rng.choice(ANSWERS)
        groups, ctx = random_context(rng, None)
        req, c, result, text = maker(rng, ctx)
        if isinstance(c, Message):
            c = c.calls[0]
        groups = tuple(g for g in ("files", "calendar", "shell", "system") if g in set(groups) | {catalog.get(c.name).group})
        msgs = [Message("user", polite(rng, req)), Message("assistant", calls=(c,)), _tool_turn(result)]
        out.append(Example(conversation(catalog, groups, ctx, msgs), say(text), "history", f"ha-{i}"))
    return out


def chain_examples(rng: random.Random, catalog: Catalog, n: int) -> list[Example]:
    """A result that calls for a second call: found by search -> open/read/delete/move; pid by name -> kill."""
    out = []
    for i in range(n):
        groups, ctx = random_context(rng, "files")
        r = rng.random()
        if r < 0.75:
            stem = rng.choice(STEMS).split()[0].lower()
            verb, tool = rng.choice((("open", "open_path"), ("read", "read_file"), ("delete", "delete_path"),
                                     ("how big is", "file_info")))
            req = f"{verb} my {stem} file"
            first = ToolCall("search_files", {"query": stem})
            folder = folder_in(rng, ctx.folders)
            matches = [f"{folder}/{stem}{rng.choice(('', '_v2', ' final'))}.{rng.choice(('txt', 'md', 'pdf'))}"]
            if rng.random() < 0.25:
                matches = []
                answer = say(f"I found no file with '{stem}' in its name. Where might it be?")
            elif rng.random() < 0.2:
                other = matches[0].replace(stem, stem + "_old")
                answer = say(f"I found two: {matches[0]} and {other}. Which one?")
                matches.append(other)
            else:
                answer = Message("assistant", calls=(ToolCall(tool, {"path": matches[0]}),))
            result = {"query": stem, "matches": [_file_entry(rng, ctx, "path", m) for m in matches],
                      "total": len(matches), "truncated": False}
            tool_group = "files"
        else:
            name = rng.choice(PROCS)
            req = f"kill the {name} that's eating memory"
            first = ToolCall("list_processes", {"sort_by": "memory", "name": name})
            pid = rng.randint(300, 99999)
            procs = [{"pid": pid, "name": name, "user": "me", "cpu_percent": 3.1, "memory_mb": 2300.4, "command": name},
                     {"pid": pid + 7, "name": name, "user": "me", "cpu_percent": 0.2, "memory_mb": 120.0, "command": name}]
            result = {"sort_by": "memory", "total": 2, "processes": procs}
            answer = Message("assistant", calls=(ToolCall("kill_process", {"pid": pid}),))
            tool_group = "system"
        groups = tuple(g for g in ("files", "calendar", "shell", "system") if g in set(groups) | {tool_group})
        msgs = [Message("user", polite(rng, typo(rng, req))), Message("assistant", calls=(first,)), _tool_turn(result)]
        out.append(Example(conversation(catalog, groups, ctx, msgs), answer, "chain", f"ch-{i}"))
    return out


def followup_examples(rng: random.Random, catalog: Catalog, n: int) -> list[Example]:
    """An earlier, finished exchange, then a new request: the new one decides the answer."""
    out = []
    names = list(BUILDERS)
    for i in range(n):
        groups, ctx = random_context(rng, None)
        prev = rng.choice(ANSWERS)(rng, ctx)
        req0, c0, result0, text0 = prev
        if isinstance(c0, Message):
            c0 = c0.calls[0]
        tool = rng.choice(names)
        req, ans, need = BUILDERS[tool](rng, ctx)
        groups = tuple(g for g in ("files", "calendar", "shell", "system")
                       if g in set(groups) | {need, catalog.get(c0.name).group})
        msgs = [Message("user", polite(rng, req0)), Message("assistant", calls=(c0,)), _tool_turn(result0),
                Message("assistant", text0), Message("user", polite(rng, typo(rng, req)))]
        out.append(Example(conversation(catalog, groups, ctx, msgs), ans, "followup", f"fu-{i}"))
    return out


ORDINALS = ("first", "second", "third", "fourth", "fifth")


def _pick(rng, items: list, words: str, key=None, most: str = "", least: str = "") -> tuple[int, str]:
    """(index, how the user points at it): an ordinal, 'the last', or a superlative over `key`."""
    r = rng.random()
    if key and r < 0.45:
        if rng.random() < 0.7 or not least:
            return max(range(len(items)), key=lambda i: key(items[i])), most
        return min(range(len(items)), key=lambda i: key(items[i])), least
    if r < 0.6:
        return len(items) - 1, f"the last {words}"
    i = rng.randrange(len(items))
    return i, f"the {ORDINALS[i]} {words}"


def _ref_events(rng, ctx):
    """'what's on Friday' -> three events -> 'cancel the second one' / 'move the last meeting to 4pm'."""
    when = rng.choice(("tomorrow", *DAYS))
    ahead = 1 if when == "tomorrow" else (DAYS.index(when) - ctx.now.weekday()) % 7 or 7
    day = ctx.now.replace(hour=0, minute=0) + timedelta(days=ahead)
    titles = rng.sample(TITLES, rng.randint(2, 4))
    hours = sorted(rng.sample(range(8, 19), len(titles)))
    events = []
    for title, h in zip(titles, hours):
        start = day.replace(hour=h, minute=rng.choice((0, 0, 30)))
        end = start + timedelta(minutes=rng.choice((30, 45, 60)))
        events.append({"title": title, "start": format_stamp(start), "end": format_stamp(end),
                       "when": format_span(start, end, ctx.now)})
    first = ToolCall("list_events", {"start": when})
    result = {"from": format_stamp(day), "to": format_stamp(day + timedelta(days=1)), "events": events}
    text = f"{when.capitalize()}: " + _fmt_list([f"{e['title']} at {e['start'][11:16]}" for e in events]) + "."
    i, ref = _pick(rng, events, rng.choice(("one", "meeting", "event", "thing")))
    if rng.random() < 0.3:
        ref = f"the {events[i]['start'][11:16].lstrip('0')} one"
    on = {} if when == "tomorrow" else {"on": when}
    if rng.random() < 0.5:
        req = rng.choice((f"cancel {ref}", f"delete {ref}", f"drop {ref}", f"remove {ref} from my calendar"))
        answer = ToolCall("delete_event", {"event": events[i]["title"], **on})
    else:
        t_sp, t_c = clock(rng)
        req = rng.choice((f"move {ref} to {t_sp}", f"push {ref} to {t_sp}", f"make {ref} start at {t_sp}"))
        answer = ToolCall("update_event", {"event": events[i]["title"], **on, "new_start": f"{when} at {t_c}"})
    return "what's on " + when, first, result, text, req, answer, "calendar"


def _ref_processes(rng, ctx):
    """'show chrome processes' -> three pids -> 'kill the one using the most memory'."""
    name = rng.choice(PROCS)
    pids = sorted(rng.sample(range(300, 99999), rng.randint(2, 5)))
    procs = [{"pid": p, "name": name, "user": "me", "cpu_percent": round(rng.uniform(0, 60), 1),
              "memory_mb": round(rng.uniform(50, 4000), 1), "command": name} for p in pids]
    procs.sort(key=lambda p: -p["cpu_percent"])  # as the tool lists them by default
    first = ToolCall("list_processes", {"name": name})
    result = {"sort_by": "cpu", "total": len(procs), "processes": procs}
    shown = [f"{p['pid']} ({p['memory_mb']:.0f} MB)" for p in procs]
    text = f"{len(procs)} {name} processes: {_fmt_list(shown, 5)}."
    if rng.random() < 0.5:
        i, ref = _pick(rng, procs, "one", lambda p: p["memory_mb"], rng.choice((
            "the one using the most memory", "the biggest one", "the one eating all the ram")),
            "the smallest one")
    else:
        i, ref = _pick(rng, procs, "one", lambda p: p["cpu_percent"], rng.choice((
            "the one using the most cpu", "the busiest one")), "the idlest one")
    req = rng.choice((f"kill {ref}", f"stop {ref}", f"end {ref}", f"force quit {ref}"))
    answer = ToolCall("kill_process", {"pid": procs[i]["pid"]})
    return f"show {name} processes", first, result, text, req, answer, "system"


def _ref_files(rng, ctx):
    """'what's in Downloads' -> four files -> 'open the biggest one' / 'delete the second file'."""
    folder = folder_in(rng, ctx.folders)
    names = list(dict.fromkeys(file_name(rng) for _ in range(rng.randint(2, 5))))
    if len(names) < 2:
        names.append("notes.txt" if names[0] != "notes.txt" else "todo.md")
    entries = [_file_entry(rng, ctx, "name", x) for x in names]
    first = ToolCall("list_directory", {"path": folder})
    result = {"folder": folder, "entries": entries, "total": len(entries), "truncated": False}
    text = f"{len(names)} items in {folder}: {_fmt_list(names, 5)}."
    if rng.random() < 0.5:
        i, ref = _pick(rng, entries, "file", lambda e: e["size"], "the biggest one", "the smallest file")
    else:
        i, ref = _pick(rng, entries, "file", lambda e: e["modified"], "the newest one", "the oldest file")
    verb, tool = rng.choice((("open", "open_path"), ("delete", "delete_path"), ("trash", "delete_path"),
                             ("how big is", "file_info"), ("show me", "open_path")))
    return (f"what's in {folder}", first, result, text, f"{verb} {ref}",
            ToolCall(tool, {"path": f"{folder}/{names[i]}"}), "files")


REFERENCES = (_ref_events, _ref_processes, _ref_files)


def reference_examples(rng: random.Random, catalog: Catalog, n: int) -> list[Example]:
    """A listing answered in words, then a request that points back at one of its items: 'cancel the second
    one', 'kill the one using the most memory', 'open the newest file'. The call names that item exactly.

    Why: the follow-ups above are new requests, unrelated to what came before; the dev split's misses of
    run 16's time were follow-ups like these (the pid of the wrong chrome, the first meeting for the second).
    """
    out = []
    for i in range(n):
        groups, ctx = random_context(rng, "files")
        req0, first, result, text, req, answer, need = rng.choice(REFERENCES)(rng, ctx)
        groups = tuple(g for g in ("files", "calendar", "shell", "system") if g in set(groups) | {need})
        msgs = [Message("user", polite(rng, req0)), Message("assistant", calls=(first,)), _tool_turn(result),
                Message("assistant", text), Message("user", polite(rng, typo(rng, req)))]
        out.append(Example(conversation(catalog, groups, ctx, msgs), Message("assistant", calls=(answer,)),
                           "reference", f"ref-{i}"))
    return out

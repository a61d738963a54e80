"""Turns after a tool ran: answer the result in a few words, or make the call it calls for.

A tool turn holds the tool's JSON output (or `{"error": ...}` when it failed or the
user declined), written by `tool_result_text`, exactly as the agent writes it.
"""

from __future__ import annotations

import random

from app.calls import ToolCall
from app.prompt.render import Message, tool_result_text
from app.tools.catalog import Catalog

from training.data.catalog_gen import (BUILDERS, PROCS, STEMS, TITLES, b_list_directory, b_list_events,
                                       file_name, folder_in, polite, random_context, typo)
from training.data.common import Example, conversation, say


def _fmt_list(items: list[str], limit: int = 4) -> str:
    if len(items) <= limit:
        return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


def _tool_turn(result) -> Message:
    return Message("tool", tool_result_text(result))


def _listing(rng, ctx):
    req, ans, _ = b_list_directory(rng, ctx)
    folder = ans.calls[0].arguments["path"]
    n = rng.choice((0, 1, 2, 3, 5, 8))
    names = list(dict.fromkeys(file_name(rng) for _ in range(n)))
    result = {"path": folder, "entries": [{"name": x, "type": "file", "size": rng.randint(200, 5_000_000)} for x in names]}
    if not names:
        text = f"{folder} is empty." if "pattern" not in ans.calls[0].arguments else "No matching files there."
    else:
        text = f"{len(names)} item{'s' if len(names) > 1 else ''} in {folder}: {_fmt_list(names)}."
    return req, ans, result, text


def _events(rng, ctx):
    req, ans, _ = b_list_events(rng, ctx)
    n = rng.choice((0, 1, 2, 3))
    events = []
    for _ in range(n):
        h = rng.randint(8, 18)
        events.append({"title": rng.choice(TITLES), "start": f"{ctx.now:%Y-%m-%d}T{h:02d}:00", "end": f"{ctx.now:%Y-%m-%d}T{h:02d}:45"})
    events.sort(key=lambda e: e["start"])
    result = {"events": events}
    if not events:
        text = rng.choice(("Nothing on your calendar then.", "You're free: no events then."))
    else:
        text = "You have " + _fmt_list([f"{e['start'][11:16]} {e['title']}" for e in events]) + "."
    return req, ans, result, text


def _status(rng, ctx):
    bat = rng.randint(5, 100)
    free = rng.randint(3, 400)
    cpu = rng.randint(2, 99)
    result = {"cpu_percent": cpu, "memory": {"used_gb": 9.1, "total_gb": 16}, "disk": {"free_gb": free, "total_gb": 512},
              "battery": {"percent": bat, "plugged": rng.random() < 0.5}, "uptime_h": rng.randint(1, 300)}
    req = rng.choice(("battery?", "how much disk is free", "how's the cpu"))
    if req.startswith("battery"):
        text = f"Battery is at {bat}%" + (", charging." if result["battery"]["plugged"] else ", on battery power.")
    elif "disk" in req:
        text = f"{free} GB free of 512 GB."
    else:
        text = f"CPU is at {cpu}%."
    return req, ToolCall("system_status", {}), result, text


def _command(rng, ctx):
    req, ans, _ = BUILDERS["run_command"](rng, ctx)
    ok = rng.random() < 0.7
    result = {"exit_code": 0 if ok else 1, "stdout": "Already up to date.\n" if ok else "", "stderr": "" if ok else "fatal: not a git repository\n"}
    text = "Done, it finished without errors: Already up to date." if ok else "It failed (exit code 1): fatal: not a git repository. Is that the right folder?"
    return req, ans.calls[0], result, text


def _error(rng, ctx):
    tool = rng.choice(("read_file", "delete_path", "open_path", "file_info", "move_path"))
    req, ans, _ = BUILDERS[tool](rng, ctx)
    c = ans.calls[0]
    path = c.arguments.get("path") or c.arguments.get("source")
    kind = rng.random()
    if kind < 0.5:
        result = {"error": f"No such file: {path}"}
        text = rng.choice((f"I couldn't find {path}. Check the name, or ask me to search for it.",
                           f"{path} doesn't exist. Want me to search for a similar name?"))
    elif kind < 0.8:
        # Exactly what app/agent/loop.py sends back for a denial.
        result = {"denied": True, "reason": rng.choice(("The user denied this call.", "not now", "wrong file"))}
        text = rng.choice(("Okay, I won't do it.", "Understood, nothing was changed.", "Alright, cancelled."))
    else:
        result = {"error": f"Permission denied: {path}"}
        text = f"I wasn't allowed to touch {path}: permission denied."
    return req, c, result, text


def _done(rng, ctx):
    tool = rng.choice(("create_event", "write_file", "create_folder", "move_path", "delete_path", "kill_process"))
    req, ans, _ = BUILDERS[tool](rng, ctx)
    c = ans.calls[0]
    a = c.arguments
    if tool == "create_event":
        result, text = {"ok": True, "title": a["title"], "start": f"{ctx.now:%Y-%m-%d}T15:00"}, f"Done: {a['title']} is on your calendar."
    elif tool == "write_file":
        result, text = {"ok": True, "path": a["path"]}, f"Saved {a['path']}."
    elif tool == "create_folder":
        result, text = {"ok": True, "path": a["path"]}, f"Created {a['path']}."
    elif tool == "move_path":
        result, text = {"ok": True, "destination": a["destination"]}, f"Moved to {a['destination']}."
    elif tool == "delete_path":
        result, text = {"ok": True, "trashed": a["path"]}, f"{a['path']} is in the trash; you can undo this."
    else:
        who = a.get("name") or a.get("pid")
        result, text = {"ok": True, "stopped": [{"pid": rng.randint(300, 9999), "name": str(who)}]}, f"Stopped {who}."
    return req, c, result, text


ANSWERS = (_listing, _events, _status, _command, _error, _done, _error, _done)


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
                result = {"matches": []}
                answer = say(f"I found no file with '{stem}' in its name. Where might it be?")
            elif rng.random() < 0.2:
                other = matches[0].replace(stem, stem + "_old")
                result = {"matches": [matches[0], other]}
                answer = say(f"I found two: {matches[0]} and {other}. Which one?")
            else:
                result = {"matches": matches}
                answer = Message("assistant", calls=(ToolCall(tool, {"path": matches[0]}),))
            tool_group = "files"
        else:
            name = rng.choice(PROCS)
            req = f"kill the {name} that's eating memory"
            first = ToolCall("list_processes", {"sort_by": "memory", "name": name})
            pid = rng.randint(300, 99999)
            result = {"processes": [{"pid": pid, "name": name, "cpu": 3.1, "memory_mb": 2300}, {"pid": pid + 7, "name": name, "cpu": 0.2, "memory_mb": 120}]}
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

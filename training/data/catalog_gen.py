"""Templated requests over the 19 catalog tools, with the intended call or answer.

The templates teach what the pilots got wrong: the intended value, not the typed one
("ideas dot txt" -> "ideas.txt", "mvoe" is a verb, not a file), no optional argument
nobody asked for, the user's own time expression, refusal in words when the needed
group is not granted (or the shell command that does it, when the shell is granted)
or the path lies outside the granted folders, and asking back
when the request is too vague. Every request is assembled from parts, so the seed
sentences are never copied.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Callable

from app.calls import ToolCall
from app.prompt.render import Context, Message
from app.tools.catalog import Catalog

from training.data.common import (Example, GROUPS, call, calls, conversation, not_granted_text, random_folders,
                                  random_groups, random_home, random_now, say)

# --- vocabulary ---------------------------------------------------------------------------------

STEMS = ("report", "notes", "Q3 budget", "résumé", "meeting notes", "invoice-4471", "draft v2", "todo", "thesis",
         "tax return 2025", "Präsentation", "café menu", "photo_001", "budget", "ideas", "README", "contract",
         "grocery list", "plan", "Angebot", "日记", "слайды", "project plan", "cover letter", "receipts", "backup",
         "summary", "minutes 2026-03-02", "Lebenslauf", "recipe", "old_notes", "scan 12", "untitled", "data",
         "family photo", "trip itinerary", "weekly report", "math homework", "wedding list", "setup")
EXTS = ("txt", "md", "pdf", "docx", "csv", "xlsx", "png", "jpg", "py", "json", "zip", "pptx", "log", "odt")
TEXT_EXTS = ("txt", "md", "csv", "py", "json", "log")
SUBDIRS = ("Invoices", "Taxes", "Old", "2026", "Archive", "Photos", "Scripts", "Drafts", "Reports", "Trip to Lisbon",
           "Receipts", "School", "Clients", "Misc", "new folder", "Fotos Sommer", "Bewerbung", "src", "app", "site",
           # lower-case names are copied as written (run 9 wrote "~/Sites/blog" for "~/sites/blog")
           "reports", "blog", "rust-playground", "data", "old-stuff", "photos 2024", "invoices", "tmp")
TITLES = ("Lunch with Sam", "Dentist", "Team standup", "Call with Ingrid", "Budget review", "Yoga", "Piano lesson",
          "1:1 with Priya", "Design review", "Dinner with Léa", "Flight to Oslo", "Project kickoff", "Haircut",
          "Parent-teacher meeting", "Gym", "Coffee with Omar", "Sprint planning", "Doctor appointment",
          "Book club", "Interview with Chen", "Car service", "Birthday party", "Board meeting", "Tennis")
PLACES = ("Room 4B", "Café Central", "the office", "Zoom", "Building 2", "Main Street 12", "the library", "home")
PROCS = ("chrome", "firefox", "slack", "zoom", "spotify", "node", "python", "java", "docker", "code", "teams",
         "discord", "steam", "vlc", "thunderbird", "postgres")
NAMES = ("Sam", "Priya", "Omar", "Ana", "Tom", "Kim", "Marco", "Léa", "Jonas", "Mei", "Rafa", "Olga", "Chen")

VERB_TYPOS = {"move": ("mvoe", "mov"), "delete": ("delte", "dlete"), "copy": ("cpoy", "coppy"),
              "create": ("creat", "craete"), "list": ("lsit",), "show": ("shwo", "sho"), "open": ("opne",),
              "search": ("serach", "seach"), "find": ("fnid",), "read": ("raed",), "rename": ("renmae",),
              "schedule": ("shedule", "schedul"), "cancel": ("cancle",), "calendar": ("calender",),
              "please": ("pls", "plz", "pleaes"), "folder": ("fodler", "foler"), "what's": ("whats", "wats")}

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def polite(rng: random.Random, text: str) -> str:
    """Wrap a request in a random register: terse, polite, chatty, lower case, shouted."""
    pre = rng.choice(("", "", "", "please ", "can you ", "could you ", "hey, ", "quick one: ", "I need you to ",
                      "would you ", "pls "))
    post = rng.choice(("", "", "", " please", " thanks", "?", " asap", " for me", "!", " real quick"))
    out = pre + text + post
    r = rng.random()
    if r < 0.25:
        out = out.lower()
    elif r < 0.3:
        out = out.upper()
    elif r < 0.6:
        out = out[0].upper() + out[1:]
    return out


def typo(rng: random.Random, text: str, p: float = 0.25) -> str:
    """Misspell command words (never arguments) now and then."""
    if rng.random() > p:
        return text
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if w.lower() in VERB_TYPOS]
    if not idx:
        return text
    i = rng.choice(idx)
    words[i] = rng.choice(VERB_TYPOS[words[i].lower()])
    return " ".join(words)


DOTFILES = (".env", ".bashrc", ".zshrc", ".gitignore", ".DS_Store", ".npmrc", ".vimrc", ".profile",
            ".editorconfig", ".env.local", ".prettierrc", ".python-version")
MULTI_DOT = ("config.yaml.orig", "data.tar.gz", "notes.v2.md", "backup.2026-03-01.zip", "app.min.js", "report.final.pdf")


def file_name(rng: random.Random, exts=EXTS) -> str:
    """A file name as users have them: spaces, unicode, and now and then a dotfile or several dots."""
    r = rng.random()
    if r < 0.06:
        return rng.choice(DOTFILES)  # the leading dot is part of the name and must be kept
    if r < 0.09:
        return rng.choice(MULTI_DOT)
    stem = rng.choice(STEMS)
    if rng.random() < 0.15:
        stem = stem.replace(" ", "_")
    return f"{stem}.{rng.choice(exts)}"


def spoken_name(rng: random.Random, name: str) -> str:
    """How a user may dictate a file name: 'ideas dot txt'."""
    if rng.random() < 0.25 and "." in name[1:] and name.count(".") == 1:
        stem, ext = name.rsplit(".", 1)
        return f"{stem} dot {ext}"
    return name


def folder_in(rng: random.Random, folders: tuple[str, ...]) -> str:
    base = rng.choice(folders)
    if base == "~":
        if rng.random() < 0.12:  # files right in the home folder (~/.bashrc) are inside a grant of "~"
            return base
        base = rng.choice(("~/Documents", "~/Downloads", "~/Desktop", "~/Pictures", "~/Projects", "~/sites", "~/datasets",
                           "~/code", "~/work", "~/notes"))
    if rng.random() < 0.35:
        base += "/" + rng.choice(SUBDIRS)
    return base


def say_folder(rng: random.Random, folder: str) -> str:
    """The words a user may use for a folder: '~/Documents', 'my documents', 'Documents folder'."""
    parts = folder.split("/")
    if len(parts) == 2 and rng.random() < 0.55:
        name = parts[1]
        return rng.choice((f"my {name.lower()}", f"my {name} folder", f"{name.lower()} folder", f"the {name} folder",
                           f"{name}"))
    if len(parts) == 3 and rng.random() < 0.3:
        return f"the {parts[2]} folder in {parts[1]}"
    return folder


# --- times --------------------------------------------------------------------------------------


def _hhmm(minutes: int) -> str:
    """Minutes after midnight as the canonical clock time: 630 -> '10:30am'."""
    h, m = divmod(minutes, 60)
    return f"{h % 12 or 12}{':%02d' % m if m else ''}{'am' if h < 12 else 'pm'}"


def clock(rng: random.Random) -> tuple[str, str]:
    """(spoken, canonical) time of day: ('3', '3pm'), ('15:30', '3:30pm'), ('noon', '12pm')."""
    hour = rng.choice((8, 9, 9, 10, 10, 11, 12, 13, 14, 14, 15, 15, 16, 17, 18, 19, 20))
    minute = rng.choice((0, 0, 0, 0, 30, 30, 15, 45))
    h12 = hour % 12 or 12
    ampm = "am" if hour < 12 else "pm"
    canon = _hhmm(hour * 60 + minute)
    style = rng.random()
    if hour == 12 and minute == 0 and style < 0.5:
        return "noon", "12pm"
    if style < 0.3:
        return canon, canon
    if style < 0.5:
        return f"{hour:02d}:{minute:02d}", canon
    if style < 0.65:
        return f"{h12}:{minute:02d} {ampm.upper()}", canon
    if style < 0.8 and 1 <= h12 <= 7 and ampm == "pm":
        return (f"{h12}:{minute:02d}" if minute else str(h12)), canon  # "at 3" means the afternoon
    return f"{h12}{':%02d' % minute if minute else ''} {ampm}", canon


def _hour(canon: str) -> float:
    """Hour of day of a canonical '3:30pm' (for ordering a span)."""
    body, ampm = canon[:-2], canon[-2:]
    h, _, m = body.partition(":")
    return (int(h) % 12 + (12 if ampm == "pm" else 0)) + (int(m) / 60 if m else 0)


def day(rng: random.Random, now: datetime) -> tuple[str, str]:
    """(spoken, canonical) day: ('tmrw', 'tomorrow'), ('next fri', 'next Friday'), ('Dec 3', 'Dec 3')."""
    r = rng.random()
    if r < 0.2:
        return rng.choice((("today", "today"), ("this afternoon", "today"), ("tonight", "today")))
    if r < 0.4:
        return rng.choice((("tomorrow", "tomorrow"), ("tmrw", "tomorrow"), ("tomorrow", "tomorrow"), ("tmr", "tomorrow")))
    if r < 0.6:
        d = rng.choice(DAYS)
        return rng.choice(((d, d), (d.lower(), d), (f"on {d}", d), (d[:3].lower(), d)))
    if r < 0.72:
        d = rng.choice(DAYS)
        return f"next {d.lower()}", f"next {d}"
    if r < 0.88:
        m = rng.randrange(12)
        dd = rng.randint(1, 28)
        return rng.choice(((f"{MONTHS[m]} {dd}", f"{MONTHS[m]} {dd}"), (f"{dd} {MONTHS[m]}", f"{MONTHS[m]} {dd}"),
                           (f"{MONTHS[m].lower()} {dd}", f"{MONTHS[m]} {dd}")))
    y = now.year + (1 if rng.random() < 0.3 else 0)
    m = rng.randint(1, 12)
    dd = rng.randint(1, 28)
    return f"{y}-{m:02d}-{dd:02d}", f"{y}-{m:02d}-{dd:02d}"


def _whole_day(spoken_day: str) -> str:
    """'tonight' and 'this afternoon' name a part of the day: with a clock time it is just 'today'."""
    return "today" if spoken_day in ("tonight", "this afternoon") else spoken_day


def _day_at(day_canon: str, time_canon: str) -> str:
    """The canonical start: 'Friday at 3pm', or '2026-03-16 3pm' after an ISO date."""
    return f"{day_canon} {time_canon}" if day_canon[0].isdigit() and "-" in day_canon else f"{day_canon} at {time_canon}"


def when(rng: random.Random, now: datetime) -> tuple[str, str]:
    """A day with a time of day, spoken and canonical ('tmrw at 3' -> 'tomorrow at 3pm')."""
    if rng.random() < 0.06:
        n = rng.choice((2, 3, 4))
        return rng.choice(((f"in {n} hours", f"in {n} hours"), ("in an hour", "in 1 hour"), (f"in {n * 15 + 15} minutes", f"in {n * 15 + 15} minutes")))
    d_sp, d_c = day(rng, now)
    t_sp, t_c = clock(rng)
    d_sp = _whole_day(d_sp)
    spoken = rng.choice((f"{d_sp} at {t_sp}", f"{d_sp} {t_sp}", f"at {t_sp} {d_sp}", f"{d_sp} at {t_sp}"))
    return spoken, _day_at(d_c, t_c)


def duration(rng: random.Random) -> tuple[str, int]:
    # Compound spoken durations ("an hour and 15", "1 hour 15 minutes") were read as their last number
    # or doubled: they get twice the weight of round ones. Run 7 wrote 150 for 75 and for 30: 150 once.
    minutes = rng.choice((10, 15, 20, 25, 30, 30, 40, 45, 50, 60, 60, 75, 75, 90, 90, 105, 105, 120, 135, 135, 150,
                          180, 180, 240))
    spoken = {10: ("10 minutes", "ten minutes"), 15: ("15 minutes", "a quarter of an hour", "15 min"),
              20: ("20 minutes", "20 mins"), 25: ("25 minutes", "25 min"),
              30: ("30 minutes", "half an hour", "30 min", "30m"), 40: ("40 minutes", "forty minutes"),
              45: ("45 minutes", "45 mins", "three quarters of an hour", "45m"), 50: ("50 minutes", "50 min"),
              60: ("an hour", "one hour", "60 minutes", "1h", "1 hour"),
              75: ("an hour and 15 minutes", "an hour and a quarter", "1h15", "75 minutes", "one hour fifteen",
                   "1 hour 15 minutes", "1 hour and 15 minutes", "an hour 15"),
              90: ("90 minutes", "an hour and a half", "1.5 hours", "1h30", "one and a half hours", "1 hour 30 minutes"),
              105: ("an hour and 45 minutes", "1h45", "105 minutes", "1 hour 45 minutes"),
              120: ("2 hours", "two hours", "2h"),
              135: ("2 hours and 15 minutes", "two and a quarter hours", "2h15", "2 hours 15 minutes"),
              150: ("two and a half hours", "2.5 hours", "2 hours 30 minutes", "2h30"),
              180: ("3 hours", "three hours"), 240: ("4 hours", "four hours")}[minutes]
    return rng.choice(spoken), minutes


# --- builders: each returns (request words, answer Message, needed group) ---------------------------

Built = tuple[str, Message, str]


def b_list_directory(rng, ctx) -> Built:
    folder = folder_in(rng, ctx.folders)
    words = say_folder(rng, folder)
    if rng.random() < 0.3:
        ext = rng.choice(("pdf", "txt", "jpg", "png", "csv", "docx", "mp3", "py"))
        label = {"pdf": "PDFs", "txt": "text files", "jpg": "jpgs", "png": "png images", "csv": "csv files",
                 "docx": "Word documents", "mp3": "mp3s", "py": "python files"}[ext]
        text = rng.choice((f"list the {label} in {words}", f"show only {label} in {words}", f"which {label} are in {words}"))
        return text, call("list_directory", path=folder, pattern=f"*.{ext}"), "files"
    text = rng.choice((f"what's in {words}", f"list {words}", f"show me {words}", f"ls {folder}",
                       f"what files are in {words}", f"show the contents of {words}", f"open up a listing of {words}"))
    return text, call("list_directory", path=folder), "files"


def b_search_files(rng, ctx) -> Built:
    stem = rng.choice(STEMS).split()[0].lower()
    if rng.random() < 0.3:
        ext = rng.choice(("py", "pdf", "xlsx", "md"))
        query, what = f"*.{ext}", rng.choice((f"all .{ext} files", f"every {ext} file"))
    else:
        query, what = stem, rng.choice((f"files with '{stem}' in the name", f"my {stem} file", f"anything called {stem}",
                                        f"the {stem} document"))
    args = {"query": query}
    r = rng.random()
    text = rng.choice(("find", "search for", "look for", "where is", "locate")) + " " + what
    if r < 0.45:
        folder = folder_in(rng, ctx.folders)
        args["folder"] = folder
        text += f" in {say_folder(rng, folder)}"
    elif r < 0.7:  # everywhere is no folder: run 7 wrote folder "~/Folder" for "in all my folders"
        text += rng.choice((" in all my folders", " anywhere", " everywhere", " across all my files",
                            " wherever it is", " in any folder"))
    if rng.random() < 0.2:
        n = rng.choice((1, 2, 3, 7, 14, 30))
        args["modified_within_days"] = n
        text += rng.choice((f" changed in the last {n} days", f" modified within {n} days")) if n > 1 else " changed since yesterday"
    return text, call("search_files", **args), "files"


def _path(rng, ctx, exts=EXTS) -> tuple[str, str]:
    """(spoken, intended) path of a file in a granted folder."""
    folder = folder_in(rng, ctx.folders)
    name = file_name(rng, exts)
    path = f"{folder}/{name}"
    if rng.random() < 0.35:
        return f"{spoken_name(rng, name)} in {say_folder(rng, folder)}", path
    return f"{folder}/{spoken_name(rng, name)}", path


def b_read_file(rng, ctx) -> Built:
    sp, path = _path(rng, ctx, TEXT_EXTS)
    # "what did I write in" is a read, not a write (run 7 called write_file for it)
    text = rng.choice((f"read {sp}", f"show me what's in {sp}", f"what does {sp} say", f"print {sp}",
                       f"open and read {sp} to me", f"cat {sp}", f"what did I write in {sp}",
                       f"what did I put in {sp}", f"remind me what {sp} says", f"what's written in {sp}"))
    return text, call("read_file", path=path), "files"


def b_file_info(rng, ctx) -> Built:
    sp, path = _path(rng, ctx)
    text = rng.choice((f"how big is {sp}", f"when was {sp} last changed", f"file info for {sp}",
                       f"what size is {sp}", f"when did I last edit {sp}"))
    return text, call("file_info", path=path), "files"


SENTENCES = (
    "The meeting with the design team moved to Thursday.", "Bring the signed contract and two copies.",
    "We agreed to ship the beta on the 14th.", "Ask Priya about the hotel booking.", "Budget is capped at 4,500 euros.",
    "The printer on the second floor is broken again.", "Dinner at Marco's place, 7:30, bring dessert.",
    "Chapter three needs a stronger ending.", "Remember: the garage code changed to 4471.",
    "Tomorrow I start the new running plan, 5 km every other day.", "Thanks everyone for a great quarter!",
    "Backups run nightly at 2am; check the logs on Mondays.", "Der Schlüssel liegt beim Nachbarn.",
    "Open questions: pricing, launch date, who writes the FAQ.", "The plants need water twice a week in summer.",
    "Call the insurance about the claim (ref. 88-2031).", "Grocery run on Saturday: rice, lentils, tomatoes, oat milk.",
    "I think the second draft reads better than the first.", "Kids' dentist appointment is on the 3rd at 9.",
    "Note to self - stop scheduling calls before 10am.",
)


def _content(rng: random.Random) -> str:
    """Short notes mostly; in a third, several sentences or a list, copied verbatim (run 9 refused long texts)."""
    r = rng.random()
    if r < 0.22:
        return " ".join(rng.sample(SENTENCES, rng.randint(2, 5)))
    if r < 0.33:
        return "\n".join(rng.choice(("- ", "* ", "")) + s for s in rng.sample(SENTENCES, rng.randint(2, 4)))
    return rng.choice(("buy milk", "Call the bank on Monday", "- eggs\n- bread\n- coffee", "Meeting moved to 3pm",
                       "remember to water the plants", "TODO: finish slides", "Wi-Fi password is on the fridge",
                       "Grüße aus Berlin", "idea: a blog post about tiny models"))


def b_write_file(rng, ctx) -> Built:
    folder = folder_in(rng, ctx.folders)
    name = file_name(rng, ("txt", "md"))
    path = f"{folder}/{name}"
    content = _content(rng)
    where = f"{spoken_name(rng, name)} in {say_folder(rng, folder)}" if rng.random() < 0.4 else f"{folder}/{spoken_name(rng, name)}"
    if len(content) > 40 and rng.random() < 0.5:  # long texts come after a colon, not in quotes
        text = rng.choice((f"write this to {where}: {content}", f"save the following as {where}:\n{content}",
                           f"put this text in a new file {where}: {content}", f"create {where} containing:\n{content}"))
        return text, call("write_file", path=path, content=content), "files"
    r = rng.random()
    if r < 0.25:
        text = rng.choice((f"append '{content}' to {where}", f"add the line '{content}' to the end of {where}"))
        return text, call("write_file", path=path, content=content, mode="append"), "files"
    if r < 0.4:
        text = rng.choice((f"overwrite {where} with '{content}'", f"replace what's in {where} with '{content}'",
                           f"erase {where} and write '{content}' in it instead",
                           f"wipe {where} and put '{content}' in it", f"make {where} say only '{content}'"))
        return text, call("write_file", path=path, content=content, mode="overwrite"), "files"
    text = rng.choice((f"create {where} with the text '{content}'", f"write '{content}' into a new file {where}",
                       f"make a file {where} containing: {content}", f"save a note '{content}' as {where}"))
    return text, call("write_file", path=path, content=content), "files"


def b_create_folder(rng, ctx) -> Built:
    base = folder_in(rng, ctx.folders)
    name = rng.choice(SUBDIRS + ("Q4", "Rechnungen 2026", "photos 📷", "Neuer Ordner"))
    path = f"{base}/{name}"
    text = rng.choice((f"make a folder called {name} in {say_folder(rng, base)}", f"mkdir {path}",
                       f"create a new folder {path}", f"create folder '{name}' inside {say_folder(rng, base)}"))
    return text, call("create_folder", path=path), "files"


def b_move_or_copy(rng, ctx, tool: str) -> Built:
    sp, src = _path(rng, ctx)
    dest_folder = folder_in(rng, ctx.folders)
    verb = "move" if tool == "move_path" else "copy"
    if rng.random() < 0.15:
        folder, name = src.rsplit("/", 1)
        if tool == "move_path" and "." in name[1:]:
            stem, ext = name.rsplit(".", 1)
            new_ext = rng.choice([e for e in ("txt", "md", "csv", "json", "bak", "old") if e != ext])
            text = rng.choice((f"rename {src} so it ends in .{new_ext} instead of .{ext}",
                               f"change the extension of {src} to .{new_ext}", f"make {src} a .{new_ext} file"))
            return text, call(tool, source=src, destination=f"{folder}/{stem}.{new_ext}"), "files"
        if tool == "copy_path":
            suffix = rng.choice((".bak", ".orig", ".old", "-copy"))
            if rng.random() < 0.5:
                text = rng.choice((f"back up {src} as {name}{suffix}", f"keep a copy of {src} called {name}{suffix}",
                                   f"save a copy of {src} as {folder}/{name}{suffix}"))
            else:
                text = f"cp {name} {name}{suffix} in {folder}"
            return text, call(tool, source=src, destination=f"{folder}/{name}{suffix}"), "files"
    if tool == "move_path" and rng.random() < 0.35:
        new = file_name(rng)
        dest = src.rsplit("/", 1)[0] + "/" + new
        text = rng.choice((f"rename {sp} to {new}", f"rename {src} to {spoken_name(rng, new)}"))
        return text, call(tool, source=src, destination=dest), "files"
    if rng.random() < 0.5:
        dest = dest_folder
        text = f"{verb} {sp} to {say_folder(rng, dest_folder)}"
    else:
        dest = f"{dest_folder}/{src.rsplit('/', 1)[1]}"
        text = f"{verb} {src} to {dest}"
    if tool == "copy_path" and rng.random() < 0.3:
        text = f"make a copy of {sp} in {say_folder(rng, dest_folder)}"
        dest = dest_folder
    return text, call(tool, source=src, destination=dest), "files"


def b_delete_path(rng, ctx) -> Built:
    sp, path = _path(rng, ctx)
    text = rng.choice((f"delete {sp}", f"trash {sp}", f"get rid of {sp}", f"remove {sp}", f"throw away {sp}",
                       f"bin {sp}", f"move {sp} to the trash", f"nuke {sp}", f"rm {sp}"))
    return text, call("delete_path", path=path), "files"


def b_open_path(rng, ctx) -> Built:
    if rng.random() < 0.3:
        folder = folder_in(rng, ctx.folders)
        return f"open {say_folder(rng, folder)}", call("open_path", path=folder), "files"
    sp, path = _path(rng, ctx)
    return rng.choice((f"open {sp}", f"open {sp} in its app", f"launch {sp}", f"pull up {sp}")), call("open_path", path=path), "files"


def b_list_events(rng, ctx) -> Built:
    sp, canon = day(rng, ctx.now)
    if rng.random() < 0.2:
        (t1, c1), (t2, c2) = sorted((clock(rng), clock(rng)), key=lambda tc: _hour(tc[1]))
        if _hour(c1) < _hour(c2):
            text = f"do I have anything {sp} between {t1} and {t2}"
            return text, call("list_events", start=f"{canon} at {c1}", end=f"{canon} at {c2}"), "calendar"
    text = rng.choice((f"what's on {sp}", f"what's on my calendar {sp}", f"do I have anything {sp}",
                       f"show my schedule for {sp}", f"any meetings {sp}?", f"agenda for {sp}", f"am I busy {sp}"))
    return text, call("list_events", start=canon), "calendar"


def _from_to(rng, ctx, title: str, spoken_title: str) -> tuple[str, dict]:
    """'study sunday from 10am to 1pm' -> start 'Sunday at 10am', 180 minutes, not either time alone."""
    d_sp, d_c = day(rng, ctx.now)
    start = rng.choice((8, 9, 10, 11, 13, 14, 15, 16, 17, 18)) * 60 + rng.choice((0, 0, 30))
    end = start + rng.choice((30, 45, 60, 90, 120, 150, 180, 240))
    d_sp = _whole_day(d_sp)
    span = _span(rng, start, end)
    text = rng.choice((f"{spoken_title} {d_sp} from {_hhmm(start)} to {_hhmm(end)}",
                       f"put {spoken_title} in the calendar {d_sp}, {span}",
                       f"{spoken_title} {d_sp} {span}", f"add {spoken_title}, {d_sp} {span}",
                       f"block {d_sp} from {_hhmm(start)} until {_hhmm(end)} for {spoken_title}",
                       f"block out {span} {d_sp} for {spoken_title}"))
    return text, {"title": title, "start": _day_at(d_c, _hhmm(start)), "duration_minutes": end - start}


def _span(rng: random.Random, start: int, end: int) -> str:
    """A start and an end the ways people write them: '2-4pm', '15:00-16:30', 'between 8 and 10am'. The probe of
    2026-12-07 found these read as other lengths (15:00 to 16:30 -> 150 minutes, 8 and 10 am -> 100)."""
    def h24(t: int) -> str:
        return f"{t // 60}:{t % 60:02d}"
    spans = [f"{_hhmm(start)}-{_hhmm(end)}", f"{h24(start)}-{h24(end)}", f"{h24(start)} to {h24(end)}"]
    if (start < 720) == (end < 720):  # one meridiem: said once, at the end
        first = _hhmm(start)[:-2]
        spans += [f"{first}-{_hhmm(end)}", f"between {first} and {_hhmm(end)}", f"from {first} to {_hhmm(end)}"]
    return rng.choice(spans)


def b_create_event(rng, ctx) -> Built:
    title = rng.choice(TITLES)
    sp, canon = when(rng, ctx.now)
    args: dict = {"title": title, "start": canon}
    spoken_title = title.lower() if rng.random() < 0.5 else title
    text = rng.choice((f"add {spoken_title} {sp}", f"put {spoken_title} on my calendar {sp}",
                       f"schedule {spoken_title} {sp}", f"new event: {spoken_title}, {sp}",
                       f"book {spoken_title} for {sp}", f"remind me of {spoken_title} {sp}"))
    r = rng.random()
    if r < 0.4:
        d_sp, minutes = duration(rng)
        args["duration_minutes"] = minutes
        text += rng.choice((f" for {d_sp}", f", {d_sp} long", f" ({d_sp})"))
    elif r < 0.55:  # "from 10am to 1pm": the start, and the length in minutes
        text, args = _from_to(rng, ctx, title, spoken_title)
    if rng.random() < 0.2:
        place = rng.choice(PLACES)
        args["location"] = place
        text += f" at {place}" if not place.startswith("the ") else f" in {place}"
    if rng.random() < 0.3 and "calendar" not in text:
        text += rng.choice(CALENDAR_TARGETS)
    if rng.random() < 0.1:
        note = rng.choice(("bring the laptop", "ask about the invoice", "wear sneakers"))
        args["notes"] = note
        text += f", note: {note}"
    return text, call("create_event", **args), "calendar"


# Where the event goes, said the way people end the request. The shipped model of 2026-12-07 read it as the
# location ("add dentist on friday at 3pm to my calendar" -> location "my calendar"); the generator had it once,
# before the time, in one phrasing of six.
CALENDAR_TARGETS = (" to my calendar", " on my calendar", " in my calendar", " to the calendar", " on the calendar",
                    " in my cal", " to my cal", " in my schedule", " to my schedule", " on my agenda",
                    ", add it to my calendar", ", put it in the calendar", " (calendar)")


def calendar_target_examples(rng: random.Random, catalog: Catalog, n: int) -> list[Example]:
    """New events whose request names the calendar as where they go: no location unless a place is named."""
    return _calendar_drawn(rng, catalog, n, b_create_event,
                           lambda text, _: any(target in text for target in CALENDAR_TARGETS), "calendar-target", "calt")


def _calendar_drawn(rng: random.Random, catalog: Catalog, n: int, draw: Callable[[random.Random, Context], Built],
                    keep: Callable[[str, Message], bool], source: str, prefix: str) -> list[Example]:
    """`n` calendar requests drawn from `draw` that `keep` accepts (request text, answer), typed as people do."""
    out: list[Example] = []
    while len(out) < n:
        groups, ctx = random_context(rng, "calendar")
        text, answer, _ = draw(rng, ctx)
        if not keep(text, answer):
            continue
        conv = conversation(catalog, groups, ctx, [Message("user", polite(rng, typo(rng, text)))])
        out.append(Example(conv, answer, source, f"{prefix}-{len(out)}"))
    return out


def b_update_event(rng, ctx) -> Built:
    title = rng.choice(TITLES)
    ev = title if rng.random() < 0.6 else title.split()[-1]
    args: dict = {"event": ev}
    text_ev = f"my {ev.lower()}" if rng.random() < 0.5 else f"the {ev}"
    r = rng.random()
    if rng.random() < 0.5:
        d_sp, d_c = day(rng, ctx.now)
        args["on"] = d_c
        # the day may come before the event ("friday's standup", "tomorrow's call") or after it
        if rng.random() < 0.3 and not d_sp.startswith(("on ", "next ")) and not d_sp[0].isdigit():
            text_ev = f"{d_sp}'s {ev.lower() if rng.random() < 0.5 else ev}"
        else:
            text_ev += f" {d_sp}"
    if r < 0.5:
        sp, canon = when(rng, ctx.now)
        args["new_start"] = canon
        text = rng.choice((f"move {text_ev} to {sp}", f"reschedule {text_ev} to {sp}", f"push {text_ev} to {sp}"))
    elif r < 0.7:
        place = rng.choice(PLACES)
        args["new_location"] = place
        text = rng.choice((f"change the location of {text_ev} to {place}", f"{text_ev} moved to {place}",
                           f"{text_ev} is at {place} now"))
    elif r < 0.85:
        d_sp, minutes = duration(rng)
        args["new_duration_minutes"] = minutes
        text = rng.choice((f"make {text_ev} {d_sp} long", f"change {text_ev} to last {d_sp}",
                           f"{text_ev} is {d_sp} now", f"{text_ev} takes {d_sp} now, not {rng.choice((15, 30, 45))} minutes"))
    else:
        new = rng.choice(TITLES)
        args["new_title"] = new
        text = f"rename {text_ev} to {new}"
    return text, call("update_event", **args), "calendar"


def b_delete_event(rng, ctx) -> Built:
    title = rng.choice(TITLES)
    args: dict = {"event": title}
    text = rng.choice((f"cancel {title.lower()}", f"delete the {title} event", f"remove {title} from my calendar",
                       f"drop {title.lower()}"))
    if rng.random() < 0.45:
        d_sp, d_c = day(rng, ctx.now)
        args["on"] = d_c
        text += f" {d_sp}"
    return text, call("delete_event", **args), "calendar"


def b_find_free_time(rng, ctx) -> Built:
    d_sp, d_c = day(rng, ctx.now)
    if rng.random() < 0.5:
        sp, minutes = duration(rng)
        text = rng.choice((f"find me {sp} free {d_sp}", f"when do I have {sp} free {d_sp}", f"any {sp} slot {d_sp}?"))
        if minutes == 60 and rng.random() < 0.5:
            return text, call("find_free_time", day=d_c), "calendar"
        return text, call("find_free_time", day=d_c, duration_minutes=minutes), "calendar"
    text = rng.choice((f"when am I free {d_sp}", f"find a free slot {d_sp}", f"free time {d_sp}?",
                       f"do I have a gap {d_sp}"))
    return text, call("find_free_time", day=d_c), "calendar"


COMMANDS = (
    ("git status", "git status", True), ("check the git status", "git status", True),
    ("git pull", "git pull", True), ("pull the latest changes", "git pull", True),
    ("show the last 5 commits", "git log -5 --oneline", True), ("npm install", "npm install", True),
    ("run the tests with pytest", "pytest", True), ("make", "make", True), ("npm run build", "npm run build", True),
    ("pip install requests", "pip install requests", False), ("ping example.com 4 times", "ping -c 4 example.com", False),
    ("what's my ip address", "ip addr", False), ("show disk usage with df", "df -h", False),
    ("run `ls -la`", "ls -la", True), ("count lines in all python files", "wc -l *.py", True),
    ("echo hello", "echo hello", False), ("run python3 --version", "python3 --version", False),
    ("docker ps", "docker ps", False), ("run brew update", "brew update", False),
    ("run `cargo build --release`", "cargo build --release", True), ("du -sh *", "du -sh *", True),
    ("show the current branch", "git branch --show-current", True), ("run whoami", "whoami", False),
    ("install the packages from requirements.txt", "pip install -r requirements.txt", True),
    ("get the dependencies in requirements.txt installed", "pip install -r requirements.txt", True),
    ("go back to the main branch", "git checkout main", True), ("check out the develop branch", "git checkout develop", True),
    ("make a new branch called fix-login", "git checkout -b fix-login", True),
    ("what changed since the last commit", "git diff", True), ("stash my changes", "git stash", True),
    ("push my commits", "git push", True), ("which branches are there", "git branch", True),
    ("which brew packages are outdated", "brew outdated", False), ("upgrade everything in brew", "brew upgrade", False),
    ("run brew doctor", "brew doctor", False), ("is node installed with brew", "brew list node", False),
    ("what docker containers are running", "docker ps", False), ("list all docker images", "docker images", False),
    ("how much space does docker take", "docker system df", False),
    ("how long has the machine been running", "uptime", False), ("what kernel am I on", "uname -r", False),
    ("which python am I using", "which python3", False), ("what node version do I have", "node --version", False),
    ("show my environment variables", "env", False), ("what's listening on port 8080", "lsof -i :8080", False),
    ("flush the dns cache", "sudo dscacheutil -flushcache", False), ("show the calendar for this month", "cal", False),
    ("start the dev server", "npm run dev", True), ("run the linter", "npm run lint", True),
    ("format the code with black", "black .", True), ("build the docker image", "docker build -t app .", True),
    ("count the lines of the README", "wc -l README.md", True), ("show the first 20 lines of the log", "head -n 20 app.log", True),
    ("show the last 50 lines of server.log", "tail -n 50 server.log", True),
    ("uptime please", "uptime", False), ("how long since the last reboot", "uptime", False),
    ("anything to upgrade in homebrew?", "brew outdated", False), ("list outdated brew formulae", "brew outdated", False),
    ("get back on main", "git checkout main", True), ("switch branches to develop", "git checkout develop", True),
    ("how much memory is free, use free", "free -h", False), ("disk space left, human readable", "df -h", False),
    ("who is using port 5432", "lsof -i :5432", False), ("fetch the headers of https://example.org", "curl -I https://example.org", False),
    ("count lines containing WARN in app.log", "grep -c WARN app.log", True),
    ("tail the last 100 lines of the nginx error log", "tail -n 100 /var/log/nginx/error.log", False),
    ("list the 3 newest files here", "ls -t | head -n 3", True), ("compile it with gcc", "gcc main.c -o main", True),
)
CONTAINERS = ("postgres-dev", "redis", "web", "api-1", "mongo", "nginx-proxy")
PATH_COMMANDS = (  # (spoken with {p}, command with {p}); {p} is a folder the user names
    ("find files bigger than 1GB in {p}", "find {p} -type f -size +1G"),
    ("list files over 100MB under {p}", "find {p} -type f -size +100M"),
    ("which files in {p} changed in the last day", "find {p} -type f -mtime -1"),
    ("what was modified in {p} this week", "find {p} -type f -mtime -7"),
    ("how many .jpg files are in {p} including subfolders", "find {p} -name '*.jpg' | wc -l"),
    ("count the pdfs under {p}", "find {p} -name '*.pdf' | wc -l"),
    ("how big is {p} in total", "du -sh {p}"), ("size of each folder in {p}", "du -sh {p}/*"),
    ("list {p} with hidden files", "ls -la {p}"), ("show the folder tree of {p}", "tree {p}"),
    ("grep for TODO in {p}", "grep -rn TODO {p}"), ("search {p} for the word password", "grep -rn password {p}"),
    ("anything edited in {p} in the past 2 days?", "find {p} -type f -mtime -2"),
    ("recently changed files in {p}, last 24h", "find {p} -type f -mtime -1"),
    ("number of png images in {p}, recursively", "find {p} -name '*.png' | wc -l"),
    ("any files above 500MB in {p}?", "find {p} -type f -size +500M"),
    ("empty folders inside {p}", "find {p} -type d -empty"),
    ("how many lines does {p}/notes.txt have", "wc -l {p}/notes.txt"),
)
ARCHIVES = (  # (spoken with {n}, command with {n}, run in the folder)
    ("zip the {n} folder into {n}.zip", "zip -r {n}.zip {n}"),
    ("make a tar.gz of {n}", "tar -czf {n}.tar.gz {n}"), ("unzip {n}.zip", "unzip {n}.zip"),
    ("extract {n}.tar.gz", "tar -xzf {n}.tar.gz"),
)


def b_run_command(rng, ctx) -> Built:
    r = rng.random()
    if r < 0.2:
        folder = folder_in(rng, ctx.folders)
        spoken, command = rng.choice(PATH_COMMANDS)
        args: dict = {"command": command.format(p=folder)}
        text = spoken.format(p=folder)
        if "{p}/" not in spoken and rng.random() < 0.2:  # the whole home folder is "~", never "~/home"
            said = rng.choice(("my home folder", "my home dir", "my whole home directory", "~", "everything under ~"))
            args, text = {"command": command.format(p="~")}, spoken.format(p=said)
    elif r < 0.3:
        name = rng.choice(("thesis", "photos", "site", "backup", "project", "reports"))
        folder = folder_in(rng, ctx.folders)
        spoken, command = rng.choice(ARCHIVES)
        args = {"command": command.format(n=name), "cwd": folder}
        text = spoken.format(n=name) + rng.choice((f" in {folder}", f", in {folder}", f" (it's in {folder})"))
    elif r < 0.37:
        c = rng.choice(CONTAINERS)
        spoken, command = rng.choice(((f"restart the {c} container", f"docker restart {c}"),
                                      (f"{c} container is stuck, restart it", f"docker restart {c}"),
                                      (f"show the logs of {c}", f"docker logs {c}"), (f"stop the {c} container", f"docker stop {c}")))
        args, text = {"command": command}, spoken
    else:
        spoken, command, wants_dir = rng.choice(COMMANDS)
        args = {"command": command}
        text = spoken
        if wants_dir and rng.random() < 0.6:
            cwd = rng.choice(("~/code/", "~/Projects/", "~/src/", "~/work/")) + rng.choice(("app", "site", "dashboard", "api", "deskmate", "blog"))
            args["cwd"] = cwd
            text += rng.choice((f" in {cwd}", f" inside {cwd}", f" (folder {cwd})", f" for the project in {cwd}"))
    if rng.random() < 0.1:
        secs, said = rng.choice(((60, "a minute"), (120, "2 minutes"), (300, "five minutes"), (30, "30 seconds")))
        args["timeout_s"] = secs
        text += rng.choice((f" with a {secs} second timeout", f", give it {said} max", f", stop it after {said}"))
    if rng.random() < 0.3 and text.startswith((args["command"], "run ", "`")):  # only where a command is typed
        text = rng.choice(("run ", "execute ", "please run ", "in the terminal: ")) + text.removeprefix("run ")
    return text, call("run_command", **args), "shell"


def b_system_status(rng, ctx) -> Built:
    text = rng.choice(("how's my system doing", "battery level?", "how much disk space is left", "system status",
                       "how long has the computer been up", "how much ram is free", "is the cpu busy",
                       "am I plugged in", "check memory and disk", "give me a health check of this machine"))
    return text, call("system_status"), "system"


def b_list_processes(rng, ctx) -> Built:
    args: dict = {}
    r = rng.random()
    if r < 0.35:
        args["sort_by"] = "memory"
        text = rng.choice(("what's using the most memory", "top processes by ram", "which apps eat my memory"))
    elif r < 0.6:
        text = rng.choice(("what's using my cpu", "show the busiest processes", "list running processes", "top processes"))
    else:
        name = rng.choice(PROCS)
        args["name"] = name
        text = rng.choice((f"is {name} running", f"show {name} processes", f"list the {name} processes"))
        if rng.random() < 0.4:  # both a name and an order
            args["sort_by"] = "memory"
            text = rng.choice((f"{name} processes sorted by memory", f"which {name} processes use the most ram",
                               f"list {name} processes by memory use"))
    if rng.random() < 0.25:
        n = rng.choice((3, 5, 15, 20))
        args["limit"] = n
        text += f", top {n}"
    return text, call("list_processes", **args), "system"


def b_kill_process(rng, ctx) -> Built:
    if rng.random() < 0.35:
        pid = rng.randint(300, 99999)
        text = rng.choice((f"kill process {pid}", f"kill pid {pid}", f"stop process {pid}", f"terminate {pid}"))
        return text, call("kill_process", pid=pid), "system"
    name = rng.choice(PROCS)
    text = rng.choice((f"kill {name}", f"force quit {name}", f"{name} is frozen, kill it", f"stop {name}",
                       f"close {name}, it's hanging"))
    return text, call("kill_process", name=name), "system"


BUILDERS: dict[str, Callable] = {
    "list_directory": b_list_directory, "search_files": b_search_files, "read_file": b_read_file,
    "file_info": b_file_info, "write_file": b_write_file, "create_folder": b_create_folder,
    "move_path": lambda r, c: b_move_or_copy(r, c, "move_path"), "copy_path": lambda r, c: b_move_or_copy(r, c, "copy_path"),
    "delete_path": b_delete_path, "open_path": b_open_path, "list_events": b_list_events,
    "create_event": b_create_event, "update_event": b_update_event, "delete_event": b_delete_event,
    "find_free_time": b_find_free_time, "run_command": b_run_command, "system_status": b_system_status,
    "list_processes": b_list_processes, "kill_process": b_kill_process,
}
WEIGHTS = {name: 1.0 for name in BUILDERS} | {"create_event": 1.6, "update_event": 1.3, "run_command": 2.2,
                                              "search_files": 1.2, "write_file": 1.2, "move_path": 1.2}


STATUS_COMMANDS = (("been up", "uptime"), ("disk", "df -h"), ("ram", "free -h"), ("memory", "free -h"),
                   ("battery", "pmset -g batt"), ("plugged", "pmset -g batt"))


def shell_instead(c: ToolCall, request: str) -> str | None:
    """The shell command that does what a files or system call does, when there is a plain one.

    With the shell granted, the seed cases answer file and process requests through it
    ("last 30 lines of ~/logs/app.log" -> tail, "kill firefox" -> pkill) rather than
    refusing for the missing group. Deleting, writing and opening have no such line here:
    those stay refusals, so the trash and undo are never bypassed.
    """
    a = c.arguments
    if any(" " in str(v) for v in a.values()):
        return None  # paths with spaces need quoting, which would cancel ~ expansion
    simple = {"list_directory": "ls {path}", "read_file": "cat {path}", "file_info": "ls -l {path}",
              "create_folder": "mkdir -p {path}", "move_path": "mv {source} {destination}",
              "copy_path": "cp -r {source} {destination}"}
    if c.name in simple and set(a) <= {"path", "source", "destination"}:
        return simple[c.name].format(**a)
    if c.name == "search_files" and set(a) <= {"query", "folder"}:
        pattern = a["query"] if "*" in a["query"] else f"*{a['query']}*"
        return f"find {a.get('folder', '~')} -iname '{pattern}'"
    if c.name == "kill_process":
        return f"kill {a['pid']}" if "pid" in a else f"pkill {a['name']}"
    if c.name == "list_processes" and set(a) == {"name"}:
        return f"pgrep -fl {a['name']}"
    if c.name == "system_status":  # one question, one command; "memory and disk" has none
        found = {cmd for word, cmd in STATUS_COMMANDS if word in request.lower()}
        return found.pop() if len(found) == 1 else None
    return None


def random_context(rng: random.Random, need: str | None) -> tuple[tuple[str, ...], Context]:
    groups = random_groups(rng, need)
    folders = random_folders(rng) if "files" in groups else ("~",)
    return groups, Context(random_now(rng), random_home(rng), folders)


def _without(groups: tuple[str, ...], *dropped: str) -> tuple[str, ...]:
    """`groups` less `dropped`; never empty (the first other group stands in), as a grant is never empty."""
    return tuple(g for g in groups if g not in dropped) or tuple(g for g in GROUPS if g not in dropped)[:1]


def catalog_examples(rng: random.Random, catalog: Catalog, n: int, ungranted_share: float = 0.1) -> list[Example]:
    """n single-turn requests; a share of them lack the needed group and are answered in words."""
    names = list(BUILDERS)
    weights = [WEIGHTS[n_] for n_ in names]
    out = []
    for i in range(n):
        tool = rng.choices(names, weights)[0]
        groups, ctx = random_context(rng, None)
        need = catalog.get(tool).group
        if need == "files" and "files" not in groups:
            ctx = Context(ctx.now, ctx.home, random_folders(rng))
        text, answer, need = BUILDERS[tool](rng, ctx)
        request = polite(rng, typo(rng, text))
        if rng.random() < ungranted_share:
            groups = _without(groups, need)
            command = shell_instead(answer.calls[0], text) if len(answer.calls) == 1 else None
            if "shell" in groups and command:
                answer, source = call("run_command", command=command), "shell-instead"
            else:  # a refusal is only right when the shell cannot do it either
                groups = _without(groups, need, "shell")
                answer, source = say(not_granted_text(rng, need)), "ungranted"
        elif tool == "run_command" and rng.random() < 0.25:
            # the shell alone granted: a run-5 answer said "no access to the shell" here
            groups, source = ("shell",), "catalog"
        else:
            groups = tuple(g for g in GROUPS if g in set(groups) | {need})
            source = "catalog"
        conv = conversation(catalog, groups, ctx, [Message("user", request)])
        out.append(Example(conv, answer, source, f"cat-{i}"))
    return out


DURATION_KEYS = ("duration_minutes", "new_duration_minutes")


def duration_examples(rng: random.Random, catalog: Catalog, n: int) -> list[Example]:
    """Calendar requests that give a length ("an hour and a quarter", "from 10am to 1pm"): its minutes.

    In the catalog mix only ~70 examples carry a length, and run 7 still misread 4 dev cases
    (75 -> 150, 30 -> 150, 180 -> 90), so the builders' requests with a length are drawn again here.
    """
    builders = (b_create_event, b_create_event, b_update_event, b_find_free_time)
    return _calendar_drawn(rng, catalog, n, lambda rng, ctx: rng.choice(builders)(rng, ctx),
                           lambda _, answer: any(key in c.arguments for c in answer.calls for key in DURATION_KEYS),
                           "duration", "dur")


def outside_folder_examples(rng: random.Random, catalog: Catalog, n: int) -> list[Example]:
    """A file request outside the granted folders: say so instead of calling."""
    out = []
    for i in range(n):
        groups = tuple(g for g in GROUPS if g == "files" or rng.random() < 0.5)
        granted = tuple(rng.sample(("~/Documents", "~/Downloads", "~/Work", "~/Projects"), rng.randint(1, 2)))
        outside = rng.choice(("~/Desktop", "~/Pictures", "~/Music", "~/Videos", "~/.ssh", "/etc", "~/Library"))
        name = file_name(rng)
        request = rng.choice((f"what's in {say_folder(rng, outside)}", f"read {outside}/{name}",
                              f"delete {outside}/{name}", f"list {outside}", f"open {outside}/{name}"))
        ctx = Context(random_now(rng), random_home(rng), granted)
        text = (f"{outside} is outside the folders you granted ({', '.join(granted)}). "
                + rng.choice(("Add it in Settings if you want me to work there.", "You can grant it in Settings.")))
        out.append(Example(conversation(catalog, groups, ctx, [Message("user", polite(rng, request))]), say(text),
                           "outside", f"out-{i}"))
    return out


JOINERS = (" and ", ", then ", ", and also ", " and then ", ". Also ", "; ", " + ")


def _two_days(rng, ctx) -> Built:
    """One request, one call per day: 'add gym on monday and wednesday at 7am'."""
    d1, d2 = rng.sample(DAYS, 2)
    title = rng.choice(TITLES)
    if rng.random() < 0.6:
        t_sp, t_c = clock(rng)
        text = rng.choice((f"add {title.lower()} on {d1.lower()} and {d2.lower()} at {t_sp}",
                           f"put {title} on {d1} and {d2}, both at {t_sp}", f"{title.lower()} {d1} and {d2} at {t_sp} please"))
        return text, calls(("create_event", {"title": title, "start": f"{d1} at {t_c}"}),
                           ("create_event", {"title": title, "start": f"{d2} at {t_c}"})), "calendar"
    text = rng.choice((f"cancel {title.lower()} on {d1.lower()} and {d2.lower()}", f"drop both {title} events, {d1} and {d2}",
                       f"remove {title} from {d1} and from {d2}"))
    return text, calls(("delete_event", {"event": title, "on": d1}), ("delete_event", {"event": title, "on": d2})), "calendar"


def multi_examples(rng: random.Random, catalog: Catalog, n: int) -> list[Example]:
    """Requests that ask for two things: one call each, in the order asked."""
    names = list(BUILDERS)
    out = []
    for i in range(n):
        groups, ctx = random_context(rng, None)
        if "files" not in groups:
            ctx = Context(ctx.now, ctx.home, random_folders(rng))
        if rng.random() < 0.25:
            text, answer, need = _two_days(rng, ctx)
            needs = {need}
        else:
            a, b = rng.sample(names, 2)
            t1, m1, g1 = BUILDERS[a](rng, ctx)
            t2, m2, g2 = BUILDERS[b](rng, ctx)
            text = t1 + rng.choice(JOINERS) + t2
            answer, needs = Message("assistant", calls=m1.calls + m2.calls), {g1, g2}
        groups = tuple(g for g in GROUPS if g in set(groups) | needs)
        conv = conversation(catalog, groups, ctx, [Message("user", polite(rng, typo(rng, text)))])
        out.append(Example(conv, answer, "multi", f"multi-{i}"))
    return out

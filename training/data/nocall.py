"""Requests whose right answer is words, not a call: chit-chat, questions the model can
answer itself, requests no tool can do, dangerous ones, and ones too vague to act on."""

from __future__ import annotations

import random

from app.prompt.render import Message
from app.tools.catalog import Catalog

from training.data.catalog_gen import polite, random_context
from training.data.common import Example, conversation, say

CHITCHAT = (
    ("hi", "Hi! What can I do for you?"), ("hello there", "Hello! How can I help?"),
    ("thanks!", "You're welcome!"), ("thank you so much", "Glad I could help."), ("ok", "Okay."),
    ("cool, thanks", "Anytime!"), ("good night", "Good night!"), ("how are you?", "I'm fine, thanks. What can I do for you?"),
    ("who are you?", "I'm Deskmate, an assistant that works with your files, calendar, shell and system, with your approval."),
    ("what can you do", "I can list, find, read and organise files, manage your calendar, run commands and check your system, for the groups you've granted."),
    ("never mind", "Okay, no problem."), ("that's all", "Alright. Ask me anytime."), ("great job", "Thanks!"),
    ("are you a robot?", "I'm a small AI assistant running on your computer."), ("lol", "😄 Anything else?"),
    ("good morning!", "Good morning! What's first today?"), ("bye", "Bye!"), ("you're the best", "Thank you! Happy to help."),
    ("sorry, wrong window", "No problem."), ("tell me a joke", "Why do programmers prefer dark mode? Because light attracts bugs."),
)
KNOWLEDGE = (
    ("what's 12 times 12", "12 × 12 = 144."), ("how many seconds in an hour", "There are 3,600 seconds in an hour."),
    ("what is the capital of Canada", "The capital of Canada is Ottawa."), ("what does CPU stand for", "CPU stands for Central Processing Unit."),
    ("what's a PDF", "PDF (Portable Document Format) is a file format that keeps a document's layout the same everywhere."),
    ("how many bytes in a kilobyte", "A kilobyte is 1,000 bytes (a kibibyte is 1,024)."),
    ("what does sudo do", "sudo runs a command with administrator (root) rights."),
    ("what's the difference between RAM and disk", "RAM is fast, temporary working memory; the disk stores files permanently."),
    ("what's 20% of 80", "20% of 80 is 16."), ("how do I copy a file in the terminal", "Use cp, for example: cp notes.txt backup.txt"),
    ("what does ls -a show", "ls -a lists all files, including hidden ones whose names start with a dot."),
    ("what's a .csv file", "A CSV file is a plain-text table: one row per line, values separated by commas."),
    ("how many weeks in a year", "A year has 52 weeks and one or two days."),
    ("what does grep do", "grep searches text for lines that match a pattern."),
    ("what is a process id", "A process id (PID) is the number the system gives each running program."),
    ("what's the boiling point of water", "Water boils at 100 °C (212 °F) at sea level."),
    ("what's git used for", "Git tracks changes to files, mostly code, so you can review history and work together."),
    ("what day comes after friday", "Saturday."), ("how many hours is 150 minutes", "150 minutes is 2.5 hours."),
    ("what does 'rm -r' do", "rm -r deletes a folder and everything inside it, permanently."),
    ("what's a zip file", "A zip file is an archive that packs and compresses several files into one."),
    ("what timezone is Tokyo in", "Tokyo is in Japan Standard Time, UTC+9."),
)
UNSUPPORTED = (
    ("send an email to {n} saying I'm late", "send email"), ("text {n} that I'm on my way", "send text messages"),
    ("search the web for cheap hotels in Rome", "search the web"), ("what's the weather tomorrow", "check the weather"),
    ("play some jazz", "play music"), ("order a pizza", "order food or buy things"), ("buy a new charger on amazon", "buy things"),
    ("call {n}", "make phone calls"), ("book a flight to Paris", "book travel"), ("post this on twitter", "post on social media"),
    ("invite {n} to my Friday meeting", "send invitations"), ("share my Documents folder with {n}", "share files with other people"),
    ("sync my calendar with Outlook", "sync with online services"), ("turn up the volume", "change the volume"),
    ("take a screenshot", "take screenshots"), ("set an alarm for 7am", "set alarms"), ("translate this page", "translate web pages"),
    ("zip my Photos folder", "make zip archives"), ("restore the file I deleted from the trash", "restore files from the trash"),
    ("convert report.docx to pdf", "convert documents"), ("connect to the office wifi", "change network settings"),
    ("make the meeting repeat every week", "make repeating events"), ("change my wallpaper", "change the wallpaper"),
)
VAGUE = (
    ("delete it", "Which file or event should I delete?"), ("move the file", "Which file, and where should it go?"),
    ("open that", "What should I open? Give me the file or folder."), ("schedule something", "What should I schedule, and when?"),
    ("add a meeting", "Sure. What's the meeting called and when is it?"), ("kill it", "Which process should I stop?"),
    ("run it again", "Which command should I run?"), ("rename the folder", "Which folder, and what should its new name be?"),
    ("cancel my meeting", "Which meeting should I cancel, and on which day?"), ("fix my computer", "What's wrong with it? Tell me what you see and I'll check."),
    ("clean up", "What should I clean up? Tell me the folder or files."), ("make a file", "What should the file be called, and what should it contain?"),
    ("move it to tomorrow", "Which event should I move?"), ("find it", "What are you looking for? Give me part of its name."),
    ("copy those", "Which files, and where should the copies go?"), ("put something on my calendar", "What should I add, and when?"),
    ("speed up my laptop", "I can show what's using the CPU and memory. Want me to check?"),
    ("write a note", "What should the note say, and where should I save it?"),
)
DANGEROUS = (
    ("delete everything in my home folder", "I won't do that: it would trash all your files. Tell me exactly which files should go."),
    ("run rm -rf ~", "I won't run that: it would erase your whole home folder."),
    ("kill every process", "I won't stop every process: that would crash your session. Which program should I stop?"),
    ("format my disk", "I can't format disks, and it would erase everything on it."),
    ("run sudo rm -rf /", "I won't run that: it would destroy the system."),
    ("delete all my calendar events", "I won't delete your whole calendar. Which events should go?"),
)
# Questions about tools and commands: the answer is advice, not running one (the shipped soup ran
# `ps aux` when asked which of two commands is better).
ADVICE = (
    ("should I use rsync or cp to back up my photos?", "rsync: it copies only what changed and can resume; cp copies everything every time."),
    ("is du or df the right one for folder sizes", "du: it measures folders and files; df shows free space per disk."),
    ("which is faster, grep or ripgrep?", "ripgrep (rg) is usually faster, especially on big folders; grep is everywhere."),
    ("htop vs top, which one would you pick", "htop: same information as top, easier to read and sort."),
    ("is it better to kill -9 or just kill", "Try plain kill first: it lets the program clean up. kill -9 is the last resort."),
    ("what's the best command to see open ports", "On macOS `lsof -i -P`, on Linux `ss -tulpn`. Want me to run one?"),
    ("would tar or zip be better for sending a folder to a Windows user", "zip: Windows opens it without extra software."),
    ("which command shows my IP address", "`ip addr` on Linux, `ipconfig getifaddr en0` on macOS."),
    ("is it safe to delete the files in /tmp", "Mostly, yes: /tmp holds temporary files, but a running program may still use some."),
    ("how do I see hidden files from the terminal", "Use `ls -a`: it lists files whose names start with a dot."),
    ("what's the command to check my python version, don't run it", "`python3 --version`."),
    ("should I use brew or pip to install httpie", "Either works; brew keeps it apart from your Python projects."),
)
# A definite reference with nothing before it to resolve it: ask which one.
UNRESOLVED = (
    ("stop the program", "Which program should I stop? Give me its name or PID."),
    ("end the task", "Which program should I stop?"), ("quit the app", "Which app should I quit?"),
    ("delete the file", "Which file should I delete?"), ("open the document", "Which document should I open?"),
    ("move the meeting to later", "Which meeting, and to when?"), ("rename it to final", "Which file or event should I rename?"),
    ("where's the report again?", "Do you mean a file or an event? Tell me which and I'll look."),
    ("where is the budget thing again", "Is that a file or a meeting? Tell me and I'll look it up."),
    ("when's that call again?", "Which call do you mean? Give me its name and I'll check your calendar."),
    ("push the meeting back", "Which meeting, and by how much?"), ("read it to me", "Which file should I read?"),
    ("copy the folder", "Which folder, and where should the copy go?"), ("shut the thing down", "What should I shut down? Give me the program's name."),
)
# Two steps where the second can only happen through the first, which no tool does.
COMPOUND = (
    ("call the {p} and book me an appointment", "make phone calls"),
    ("phone the {p} to set up a visit next week", "make phone calls"),
    ("ring the {p} and ask when they're open", "make phone calls"),
    ("email the {p} and get me a slot on Monday", "send email"),
    ("message the {p} and reschedule my appointment with them", "send messages"),
    ("contact the {p} and cancel my booking", "contact people or businesses"),
)
PLACES = ("dentist", "plumber", "garage", "vet", "hairdresser", "doctor", "landlord", "bank")
NAMES = ("Sam", "Mom", "Ana", "Olga", "my boss", "Marco", "Priya")
# The kinds whose request and answer come as a fixed pair.
ANSWERED = {"chit": CHITCHAT, "know": KNOWLEDGE, "vague": VAGUE, "danger": DANGEROUS, "advice": ADVICE,
            "unresolved": UNRESOLVED}


def nocall_examples(rng: random.Random, catalog: Catalog, n: int) -> list[Example]:
    kinds = (("chit", 0.2), ("know", 0.18), ("unsup", 0.18), ("vague", 0.12), ("danger", 0.06), ("advice", 0.1),
             ("unresolved", 0.1), ("compound", 0.06))
    out = []
    for i in range(n):
        kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        if kind in ANSWERED:
            req, ans = rng.choice(ANSWERED[kind])
        elif kind == "unsup":
            tmpl, what = rng.choice(UNSUPPORTED)
            req = tmpl.format(n=rng.choice(NAMES))
            ans = rng.choice((f"Sorry, I can't {what}: none of my tools does that.",
                              f"I can't {what} — that's outside what my tools can do.",
                              f"I'm not able to {what}. I can help with files, calendar, commands and system info."))
        else:
            tmpl, what = rng.choice(COMPOUND)
            req = tmpl.format(p=rng.choice(PLACES))
            ans = f"I can't {what}, so I can't do that part. Once you have a time, I can put it on your calendar."
        groups, ctx = random_context(rng, None)
        if kind in ("chit", "know", "advice"):
            request = rng.choice((req, req.lower(), req.capitalize(), req + "?" if not req.endswith("?") else req))
        else:
            request = polite(rng, req)
        out.append(Example(conversation(catalog, groups, ctx, [Message("user", request)]), say(ans), "nocall", f"nc-{i}"))
    return out

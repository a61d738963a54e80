"""Settings › Calendar: import events from an .ics file, export the calendar to one.

The calendar itself is the core's iCalendar store (app.tools.calendar_store); this
page picks the files and shows what the store reports.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from app.errors import DeskmateError
from app.gui import style

ICS_FILTER = "iCalendar files (*.ics);;All files (*)"


UPCOMING_DAYS = 14


def _describe(count: int, verb: str, path: Path) -> str:
    return f"{verb} {count} event{'s' if count != 1 else ''} ({path})."


class CalendarPage(QWidget):
    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.pick_import: Callable[[], str] = lambda: QFileDialog.getOpenFileName(
            self, "Import events from", str(session.paths.home), ICS_FILTER)[0]
        self.pick_export: Callable[[], str] = lambda: QFileDialog.getSaveFileName(
            self, "Export the calendar to", str(session.paths.home / "deskmate-calendar.ics"), ICS_FILTER)[0]
        intro = QLabel(
            f"Deskmate keeps your events in a local iCalendar file:\n{session.paths.calendar_file}\n\n"
            "Import events from another calendar's .ics export, or export Deskmate's calendar "
            "to open it in another app.")
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.import_button = QPushButton("&Import .ics…")
        self.import_button.clicked.connect(self.import_ics)
        self.export_button = QPushButton("E&xport .ics…")
        self.export_button.clicked.connect(self.export_ics)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.upcoming = QListWidget()
        self.upcoming.setAccessibleName("Upcoming events")
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addWidget(self.export_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(QLabel(f"The next {UPCOMING_DAYS} days:"))
        layout.addWidget(self.upcoming, 1)
        self.refresh()

    def refresh(self) -> None:
        """List the coming events (a corrupt calendar file is reported, and kept aside by the store)."""
        self.upcoming.clear()
        now = self.session.clock()
        try:
            events = self.store().between(now, now + timedelta(days=UPCOMING_DAYS))
        except DeskmateError as exc:
            self._show(str(exc), error=True)
            return
        for event in events:
            when = event.start.strftime("%a %d %b") + ("" if event.all_day else event.start.strftime(" %H:%M"))
            self.upcoming.addItem(f"{when}  {event.title}" + (f" — {event.location}" if event.location else ""))
        if not events:
            self.upcoming.addItem("Nothing planned.")

    def store(self):
        from app.tools.calendar_store import CalendarStore  # icalendar is only needed here

        return CalendarStore(self.session.paths.calendar_file, self.session.clock)

    def _run(self, verb: str, path_text: str, action: Callable[[object, Path], int]) -> None:
        if not path_text:
            return
        path = Path(path_text)
        try:
            count = action(self.store(), path)
        except (DeskmateError, OSError) as exc:
            self._show(str(exc), error=True)
            return
        self.refresh()
        self._show(_describe(count, verb, path))

    def _show(self, text: str, error: bool = False) -> None:
        style.mark_error(self.status, error)
        self.status.setText(text)

    def import_ics(self) -> None:
        self._run("Imported", self.pick_import(), lambda store, path: store.import_ics(path))

    def export_ics(self) -> None:
        # The save dialog already asked before replacing an existing file.
        self._run("Exported", self.pick_export(), lambda store, path: store.export_ics(path, overwrite=True))

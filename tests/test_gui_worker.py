"""The threading plumbing: work runs off the GUI thread, results come back on it."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtCore import QObject

from app.gui.worker import run_in_background


def test_background_work_reports_back_on_the_gui_thread(qtbot):
    parent = QObject()
    seen: dict[str, object] = {}

    def work(progress):
        seen["work"] = threading.current_thread()
        progress("half way", 0.5)
        return 42

    def done(value):
        seen["done"] = (threading.current_thread(), value)

    def progress(message, fraction):
        seen["progress"] = (threading.current_thread(), message, fraction)

    thread = run_in_background(work, parent, done, lambda m: seen.setdefault("failed", m), progress)
    qtbot.waitUntil(lambda: "done" in seen, timeout=5000)
    qtbot.waitUntil(lambda: not shiboken6.isValid(thread), timeout=5000)  # the thread cleans itself up
    main = threading.main_thread()
    assert seen["work"] is not main
    assert seen["progress"] == (main, "half way", 0.5)
    assert seen["done"] == (main, 42)
    assert "failed" not in seen


def test_background_failure_is_a_message_on_the_gui_thread(qtbot):
    parent = QObject()
    seen = {}

    def work(_progress):
        raise OSError("the disk is full")

    thread = run_in_background(work, parent, lambda v: seen.setdefault("done", v),
                               lambda m: seen.setdefault("failed", (threading.current_thread(), m)))
    qtbot.waitUntil(lambda: "failed" in seen, timeout=5000)
    qtbot.waitUntil(lambda: not shiboken6.isValid(thread), timeout=5000)
    assert seen["failed"] == (threading.main_thread(), "the disk is full") and "done" not in seen

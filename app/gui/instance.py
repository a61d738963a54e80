"""One Deskmate per user: a second start (or `deskmate ask-popup`) talks to the running one.

A local socket named after the config folder carries one-word messages: "show"
brings the window up, "ask" opens the Ask window. Two tests with different
temporary homes therefore never see each other's app.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

MESSAGES = ("show", "ask")


def server_name(config_dir: Path) -> str:
    digest = hashlib.sha256(str(Path(config_dir).resolve()).encode()).hexdigest()[:12]
    return f"deskmate-{digest}"


def send(config_dir: Path, message: str, timeout_ms: int = 500) -> bool:
    """Deliver `message` to a running Deskmate; False when none is running."""
    socket = QLocalSocket()
    socket.connectToServer(server_name(config_dir))
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(message.encode() + b"\n")
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Listens for messages from later starts. Signals: received(str)."""

    received = Signal(str)

    def __init__(self, config_dir: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.name = server_name(config_dir)
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        if self.server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)  # a stale socket left by a crash
        return self.server.listen(self.name)

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            message = bytes(socket.readLine().data()).decode(errors="replace").strip()
            if message in MESSAGES:
                self.received.emit(message)

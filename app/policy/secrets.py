"""Secrets (the audit log's key, later a CalDAV password) go through the OS keyring.

With no usable keyring backend (keyring's `fail` or `null` backend, or one that
errors) nothing here raises into the app: `Secrets.available` is False,
`Secrets.problem` says what is missing in words, and features that need a secret
run without it. For the audit log that means an unkeyed SHA-256 chain: it still
shows an edited or removed entry, but not a chain rewritten by someone who can
write the file. We deliberately do not fall back to a key file next to the log:
whoever can rewrite the log can read that file too, so it would only look safer.
"""

from __future__ import annotations

import secrets as _random

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail, null

SERVICE = "deskmate"
AUDIT_KEY = "audit-key"

NO_BACKEND = (
    "No keyring is available (the system's password store), so Deskmate keeps no secrets: "
    "the audit log is chained without a secret key — it still detects a changed or removed entry, "
    "but not a log rewritten as a whole. Install or unlock a keyring (GNOME Keyring, KWallet, "
    "macOS Keychain, Windows Credential Manager) to turn this on."
)


class SecretsUnavailable(RuntimeError):
    """Raised by `Secrets.set` when there is nowhere safe to keep a secret."""


def _resolve_backend() -> keyring.backend.KeyringBackend | None:
    """The backend keyring would use, resolved afresh (keyring caches it process-wide;
    tests and `PYTHON_KEYRING_BACKEND` must be able to change it between sessions)."""
    try:
        return keyring.core.load_env() or keyring.get_keyring()
    except Exception:  # a named backend that cannot load, a broken config
        return None


class Secrets:
    def __init__(self, service: str = SERVICE, backend: keyring.backend.KeyringBackend | None = None):
        self.service = service
        self.backend = backend if backend is not None else _resolve_backend()
        self.problem: str | None = None
        if self.backend is None or isinstance(self.backend, (fail.Keyring, null.Keyring)):
            self.problem = NO_BACKEND

    @property
    def available(self) -> bool:
        return self.problem is None

    def _fail(self, exc: Exception) -> None:
        self.problem = f"{NO_BACKEND} (The keyring said: {exc})"

    def get(self, name: str) -> str | None:
        if not self.available:
            return None
        try:
            return self.backend.get_password(self.service, name)
        except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
            self._fail(exc)
            return None

    def set(self, name: str, value: str) -> None:
        if not self.available:
            raise SecretsUnavailable(self.problem)
        try:
            self.backend.set_password(self.service, name, value)
        except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
            self._fail(exc)
            raise SecretsUnavailable(self.problem) from exc

    def delete(self, name: str) -> None:
        if not self.available:
            return
        try:
            self.backend.delete_password(self.service, name)
        except keyring.errors.PasswordDeleteError:
            pass  # already gone
        except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
            self._fail(exc)

    def audit_key(self) -> bytes | None:
        """The audit log's HMAC key, created on first use; None when no keyring works."""
        value = self.get(AUDIT_KEY)
        if value is None and self.available:
            value = _random.token_hex(32)
            try:
                self.set(AUDIT_KEY, value)
            except SecretsUnavailable:
                return None
        if value is None:
            return None
        try:
            return bytes.fromhex(value)
        except ValueError:
            return value.encode()  # a key set by hand; still a key


__all__ = ["AUDIT_KEY", "NO_BACKEND", "SERVICE", "Secrets", "SecretsUnavailable"]

"""Signed session cookies for the dashboard: who signed in, with which role, until when.

When the service has API keys, a person signs in with one (``/ui/signin``) and gets a cookie
``modelmon_session`` holding ``key id|role|expires|csrf`` signed with HMAC-SHA256 under
``server.session_secret`` (a random secret per process when unset). The cookie is ``HttpOnly``
(scripts cannot read it), ``SameSite=Lax`` (other sites' forms do not carry it; links from an
alert in Slack still do) and ``Secure`` when the request came over TLS. Forms that change
something also carry the session's CSRF token, checked on submission.

Nothing is stored server-side: a session ends when its time is up or the secret changes.
The key itself is never in the cookie, only its id: each page looks the id up among the active
keys, so revoking a key ends its sessions at once (and its current role applies); changing
``session_secret`` ends all of them at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from modelmon.config.settings import ServerSettings

__all__ = ["COOKIE", "Session", "SessionSigner"]

COOKIE = "modelmon_session"


@dataclass(frozen=True)
class Session:
    """A signed-in person: the key's name and role, when the session ends, its CSRF token."""

    name: str
    role: str
    expires: int
    csrf: str
    key_id: str = ""

    @property
    def can_write(self) -> bool:
        return self.role == "admin"


class SessionSigner:
    """Makes and checks session cookie values.

    >>> signer = SessionSigner(b"k" * 32, hours=1)
    >>> value = signer.issue("alice", "read", now=1000)
    >>> signer.read(value, now=1001).role, signer.read(value, now=1000 + 3601)
    ('read', None)
    >>> signer.read(value[:-2] + "xx", now=1001) is None   # tampered
    True
    """

    def __init__(self, secret: bytes, hours: float) -> None:
        self._secret = secret
        self.seconds = int(hours * 3600)

    @classmethod
    def from_settings(cls, server: ServerSettings) -> SessionSigner:
        secret = (server.session_secret.get_secret_value().encode()
                  if server.session_secret is not None else secrets.token_bytes(32))
        return cls(secret, server.session_hours)

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, name: str, role: str, *, now: float | None = None) -> str:
        """A cookie value for ``name`` with ``role``, valid for ``session_hours``."""
        expires = int((time.time() if now is None else now) + self.seconds)
        who = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
        payload = f"{who}.{role}.{expires}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._mac(payload)}"

    def read(self, value: str | None, *, now: float | None = None) -> Session | None:
        """The session in a cookie value, or None when it is missing, forged or expired."""
        if not value or value.count(".") != 4:
            return None
        payload, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        who, role, expires, csrf = payload.split(".")
        if not expires.isdigit() or int(expires) <= (time.time() if now is None else now):
            return None
        try:
            name = base64.urlsafe_b64decode(who + "=" * (-len(who) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return Session(name, role, int(expires), csrf)

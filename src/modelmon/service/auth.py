"""API-key authentication and roles for the ``/v1`` API (health probes, ``/metrics`` and docs stay
open).

Clients send ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Keys come from
``server.api_key`` (or the ``MODELMON_API_KEY`` environment variable; an admin key) and
``server.api_keys`` (each with a role). No key configured means the API is open (the service
says so in its start-up log); an empty header never authenticates.

Roles: ``admin`` may do everything; ``read`` may send safe requests only (GET, HEAD, OPTIONS):
a read key that writes (ingest, a silence, an acknowledgement, a rule) gets ``403 forbidden``.
The dashboard signs people in with the same keys (:mod:`modelmon.dashboard.sessions`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request

from modelmon.config.settings import ServerSettings
from modelmon.exceptions import ModelmonError

__all__ = ["SAFE_METHODS", "Principal", "authenticate", "require_api_key"]

#: Methods that change nothing: what a ``read`` key may send.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unauthorized(ModelmonError):
    default_code = "unauthorized"


class Forbidden(ModelmonError):
    default_code = "forbidden"


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: the key's name and role (``anonymous``/``admin`` when the
    service has no keys)."""

    name: str
    role: str

    @property
    def can_write(self) -> bool:
        return self.role == "admin"


#: Everyone, when no key is configured.
OPEN = Principal("anonymous", "admin")


def authenticate(server: ServerSettings, given: str) -> Principal | None:
    """The principal whose key is ``given``, or None. Every key is compared in constant time
    (and all of them are, so the time does not tell which one matched).

    >>> s = ServerSettings(api_keys=[{"key": "r3ad", "role": "read", "name": "viewer"}])
    >>> authenticate(s, "r3ad"), authenticate(s, "nope")
    (Principal(name='viewer', role='read'), None)
    """
    found: Principal | None = None
    raw = given.encode()
    for key in server.all_keys():
        secret = key.key.get_secret_value().encode()
        if raw and secret and hmac.compare_digest(raw, secret) and found is None:
            found = Principal(key.name or key.role, key.role)
    return found


def presented_key(request: Request) -> str:
    """The key a request presents (``X-API-Key`` or ``Authorization: Bearer``), or ``""``."""
    given = request.headers.get("x-api-key", "").strip()
    if not given:
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
    return given


async def require_api_key(request: Request) -> Principal:
    """FastAPI dependency: ``unauthorized`` (401) unless a configured key is presented,
    ``forbidden`` (403) when a read-only key sends a request that changes something."""
    server = request.app.state.mm.settings.server
    if not server.auth:
        return OPEN
    principal = authenticate(server, presented_key(request))
    if principal is None:
        raise Unauthorized(
            "missing or wrong API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            loc=("header", "authorization"),
        )
    if request.method not in SAFE_METHODS and not principal.can_write:
        raise Forbidden(f"the key {principal.name!r} may only read (role 'read'): this "
                        f"{request.method} needs an admin key", loc=("header", "authorization"))
    return principal

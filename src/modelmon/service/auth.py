"""API-key authentication for the ``/v1`` API (health probes, ``/metrics`` and docs stay open).

Clients send ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; the key comes from
``server.api_key`` (or the ``MODELMON_API_KEY`` environment variable). An empty setting means no
key (the API is open; the service says so in its start-up log), and an empty header never
authenticates.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from modelmon.exceptions import ModelmonError

__all__ = ["require_api_key"]


class Unauthorized(ModelmonError):
    default_code = "unauthorized"


async def require_api_key(request: Request) -> None:
    """FastAPI dependency: raise ``unauthorized`` (401) unless the key matches."""
    expected = request.app.state.mm.settings.server.api_key
    if expected is None:
        return
    given = request.headers.get("x-api-key", "").strip()
    if not given:
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
    key = expected.get_secret_value().encode()
    if not given or not key or not hmac.compare_digest(given.encode(), key):
        raise Unauthorized(
            "missing or wrong API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            loc=("header", "authorization"),
        )

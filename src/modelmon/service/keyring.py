"""The keys the service accepts: those of the configuration file and those in the store.

Loaded at start-up, after every key change made through this service, and again when it is
older than ``refresh_seconds`` (10) at a request: keys made or revoked through another server on
the same PostgreSQL store (or with ``modelmon keys -c`` on it) apply everywhere within seconds.
Each request is checked against it in memory (a SHA-256 and a dictionary lookup for stored
keys, a constant-time comparison with every key of the file).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from typing import Any

from modelmon.access.keys import KeyRecord, Principal, Role, hash_key
from modelmon.config.settings import ServerSettings

__all__ = ["KeyRing"]

log = logging.getLogger("modelmon.service")

#: Everyone, when no key exists.
OPEN = Principal("anonymous", "anonymous", Role.ADMIN)


class KeyRing:
    """Authentication against the file's keys and the store's (see the module docstring)."""

    def __init__(self, server: ServerSettings, access: Any | None = None, *,
                 refresh_seconds: float = 10.0) -> None:
        self._access = access
        self._refresh = refresh_seconds
        self._loaded_at = 0.0
        self._config: list[tuple[bytes | None, str | None, Principal]] = []
        seen: set[str] = set()
        for i, k in enumerate(server.all_keys()):
            name = k.name or k.role
            key_id = name if name not in seen else f"{name}-{i}"  # unique: sessions name it
            seen.add(key_id)
            models = frozenset(k.models) if k.models is not None else None
            principal = Principal(key_id, name, Role(k.role), models)
            plain = k.key.get_secret_value().encode() if k.key is not None else None
            self._config.append((plain, k.key_sha256.lower() if k.key_sha256 else None,
                                 principal))
        self._stored: dict[str, KeyRecord] = {}
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Read the store's active keys again."""
        keys = self._access.list_keys() if self._access is not None else []
        with self._lock:
            self._stored = {k.key_hash: k for k in keys}
            self._loaded_at = time.monotonic()

    def _fresh(self) -> None:
        if self._access is None or time.monotonic() - self._loaded_at < self._refresh:
            return
        try:
            self.reload()
        except Exception as exc:  # keep the keys known so far; the store's health says why
            self._loaded_at = time.monotonic()
            log.warning("API keys not re-read from the store: %s", exc)

    @property
    def required(self) -> bool:
        """Whether requests must present a key (some key exists)."""
        self._fresh()
        return bool(self._config) or bool(self._stored)

    def authenticate(self, given: str) -> Principal | None:
        """The principal whose key is ``given``, or None. Every key of the file is compared in
        constant time (all of them, so the time does not tell which one matched)."""
        if not given:
            return None
        self._fresh()
        digest = hash_key(given)
        raw = given.encode()
        found: Principal | None = None
        for plain, sha, principal in self._config:
            hit = (hmac.compare_digest(raw, plain) if plain is not None
                   else hmac.compare_digest(digest, sha or ""))
            if hit and found is None:
                found = principal
        if found is not None:
            return found
        with self._lock:
            record = self._stored.get(digest)
        if record is None:
            return None
        return Principal(record.key_id, record.name, record.role,
                         frozenset(record.models) if record.models is not None else None)

    def by_id(self, key_id: str) -> Principal | None:
        """The active key with this id (a session's key: revoked keys end their sessions)."""
        self._fresh()
        for _, _, principal in self._config:
            if principal.key_id == key_id:
                return principal
        with self._lock:
            for record in self._stored.values():
                if record.key_id == key_id:
                    return Principal(record.key_id, record.name, record.role,
                                     frozenset(record.models) if record.models is not None
                                     else None)
        return None

    def stored_ids(self) -> list[str]:
        with self._lock:
            return [k.key_id for k in self._stored.values()]

    def config_keys(self) -> list[Principal]:
        return [p for _, _, p in self._config]

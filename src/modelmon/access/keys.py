"""API keys and roles.

A key made by modelmon reads ``mmk_<id>_<secret>``: ``id`` (12 characters) names the key in
logs, the audit log and the API; ``secret`` is 32 random bytes (URL-safe Base64). The service
stores only the SHA-256 of the whole key: a key is 256 random bits, so a fast hash is as safe
as a slow one (nothing to guess from a dictionary), and it lets a request be checked in
microseconds. Keys written in the configuration file may have any form (their ``name`` is their
id) and may be given as their SHA-256 (``key_sha256``) instead of in plain text.

Roles:

=========  ===========================================================================
``ingest``  write predictions, actuals, events, feature importance and training runs
``read``    every query, the dashboard (looking only), reports, backtests
``admin``   everything: models, versions, rules, silences, acknowledgements, actions,
            evaluation, deletion, retention, backups, keys and the audit log
=========  ===========================================================================

A key may be limited to some models: it then reaches only routes about those models.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["KEY_PREFIX", "ROLES", "KeyRecord", "Principal", "Role", "hash_key", "key_id_of",
           "new_key"]

KEY_PREFIX = "mmk_"
_KEY = re.compile(r"^mmk_([a-z2-7]{12})_[A-Za-z0-9_-]{43}$")


class Role(StrEnum):
    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


ROLES = tuple(str(r) for r in Role)


def hash_key(key: str) -> str:
    """The hex SHA-256 of a key (what the store keeps).

    >>> hash_key("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh ``(key_id, key)``; the key is shown once and never stored.

    >>> kid, key = new_key()
    >>> key_id_of(key) == kid and len(key) == 60
    True
    """
    kid = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:12]
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return kid, f"{KEY_PREFIX}{kid}_{secret}"


def key_id_of(key: str) -> str | None:
    """The id inside a modelmon-made key, or None for any other string.

    >>> key_id_of("mmk_abcdefghijkl_" + "A" * 43), key_id_of("hunter2")
    ('abcdefghijkl', None)
    """
    found = _KEY.match(key)
    return found.group(1) if found else None


@dataclass(frozen=True)
class KeyRecord:
    """A key as stored: never the key itself, only its hash."""

    key_id: str
    name: str
    role: Role
    key_hash: str
    created_at: datetime
    created_by: str
    models: tuple[str, ...] | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    source: str = "store"   # "store" (made by modelmon keys / the API) or "config"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        """The key's description (no hash, no key)."""
        return {"key_id": self.key_id, "name": self.name, "role": str(self.role),
                "models": list(self.models) if self.models is not None else None,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "created_by": self.created_by,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
                "revoked_by": self.revoked_by, "source": self.source}


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: the key's id and name, its role, and the models it is limited
    to (None: every model)."""

    key_id: str
    name: str
    role: Role
    models: frozenset[str] | None = field(default=None)

    def may(self, needed: Role) -> bool:
        """Whether this role may do what needs ``needed`` (admin may do everything).

        >>> Principal("k", "k", Role.READ).may(Role.INGEST)
        False
        >>> Principal("k", "k", Role.ADMIN).may(Role.INGEST)
        True
        """
        return self.role is Role.ADMIN or self.role is needed

    def reaches(self, model: str) -> bool:
        """Whether the key may touch ``model``."""
        return self.models is None or model in self.models

    @property
    def can_write(self) -> bool:
        """May change the deployment (the dashboard's forms)."""
        return self.role is Role.ADMIN

    @property
    def scoped(self) -> bool:
        return self.models is not None

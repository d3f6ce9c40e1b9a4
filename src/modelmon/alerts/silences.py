"""Silences: matchers and a time range during which matching alerts are marked silenced.

A silenced alert is still evaluated and recorded (its history shows it); it is only marked
``silenced`` (and, with notifications, not sent). As in Alertmanager a silence is ``pending``
before its start, ``active`` until its end, then ``expired``; expiring one ends it now.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from modelmon.alerts.matchers import Matcher, matches_all

__all__ = ["Silence"]


@dataclass(frozen=True)
class Silence:
    """One silence (see the module docstring)."""

    silence_id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime
    expired_at: datetime | None = None

    @classmethod
    def create(cls, matchers: Sequence[Matcher], starts_at: datetime, ends_at: datetime,
               created_by: str, comment: str, now: datetime) -> Silence:
        if not matchers:
            raise ValueError("a silence needs at least one matcher")
        if ends_at <= starts_at:
            raise ValueError("a silence must end after it starts")
        return cls(uuid.uuid4().hex, tuple(matchers), starts_at, ends_at, created_by, comment,
                   now)

    def state(self, now: datetime) -> str:
        end = self.ends_at if self.expired_at is None else min(self.ends_at, self.expired_at)
        if now >= end:
            return "expired"
        return "pending" if now < self.starts_at else "active"

    def silences(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.state(now) == "active" and matches_all(self.matchers, labels)

    def expire(self, now: datetime) -> Silence:
        return replace(self, expired_at=now)

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {"id": self.silence_id, "matchers": [m.to_dict() for m in self.matchers],
                "starts_at": self.starts_at.isoformat(), "ends_at": self.ends_at.isoformat(),
                "created_by": self.created_by, "comment": self.comment,
                "created_at": self.created_at.isoformat(),
                "expired_at": None if self.expired_at is None else self.expired_at.isoformat(),
                "state": self.state(now)}

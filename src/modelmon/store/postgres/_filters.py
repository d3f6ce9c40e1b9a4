"""The WHERE clause of a listing in PostgreSQL's parameter style (``%s``), from the shared
:func:`modelmon.store._filters.listing_filter`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from modelmon.store import _filters

__all__ = ["listing_filter"]


def listing_filter(equal: Sequence[tuple[str, Any]], states: Sequence[str] | None,
                   time_column: str, start: datetime | None, end: datetime | None,
                   before: datetime | None) -> tuple[str, list[Any]]:
    """As :func:`modelmon.store._filters.listing_filter`, with ``%s`` placeholders and aware
    times (``timestamptz``)."""
    where, _ = _filters.listing_filter(equal, states, time_column, start, end, before)
    params: list[Any] = [v for _, v in equal if v is not None]
    params.extend(states or [])
    params.extend(t for t in (start, end, before) if t is not None)
    return where.replace("?", "%s"), params

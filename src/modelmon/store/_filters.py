"""The WHERE clause of a listing: equal columns, a column in a set, a time range and a paging
cursor, with their parameters (the alert and action store parts list the same way)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from modelmon.store._time import naive_utc

__all__ = ["listing_filter"]


def listing_filter(equal: Sequence[tuple[str, Any]], states: Sequence[str] | None,
                   time_column: str, start: datetime | None, end: datetime | None,
                   before: datetime | None) -> tuple[str, list[Any]]:
    """``" WHERE ..."`` (or ``""``) and its parameters: each ``column = value`` whose value is
    not None, ``state IN states``, ``start <= time < end`` and ``time < before``.

    >>> listing_filter([("model", "fraud"), ("rule", None)], ["firing"], "at", None, None, None)
    (' WHERE model = ? AND state IN (?)', ['fraud', 'firing'])
    """
    conds: list[str] = []
    params: list[Any] = []
    for column, value in equal:
        if value is not None:
            conds.append(f"{column} = ?")
            params.append(value)
    if states:
        conds.append(f"state IN ({', '.join('?' for _ in states)})")
        params.extend(states)
    for op, when in ((">=", start), ("<", end), ("<", before)):
        if when is not None:
            conds.append(f"{time_column} {op} ?")
            params.append(naive_utc(when))
    return (f" WHERE {' AND '.join(conds)}" if conds else ""), params

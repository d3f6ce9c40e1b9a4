"""Parsing request parameters shared by routes: times and time ranges; paging by a cursor.

A time is ISO 8601 text; without an offset it is UTC, and it is returned as an aware UTC
datetime. Errors are 422s naming the parameter: ``invalid_timestamp`` for text that is not a
time, ``timestamp_out_of_range`` for a time whose UTC value is not a year 1-9999 datetime
(``0001-01-01T00:00:00+01:00`` is year 0 in UTC: it raised ``OverflowError``, a 500), and
``invalid_value`` for an end that is not after the start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from modelmon.exceptions import ValidationError

__all__ = ["next_page", "parse_time", "time_range"]

_Row = TypeVar("_Row")

Loc = tuple[str | int, ...]


def parse_time(text: str | None, name: str, where: Loc = ("query",)) -> datetime | None:
    """``text`` as an aware UTC datetime, or None when absent.

    >>> parse_time("2026-01-31T12:00:00+02:00", "start").isoformat()
    '2026-01-31T10:00:00+00:00'
    >>> parse_time("0001-01-01T00:00:00+01:00", "start")
    Traceback (most recent call last):
    ...
    modelmon.exceptions.ValidationError: 'start' 0001-01-01T00:00:00+01:00 is before year 1 or after year 9999 in UTC
    """
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"'{name}' must be an ISO 8601 time such as 2026-01-31T12:00:00Z; "
                              f"got {text!r:.60}", code="invalid_timestamp",
                              loc=(*where, name)) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValidationError(f"'{name}' {text.strip():.60} is before year 1 or after year 9999 "
                              "in UTC", code="timestamp_out_of_range",
                              loc=(*where, name)) from None


def time_range(start: str | None, end: str | None,
               where: Loc = ("query",)) -> tuple[datetime | None, datetime | None]:
    """``start`` and ``end`` parsed; ``end`` must be after ``start`` when both are given."""
    s, e = parse_time(start, "start", where), parse_time(end, "end", where)
    if s is not None and e is not None and e <= s:
        raise ValidationError(f"'end' ({e.isoformat()}) must be after 'start' ({s.isoformat()})",
                              code="invalid_value", loc=(*where, "end"))
    return s, e


def next_page(url: Any, rows: Sequence[_Row], limit: int, cursor: Callable[[_Row], datetime]
              ) -> tuple[list[_Row], str | None]:
    """The page of ``rows`` (read ``limit + 1`` of them, newest first) and the link to the next
    one: the request's ``url`` (a Starlette ``URL``) with ``before`` set to the cursor of the
    page's last row; ``None`` on the last page."""
    page = list(rows[:limit])
    if len(rows) <= limit:
        return page, None
    nxt = url.include_query_params(before=cursor(page[-1]).isoformat())
    return page, f"{nxt.path}?{nxt.query}"

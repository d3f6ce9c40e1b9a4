"""Time intervals (Alertmanager's ``time_intervals``): when a route is muted or active.

A range matches an instant when every field it sets matches (an unset field matches all):
``times`` (``start_time``/``end_time`` ``HH:MM``, the end exclusive, ``24:00`` allowed),
``weekdays`` (``monday``, ``monday:friday``), ``days_of_month`` (``1``, ``1:7``; negatives count
from the month's end: ``-1`` is its last day), ``months`` (``march``, ``1:3``), ``years``
(``2026:2027``), all read in ``location`` (an IANA time zone, UTC by default).

>>> from modelmon.notify.config import TimeRange
>>> from datetime import datetime, UTC
>>> office = parse_range(TimeRange(weekdays=["monday:friday"],
...                                times=[{"start_time": "09:00", "end_time": "17:00"}]))
>>> office.contains(datetime(2026, 12, 7, 10, 30, tzinfo=UTC))   # a Monday morning
True
>>> office.contains(datetime(2026, 12, 6, 10, 30, tzinfo=UTC))   # a Sunday
False
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["CompiledRange", "in_any", "parse_range"]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")


def _minutes(text: str, *, end: bool) -> int:
    hh, sep, mm = text.partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        raise ValueError(f"a time is HH:MM; got {text!r}")
    value = int(hh) * 60 + int(mm)
    if int(mm) > 59 or value > 24 * 60 or (value == 24 * 60 and not end):
        raise ValueError(f"a time is between 00:00 and 24:00; got {text!r}")
    return value


def _span(text: str, parse: Any) -> tuple[int, int]:
    lo, sep, hi = str(text).partition(":")
    a = parse(lo.strip())
    b = parse(hi.strip()) if sep else a
    return a, b


def _named(names: Sequence[str], base: int) -> Any:
    def parse(text: str) -> int:
        low = text.lower()
        if low in names:
            return names.index(low) + base
        if low.lstrip("-").isdigit():
            return int(low)
        raise ValueError(f"expected one of {', '.join(names)} or a number; got {text!r}")

    return parse


def _integer(text: str) -> int:
    if not text.lstrip("-").isdigit():
        raise ValueError(f"expected a number; got {text!r}")
    return int(text)


@dataclass(frozen=True)
class CompiledRange:
    """A parsed range (see the module docstring)."""

    times: tuple[tuple[int, int], ...]
    weekdays: tuple[tuple[int, int], ...]
    days: tuple[tuple[int, int], ...]
    months: tuple[tuple[int, int], ...]
    years: tuple[tuple[int, int], ...]
    zone: ZoneInfo

    def contains(self, at: datetime) -> bool:
        t = at.astimezone(self.zone)
        minute = t.hour * 60 + t.minute
        if self.times and not any(a <= minute < b for a, b in self.times):
            return False
        if self.weekdays and not any(a <= t.weekday() <= b for a, b in self.weekdays):
            return False
        if self.days:
            last = calendar.monthrange(t.year, t.month)[1]

            def day(d: int) -> int:
                return d if d > 0 else last + 1 + d

            if not any(day(a) <= t.day <= day(b) for a, b in self.days):
                return False
        if self.months and not any(a <= t.month <= b for a, b in self.months):
            return False
        return not self.years or any(a <= t.year <= b for a, b in self.years)


def parse_range(r: Any) -> CompiledRange:
    """Compile a :class:`~modelmon.notify.config.TimeRange` (``ValueError`` naming the field)."""
    times = []
    for t in r.times:
        if set(t) != {"start_time", "end_time"}:
            raise ValueError("times: each is {start_time: HH:MM, end_time: HH:MM}")
        a, b = _minutes(t["start_time"], end=False), _minutes(t["end_time"], end=True)
        if b <= a:
            raise ValueError(f"times: end_time {t['end_time']} is not after {t['start_time']}")
        times.append((a, b))
    weekdays = tuple(_span(w, _named(_WEEKDAYS, 0)) for w in r.weekdays)
    days = tuple(_span(d, _integer) for d in r.days_of_month)
    months = tuple(_span(m, _named(_MONTHS, 1)) for m in r.months)
    years = tuple(_span(y, _integer) for y in r.years)
    for name, spans, lo, hi in (("weekdays", weekdays, 0, 6), ("months", months, 1, 12)):
        for a, b in spans:
            if not (lo <= a <= b <= hi):
                raise ValueError(f"{name}: {a}:{b} is not an increasing range inside {lo}:{hi}")
    for a, b in days:
        if a == 0 or b == 0 or not (-31 <= a <= 31 and -31 <= b <= 31) or (a > 0) != (b > 0) \
                or a > b:
            raise ValueError(f"days_of_month: {a}:{b} is not a range of days 1..31 or -31..-1")
    try:
        zone = ZoneInfo(r.location)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"location: unknown time zone {r.location!r}") from None
    return CompiledRange(tuple(times), weekdays, days, months, years, zone)


def in_any(ranges: Iterable[CompiledRange], at: datetime) -> bool:
    """Whether ``at`` lies in any of ``ranges``."""
    return any(r.contains(at) for r in ranges)

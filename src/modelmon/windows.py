"""How a model's predictions are cut into evaluation windows.

Three schemes, named the way they are written in a spec and in URLs (``window=1h``):

- **fixed time windows** (``30s``, ``5m``, ``1h``, ``1d``), aligned to the Unix epoch so they
  are identical across restarts and replicas: the 1-hour window holding 10:17 is 10:00-11:00
  UTC. Weeks (``1w``, ``2w``) are aligned to Monday 00:00 UTC, as calendars show them;
- **calendar months** (``1mo``, ``3mo`` for quarters, ``12mo`` for years), in UTC;
- **row windows** (``5000rows``): every N predictions in event-time order (ties by prediction
  id), like NannyML's size-based chunks. The last one is complete once it holds N rows; a
  prediction that arrives late with an old timestamp moves the later windows' boundaries.

Windows are half-open ``[start, end)``. A row window's ``start`` is its first prediction's
event time and ``end`` one microsecond after its last.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from modelmon._durations import format_duration, parse_duration

__all__ = [
    "FixedWindows",
    "MonthWindows",
    "RowWindows",
    "Window",
    "WindowScheme",
    "parse_window",
    "window_containing",
    "window_order",
    "windows_between",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONDAY = timedelta(days=4)  # 1970-01-05, the first Monday after the epoch, is epoch + 4 days
_WEEK = timedelta(days=7)
_US = timedelta(microseconds=1)
_MONTHS = re.compile(r"^\s*(\d+)\s*mo\s*$")
_ROWS = re.compile(r"^\s*(\d+)\s*rows\s*$")


@dataclass(frozen=True, order=True)
class Window:
    """One evaluation window (``index``: a row window's position, else None)."""

    start: datetime
    end: datetime
    name: str = field(default="", compare=False)
    index: int | None = field(default=None, compare=False)

    @property
    def size(self) -> timedelta:
        return self.end - self.start

    def is_open(self, now: datetime) -> bool:
        """True while the window has not ended yet (its results are provisional)."""
        return now < self.end


class WindowScheme(ABC):
    """A way of cutting predictions into windows (see the module docstring)."""

    name: str
    #: "time" (fixed or calendar: windows follow the clock) or "rows"
    kind: str = "time"

    @abstractmethod
    def containing(self, t: datetime) -> Window:
        """The window holding ``t``."""

    def after(self, window: Window) -> Window:
        """The window that follows ``window``."""
        return self.containing(window.end)

    @abstractmethod
    def sql_start(self, column: str) -> str:
        """SQL (DuckDB) for the epoch microseconds of the start of the window holding
        ``column`` (a naive UTC timestamp)."""

    @property
    @abstractmethod
    def approx_seconds(self) -> float:
        """Typical length in seconds (ordering, defaults)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WindowScheme) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class FixedWindows(WindowScheme):
    """Windows of one fixed length, aligned to the epoch (weeks: to Monday)."""

    def __init__(self, size: timedelta) -> None:
        self.size = size
        self.name = format_duration(size)
        self.offset = _MONDAY if size % _WEEK == timedelta(0) else timedelta(0)

    @property
    def approx_seconds(self) -> float:
        return self.size.total_seconds()

    def containing(self, t: datetime) -> Window:
        width = self.size // _US
        off = self.offset // _US
        ts = (t - _EPOCH) // _US
        start_us = ((ts - off) // width) * width + off
        start = _EPOCH + timedelta(microseconds=start_us)
        return Window(start, start + self.size, self.name)

    def sql_start(self, column: str) -> str:
        width = self.size // _US
        off = self.offset // _US
        return f"((epoch_us({column}) - {off}) // {width}) * {width} + {off}"


class MonthWindows(WindowScheme):
    """Calendar months (or groups of months: quarters, years) in UTC."""

    def __init__(self, months: int) -> None:
        self.months = months
        self.name = f"{months}mo"

    @property
    def approx_seconds(self) -> float:
        return self.months * 30.436875 * 86400

    def _start_of(self, index: int) -> datetime:
        return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)

    def containing(self, t: datetime) -> Window:
        t = t.astimezone(UTC)
        index = ((t.year * 12 + t.month - 1) // self.months) * self.months
        return Window(self._start_of(index), self._start_of(index + self.months), self.name)

    def sql_start(self, column: str) -> str:
        idx = f"((year({column}) * 12 + month({column}) - 1) // {self.months}) * {self.months}"
        return f"epoch_us(make_timestamp({idx} // 12, {idx} % 12 + 1, 1, 0, 0, 0))"


class RowWindows(WindowScheme):
    """Every ``rows`` predictions in event-time order."""

    kind = "rows"

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.name = f"{rows}rows"

    def _no_time(self) -> ValueError:
        return ValueError(f"window {self.name!r} is cut by row count, not by time: it has no "
                          "time bounds of its own (evaluate it with the row windows' reader)")

    def containing(self, t: datetime) -> Window:
        """Row windows have no time bounds (ValueError).

        >>> RowWindows(100).containing(datetime(2026, 1, 1))
        Traceback (most recent call last):
        ...
        ValueError: window '100rows' is cut by row count, not by time: it has no time bounds \
of its own (evaluate it with the row windows' reader)
        """
        raise self._no_time()

    def sql_start(self, column: str) -> str:
        raise self._no_time()

    @property
    def approx_seconds(self) -> float:
        return float("inf")


def parse_window(text: str | WindowScheme) -> WindowScheme:
    """A window scheme from its name.

    >>> parse_window("60m").name, parse_window("1w").name, parse_window("3mo").name
    ('1h', '1w', '3mo')
    >>> parse_window("5000rows")
    RowWindows('5000rows')
    >>> parse_window("fortnight")
    Traceback (most recent call last):
    ...
    ValueError: invalid window 'fortnight': expected a duration such as '5m', '1h', '1d', '1w', \
calendar months such as '1mo', or a row count such as '5000rows'
    """
    if isinstance(text, WindowScheme):
        return text
    raw = str(text)
    if m := _MONTHS.match(raw):
        months = int(m.group(1))
        if not 1 <= months <= 120:
            raise ValueError(f"invalid window {raw!r}: between 1mo and 120mo")
        return MonthWindows(months)
    if m := _ROWS.match(raw):
        rows = int(m.group(1))
        if not 10 <= rows <= 10_000_000:
            raise ValueError(f"invalid window {raw!r}: between 10rows and 10000000rows")
        return RowWindows(rows)
    try:
        size = parse_duration(raw)
    except ValueError:
        raise ValueError(
            f"invalid window {raw!r}: expected a duration such as '5m', '1h', '1d', '1w', "
            "calendar months such as '1mo', or a row count such as '5000rows'") from None
    if size < timedelta(seconds=1) or size > timedelta(days=3660):
        raise ValueError(f"invalid window {raw!r}: between 1s and 3660d")
    return FixedWindows(size)


def window_order(name: str) -> float:
    """A window size's typical length in seconds, for ordering; row windows and unreadable
    names sort last.

    >>> window_order("1h"), window_order("1mo") > window_order("1w"), window_order("x")
    (3600.0, True, inf)
    """
    try:
        return parse_window(name).approx_seconds
    except ValueError:
        return float("inf")


def window_containing(t: datetime, size: timedelta) -> Window:
    """The fixed window of ``size`` that contains ``t``.

    >>> w = window_containing(datetime(2026, 1, 1, 10, 17, tzinfo=UTC), timedelta(hours=1))
    >>> w.start.isoformat(), w.end.isoformat()
    ('2026-01-01T10:00:00+00:00', '2026-01-01T11:00:00+00:00')
    """
    return FixedWindows(size).containing(t)


def windows_between(start: datetime, end: datetime, scheme: WindowScheme) -> list[Window]:
    """Every window of a time scheme overlapping ``[start, end)``, in order."""
    out = []
    w = scheme.containing(start)
    while w.start < end:
        out.append(w)
        w = scheme.after(w)
    return out

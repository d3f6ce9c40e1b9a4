"""Evaluation windows: fixed-size, aligned to the Unix epoch, half-open ``[start, end)``.

Aligning to the epoch makes windows identical across restarts and replicas: the 1-hour window
holding 10:17 is always 10:00-11:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from modelmon.config.durations import format_duration

__all__ = ["Window", "window_containing", "windows_between"]


@dataclass(frozen=True, order=True)
class Window:
    """One evaluation window."""

    start: datetime
    end: datetime

    @property
    def size(self) -> timedelta:
        return self.end - self.start

    @property
    def name(self) -> str:
        """The window size as text (``"1h"``)."""
        return format_duration(self.size)

    def is_open(self, now: datetime) -> bool:
        """True while the window has not ended yet (its results are provisional)."""
        return now < self.end


def window_containing(t: datetime, size: timedelta) -> Window:
    """The window of ``size`` that contains ``t``.

    >>> w = window_containing(datetime(2026, 1, 1, 10, 17, tzinfo=UTC), timedelta(hours=1))
    >>> w.start.isoformat(), w.end.isoformat()
    ('2026-01-01T10:00:00+00:00', '2026-01-01T11:00:00+00:00')
    """
    width = int(size.total_seconds() * 1_000_000)
    ts = int(t.timestamp() * 1_000_000)
    start_us = (ts // width) * width
    start = datetime.fromtimestamp(start_us / 1_000_000, UTC)
    return Window(start, start + size)


def windows_between(start: datetime, end: datetime, size: timedelta) -> list[Window]:
    """Every window of ``size`` overlapping ``[start, end)``, in order."""
    out = []
    w = window_containing(start, size)
    while w.start < end:
        out.append(w)
        w = Window(w.end, w.end + size)
    return out

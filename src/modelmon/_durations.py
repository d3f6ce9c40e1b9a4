"""Durations written the way operators write them: ``30s``, ``5m``, ``1h``, ``1d``, ``1w``."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Parse ``"5m"`` (or seconds as a number, or a timedelta) into a positive timedelta.

    >>> parse_duration("5m")
    datetime.timedelta(seconds=300)
    >>> parse_duration("1d").total_seconds()
    86400.0
    >>> parse_duration("5 minutes")
    Traceback (most recent call last):
    ...
    ValueError: invalid duration '5 minutes': expected a number followed by s, m, h, d or w (e.g. '5m', '1h')
    """
    if isinstance(text, timedelta):
        seconds = text.total_seconds()
    elif isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _PATTERN.match(str(text))
        if not match:
            raise ValueError(
                f"invalid duration {text!r}: expected a number followed by s, m, h, d or w "
                "(e.g. '5m', '1h')"
            )
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: must be positive")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"invalid duration {text!r}: too large") from None


def format_duration(value: timedelta) -> str:
    """Shortest exact text for a duration: ``timedelta(hours=1)`` -> ``"1h"``.

    >>> format_duration(timedelta(minutes=90))
    '90m'
    """
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"

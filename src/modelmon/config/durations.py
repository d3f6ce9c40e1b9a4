"""Durations written the way operators write them (see :mod:`modelmon._durations`)."""

from __future__ import annotations

from modelmon._durations import format_duration, parse_duration

__all__ = ["format_duration", "parse_duration"]

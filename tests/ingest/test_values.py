"""Column converters: the length check on text columns; event times out of range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from modelmon.ingest._values import EventTimeBounds, Problems, text_column, timestamp_column


def _too_long(values: Any, max_length: int) -> list[tuple[str | int, ...]]:
    problems = Problems()
    text_column(values, lambda i: ("rows", i, "f"), problems, what="f", max_length=max_length)
    return [p.loc for p in problems.items]


@pytest.mark.parametrize("values", [
    ["ab", "é" * 3, None, "abcd"],                      # short list: counted in Python
    ["ab", "é" * 3, None, "abcd"] * 20,                 # long list: through Arrow
    pa.array(["ab", "é" * 3, None, "abcd"] * 20),
])
def test_characters_not_bytes_are_counted(values: Any) -> None:
    # "ééé" is 6 bytes but 3 characters; only "abcd" is longer than 3
    expected = [("rows", i, "f") for i in range(len(values)) if i % 4 == 3]
    assert _too_long(values, 3) == expected
    assert _too_long(values, 4) == []


def test_a_slice_is_checked_on_its_own_values() -> None:
    arr = pa.array(["x" * 50, "ab", "cd", "x" * 50])
    assert _too_long(arr.slice(1, 2), 3) == []
    assert _too_long(arr.slice(2, 2), 3) == [("rows", 1, "f")]


@pytest.mark.parametrize("values", [[], [None] * 100, pa.array([], pa.string()),
                                    pa.nulls(5, pa.string()), pa.nulls(5)])
def test_empty_and_all_null(values: Any) -> None:
    assert _too_long(values, 0) == []


# --- event times -----------------------------------------------------------------------------------

_NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize("column", [
    pa.array([1.78e9, 1e20, -1e300, float("inf")]),
    pa.array([1_780_000_000, 2**63 - 1, -(2**63), 0], pa.int64()),
    pa.array([1_780_000_000, 2**62, -(2**62), 0], pa.timestamp("s")),
    pa.array([1_780_000_000_000, 2**63 - 1, -(2**63), 0], pa.timestamp("ms", tz="UTC")),
    pa.array([1_780_000_000 * 10**9, 2**63 - 1, -(2**63), 0], pa.timestamp("ns")),
    [1.78e9, 1e300, "0001-01-01T00:00:00+01:00", 0],
    [1_780_000_000, 10**30, "9999-12-31T23:59:59-01:00", False],
])
def test_event_times_out_of_range_never_overflow(column: Any) -> None:
    problems = Problems()
    out = timestamp_column(column, lambda i: ("rows", i, "timestamp"), problems, what="timestamp",
                           now=EventTimeBounds(_NOW, timedelta(days=30), timedelta(hours=1)))
    assert out.to_pylist()[0] == datetime.fromtimestamp(1_780_000_000, UTC)
    bad = {e.loc[1]: e.code for e in problems.items}
    assert set(bad) == {1, 2, 3}
    assert set(bad.values()) <= {"timestamp_out_of_range", "invalid_timestamp"}
    assert all(v == _NOW for v in out.to_pylist()[1:])  # placeholders; the batch is refused


def test_event_time_bounds_default_to_ten_years_back_and_one_day_ahead() -> None:
    problems = Problems()
    timestamp_column(["2016-06-05T00:00:00Z", "2026-06-01T23:00:00Z", "2016-06-01T00:00:00Z",
                      "2026-06-02T01:00:00Z"], lambda i: (i,), problems, what="t", now=_NOW)
    assert [(e.loc, e.code) for e in problems.items] == [((2,), "timestamp_out_of_range"),
                                                         ((3,), "timestamp_out_of_range")]

"""Window schemes: alignment, parsing, ordering and the SQL that buckets event times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from modelmon.windows import (
    FixedWindows,
    MonthWindows,
    RowWindows,
    parse_window,
    window_order,
    windows_between,
)


def test_fixed_windows_align_to_the_epoch_and_weeks_to_monday() -> None:
    t = datetime(2026, 3, 5, 10, 17, tzinfo=UTC)  # a Thursday
    assert parse_window("1h").containing(t).start == datetime(2026, 3, 5, 10, tzinfo=UTC)
    week = parse_window("1w").containing(t)
    assert week.start == datetime(2026, 3, 2, tzinfo=UTC) and week.start.weekday() == 0
    assert week.end - week.start == timedelta(days=7)
    two = parse_window("2w").containing(t)
    assert two.start.weekday() == 0 and two.start <= t < two.end


@pytest.mark.parametrize(("months", "t", "start", "end"), [
    (1, datetime(2026, 2, 28, 23, 59, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC),
     datetime(2026, 3, 1, tzinfo=UTC)),
    (3, datetime(2026, 5, 17, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC),
     datetime(2026, 7, 1, tzinfo=UTC)),
    (12, datetime(2025, 12, 31, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC),
     datetime(2026, 1, 1, tzinfo=UTC)),
])
def test_calendar_months(months: int, t: datetime, start: datetime, end: datetime) -> None:
    w = MonthWindows(months).containing(t)
    assert (w.start, w.end) == (start, end)


@pytest.mark.parametrize("name", ["5m", "1h", "1d", "1w", "1mo", "3mo"])
def test_sql_start_agrees_with_python(name: str) -> None:
    scheme = parse_window(name)
    con = duckdb.connect()
    times = [datetime(2024, 2, 29, 23, 59, 59), datetime(2026, 1, 1, 0, 0), datetime(2025, 7, 13, 8, 5)]
    for t in times:
        got = con.execute(f"SELECT {scheme.sql_start('event_time')} FROM "
                          "(SELECT ?::TIMESTAMP AS event_time)", [t]).fetchone()[0]
        expected = scheme.containing(t.replace(tzinfo=UTC)).start
        assert got == int(expected.timestamp() * 1_000_000), (name, t)


def test_parse_and_order() -> None:
    assert parse_window("60m").name == "1h" and parse_window("1mo").name == "1mo"
    assert isinstance(parse_window("5000rows"), RowWindows)
    assert isinstance(parse_window("1d"), FixedWindows)
    for bad in ("fortnight", "0rows", "5rows", "0mo", "200mo", "0s"):
        with pytest.raises(ValueError, match="invalid"):
            parse_window(bad)
    names = ["1mo", "5000rows", "1h", "1w", "5m"]
    assert sorted(names, key=window_order) == ["5m", "1h", "1w", "1mo", "5000rows"]
    days = windows_between(datetime(2026, 1, 30, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC),
                           MonthWindows(1))
    assert [w.start.month for w in days] == [1, 2, 3]

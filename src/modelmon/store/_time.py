"""UTC conventions of the DuckDB store: it keeps naive ``TIMESTAMP`` values that mean UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

import pyarrow as pa

__all__ = ["aware", "naive_utc", "utc_columns", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def naive_utc(value: datetime | None) -> datetime | None:
    """A naive datetime in UTC (what DuckDB ``TIMESTAMP`` columns hold)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """A stored (naive, UTC) datetime labelled UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def utc_columns(table: pa.Table) -> pa.Table:
    """DuckDB returns naive timestamps (stored as UTC): label them UTC."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type) and f.type.tz is None:
            table = table.set_column(i, f.name, table.column(i).cast(pa.timestamp("us", tz="UTC")))
    return table

"""Arrow tables in and out of PostgreSQL, one statement per table.

In: every column travels as one array parameter and ``unnest`` turns the arrays back into rows
(a single ``INSERT ... SELECT`` however many rows; ``executemany`` pays a round trip per row).
Timestamps travel as epoch microseconds (``bigint``: exact, and no Python ``datetime`` per
value); lists of floats (class probabilities) as array literals.

Out: rows fetched by the driver become Arrow columns of the documented types.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from modelmon.windows import FixedWindows, MonthWindows, WindowScheme

__all__ = ["copy_into_temp", "epoch_us", "from_rows", "q", "unnest_select", "window_start_us"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def q(identifier: str) -> str:
    """Quote an SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def _pg_type(dtype: pa.DataType) -> str:
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "text"
    if pa.types.is_floating(dtype):
        return "float8"
    if pa.types.is_integer(dtype):
        return "int8"
    if pa.types.is_boolean(dtype):
        return "bool"
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return "bytea"
    if pa.types.is_null(dtype):
        return "text"
    raise TypeError(f"no PostgreSQL type for Arrow {dtype}")  # pragma: no cover


def _float_list_literal(values: list[float] | None) -> str | None:
    if values is None:
        return None
    return "{" + ",".join("NULL" if v is None else repr(float(v)) for v in values) + "}"


def unnest_select(table: pa.Table, columns: Sequence[str] | None = None,
                  targets: dict[str, str] | None = None) -> tuple[str, list[Any]]:
    """``SELECT <columns> FROM unnest(...)`` over ``table``'s ``columns`` (all by default, each
    named as in the table) and its parameters. ``targets`` gives a column's PostgreSQL type when it is not the Arrow
    type's natural one (``float8`` for an all-null column, say)."""
    names = list(columns) if columns is not None else table.column_names
    targets = targets or {}
    args: list[str] = []
    exprs: list[str] = []
    params: list[Any] = []
    for i, name in enumerate(names):
        col = table.column(name)
        dtype = col.type
        alias = f"c{i}"
        if pa.types.is_timestamp(dtype):
            args.append("%s::int8[]")
            params.append(pc.cast(col.cast(pa.timestamp("us", tz=dtype.tz)), pa.int64())
                          .to_pylist())
            exprs.append(f"timestamptz 'epoch' + u.{alias} * interval '1 microsecond'")
        elif pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
            args.append("%s::text[]")
            params.append([_float_list_literal(v) for v in col.to_pylist()])
            exprs.append(f"u.{alias}::float8[]")
        else:
            pg = targets.get(name) or _pg_type(dtype)
            args.append(f"%s::{pg}[]")
            params.append(col.to_pylist())
            exprs.append(f"u.{alias}")
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    named = ", ".join(f"{e} AS {q(n)}" for e, n in zip(exprs, names, strict=True))
    sql = f"SELECT {named} FROM unnest({', '.join(args)}) AS u({aliases})"
    return sql, params


def copy_into_temp(cur: Any, name: str, like: str, table: pa.Table,
                   columns: Sequence[tuple[str, str]]) -> None:
    """``table`` into a new temporary table ``name`` shaped like ``like`` (dropped at commit),
    with ``COPY``: the rows travel as CSV that Arrow writes in C++, several times faster than
    array parameters for wide batches. ``columns``: ``(logical, physical)`` pairs."""
    import pyarrow.csv as pacsv

    # AS ... WITH NO DATA: the columns without their NOT NULL (the store stamps received_at
    # when the rows move on), plus the caller's extra columns (``_row``)
    extra = [p for _, p in columns if p == "_row"]
    cur.execute(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT *"
                + "".join(f", 0::int8 AS {q(p)}" for p in extra)
                + f" FROM {like} WITH NO DATA")
    out = {}
    for logical, _ in columns:
        col = table.column(logical)
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            col = pa.array([_float_list_literal(v) for v in col.to_pylist()], pa.string())
        elif pa.types.is_timestamp(col.type):
            col = col.cast(pa.timestamp("us", tz="UTC"))
        out[logical] = col
    sink = pa.BufferOutputStream()
    pacsv.write_csv(pa.table(out), sink, pacsv.WriteOptions(
        include_header=False, quoting_style="all_valid"))
    physical = ", ".join(q(p) for _, p in columns)
    with cur.copy(f"COPY {name} ({physical}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(sink.getvalue().to_pybytes())


def from_rows(rows: Sequence[Sequence[Any]], schema: dict[str, pa.DataType]) -> pa.Table:
    """Fetched rows (in ``schema`` order) as an Arrow table of those types."""
    names = list(schema)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for name, values in zip(names, columns, strict=True):
        dtype = schema[name]
        data = list(values)
        if pa.types.is_binary(dtype):
            data = [None if v is None else bytes(v) for v in data]
        arrays.append(pa.array(data, dtype))
    return pa.table(arrays, names=names)


def window_start_us(scheme: WindowScheme, column: str) -> str:
    """SQL for the epoch microseconds of the start of the ``scheme`` window holding
    ``column`` (a ``timestamptz``): PostgreSQL's spelling of
    :meth:`~modelmon.windows.WindowScheme.sql_start`."""
    us = f"(extract(epoch FROM {column}) * 1000000)::int8"
    if isinstance(scheme, FixedWindows):
        width = scheme.size // timedelta(microseconds=1)
        off = scheme.offset // timedelta(microseconds=1)
        rel = f"({us} - {off})"
        # floor division (PostgreSQL's / and mod() truncate toward zero)
        return f"({rel} - mod(mod({rel}, {width}) + {width}, {width}) + {off})"
    if isinstance(scheme, MonthWindows):
        utc = f"({column} AT TIME ZONE 'UTC')"
        idx = (f"(((extract(year FROM {utc})::int * 12 + extract(month FROM {utc})::int - 1)"
               f" / {scheme.months}) * {scheme.months})")
        start = f"make_timestamptz({idx} / 12, mod({idx}, 12) + 1, 1, 0, 0, 0, 'UTC')"
        return f"(extract(epoch FROM {start}) * 1000000)::int8"
    raise TypeError(f"{scheme!r} has no time windows")  # pragma: no cover


def epoch_us(value: datetime) -> int:
    """Epoch microseconds of an aware datetime."""
    return (value - _EPOCH) // timedelta(microseconds=1)

"""Data frames to Arrow tables for bulk uploads (``log_batch``, ``log_actuals``).

Accepted inputs: a pandas or polars ``DataFrame``, a ``pyarrow.Table`` / ``RecordBatch``, any
object exporting ``__arrow_c_stream__``, a dict of columns, or a list of dicts (flat rows, or
prediction records with nested ``features`` / ``segments`` objects, which are flattened).

The table's columns keep their names: record fields (``prediction_id``, ``timestamp``,
``prediction``, ``score`` ...) are read as such by the server, every other column is a feature or a
segment of the model, named after it. Types are normalised to what the server reads: dictionary
(categorical) columns are decoded, large/view strings become plain strings, and a float
``prediction`` / ``actual`` column holding only whole numbers (pandas turns an int column with
missing values into floats) becomes integers so class labels read as ``"1"``, not ``"1.0"``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from modelmon.sdk._ids import new_ids

__all__ = ["actuals_table", "chunks", "predictions_table", "to_table"]

_TS = pa.timestamp("us", tz="UTC")
_LABEL_COLUMNS = ("prediction", "actual")
#: Rows per upload: bounded by bytes (the server's body limit is 64 MiB by default) and rows.
_CHUNK_BYTES = 8 << 20
_CHUNK_ROWS = 250_000


def _flatten(row: Any) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise TypeError(f"rows must be dicts; got {type(row).__name__}")
    nested = [k for k in ("features", "segments") if isinstance(row.get(k), Mapping)]
    if not nested:
        return dict(row)
    out = {k: v for k, v in row.items() if k not in nested}
    for k in nested:
        out.update(row[k])
    return out


def to_table(data: Any, columns: Mapping[str, str] | None = None) -> pa.Table:
    """An Arrow table from a frame-like ``data``; ``columns`` renames ``{old: new}``."""
    module = type(data).__module__.split(".")[0]
    if isinstance(data, pa.Table):
        table = data
    elif isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif module == "pandas":
        table = pa.Table.from_pandas(data, preserve_index=False)
    elif module == "polars":
        table = data.to_arrow()
    elif hasattr(data, "__arrow_c_stream__"):
        table = pa.table(data)
    elif isinstance(data, Mapping):
        table = pa.table({str(k): v for k, v in data.items()})
    elif isinstance(data, Sequence) and not isinstance(data, str | bytes):
        table = pa.Table.from_pylist([_flatten(r) for r in data])
    else:
        raise TypeError(
            "expected a pandas or polars DataFrame, a pyarrow Table, a dict of columns or a list "
            f"of dicts; got {type(data).__name__}"
        )
    if columns:
        table = table.rename_columns([columns.get(c, c) for c in table.column_names])
    return _normalise(table)


def _normalise(table: pa.Table) -> pa.Table:
    table = table.replace_schema_metadata(None)
    for i, field in enumerate(table.schema):
        t = field.type
        col = table.column(i)
        new: Any = None
        if pa.types.is_dictionary(t):
            col = pa.chunked_array([c.dictionary_decode() for c in col.chunks], t.value_type)
            new, t = col, t.value_type
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            new = col.cast(pa.string())
        elif pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_list_view(t):
            new = col.cast(pa.list_(t.value_type))
        elif field.name in _LABEL_COLUMNS and pa.types.is_floating(t):
            new = _whole_to_int(col)
        if new is not None:
            table = table.set_column(i, field.name, new)
    return table


def _whole_to_int(col: pa.ChunkedArray) -> pa.ChunkedArray:
    valid = pc.drop_null(col)
    if len(valid) == 0:
        return col
    finite = pc.is_finite(valid)
    if not pc.all(finite).as_py() or not pc.all(pc.equal(pc.floor(valid), valid)).as_py():
        return col
    try:
        return col.cast(pa.int64())
    except (pa.ArrowInvalid, OverflowError):
        return col


def _now_column(n: int) -> pa.Array:
    import numpy as np

    return pa.array(np.full(n, time.time_ns() // 1000, dtype=np.int64)).cast(_TS)


def predictions_table(table: pa.Table) -> pa.Table:
    """Give every row a prediction id (client-side UUIDv7) and an event time (now)."""
    n = table.num_rows
    names = table.column_names
    if "prediction_id" not in names:
        table = table.append_column("prediction_id", new_ids(n))
    else:
        i = names.index("prediction_id")
        col = table.column(i)
        if not (pa.types.is_string(col.type) or pa.types.is_null(col.type)):
            col = col.cast(pa.string())
        if col.null_count:
            col = pc.if_else(pc.is_null(col), new_ids(n), col.cast(pa.string()))
        table = table.set_column(i, "prediction_id", col)
    if "timestamp" not in names:
        table = table.append_column("timestamp", _now_column(n))
    return table


def actuals_table(data: Any, columns: Mapping[str, str] | None = None) -> pa.Table:
    """Actuals from a frame, a ``{prediction_id: actual}`` dict, or ``(id, actual[, time])``
    tuples; an event time (now) is added when absent."""
    if isinstance(data, Mapping) and not any(isinstance(v, Iterable) and not isinstance(v, str)
                                             for v in data.values()):
        table = pa.table({"prediction_id": pa.array([str(k) for k in data]),
                          "actual": pa.array(list(data.values()))})
        table = _normalise(table)
    elif (isinstance(data, Sequence) and not isinstance(data, str | bytes) and data
          and isinstance(data[0], tuple | list)):
        if any(len(r) not in (2, 3) for r in data):
            raise TypeError("actuals as tuples must be (prediction_id, actual) or "
                            "(prediction_id, actual, timestamp)")
        arrays = {"prediction_id": pa.array([str(r[0]) for r in data]),
                  "actual": pa.array([r[1] for r in data])}
        if any(len(r) == 3 for r in data):
            arrays["timestamp"] = pa.array([r[2] if len(r) == 3 else None for r in data])
        table = _normalise(pa.table(arrays))
    else:
        table = to_table(data, columns)
    names = table.column_names
    if "timestamp" not in names:
        table = table.append_column("timestamp", _now_column(table.num_rows))
    else:
        i = names.index("timestamp")
        col = table.column(i)
        if col.null_count and pa.types.is_timestamp(col.type):
            now = _now_column(table.num_rows).cast(col.type)
            table = table.set_column(i, "timestamp", pc.if_else(pc.is_null(col), now, col))
    return table


def chunks(table: pa.Table) -> list[pa.Table]:
    """Slices of ``table`` small enough for one upload each."""
    n = table.num_rows
    if n == 0:
        return []
    per_row = max(1, table.nbytes // n)
    rows = max(1, min(_CHUNK_ROWS, _CHUNK_BYTES // per_row))
    return [table.slice(i, rows) for i in range(0, n, rows)]

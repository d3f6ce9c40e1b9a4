"""Rows into DuckDB in one statement: a list of rows as an Arrow table.

DuckDB's ``executemany`` runs one statement per row (milliseconds each); an Arrow table read by
a replacement scan inserts them all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

__all__ = ["TIMESTAMP", "arrow_rows"]

TIMESTAMP = pa.timestamp("us")


def arrow_rows(rows: Sequence[Sequence[Any]], names: Sequence[str],
               types: Sequence[pa.DataType]) -> pa.Table:
    """``rows`` (tuples in ``names`` order) as a table of those column types."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({n: pa.array(list(c), t) for n, c, t in zip(names, columns, types,
                                                                 strict=True)})

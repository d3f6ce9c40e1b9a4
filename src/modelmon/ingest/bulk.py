"""Bulk uploads: Arrow IPC and Parquet payloads read into tables, and the row limits.

Pure functions of the request bytes (no I/O), so the validation workers can run them: an Arrow
IPC upload travels to a worker as it arrived and comes back as the validated table
(:meth:`~modelmon.ingest.pool.ValidationPool.predictions_from_arrow`).
"""

from __future__ import annotations

import io
from datetime import datetime

import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.exceptions import ValidationError
from modelmon.ingest.predictions import predictions_from_table

__all__ = ["check_bulk_rows", "predictions_from_arrow", "read_table"]


def read_table(kind: str, body: bytes | memoryview) -> pa.Table:
    """The table of an ``"arrow"`` (IPC stream or file) or ``"parquet"`` payload; a 400
    ``malformed_body`` error when it is neither."""
    try:
        if kind == "arrow":
            try:
                return pa.ipc.open_stream(pa.py_buffer(body)).read_all()
            except pa.ArrowInvalid:
                return pa.ipc.open_file(pa.BufferReader(pa.py_buffer(body))).read_all()
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(body))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ValidationError(f"the body is not a valid {kind} payload: {exc}",
                              code="malformed_body", loc=("body",)) from None


def check_bulk_rows(n: int, limit: int) -> None:
    """An upload holds at least one row and at most ``limit`` (``ingest.max_bulk_records``)."""
    if n > limit:
        raise ValidationError(f"a bulk upload holds at most {limit} rows (ingest.max_bulk_records); "
                              f"got {n}", code="batch_too_large", loc=("body",))
    if n == 0:
        raise ValidationError("the upload holds no rows", code="empty_input", loc=("body",))


def predictions_from_arrow(
    spec: ModelSpec, body: bytes | memoryview, *, now: datetime, version: str | None,
    max_rows: int,
) -> pa.Table:
    """Validate an Arrow IPC upload of predictions (see
    :func:`~modelmon.ingest.predictions.predictions_from_table`)."""
    table = read_table("arrow", body)
    check_bulk_rows(table.num_rows, max_rows)
    return predictions_from_table(spec, table, now=now, version=version)

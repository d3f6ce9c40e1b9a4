"""Bulk uploads: NDJSON lines parsed into records, Arrow IPC and Parquet payloads read into
tables, and the row limits.

Pure functions of the request bytes (no I/O), so the validation workers can run them: an Arrow
IPC or NDJSON upload of predictions travels to a worker as it arrived and comes back as the
validated table (:meth:`~modelmon.ingest.pool.ValidationPool.predictions_from_arrow`,
:meth:`~modelmon.ingest.pool.ValidationPool.predictions_from_ndjson`).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.exceptions import ValidationError
from modelmon.ingest.predictions import predictions_from_records, predictions_from_table

__all__ = ["check_bulk_rows", "parse_ndjson", "predictions_from_arrow", "predictions_from_ndjson",
           "read_table"]


def parse_ndjson(body: bytes | memoryview) -> list[Any]:
    """The values of an NDJSON payload, one per non-blank line; a 400 ``malformed_body`` error
    naming the first line that is not JSON."""
    records = []
    for n, line in enumerate(bytes(body).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise ValidationError(f"line {n} is not valid JSON: {exc}", code="malformed_body",
                                  loc=("body", "line", n)) from None
    return records


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


def predictions_from_ndjson(
    spec: ModelSpec, body: bytes | memoryview, *, now: datetime, version: str | None,
    max_rows: int,
) -> pa.Table:
    """Validate an NDJSON upload of predictions, one record per line (see
    :func:`~modelmon.ingest.predictions.predictions_from_records`)."""
    records = parse_ndjson(body)
    check_bulk_rows(len(records), max_rows)
    return predictions_from_records(spec, records, now=now, version=version, prefix=("lines",))

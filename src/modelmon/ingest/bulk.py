"""Bulk uploads (NDJSON, Arrow IPC, Parquet): read, checked against the row limits, validated.

Pure functions of the request bytes (no I/O), so they run off the event loop: an upload of
predictions travels to a validation worker as it arrived and comes back as the validated table
(:meth:`~modelmon.ingest.pool.ValidationPool.predictions_from_upload`); an upload of actuals is
read and validated in a thread.
"""

from __future__ import annotations

import io
from typing import Any

import orjson
import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.exceptions import ValidationError
from modelmon.ingest._values import Now
from modelmon.ingest.actuals import actuals_from_records, actuals_from_table
from modelmon.ingest.predictions import predictions_from_records, predictions_from_table

__all__ = ["actuals_from_upload", "check_bulk_rows", "parse_ndjson", "predictions_from_upload",
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


def _read_upload(kind: str, body: bytes | memoryview, max_rows: int) -> list[Any] | pa.Table:
    """An ``"ndjson"`` payload's records, or an ``"arrow"`` / ``"parquet"`` payload's table,
    holding between one and ``max_rows`` rows."""
    if kind == "ndjson":
        records = parse_ndjson(body)
        check_bulk_rows(len(records), max_rows)
        return records
    table = read_table(kind, body)
    check_bulk_rows(table.num_rows, max_rows)
    return table


def predictions_from_upload(
    spec: ModelSpec, body: bytes | memoryview, *, kind: str, now: Now, version: str | None,
    max_rows: int,
) -> pa.Table:
    """Validate an upload of predictions: NDJSON, one record per line (see
    :func:`~modelmon.ingest.predictions.predictions_from_records`), or an Arrow / Parquet table
    (see :func:`~modelmon.ingest.predictions.predictions_from_table`)."""
    data = _read_upload(kind, body, max_rows)
    if isinstance(data, list):
        return predictions_from_records(spec, data, now=now, version=version, prefix=("lines",))
    return predictions_from_table(spec, data, now=now, version=version)


def actuals_from_upload(
    spec: ModelSpec, body: bytes | memoryview, *, kind: str, now: Now, max_rows: int,
) -> pa.Table:
    """Validate an upload of actuals (NDJSON, Arrow or Parquet)."""
    data = _read_upload(kind, body, max_rows)
    if isinstance(data, list):
        return actuals_from_records(spec, data, now=now, prefix=("lines",))
    return actuals_from_table(spec, data, now=now)

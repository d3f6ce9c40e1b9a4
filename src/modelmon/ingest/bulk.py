"""Bulk uploads (NDJSON, Arrow IPC, Parquet): read, checked against the row limits, validated.

Pure functions of the request bytes (no I/O), so they run off the event loop: an upload of
predictions travels to a validation worker as it arrived and comes back as the validated table
(:meth:`~modelmon.ingest.pool.ValidationPool.predictions_from_upload`); an upload of actuals is
read and validated in a thread.
"""

from __future__ import annotations

import io
import struct
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


def read_table(kind: str, body: bytes | memoryview, max_rows: int | None = None) -> pa.Table:
    """The table of an ``"arrow"`` (IPC stream or file) or ``"parquet"`` payload; a 400
    ``malformed_body`` error when it is neither. With ``max_rows``, the rows the payload declares
    (Parquet metadata, Arrow record batch headers) are checked before anything is decoded: a
    437 KB Parquet file once decoded to 100 million rows before the row limit was checked."""
    try:
        if kind == "arrow":
            buffer = pa.py_buffer(body)
            stream = bytes(body[:6]) != b"ARROW1"
            if max_rows is not None:
                # The file format is the stream format between its magic and its footer.
                _check_ipc_rows(buffer if stream else buffer.slice(8), max_rows)
            if stream:
                return pa.ipc.open_stream(buffer).read_all()
            return pa.ipc.open_file(pa.BufferReader(buffer)).read_all()
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(io.BytesIO(body))
        if max_rows is not None:
            meta = parquet.metadata
            declared = sum(meta.row_group(i).num_rows for i in range(meta.num_row_groups))
            check_bulk_rows(max(meta.num_rows, declared), max_rows)
        return parquet.read()
    except (pa.ArrowException, OSError, ValueError, struct.error, IndexError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"the body is not a valid {kind} payload: {exc}",
                              code="malformed_body", loc=("body",)) from None


def _check_ipc_rows(stream: pa.Buffer, max_rows: int) -> None:
    """Check the rows of an Arrow IPC stream's record batches (and the entries of each of its
    dictionaries) against ``max_rows``, from the messages' headers, before decoding anything."""
    reader = pa.ipc.MessageReader.open_stream(stream)
    rows = 0
    while True:
        try:
            message = reader.read_next_message()
        except StopIteration:
            break
        if message is None:
            break
        if message.type == "record batch":
            rows += _batch_length(message.metadata.to_pybytes())
        elif message.type == "dictionary":
            check_bulk_rows(max(1, _batch_length(message.metadata.to_pybytes())), max_rows)
        if rows > max_rows:
            break
    check_bulk_rows(rows, max_rows)


def _batch_length(meta: bytes) -> int:
    """The ``length`` of the RecordBatch (or DictionaryBatch data) in an IPC message header (a
    flatbuffer: Message{version, header_type, header, bodyLength, ...})."""
    message = struct.unpack_from("<I", meta, 0)[0]
    header = _fb_table(meta, _fb_field(meta, message, 2))
    if meta[_fb_field(meta, message, 1)] == 2:  # DictionaryBatch{id, data: RecordBatch, ...}
        header = _fb_table(meta, _fb_field(meta, header, 1))
    length = _fb_field(meta, header, 0, required=False)  # RecordBatch{length, nodes, ...}
    return int(struct.unpack_from("<q", meta, length)[0]) if length else 0


def _fb_table(meta: bytes, at: int) -> int:
    return int(at + struct.unpack_from("<I", meta, at)[0])


def _fb_field(meta: bytes, table: int, index: int, *, required: bool = True) -> int:
    """Where field ``index`` of the flatbuffer table at ``table`` sits (0: absent)."""
    vtable = table - struct.unpack_from("<i", meta, table)[0]
    size = struct.unpack_from("<H", meta, vtable)[0]
    offset = struct.unpack_from("<H", meta, vtable + 4 + 2 * index)[0] if 4 + 2 * index < size else 0
    if offset == 0 and required:
        raise ValueError("an Arrow IPC message header lacks a required field")
    return int(table + offset) if offset else 0


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
    table = read_table(kind, body, max_rows)
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

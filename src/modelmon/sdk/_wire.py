"""The wire format: batches to HTTP requests (JSON with orjson, or an Arrow IPC stream).

JSON encoding accepts what model code usually holds: NumPy scalars and arrays, datetimes (naive
means UTC), pandas timestamps, ``Decimal``; NaN and infinities become ``null`` (a missing value).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson

from modelmon.sdk._batching import Batch, Request

__all__ = ["UnserializableRecords", "arrow_stream", "decode_rows", "dumps", "encode_request"]

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC
ARROW_STREAM = "application/vnd.apache.arrow.stream"
JSON = "application/json"

_JSON_PATHS = {
    "predictions": "/v1/predictions/batch",
    "actuals": "/v1/actuals/batch",
    "metric_events": "/v1/events",
}
_BULK_PATHS = {"predictions": "predictions/bulk", "actuals": "actuals/bulk"}
_SINGLE_PATHS = {"feature_importance": "feature-importance", "training_runs": "training-runs"}


class UnserializableRecords(TypeError):
    """Some records of a batch cannot be encoded as JSON (``indices`` says which)."""

    def __init__(self, indices: list[int], message: str) -> None:
        super().__init__(message)
        self.indices = indices
        self.message = message


def _default(obj: Any) -> Any:
    if isinstance(obj, dt.datetime | dt.date):
        if type(obj).__name__ == "NaTType":
            return None
        return obj.isoformat()
    name = type(obj).__name__
    if name in ("NAType", "NaTType"):
        return None
    if isinstance(obj, decimal.Decimal):
        return float(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=str)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"cannot encode a {name} as JSON")


def dumps(obj: Any) -> bytes:
    """JSON bytes for ``obj`` (raises ``TypeError`` for values JSON cannot hold)."""
    return orjson.dumps(obj, default=_default, option=_OPTIONS)


def arrow_stream(table: Any) -> bytes:
    """An Arrow IPC stream holding ``table``."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _model_path(model: str, tail: str) -> str:
    return f"/v1/models/{quote(model, safe='')}/{tail}"


def encode_request(batch: Batch) -> Request:
    """The HTTP request delivering ``batch`` (cached by the caller on ``batch.request``).

    Raises :class:`UnserializableRecords` naming the records that cannot be encoded.
    """
    if batch.table is not None:
        params = (("version", batch.version),) if batch.version is not None else ()
        return Request(_model_path(batch.model, _BULK_PATHS[batch.kind]), ARROW_STREAM,
                       arrow_stream(batch.table), params)
    records = batch.records or []
    if batch.kind in _SINGLE_PATHS:
        return Request(_model_path(batch.model, _SINGLE_PATHS[batch.kind]), JSON,
                       _dumps_records(records, lambda rs: rs[0]))

    def envelope(rs: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": batch.model, "records": rs}
        if batch.version is not None:
            body["version"] = batch.version
        return body

    return Request(_JSON_PATHS[batch.kind], JSON, _dumps_records(records, envelope))


def _dumps_records(records: list[dict[str, Any]], wrap: Any) -> bytes:
    try:
        return dumps(wrap(records))
    except TypeError as exc:
        first = str(exc)
    bad = []
    for i, rec in enumerate(records):
        try:
            dumps(rec)
        except TypeError:
            bad.append(i)
    raise UnserializableRecords(bad or list(range(len(records))), first)


def decode_rows(batch: Batch) -> None:
    """Fill ``records`` / ``table`` of a batch read back from the spool (to split it)."""
    if batch.records is not None or batch.table is not None or batch.request is None:
        return
    req = batch.request
    if req.content_type == ARROW_STREAM:
        import pyarrow as pa

        batch.table = pa.ipc.open_stream(req.body).read_all()
    else:
        data = orjson.loads(req.body)
        batch.records = [data] if batch.kind in _SINGLE_PATHS else data["records"]
    batch.count = None

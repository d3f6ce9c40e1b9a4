"""JSON prediction batches decoded straight from the request bytes, for throughput.

The general validator (:func:`~modelmon.ingest.predictions.predictions_from_records`) walks
parsed Python dicts record by record to find every structural problem. For a large batch that
per-record Python work costs more than parsing itself. Here msgspec decodes the records against
a schema built from the model spec, in C: unknown fields, missing features, unknown segments and
values of the wrong JSON type are rejected while parsing. Values then go through the *same*
column converters as the general path (:func:`~modelmon.ingest.predictions._convert`), so both
paths produce the same table and the same value-level errors.

Numeric features (JSON numbers within range or null, checked by msgspec) go into one 2-D NumPy
array at once and become Arrow columns from there, null where the record held null.

A whole batch body can be decoded in one pass too (:func:`predictions_from_batch_json`): the
server reads only the model name from the start of the body (:func:`sniff_model`) and a validation
worker decodes envelope and records together, so the server process never scans the records.

The fast schema is never more lenient than the general validator. When it rejects a batch, the
batch is parsed again with orjson and handed to the general validator, which reports every
problem with its location (or accepts the batch: the fast schema is stricter, e.g. a float where
a categorical feature is expected).
"""

from __future__ import annotations

import re
from datetime import datetime
from operator import attrgetter
from typing import Annotated, Any

import msgspec
import numpy as np
import orjson
import pyarrow as pa

from modelmon.config.models import FeatureType, ModelSpec
from modelmon.exceptions import ValidationError
from modelmon.ingest._values import Problems
from modelmon.ingest.predictions import (
    _FIELD_ORDER,
    _Columns,
    _convert,
    predictions_from_records,
)

__all__ = ["BatchEnvelope", "NotFastPath", "check_batch_size", "decode_envelope",
           "predictions_from_batch_json", "predictions_from_json", "sniff_model"]

# Integers outside int64 go to the general path (orjson turns them into floats there).
_Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
_VALUE_TYPES: dict[FeatureType, Any] = {
    FeatureType.NUMERIC: _Int64 | float | None,
    FeatureType.CATEGORICAL: str | _Int64 | bool | None,  # what text_column accepts
    FeatureType.BOOLEAN: bool | None,
}


class BatchEnvelope(msgspec.Struct, forbid_unknown_fields=True):
    """``{"model": ..., "version": ..., "records": [...]}`` with the records left unparsed."""

    model: str
    records: msgspec.Raw
    version: str | None = None


_envelope_decoder = msgspec.json.Decoder(BatchEnvelope)


def decode_envelope(body: bytes) -> BatchEnvelope | None:
    """The batch envelope, or None when it is not a well-formed one (the caller then parses the
    body the general way, which explains what is wrong)."""
    try:
        return _envelope_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


# {"model": "<name>", ... at the very start of a body (whitespace allowed, no escapes in the name).
_MODEL_FIRST = re.compile(rb'\s*\{\s*"model"\s*:\s*"([^"\\]{1,256})"')


def sniff_model(body: bytes) -> str | None:
    """The model a batch body names when it names it first (as clients and the SDK write it),
    read from its first bytes only; None otherwise (the caller then decodes the envelope)."""
    match = _MODEL_FIRST.match(body, 0, 512)
    if match is None:
        return None
    try:
        return match.group(1).decode()
    except UnicodeDecodeError:
        return None


class NotFastPath(Exception):
    """:func:`predictions_from_batch_json` cannot take this body in one pass; the caller takes
    the two-step path (envelope, then records), which explains every problem."""


def check_batch_size(n: int, max_records: int) -> None:
    if n > max_records:
        raise ValidationError(
            f"a batch holds at most {max_records} records (ingest.max_batch_records); got "
            f"{n}: split it or use the bulk endpoint", code="batch_too_large", loc=("records",),
        )


class _Schema:
    """msgspec decoder and column getters for one model's records."""

    def __init__(self, spec: ModelSpec) -> None:
        self.numeric_names = [f.name for f in spec.features if f.type is FeatureType.NUMERIC]
        self.other_names = [f.name for f in spec.features if f.type is not FeatureType.NUMERIC]
        self.segment_names = list(spec.segments)
        feature_fields: list[Any] = []
        for f in spec.features:
            kind = _VALUE_TYPES[f.type]
            # A required feature must be present (null allowed); an optional one defaults to null.
            feature_fields.append((f.name, kind) if f.required else (f.name, kind, None))
        # Required fields first: msgspec wants fields with defaults after those without.
        feature_fields.sort(key=len)
        features = msgspec.defstruct("Features", feature_fields, forbid_unknown_fields=True,
                                     gc=False)
        segments = msgspec.defstruct("Segments", [(s, Any, None) for s in self.segment_names],
                                     forbid_unknown_fields=True, gc=False)
        fields: list[Any] = [("features", features)]
        fields.append(("model", str | None, None))
        fields += [(name, Any, None) for name in _FIELD_ORDER]
        fields.append(("segments", segments | None, None))
        record: Any = msgspec.defstruct("Record", fields, forbid_unknown_fields=True, gc=False)
        self.decoder: msgspec.json.Decoder[list[Any]] = msgspec.json.Decoder(list[record])
        envelope: Any = msgspec.defstruct(
            "Envelope", [("model", str), ("records", list[record]), ("version", str | None, None)],
            forbid_unknown_fields=True)
        self.envelope_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(envelope)
        self.empty_segments = segments()
        self.get_fields = attrgetter(*_FIELD_ORDER)
        self.get_numeric = attrgetter(*self.numeric_names) if self.numeric_names else None
        self.get_other = attrgetter(*self.other_names) if self.other_names else None
        self.get_segments = attrgetter(*self.segment_names) if self.segment_names else None


_SCHEMAS: dict[tuple[Any, ...], _Schema] = {}


def _schema(spec: ModelSpec) -> _Schema:
    """The schema for ``spec`` (cached by what it depends on: feature names, types and
    requiredness, segment names)."""
    key = (tuple((f.name, f.type, f.required) for f in spec.features), tuple(spec.segments))
    schema = _SCHEMAS.get(key)
    if schema is None:
        if len(_SCHEMAS) >= 256:
            _SCHEMAS.clear()
        schema = _SCHEMAS[key] = _Schema(spec)
    return schema


def _columns(getter: attrgetter[Any] | None, rows: list[Any], names: list[str], n: int) -> dict[str, list[Any]]:
    if getter is None:
        return {}
    picked = list(map(getter, rows))
    if len(names) == 1:  # attrgetter of one name returns the value, not a tuple
        return {names[0]: picked}
    columns = zip(*picked) if n else [()] * len(names)
    return {name: list(col) for name, col in zip(names, columns)}


def _numeric_columns(getter: attrgetter[Any], rows: list[Any], names: list[str],
                     n: int) -> dict[str, pa.Array]:
    """Numeric feature columns through one 2-D array: float64 Arrow arrays, null where the JSON
    held null (msgspec lets through only numbers within range and null)."""
    # None becomes NaN, and JSON has no NaN: NaN here always means null.
    matrix = np.array(list(map(getter, rows)), dtype=np.float64).reshape(n, len(names))
    missing = np.isnan(matrix)
    any_missing = np.asarray(missing.any(axis=0), dtype=bool)
    return {name: pa.array(np.ascontiguousarray(matrix[:, j]),
                           mask=missing[:, j] if any_missing[j] else None)
            for j, name in enumerate(names)}


def predictions_from_json(
    spec: ModelSpec,
    records_json: bytes | memoryview | msgspec.Raw,
    *,
    now: datetime,
    version: str | None = None,
    max_records: int = 10_000,
    max_errors: int = 50,
) -> pa.Table:
    """Validate the JSON text of a batch's ``records`` array; same result and errors as
    ``predictions_from_records(spec, orjson.loads(records_json), ...)``."""
    if not isinstance(records_json, bytes | memoryview):
        records_json = memoryview(records_json)  # msgspec.Raw: orjson takes buffers only as these
    schema = _schema(spec)
    try:
        records = schema.decoder.decode(records_json)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _general(spec, records_json, now=now, version=version, max_records=max_records,
                        max_errors=max_errors)
    if {r.model for r in records} - {None, spec.name}:  # a record for another model
        return _general(spec, records_json, now=now, version=version, max_records=max_records,
                        max_errors=max_errors)
    check_batch_size(len(records), max_records)
    return _table(spec, schema, records, now=now, version=version, max_errors=max_errors)


def predictions_from_batch_json(
    spec: ModelSpec, body: bytes | memoryview, *, model: str, now: datetime,
    max_records: int = 10_000, max_errors: int = 50,
) -> pa.Table:
    """Validate a whole batch body (``{"model": ..., "version": ..., "records": [...]}``) for
    ``model`` in one pass. Raises :class:`NotFastPath` when the body is not a well-formed batch
    of well-typed records for ``model`` (the two-step path then finds what is wrong)."""
    schema = _schema(spec)
    try:
        envelope = schema.envelope_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise NotFastPath from None
    records = envelope.records
    if envelope.model != model or {r.model for r in records} - {None, spec.name}:
        raise NotFastPath
    check_batch_size(len(records), max_records)
    return _table(spec, schema, records, now=now, version=envelope.version, max_errors=max_errors)


def _table(spec: ModelSpec, schema: _Schema, records: list[Any], *, now: datetime,
           version: str | None, max_errors: int) -> pa.Table:
    n = len(records)
    values = _columns(schema.get_fields, records, list(_FIELD_ORDER), n)
    cols = _Columns(n, lambda i, path: ("records", i, *path))
    cols.values = values
    features = [r.features for r in records]
    cols.features = _columns(schema.get_other, features, schema.other_names, n)
    if schema.get_numeric is not None:
        cols.features.update(_numeric_columns(schema.get_numeric, features,
                                              schema.numeric_names, n))
    if schema.segment_names:
        empty = schema.empty_segments
        segs = [empty if r.segments is None else r.segments for r in records]
        cols.segments = _columns(schema.get_segments, segs, schema.segment_names, n)
    return _convert(spec, cols, Problems(max_errors), now=now, version=version, from_json=True)


def _general(
    spec: ModelSpec, records_json: bytes | memoryview, *, now: datetime, version: str | None,
    max_records: int, max_errors: int,
) -> pa.Table:
    try:
        records = orjson.loads(records_json)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the request body is not valid JSON: {exc}", code="malformed_body",
                              loc=("body",)) from None
    if type(records) is not list:
        raise ValidationError("'records' must be a list", code="invalid_type", loc=("records",))
    check_batch_size(len(records), max_records)
    return predictions_from_records(spec, records, now=now, version=version, max_errors=max_errors)

"""JSON prediction batches decoded straight from the request bytes, for throughput.

The general validator (:func:`~modelmon.ingest.predictions.predictions_from_records`) walks
parsed Python dicts record by record to find every structural problem. For a large batch that
per-record Python work costs more than parsing itself. Here msgspec decodes the records against
a schema built from the model spec, in C: unknown fields, missing features, unknown segments and
values of the wrong JSON type are rejected while parsing. Values then go through the *same*
column converters as the general path (:func:`~modelmon.ingest.predictions._convert`), so both
paths produce the same table and the same value-level errors.

Records are transposed in C (:func:`msgspec.structs.astuple` and ``zip``), and numeric and text
features become Arrow arrays in one conversion each when their values allow it (JSON numbers or
null; text or null); other columns go to the converters as lists.

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
from typing import Annotated, Any

import msgspec
import orjson
import pyarrow as pa
from msgspec.structs import astuple

from modelmon.config.models import FeatureType, ModelSpec
from modelmon.exceptions import ValidationError
from modelmon.ingest._values import Now, Problems
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
    """A batch holds at least one record and at most ``max_records``."""
    if n == 0:
        raise ValidationError("a batch holds at least one record; 'records' is empty",
                              code="empty_input", loc=("records",))
    if n > max_records:
        raise ValidationError(
            f"a batch holds at most {max_records} records (ingest.max_batch_records); got "
            f"{n}: split it or use the bulk endpoint", code="batch_too_large", loc=("records",),
        )


class _Schema:
    """msgspec decoder for one model's records, and where each value sits in a decoded record
    (:func:`msgspec.structs.astuple` order)."""

    def __init__(self, spec: ModelSpec) -> None:
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
        self.n_record_fields = len(fields)
        self.feature_names: list[str] = [f[0] for f in feature_fields]  # in astuple order
        self.types = {f.name: f.type for f in spec.features}
        self.empty_segments = segments()


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


def _transpose(rows: list[Any], width: int) -> list[tuple[Any, ...]]:
    """Columns of msgspec structs (one tuple per field, in field order)."""
    if not rows:
        return [()] * width
    return list(zip(*map(astuple, rows)))


def _feature_array(values: tuple[Any, ...], kind: FeatureType) -> Any:
    """An Arrow array for a numeric or categorical column when every value converts as the
    general path would convert it (JSON numbers or null; text or null); else the values, for
    the column converters to check one by one."""
    try:
        if kind is FeatureType.NUMERIC:
            # Raises for an integer that a float64 cannot hold exactly (the converters round it).
            return pa.array(values, pa.float64())
        if kind is FeatureType.CATEGORICAL:
            return pa.array(values, pa.string())  # raises for integers and booleans
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    return list(values)


def predictions_from_json(
    spec: ModelSpec,
    records_json: bytes | memoryview | msgspec.Raw,
    *,
    now: Now,
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
    check_batch_size(len(records), max_records)
    fields = _transpose(records, schema.n_record_fields)
    if set(fields[1]) - {None, spec.name}:  # a record for another model
        return _general(spec, records_json, now=now, version=version, max_records=max_records,
                        max_errors=max_errors)
    return _table(spec, schema, fields, len(records), now=now, version=version,
                  max_errors=max_errors)


def predictions_from_batch_json(
    spec: ModelSpec, body: bytes | memoryview, *, model: str, now: Now,
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
    if envelope.model != model:
        raise NotFastPath
    check_batch_size(len(records), max_records)
    fields = _transpose(records, schema.n_record_fields)
    if set(fields[1]) - {None, spec.name}:  # a record for another model
        raise NotFastPath
    return _table(spec, schema, fields, len(records), now=now, version=envelope.version,
                  max_errors=max_errors)


def _table(spec: ModelSpec, schema: _Schema, fields: list[tuple[Any, ...]], n: int, *,
           now: Now, version: str | None, max_errors: int) -> pa.Table:
    """The store table from the transposed records: ``fields`` holds features, model, the
    fields of ``_FIELD_ORDER`` and segments, one tuple each."""
    cols = _Columns(n, lambda i, path: ("records", i, *path))
    cols.values = {name: list(col) for name, col in zip(_FIELD_ORDER, fields[2:-1])}
    features = _transpose(list(fields[0]), len(schema.feature_names))
    types = schema.types
    cols.features = {name: _feature_array(col, types[name])
                     for name, col in zip(schema.feature_names, features)}
    if schema.segment_names:
        empty = schema.empty_segments
        segs = [empty if s is None else s for s in fields[-1]]
        cols.segments = {name: list(col) for name, col in
                         zip(schema.segment_names, _transpose(segs, len(schema.segment_names)))}
    return _convert(spec, cols, Problems(max_errors), now=now, version=version, from_json=True)


def _general(
    spec: ModelSpec, records_json: bytes | memoryview, *, now: Now, version: str | None,
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

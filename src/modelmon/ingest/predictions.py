"""Predictions: JSON records or a bulk table, validated against a model spec, to a store batch.

A record (JSON object) has these fields (only ``features`` and ``prediction`` are usually needed)::

    model           model name (optional inside a batch that names its model)
    version         model version that made the prediction (default: the batch's, else "default")
    prediction_id   client id, unique per model; assigned by the server when absent
    timestamp       event time: ISO 8601 text or epoch seconds; server time when absent
    features        {feature name: value} for the model's features
    prediction      predicted label (classification) or value (regression)
    score           probability of the positive class (binary)
    probabilities   {class: probability} or a list in the order of the model's classes (multiclass)
    latency_seconds how long the prediction took (or latency_ms)
    segments        {segment name: value}
    status          "ok" (default) or "error" (a failed prediction; prediction may be absent)
    error           error text for failed predictions

A bulk table (Arrow / Parquet / NDJSON converted to columns) uses the same names as columns, with
one column per feature and per segment named after it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.config.models import NAME_PATTERN, FeatureType, ModelSpec, Task
from modelmon.ingest._values import (
    LocFn,
    Now,
    Problems,
    bool_column,
    check_ids,
    label_text,
    numeric_column,
    text_column,
    timestamp_column,
)
from modelmon.store.base import FEATURE_PREFIX, SEGMENT_PREFIX

__all__ = [
    "DEFAULT_VERSION",
    "RECORD_FIELDS",
    "new_prediction_id",
    "predictions_from_records",
    "predictions_from_table",
]

DEFAULT_VERSION = "default"
RECORD_FIELDS = frozenset(
    {"model", "version", "prediction_id", "timestamp", "features", "prediction", "score",
     "probabilities", "latency_seconds", "latency_ms", "segments", "status", "error"}
)
_TABLE_FIELDS = RECORD_FIELDS - {"features", "segments"}
_STATUSES = frozenset({"ok", "error"})
_FIELD_ORDER = tuple(sorted(_TABLE_FIELDS - {"model"}))
_NO_FIELDS = (None,) * len(_FIELD_ORDER)


def _transpose(rows: list[dict[str, Any]], names: list[str], n: int) -> dict[str, list[Any]]:
    """Columns ``{name: [row[name] ...]}`` from dict rows (absent keys give None)."""
    getter = itemgetter(*names)
    try:
        picked = [getter(r) for r in rows]
        if len(names) == 1:  # itemgetter of one name returns the value, not a tuple
            picked = [(v,) for v in picked]
    except KeyError:
        picked = [tuple(map(r.get, names)) for r in rows]
    columns = zip(*picked) if n else [()] * len(names)
    return {name: list(col) for name, col in zip(names, columns)}
_PROB_TOLERANCE = 0.01
_VERSION_NAME = re.compile(NAME_PATTERN)


def new_prediction_id() -> str:
    """A server-assigned id: time-ordered (so ids sort by arrival) and globally unique."""
    # UUIDv7 layout (RFC 9562): 48-bit Unix milliseconds, version 7, variant 2, random rest.
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand & ((1 << 76) - 1))
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return f"{value:032x}"


class _Columns:
    """Raw per-field columns (Python lists or Arrow arrays) plus how to locate a row's field."""

    def __init__(self, n: int, loc: Callable[[int, tuple[str, ...]], tuple[str | int, ...]]) -> None:
        self.n = n
        self.values: dict[str, Any] = {}
        self.features: dict[str, Any] = {}
        self.segments: dict[str, Any] = {}
        self._loc = loc

    def loc(self, *path: str) -> LocFn:
        return lambda i: self._loc(i, path)


def predictions_from_records(
    spec: ModelSpec,
    records: Sequence[Any],
    *,
    now: Now,
    version: str | None = None,
    prefix: tuple[str | int, ...] = ("records",),
    single: bool = False,
    max_errors: int = 50,
) -> pa.Table:
    """Validate JSON-like prediction records and return the store's logical Arrow table.

    ``single`` drops the row index from error locations (a request with one record).
    Raises a :class:`~modelmon.exceptions.ValidationError` (or ``SchemaError``) listing every
    problem (up to ``max_errors``); nothing is returned for a partly bad batch.
    """
    problems = Problems(max_errors)
    n = len(records)

    def loc(i: int, path: tuple[str, ...]) -> tuple[str | int, ...]:
        return (*prefix, *path) if single else (*prefix, i, *path)

    cols = _Columns(n, loc)
    feature_names = [f.name for f in spec.features]
    feature_set = frozenset(feature_names)
    required = frozenset(f.name for f in spec.features if f.required)
    segment_set = frozenset(spec.segments)
    feats: list[dict[str, Any]] = []
    segs: list[dict[str, Any]] = []
    empty: dict[str, Any] = {}
    for i, rec in enumerate(records):
        if type(rec) is not dict:
            problems.add("invalid_type", f"a prediction record must be an object; got {type(rec).__name__}",
                         loc(i, ()))
            feats.append(empty)
            segs.append(empty)
            continue
        keys = rec.keys()
        if not keys <= RECORD_FIELDS:
            for key in sorted(keys - RECORD_FIELDS):
                problems.add("unknown_field", f"unknown field {key!r} in a prediction record "
                             f"(known: {', '.join(sorted(RECORD_FIELDS))})", loc(i, (key,)))
        model = rec.get("model")
        if model is not None and model != spec.name:
            problems.add("invalid_value", f"record is for model {model!r} but the batch is for "
                         f"{spec.name!r}", loc(i, ("model",)))
        f = rec.get("features", empty)
        if type(f) is not dict:
            problems.add("invalid_type", "features must be an object {name: value}", loc(i, ("features",)))
            f = empty
        elif f.keys() != feature_set:
            fkeys = f.keys()
            for key in sorted(fkeys - feature_set):
                problems.add("unknown_feature", f"model {spec.name!r} has no feature {key!r}",
                             loc(i, ("features", key)))
            for key in sorted(required - fkeys):
                problems.add("missing_feature", f"feature {key!r} is missing (send null for a "
                             "missing value)", loc(i, ("features", key)))
        feats.append(f)
        s = rec.get("segments", empty)
        if s is None:
            s = empty
        if type(s) is not dict:
            problems.add("invalid_type", "segments must be an object {name: value}", loc(i, ("segments",)))
            s = empty
        elif not s.keys() <= segment_set:
            for key in sorted(s.keys() - segment_set):
                problems.add("unknown_segment", f"model {spec.name!r} has no segment {key!r}",
                             loc(i, ("segments", key)))
        segs.append(s)
    # Transpose rows to columns in C (itemgetter / map + zip) rather than one loop per column.
    field_rows = [tuple(map(r.get, _FIELD_ORDER)) if type(r) is dict else _NO_FIELDS for r in records]
    for name, column in zip(_FIELD_ORDER, zip(*field_rows) if n else [()] * len(_FIELD_ORDER)):
        cols.values[name] = list(column)
    if feature_names:
        cols.features = _transpose(feats, feature_names, n)
    if spec.segments:
        cols.segments = _transpose(segs, list(spec.segments), n)
    return _convert(spec, cols, problems, now=now, version=version, from_json=True)


def predictions_from_table(
    spec: ModelSpec,
    table: pa.Table,
    *,
    now: Now,
    version: str | None = None,
    max_errors: int = 50,
) -> pa.Table:
    """Validate a bulk table (columns named as record fields, features and segments by name)."""
    problems = Problems(max_errors)

    def loc(i: int, path: tuple[str, ...]) -> tuple[str | int, ...]:
        return ("rows", i, *path)

    cols = _Columns(table.num_rows, loc)
    names = set(table.column_names)
    feature_set = {f.name for f in spec.features}
    known = _TABLE_FIELDS | feature_set | set(spec.segments)
    for key in sorted(names - known):
        problems.add("unknown_feature", f"column {key!r} is neither a record field nor a feature "
                     f"or segment of model {spec.name!r}", ("columns", key))
    if "model" in names:
        models = set(pc.unique(table.column("model").cast(pa.string())).to_pylist()) - {None}
        if models - {spec.name}:
            problems.add("invalid_value", f"table holds rows for models {sorted(models)}; the "
                         f"upload is for {spec.name!r}", ("columns", "model"))
    for name in _TABLE_FIELDS - {"model"}:
        cols.values[name] = table.column(name) if name in names else [None] * table.num_rows
    for feat in spec.features:
        if feat.name in names:
            cols.features[feat.name] = table.column(feat.name)
        elif feat.required:
            problems.add("missing_feature", f"feature column {feat.name!r} is missing",
                         ("columns", feat.name))
        else:
            cols.features[feat.name] = [None] * table.num_rows
    for seg in spec.segments:
        if seg in names and seg not in feature_set:
            cols.segments[seg] = table.column(seg)
    return _convert(spec, cols, problems, now=now, version=version, from_json=False)


def _convert(
    spec: ModelSpec,
    cols: _Columns,
    problems: Problems,
    *,
    now: Now,
    version: str | None,
    from_json: bool,
) -> pa.Table:
    n = cols.n
    v = cols.values
    out: dict[str, pa.Array] = {}

    ids = text_column(v["prediction_id"], cols.loc("prediction_id"), problems,
                      what="prediction_id", code="invalid_type", max_length=256)
    check_ids(ids, cols.loc("prediction_id"), problems, what="prediction_id")
    if ids.null_count:
        ids = pa.array(
            [x if x is not None else new_prediction_id() for x in ids.to_pylist()], pa.string()
        )
    out["prediction_id"] = ids
    versions = text_column(v["version"], cols.loc("version"), problems, what="version",
                           code="invalid_type", max_length=128)
    if version is not None and not _VERSION_NAME.match(version):
        problems.add("invalid_value", "the batch's version must be a name: letters, digits, "
                     "'_', '.', '-' (1-128 characters, not starting with '.' or '-'); got "
                     f"{version!r:.60}", ("version",))
    default = version or DEFAULT_VERSION
    out["version"] = versions.fill_null(default) if versions.null_count else versions
    out["event_time"] = timestamp_column(v["timestamp"], cols.loc("timestamp"), problems,
                                         what="timestamp", now=now)

    status = text_column(v["status"], cols.loc("status"), problems, what="status", code="invalid_value")
    status = status.fill_null("ok") if status.null_count else status
    bad_status = pc.invert(pc.is_in(status, value_set=pa.array(sorted(_STATUSES)))).to_numpy(
        zero_copy_only=False
    )
    for i in np.flatnonzero(bad_status)[: problems.limit]:
        problems.add("invalid_value", f"status must be 'ok' or 'error'; got {status[int(i)].as_py()!r}",
                     cols.loc("status")(int(i)))
    out["status"] = status
    is_error = pc.equal(status, "error").to_numpy(zero_copy_only=False)
    out["error"] = text_column(v["error"], cols.loc("error"), problems, what="error",
                               code="invalid_type", max_length=4096)

    latency = numeric_column(v["latency_seconds"], cols.loc("latency_seconds"), problems,
                             what="latency_seconds", code="invalid_type", nan_is_null=False, low=0.0)
    latency_ms = numeric_column(v["latency_ms"], cols.loc("latency_ms"), problems,
                                what="latency_ms", code="invalid_type", nan_is_null=False, low=0.0)
    if latency_ms.null_count < n:
        both = pc.and_(latency.is_valid(), latency_ms.is_valid()).to_numpy(zero_copy_only=False)
        for i in np.flatnonzero(both)[: problems.limit]:
            problems.add("invalid_value", "send latency_seconds or latency_ms, not both",
                         cols.loc("latency_ms")(int(i)))
        latency = pc.coalesce(latency, pc.divide(latency_ms, 1000.0))
    out["latency_seconds"] = latency

    _prediction_fields(spec, cols, problems, out, is_error, from_json)

    feature_types = {f.name: f.type for f in spec.features}
    for seg in spec.segments:
        values = cols.segments.get(seg)
        if values is None:
            values = [None] * n
        seg_arr = text_column(values, cols.loc("segments", seg), problems, what=f"segment {seg!r}",
                              code="invalid_value", max_length=256)
        if seg in feature_types and seg_arr.null_count:
            # A segment named after a feature takes the feature's value (as text) by default.
            feat_vals = cols.features.get(seg)
            if feat_vals is not None:
                quiet = Problems()
                as_text = text_column(_as_text_values(feat_vals), cols.loc("features", seg),
                                      quiet, what=seg, max_length=256)
                if not quiet:
                    seg_arr = pc.coalesce(seg_arr, as_text)
        out[SEGMENT_PREFIX + seg] = seg_arr
    for feat in spec.features:
        values = cols.features.get(feat.name)
        if values is None:  # missing column already reported
            values = [None] * n
        floc = cols.loc("features", feat.name) if from_json else cols.loc(feat.name)
        what = f"feature {feat.name!r}"
        if feat.type is FeatureType.NUMERIC:
            arr = numeric_column(values, floc, problems, what=what, nullable=feat.nullable)
        elif feat.type is FeatureType.CATEGORICAL:
            arr = text_column(values, floc, problems, what=what, nullable=feat.nullable)
        else:
            arr = bool_column(values, floc, problems, what=what, nullable=feat.nullable)
        out[FEATURE_PREFIX + feat.name] = arr
    problems.raise_if_any()
    return pa.table(out)


def _prediction_fields(
    spec: ModelSpec,
    cols: _Columns,
    problems: Problems,
    out: dict[str, pa.Array],
    is_error: np.ndarray,
    from_json: bool,
) -> None:
    n = cols.n
    v = cols.values
    p = spec.prediction
    ploc = cols.loc("prediction")
    missing_ok = is_error
    if spec.task is Task.REGRESSION:
        value = numeric_column(v["prediction"], ploc, problems, what="prediction",
                               code="invalid_prediction", nan_is_null=False)
        _require(value, missing_ok, ploc, problems, "a regression prediction needs a numeric 'prediction'")
        for name in ("score", "probabilities"):
            _forbid(v[name], cols.loc(name), problems, f"a regression model has no {name!r}")
        out["label"] = pa.nulls(n, pa.string())
        out["score"] = pa.nulls(n, pa.float64())
        out["probabilities"] = pa.nulls(n, pa.list_(pa.float64()))
        out["value"] = value
        return

    label = text_column(v["prediction"], ploc, problems, what="prediction", code="invalid_prediction",
                        max_length=256)
    checked = False  # labels known to be among the classes
    score = numeric_column(v["score"], cols.loc("score"), problems, what="score",
                           code="invalid_prediction", nan_is_null=False, low=0.0, high=1.0)
    probs = _probabilities(spec, v["probabilities"], cols.loc("probabilities"), problems, n)
    if spec.task is Task.BINARY:
        _forbid(v["probabilities"], cols.loc("probabilities"), problems,
                "a binary model sends 'score' (probability of the positive class), not probabilities")
        if label.null_count and score.null_count < n:
            from_scores_only = label.null_count == n
            label = pc.coalesce(label, _labels_from_score(spec, score))
            if from_scores_only and _score_labels_known(spec):
                checked = True
    else:
        _forbid(v["score"], cols.loc("score"), problems,
                "a multiclass model sends 'probabilities', not 'score'")
        if label.null_count and probs.null_count < n and p.classes:
            label = pc.coalesce(label, _labels_from_probs(p.classes, probs))
    _require(label, missing_ok, ploc, problems,
             "a classification prediction needs 'prediction' (the label)"
             + (" or 'score'" if spec.task is Task.BINARY else " or 'probabilities'"))
    if p.classes and not checked:
        unknown = pc.and_(label.is_valid(), pc.invert(pc.is_in(label, value_set=pa.array(p.classes))))
        for i in np.flatnonzero(unknown.to_numpy(zero_copy_only=False))[: problems.limit]:
            problems.add("invalid_prediction", f"predicted class {label[int(i)].as_py()!r} is not one of "
                         f"the model's classes {p.classes}", ploc(int(i)))
    out["label"] = label
    out["score"] = score
    out["probabilities"] = probs
    out["value"] = pa.nulls(n, pa.float64())


def _as_text_values(values: Any) -> Any:
    """Feature values as segment text: numbers that are whole become '3', not '3.0'."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if pa.types.is_floating(arr.type):
            return [None if v is None else label_text(v) for v in arr.to_pylist()]
        return arr
    return [label_text(v) if type(v) is float else v for v in values]


def _require(arr: pa.Array, ok_missing: np.ndarray, loc: LocFn, problems: Problems, message: str) -> None:
    if not arr.null_count:
        return
    missing = arr.is_null().to_numpy(zero_copy_only=False) & ~ok_missing
    for i in np.flatnonzero(missing)[: problems.limit]:
        problems.add("invalid_prediction", message, loc(int(i)))


def _forbid(values: Any, loc: LocFn, problems: Problems, message: str) -> None:
    if isinstance(values, pa.ChunkedArray | pa.Array):
        present = values.is_valid()
        if isinstance(present, pa.ChunkedArray):
            present = present.combine_chunks()
        idx = np.flatnonzero(present.to_numpy(zero_copy_only=False))
    elif values.count(None) == len(values):
        return
    else:
        idx = np.asarray([i for i, x in enumerate(values) if x is not None], dtype=np.int64)
    for i in idx[: problems.limit]:
        problems.add("invalid_prediction", message, loc(int(i)))


def _labels_from_score(spec: ModelSpec, score: pa.Array) -> pa.Array:
    classes = spec.prediction.classes
    positive = spec.positive_class
    negative = next((c for c in classes if c != positive), "0") if classes else "0"
    s = score.to_numpy(zero_copy_only=False)
    nan = np.isnan(s)  # null or NaN: no label
    above = pa.array(s >= spec.prediction.threshold, mask=nan if nan.any() else None)
    return pc.if_else(above, pa.scalar(positive, pa.string()), pa.scalar(negative, pa.string()))


def _score_labels_known(spec: ModelSpec) -> bool:
    """Whether the labels :func:`_labels_from_score` gives are among the model's classes."""
    classes = spec.prediction.classes
    if not classes:
        return False
    positive = spec.positive_class
    negative = next((c for c in classes if c != positive), "0")
    return positive in classes and negative in classes


def _labels_from_probs(classes: list[str], probs: pa.Array) -> pa.Array:
    out: list[str | None] = []
    for row in probs.to_pylist():
        out.append(None if row is None else classes[int(np.argmax(row))])
    return pa.array(out, pa.string())


def _probabilities(
    spec: ModelSpec, values: Any, loc: LocFn, problems: Problems, n: int
) -> pa.Array:
    classes = spec.prediction.classes or []
    k = len(classes)
    if isinstance(values, pa.ChunkedArray | pa.Array):
        arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if pa.types.is_null(arr.type):
            return pa.nulls(n, pa.list_(pa.float64()))
        if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)
                or pa.types.is_fixed_size_list(arr.type)):
            problems.add("invalid_prediction", f"probabilities must be a list column; got {arr.type}",
                         tuple(p for p in loc(0) if not isinstance(p, int)))
            return pa.nulls(n, pa.list_(pa.float64()))
        rows: list[Any] = arr.to_pylist()
    else:
        if values.count(None) == len(values):
            return pa.nulls(n, pa.list_(pa.float64()))
        rows = list(values)
    out: list[list[float] | None] = []
    for i, row in enumerate(rows):
        if row is None:
            out.append(None)
            continue
        if isinstance(row, dict):
            if not k:
                problems.add("invalid_prediction", "probabilities given by class need the model's "
                             "'classes' in its spec", loc(i))
                out.append(None)
                continue
            keys = {label_text(c): p for c, p in row.items()}
            if set(keys) != set(classes):
                problems.add("invalid_prediction", f"probabilities must have exactly the classes "
                             f"{classes}; got {sorted(keys)}", loc(i))
                out.append(None)
                continue
            row = [keys[c] for c in classes]
        if not isinstance(row, list) or (k and len(row) != k):
            problems.add("invalid_prediction", f"probabilities must be a list of {k or 'n'} numbers "
                         f"(one per class, in the order {classes})", loc(i))
            out.append(None)
            continue
        if not all(type(x) in (int, float) for x in row):
            problems.add("invalid_prediction", "probabilities must be numbers", loc(i))
            out.append(None)
            continue
        vals = np.asarray(row, dtype=np.float64)
        if not np.isfinite(vals).all() or (vals < 0).any() or (vals > 1).any():
            problems.add("invalid_prediction", "each probability must be a finite number in [0, 1]",
                         loc(i))
            out.append(None)
            continue
        if abs(vals.sum() - 1.0) > _PROB_TOLERANCE:
            problems.add("invalid_prediction", f"probabilities must sum to 1 (±{_PROB_TOLERANCE}); "
                         f"got {vals.sum():.4f}", loc(i))
            out.append(None)
            continue
        out.append(vals.tolist())
    return pa.array(out, pa.list_(pa.float64()))

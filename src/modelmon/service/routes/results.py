"""Query routes over evaluation results: overview, status, metric series, drift, data quality,
detector events, reports and version comparison.

Every list is bounded by ``limit`` (with a maximum) and paginated: the answer's ``next`` is the
relative URL of the following page (the same query with its cursor moved), or null on the last
page. Time series are cut at window boundaries, so a window (or a ``step`` bucket) never straddles
two pages; a page may therefore hold fewer rows than ``limit``, and a window with more rows than
``limit`` is returned whole. Times are ISO 8601 (UTC when no offset is given); ``start`` is
inclusive and ``end`` exclusive, both on the window start. ``version`` and ``segment`` default to
``"*"`` (all); a segment is written ``name=value``.

The answers are built off the event loop (``asyncio.to_thread``): store queries block.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from modelmon.config.durations import format_duration
from modelmon.config.models import ModelSpec
from modelmon.evaluation import versions
from modelmon.exceptions import NotFoundError, ValidationError
from modelmon.judgement.facts import FeatureFacts
from modelmon.judgement.rules.drift import drift_share
from modelmon.service.auth import principal_of
from modelmon.service.collectors import ResultBackend, window_seconds
from modelmon.service.logs import current_model
from modelmon.service.openapi import error_responses
from modelmon.service.params import parse_time as _parse_time
from modelmon.service.params import time_range as _time_range
from modelmon.service.responses_results import (
    CompareBody,
    DataQualityBody,
    DetectorEventsBody,
    DriftBody,
    LatestMetricsBody,
    MetricSeriesBody,
    OverviewBody,
    ReportBody,
    ReportsBody,
    StatusBody,
    StatusHistoryBody,
)
from modelmon.service.routes._body import json_response
from modelmon.store.results import ALL
from modelmon.vocabulary import (
    OUTPUT_FEATURE,
    STATUSES,
    DetectorSignal,
    Metric,
    Severity,
    Status,
)
from modelmon.windows import FixedWindows, parse_window

router = APIRouter(prefix="/v1", tags=["results"])

__all__ = ["HEADLINE_METRICS", "MAX_POINTS", "router"]

_ERRORS = error_responses(401, 404, 422, 503)

#: Most stored points (or feature rows) one page reads.
MAX_POINTS = 100_000
_DEFAULT_POINTS = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

#: Metrics the overview shows per model, when they exist.
HEADLINE_METRICS = ("accuracy", "f1", "roc_auc", "mae", "rmse", "r2", Metric.LATENCY_P95,
                    Metric.ERROR_RATE, Metric.DRIFT_SHARE, Metric.PREDICTION_COUNT)


# --- answering -------------------------------------------------------------------------------------


def _store(request: Request) -> ResultBackend:
    return cast(ResultBackend, request.app.state.mm.store)


async def _answer(model: str | None, build: Callable[..., dict[str, Any]], *args: Any,
                  **kwargs: Any) -> Response:
    if model is not None:
        current_model.set(model)
    return json_response(await asyncio.to_thread(build, *args, **kwargs))


def _link(request: Request, **params: Any) -> str:
    url = request.url.include_query_params(**{k: _param(v) for k, v in params.items()})
    return f"{url.path}?{url.query}"


def _param(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


# --- query parameters ------------------------------------------------------------------------------


def _bad(name: str, message: str, code: str = "invalid_value") -> ValidationError:
    return ValidationError(message, code=code, loc=("query", name))


def _parse_window(text: str | None, name: str = "window") -> str | None:
    """Canonical window size (``"60m"`` -> ``"1h"``), or None when absent."""
    if text is None:
        return None
    try:
        return parse_window(text).name
    except (ValueError, OverflowError):  # OverflowError: a size beyond what timedelta holds
        raise _bad(name, f"'{name}' must be a window such as '5m', '1h', '1d', '1w', '1mo' "
                         f"or '5000rows'; got {text!r}") from None


def _segment(spec: ModelSpec, text: str) -> str:
    """``*``, ``name=value`` (one group's series) or ``name`` (fairness across the groups)."""
    if text == ALL:
        return text
    name, sep, value = text.partition("=")
    if not name or (sep and not value):
        raise _bad("segment", f"'segment' must be '*', 'name=value' (e.g. 'country=DE') or a "
                              f"segment column for fairness (e.g. 'country'); got {text!r}")
    if name not in spec.segments:
        known = ", ".join(spec.segments) or "none"
        raise _bad("segment", f"model {spec.name!r} has no segment {name!r} (segments: {known})",
                   "unknown_segment")
    return text


def _version(store: ResultBackend, model: str, version: str, name: str = "version") -> str:
    if version == ALL:
        return version
    known = [v.version for v in store.list_versions(model)]
    if version not in known:
        raise NotFoundError(f"model {model!r} has no version {version!r} (versions: "
                            f"{', '.join(known) or 'none'})", code="version_not_found",
                            loc=("query", name))
    return version


def _spec(store: ResultBackend, model: str) -> ModelSpec:
    return store.get_model(model).spec


# --- columns to JSON -------------------------------------------------------------------------------


def _micros(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Timestamps as int64 microseconds since the epoch."""
    return np.asarray(pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _iso(micros: np.ndarray) -> list[str]:
    """ISO 8601 text of each timestamp, formatting each distinct value once."""
    if micros.size == 0:
        return []
    distinct, inverse = np.unique(micros, return_inverse=True)
    texts = np.array([(_EPOCH + timedelta(microseconds=int(u))).isoformat() for u in distinct],
                     dtype=object)
    return cast(list[str], texts[inverse].tolist())


def _at(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


def _floats(column: pa.ChunkedArray | pa.Array) -> list[float | None]:
    """Values with NaN and null both as None (JSON has no NaN)."""
    values = column.to_numpy(zero_copy_only=False).astype(np.float64)
    out = values.astype(object)
    out[~np.isfinite(values)] = None
    return cast(list[float | None], out.tolist())


def _groups(*keys: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of equal keys in sorted rows."""
    n = keys[0].size if keys else 0
    if n == 0:
        return []
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(change)
    stops = np.append(starts[1:], n)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    encoded = pc.dictionary_encode(column.combine_chunks())
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _page_size(keys: np.ndarray, limit: int, descending: bool = False) -> tuple[int, int | None]:
    """Rows of this page and the key where the next page starts (None: last page).

    ``keys`` are sorted (ascending, or descending); the page ends before the first key equal to
    the key of row ``limit``, so rows sharing a key (one window) stay together. 0 rows means that
    one key holds more than ``limit`` rows: the caller returns that key's rows whole.
    """
    if keys.size <= limit:
        return int(keys.size), None
    boundary = int(keys[limit])
    head = -keys[:limit] if descending else keys[:limit]
    return int(np.searchsorted(head, -boundary if descending else boundary, "left")), boundary


def _bucket_keys(starts: np.ndarray, step_us: int | None) -> np.ndarray:
    return starts if step_us is None else (starts // step_us) * step_us


# --- metric time series ----------------------------------------------------------------------------


def downsample(table: pa.Table, step: timedelta) -> pa.Table:
    """Merge metric points into ``step`` buckets aligned to the epoch.

    Each bucket's value is the mean of the window values in it, weighted by each window's ``n``
    (windows with a null or zero ``n`` count with weight 0 unless no window of the bucket has a
    positive ``n``, then the plain mean); NaN and null values are left out. ``n`` is the sum of
    the windows' ``n``. This is a mean of window values, not a recomputation of the metric over
    the bucket (a recomputed F1 or p95 latency would differ).

    Returns columns ``metric, version, segment, window_size, window_start, window_end, value, n``
    sorted by metric, window size and bucket start.

    Examples
    --------
    >>> t = pa.table({"metric": ["acc"] * 3, "version": ["*"] * 3, "segment": ["*"] * 3,
    ...               "window_size": ["1h"] * 3,
    ...               "window_start": pa.array([0, 3_600_000_000, 7_200_000_000],
    ...                                        pa.timestamp("us", tz="UTC")),
    ...               "value": [0.9, 0.6, 0.8], "n": [300, 100, 50]})
    >>> out = downsample(t, timedelta(hours=2))
    >>> [round(v, 4) for v in out["value"].to_pylist()], out["n"].to_pylist()
    ([0.825, 0.8], [400, 50])
    """
    step_us = int(step / _US)
    starts = _micros(table["window_start"])
    values = table["value"].to_numpy(zero_copy_only=False).astype(np.float64)
    valid = np.isfinite(values)
    n = table["n"].fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
    weight = np.where(valid & (n > 0), n, 0.0)
    work = pa.table({
        "metric": table["metric"], "version": table["version"], "segment": table["segment"],
        "window_size": table["window_size"],
        "bucket": pa.array(_bucket_keys(starts, step_us), pa.int64()),
        "wv": pa.array(np.where(valid, values, 0.0) * weight),
        "w": pa.array(weight),
        "v": pa.array(values, mask=~valid),
        "n": pa.array(n.astype(np.int64)),
    })
    g = work.group_by(["metric", "version", "segment", "window_size", "bucket"],
                      use_threads=False).aggregate([("wv", "sum"), ("w", "sum"), ("v", "mean"),
                                                    ("n", "sum")])
    g = g.sort_by([("metric", "ascending"), ("window_size", "ascending"),
                   ("bucket", "ascending")])
    w_sum = g["w_sum"].to_numpy(zero_copy_only=False)
    plain = g["v_mean"].to_numpy(zero_copy_only=False).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = g["wv_sum"].to_numpy(zero_copy_only=False) / w_sum
    value = np.where(w_sum > 0, weighted, plain)
    bucket = g["bucket"].to_numpy(zero_copy_only=False)
    ts = pa.timestamp("us", tz="UTC")
    return pa.table({
        "metric": g["metric"], "version": g["version"], "segment": g["segment"],
        "window_size": g["window_size"],
        "window_start": pa.array(bucket, pa.int64()).cast(ts),
        "window_end": pa.array(bucket + step_us, pa.int64()).cast(ts),
        "value": pa.array(value), "n": g["n_sum"],
    })


def _series(table: pa.Table) -> list[dict[str, Any]]:
    """Points grouped per (metric, version, segment, window size), each series in time order."""
    if table.num_rows == 0:
        return []
    table = table.sort_by([("metric", "ascending"), ("version", "ascending"),
                           ("segment", "ascending"), ("window_size", "ascending"),
                           ("window_start", "ascending")])
    starts = _iso(_micros(table["window_start"]))
    ends = _iso(_micros(table["window_end"]))
    values = _floats(table["value"])
    ns = table["n"].to_pylist()
    metric, version = table["metric"].to_pylist(), table["version"].to_pylist()
    segment, window = table["segment"].to_pylist(), table["window_size"].to_pylist()
    out = []
    keys = [_codes(table[c]) for c in ("metric", "version", "segment", "window_size")]
    for a, b in _groups(*keys):
        out.append({
            "metric": metric[a], "version": version[a], "segment": segment[a],
            "window": window[a],
            "points": [{"start": s, "end": e, "value": v, "n": k}
                       for s, e, v, k in zip(starts[a:b], ends[a:b], values[a:b], ns[a:b],
                                             strict=True)],
        })
    out.sort(key=lambda s: (s["metric"], window_seconds(s["window"]), s["version"], s["segment"]))
    return out


def _metric_series_body(
    store: ResultBackend, model: str, *, metrics: Sequence[str] | None, window: str | None,
    version: str, segment: str, start: datetime | None, end: datetime | None,
    step: timedelta | None, limit: int, link: Callable[..., str],
) -> dict[str, Any]:
    """The answer of ``GET /v1/models/{model}/metrics`` (see the module docstring)."""
    spec = _spec(store, model)
    segment = _segment(spec, segment)
    version = _version(store, model, version)

    def fetch(lo: datetime | None, hi: datetime | None, most: int) -> pa.Table:
        return store.metric_series(model, metrics=metrics or None, window_size=window,
                                   version=version, segment=segment, start=lo, end=hi, limit=most)

    table = fetch(start, end, limit + 1)
    step_us = None if step is None else int(step / _US)
    keys = _bucket_keys(_micros(table["window_start"]), step_us)
    rows, boundary = _page_size(keys, limit)
    next_start: datetime | None = None
    if boundary is not None and rows > 0:
        table, next_start = table.slice(0, rows), _at(boundary)
    elif boundary is not None:
        # one window (or bucket) holds more than `limit` points: return it whole
        width = _US if step_us is None else timedelta(microseconds=step_us)
        stop = _at(boundary) + width
        first = _at(boundary) if start is None else max(_at(boundary), start)
        table = fetch(first, stop if end is None else min(stop, end), MAX_POINTS + 1)
        if table.num_rows > MAX_POINTS:
            raise _bad("window", f"one window holds more than {MAX_POINTS} points: "
                                 "name the metrics or the window")
        more = (end is None or stop < end) and fetch(stop, end, 1).num_rows > 0
        next_start = stop if more else None
    if step is not None:
        table = downsample(table, step)
    return {
        "model": model, "window": window, "version": version, "segment": segment,
        "step": None if step is None else format_duration(step),
        "series": _series(table),
        "next": None if next_start is None else link(start=next_start),
    }


def _latest_points_body(
    store: ResultBackend, model: str, *, metrics: Sequence[str] | None, window: str | None,
    version: str, segment: str, limit: int, offset: int, link: Callable[..., str],
) -> dict[str, Any]:
    """The answer of ``GET /v1/models/{model}/metrics/latest``."""
    spec = _spec(store, model)
    segment = _segment(spec, segment)
    version = _version(store, model, version)
    table = store.latest_metric_points(model, window_size=window)
    mask = pc.and_(pc.equal(table["version"], version), pc.equal(table["segment"], segment))
    if metrics:
        mask = pc.and_(mask, pc.is_in(table["metric"], pa.array(list(metrics), pa.string())))
    rows = table.filter(mask).to_pylist()
    rows.sort(key=lambda r: (window_seconds(r["window_size"]), r["metric"]))
    page = rows[offset:offset + limit]
    points = [{"metric": r["metric"], "window": r["window_size"],
               "start": r["window_start"].isoformat(), "end": r["window_end"].isoformat(),
               "value": _finite(r["value"]), "n": r["n"]} for r in page]
    more = offset + limit < len(rows)
    return {"model": model, "version": version, "segment": segment, "points": points,
            "next": link(offset=offset + limit) if more else None}


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# --- overview and status ---------------------------------------------------------------------------


def _status_json(model: str, status: Any) -> dict[str, Any]:
    if status is None:
        return {"model": model, "status": Status.NO_DATA, "reasons": [], "report_id": None,
                "updated_at": None}
    return dict(status.to_dict())


def _status_dict(store: ResultBackend, model: str) -> dict[str, Any]:
    return _status_json(model, store.get_status(model))


def _headline_of(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest headline points of one model (version and segment ``*``) by window size."""
    out: dict[str, dict[str, Any]] = {}
    for r in sorted((r for r in rows if r["metric"] in HEADLINE_METRICS),
                    key=lambda r: (window_seconds(r["window_size"]), r["metric"])):
        out.setdefault(r["window_size"], {})[r["metric"]] = {
            "value": _finite(r["value"]), "n": r["n"], "start": r["window_start"].isoformat(),
            "end": r["window_end"].isoformat()}
    return out


def _alerts_of(alerts: Any, model: str | None) -> list[dict[str, Any]]:
    """A model's active alerts, most severe first, in brief (``alerts`` is the alert engine)."""
    if alerts is None:
        return []
    mine = sorted((a for a in alerts.active() if a.model == model),
                  key=lambda a: (-a.severity.rank, a.started_at))
    return [{"fingerprint": a.fingerprint, "rule": a.rule, "severity": str(a.severity),
             "state": a.state, "silenced": a.silenced, "started_at": a.started_at.isoformat(),
             "summary": a.annotations.get("summary", "")} for a in mine]


def _overview_body(store: ResultBackend, *, limit: int, after: str | None,
                  link: Callable[..., str], alerts: Any = None,
                  only: frozenset[str] | None = None) -> dict[str, Any]:
    """The answer of ``GET /v1/overview`` (``only``: the models a limited key reaches)."""
    infos = [m for m in store.list_models() if (after is None or m.name > after)
             and (only is None or m.name in only)]
    page, more = infos[:limit], len(infos) > limit
    names = [info.name for info in page]
    # one query for the page's statuses and one for their newest points (a query per model
    # cost about 9 ms a model: most of the overview's time with a hundred models)
    statuses = store.statuses(names)
    points: dict[str, list[dict[str, Any]]] = {}
    for r in store.latest_points_of(names, metrics=HEADLINE_METRICS).to_pylist():
        points.setdefault(r["model"], []).append(r)
    models = []
    for info in page:
        entry = _status_json(info.name, statuses.get(info.name))
        entry["task"] = info.spec.task.value
        entry["metrics"] = _headline_of(points.get(info.name, []))
        entry["alerts"] = _alerts_of(alerts, info.name)
        models.append(entry)
    counts = {s: sum(m["status"] == s for m in models) for s in STATUSES}
    firing = [a for m in models for a in m["alerts"] if a["state"] == "firing"]
    return {"models": models, "counts": counts,
            "alerts": {"firing": len(firing),
                       "by_severity": {str(s): sum(a["severity"] == s for a in firing)
                                       for s in Severity}},
            "next": link(after=page[-1].name) if more and page else None}


def _status_body(store: ResultBackend, model: str, alerts: Any = None) -> dict[str, Any]:
    """The answer of ``GET /v1/models/{model}/status``."""
    store.get_model(model)
    return {**_status_dict(store, model), "alerts": _alerts_of(alerts, model)}


_MAX_VERDICTS = 10_000


def _status_history_body(
    store: ResultBackend, model: str, *, window: str | None, start: datetime | None,
    end: datetime | None, status: str | None, complete: bool | None, limit: int,
    link: Callable[..., str],
) -> dict[str, Any]:
    """The answer of ``GET /v1/models/{model}/status/history``: one verdict per window, oldest
    first, paginated by window start."""
    spec = _spec(store, model)
    sizes = [w.name for w in spec.window_schemes]
    if window is not None and window not in sizes:
        raise _bad("window", f"model {model!r} has no window {window!r} (windows: "
                             f"{', '.join(sizes)})", "unknown_window")
    size = window or _status_window(store, model, sizes)
    rows = store.verdicts(model, window_size=size, start=start, end=end, status=status,
                          complete=complete, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    counts = {str(s): 0 for s in STATUSES}
    for v in page:
        counts[v.status] = counts.get(v.status, 0) + 1
    return {"model": model, "window": size, "counts": counts,
            "verdicts": [v.to_dict() for v in page],
            "next": link(start=rows[limit].window_start) if more else None}


def _status_window(store: ResultBackend, model: str, sizes: list[str]) -> str:
    """The window size the model's status was last judged on (its report says), else the
    smallest."""
    status = store.get_status(model)
    if status is not None and status.report_id:
        try:
            size = store.get_report(model, status.report_id).get("window", {}).get("size")
        except NotFoundError:
            size = None
        if size in sizes:
            return str(size)
    return sizes[0]


# --- drift and data quality ------------------------------------------------------------------------


def _feature_page(
    store: ResultBackend, model: str, *, window: str | None, version: str, segment: str,
    feature: str | None, start: datetime | None, end: datetime | None, limit: int,
) -> tuple[pa.Table, datetime | None]:
    """Feature rows of whole windows, at most ``limit`` unless one window holds more."""

    def fetch(lo: datetime | None, hi: datetime | None, most: int) -> pa.Table:
        return store.feature_results(model, window_size=window, version=version, segment=segment,
                                     feature=feature, start=lo, end=hi, limit=most)

    table = fetch(start, end, limit + 1)
    rows, boundary = _page_size(_micros(table["window_start"]), limit)
    if boundary is None:
        return table, None
    if rows > 0:
        return table.slice(0, rows), _at(boundary)
    at = _at(boundary)
    table = fetch(at, at + _US, MAX_POINTS)
    more = (end is None or at + _US < end) and fetch(at + _US, end, 1).num_rows > 0
    return table, at + _US if more else None


@dataclass
class _FeatureWindows:
    """A page of per-feature rows grouped by window (drift and data quality answers)."""

    version: str
    segment: str
    table: pa.Table  # sorted by window start, window size, feature
    groups: list[tuple[int, int]]  # [a, b) row ranges of one window each
    starts: list[str]
    ends: list[str]
    next_start: datetime | None


def _feature_windows(
    store: ResultBackend, model: str, *, window: str | None, version: str, segment: str,
    feature: str | None, start: datetime | None, end: datetime | None, limit: int,
) -> _FeatureWindows:
    spec = _spec(store, model)
    segment = _segment(spec, segment)
    version = _version(store, model, version)
    table, next_start = _feature_page(store, model, window=window, version=version,
                                      segment=segment, feature=feature, start=start, end=end,
                                      limit=limit)
    table = table.sort_by([("window_start", "ascending"), ("window_size", "ascending"),
                           ("feature", "ascending")])
    starts, ends = _micros(table["window_start"]), _micros(table["window_end"])
    groups = _groups(starts, _codes(table["window_size"]))
    return _FeatureWindows(version, segment, table, groups, _iso(starts), _iso(ends), next_start)


def _drift_body(
    store: ResultBackend, model: str, *, window: str | None, version: str, segment: str,
    feature: str | None, start: datetime | None, end: datetime | None, limit: int,
    link: Callable[..., str],
) -> dict[str, Any]:
    """The answer of ``GET /v1/models/{model}/drift``."""
    page = _feature_windows(store, model, window=window, version=version, segment=segment,
                            feature=feature, start=start, end=end, limit=limit)
    version, segment, table, groups = page.version, page.segment, page.table, page.groups
    starts, ends, next_start = page.starts, page.ends, page.next_start
    columns = ("feature", "feature_type", "test", "statistic", "p_value", "threshold", "drifted",
               "n_reference", "n_current")
    numeric = ("statistic", "p_value", "threshold")
    values = [_floats(table[c]) if c in numeric else table[c].to_pylist() for c in columns]
    rows = [dict(zip(columns, r, strict=True)) for r in zip(*values, strict=True)]
    sizes = table["window_size"].to_pylist()
    windows = []
    for a, b in groups:
        features = rows[a:b]
        facts = [FeatureFacts(f["feature"], f["feature_type"] or "", f["test"], f["statistic"],
                              f["threshold"], bool(f["drifted"]), f["n_current"] or 0)
                 for f in features]
        inputs = [x for x in facts if x.feature != OUTPUT_FEATURE]
        output = [x.drifted for x in facts if x.feature == OUTPUT_FEATURE]
        tested = [x for x in inputs if x.statistic is not None and math.isfinite(x.statistic)]
        share = drift_share(facts)
        windows.append({
            "window": sizes[a], "start": starts[a], "end": ends[a],
            "summary": {"features": len(inputs), "tested": len(tested),
                        "drifted": sum(x.drifted for x in tested),
                        "drift_share": share if math.isfinite(share) else None,
                        "drifted_features": [x.feature for x in tested if x.drifted],
                        "prediction_drifted": output[0] if output else None},
            "features": features,
        })
    return {"model": model, "version": version, "segment": segment, "windows": windows,
            "next": None if next_start is None else link(start=next_start)}


_QUALITY = (("missing_share", "missing"), ("out_of_range_share", "out_of_range"),
            ("unseen_share", "unseen_categories"))


def _data_quality_body(
    store: ResultBackend, model: str, *, window: str | None, version: str, segment: str,
    feature: str | None, start: datetime | None, end: datetime | None, limit: int,
    link: Callable[..., str],
) -> dict[str, Any]:
    """The answer of ``GET /v1/models/{model}/data-quality``."""
    page = _feature_windows(store, model, window=window, version=version, segment=segment,
                            feature=feature, start=start, end=end, limit=limit)
    version, segment, table, groups = page.version, page.segment, page.table, page.groups
    starts, ends, next_start = page.starts, page.ends, page.next_start
    shares = [table[c].fill_null(0.0) for c, _ in _QUALITY]
    flagged = pc.or_(pc.or_(pc.greater(shares[0], 0.0), pc.greater(shares[1], 0.0)),
                     pc.greater(shares[2], 0.0)).to_numpy(zero_copy_only=False)
    rows = table.select(["window_size", "feature", "feature_type", "n_current",
                         *(c for c, _ in _QUALITY)]).to_pylist()
    findings = []
    for i in np.flatnonzero(flagged):
        r = rows[i]
        findings.append({
            "window": r["window_size"], "start": starts[i], "end": ends[i],
            "feature": r["feature"], "feature_type": r["feature_type"],
            "n_current": r["n_current"],
            **{c: _finite(r[c]) for c, _ in _QUALITY},
            "issues": [name for c, name in _QUALITY if (r[c] or 0.0) > 0.0],
        })
    return {"model": model, "version": version, "segment": segment,
            "windows_examined": len(groups), "findings": findings,
            "schema_changes": _schema_changes(store, model, start, end),
            "next": None if next_start is None else link(start=next_start)}


_MAX_SCHEMA_CHANGES = 100


def _schema_changes(store: ResultBackend, model: str, start: datetime | None,
                    end: datetime | None) -> list[dict[str, Any]]:
    """Schema changes in ``[start, end)``, newest first (at most 100)."""
    out: list[dict[str, Any]] = []
    before: int | None = None
    while len(out) < _MAX_SCHEMA_CHANGES:
        events = store.list_events(model, kind="schema_change", limit=_MAX_SCHEMA_CHANGES,
                                   before_id=before)
        for e in events:
            if (start is None or e.at >= start) and (end is None or e.at < end):
                out.append(e.to_dict())
        if len(events) < _MAX_SCHEMA_CHANGES or (start is not None and events[-1].at < start):
            break
        before = events[-1].id
    return out[:_MAX_SCHEMA_CHANGES]


# --- detector events and reports -------------------------------------------------------------------


def _detector_events_body(
    store: ResultBackend, model: str, *, kind: str | None, start: datetime | None,
    end: datetime | None, limit: int, link: Callable[..., str],
) -> dict[str, Any]:
    """The answer of ``GET /v1/models/{model}/detector-events`` (newest first)."""
    table = store.detector_events(model, kind=kind, start=start, end=end, limit=limit + 1)
    times = _micros(table["event_time"])
    rows, boundary = _page_size(times, limit, descending=True)
    next_end: datetime | None = None
    if boundary is not None and rows > 0:
        # events at the boundary time go to the next page: its exclusive end lies just after
        table, next_end = table.slice(0, rows), _at(boundary) + _US
    elif boundary is not None:
        at = _at(boundary)
        table = store.detector_events(model, kind=kind, start=at, end=at + _US, limit=MAX_POINTS)
        older = store.detector_events(model, kind=kind, start=start, end=at, limit=1)
        next_end = at if older.num_rows else None
    events = table.to_pylist()
    iso = _iso(_micros(table["event_time"]))
    for e, t in zip(events, iso, strict=True):
        e["event_time"] = t
        e["details"] = orjson.loads(e["details"]) if e["details"] else {}
    return {"model": model, "events": events,
            "next": None if next_end is None else link(end=next_end)}


_MAX_REPORTS = 1000


def _reports_body(store: ResultBackend, model: str, *, limit: int, before: datetime | None,
                 link: Callable[..., str]) -> dict[str, Any]:
    """The answer of ``GET /v1/models/{model}/reports`` (headers, newest first)."""
    reports = store.list_reports(model, limit=limit + 1, before=before)
    if len(reports) <= limit:
        return {"model": model, "reports": reports, "next": None}
    boundary = reports[limit]["created_at"]
    at = datetime.fromisoformat(boundary)
    page = [r for r in reports[:limit] if r["created_at"] != boundary]
    if page:  # reports created at the boundary go to the next page (``before`` is exclusive)
        return {"model": model, "reports": page, "next": link(before=at + _US)}
    # every report of the page was stored in the same microsecond: return them all
    page = [r for r in store.list_reports(model, limit=_MAX_REPORTS, before=at + _US)
            if r["created_at"] == boundary]
    return {"model": model, "reports": page, "next": link(before=at)}


def _latest_report_body(store: ResultBackend, model: str) -> dict[str, Any]:
    """The newest report of ``model`` (``not_found`` when there is none yet)."""
    headers = store.list_reports(model, limit=1)
    if not headers:
        raise NotFoundError(f"model {model!r} has no report yet: reports are stored by each "
                            "evaluation cycle", loc=("model",))
    return store.get_report(model, headers[0]["id"])


# --- version comparison ----------------------------------------------------------------------------


def _compare_body(
    store: ResultBackend, model: str, *, a: str, b: str, window: str | None,
    metrics: Sequence[str] | None, segment: str, start: datetime | None, end: datetime | None,
    alpha: float,
) -> dict[str, Any]:
    """The answer of ``GET /v1/models/{model}/compare-versions`` (see
    :func:`modelmon.evaluation.versions.compare_versions`)."""
    spec = _spec(store, model)
    segment = _segment(spec, segment)
    a, b = _version(store, model, a, "a"), _version(store, model, b, "b")
    if a == ALL or b == ALL:
        raise _bad("a" if a == ALL else "b", "compare two named versions, not '*'")
    if a == b:
        raise _bad("b", f"'a' and 'b' are the same version ({a!r}): name two versions")
    if window is None:
        window = spec.window_schemes[0].name
    try:
        return versions.compare_versions(store, model, a=a, b=b, window=window, metrics=metrics,
                                segment=segment, start=start, end=end, alpha=alpha,
                                max_points=MAX_POINTS)
    except versions.TooManyPoints as exc:
        raise _bad("start", str(exc)) from None


# --- routes ----------------------------------------------------------------------------------------

_LIMIT = Query(_DEFAULT_POINTS, ge=1, le=MAX_POINTS,
               description=f"Most stored points (or feature rows) per page (max {MAX_POINTS}).")
_WINDOW = Query(None, description="Window size, e.g. 5m, 1h, 1d (all sizes when absent).")
_VERSION = Query(ALL, description="Model version, '*' for all versions together.")
_SEGMENT = Query(ALL, description="Segment 'name=value', '*' for all traffic.")
_METRICS = Query(None, description="Metric names (repeat the parameter); all when absent.")
_START = Query(None, description="ISO 8601; windows starting at or after it.")
_END = Query(None, description="ISO 8601; windows starting before it.")


@router.get("/overview", summary="Every model with its status and latest headline metrics",
            responses={200: {"model": OverviewBody}, **_ERRORS})
async def overview(request: Request, limit: int = Query(100, ge=1, le=1000),
                   after: str | None = Query(None, description="Models named after this one "
                                                                "(the cursor of `next`).")) -> Response:
    return await _answer(None, _overview_body, _store(request), limit=limit, after=after,
                         link=lambda **p: _link(request, **p),
                         alerts=request.app.state.mm.alerts, only=principal_of(request).models)


@router.get("/models/{model}/status", summary="A model's status with its reasons",
            responses={200: {"model": StatusBody}, **_ERRORS})
async def model_status(request: Request, model: str) -> Response:
    return await _answer(model, _status_body, _store(request), model,
                         request.app.state.mm.alerts)


@router.get("/models/{model}/status/history",
            summary="The verdict of every window: status and reasons, oldest first",
            responses={200: {"model": StatusHistoryBody}, **_ERRORS})
async def status_history(
    request: Request, model: str,
    window: str | None = Query(None, description="Window size (default: the one the model's "
                                                 "status is judged on)."),
    start: str | None = _START, end: str | None = _END,
    status: str | None = Query(None, description="Only verdicts with this status "
                                                 "(healthy, warning, degraded, no_data)."),
    complete: bool | None = Query(None, description="Only windows that have ended (true) or "
                                                    "are still filling (false)."),
    limit: int = Query(1000, ge=1, le=_MAX_VERDICTS),
) -> Response:
    if status is not None and status not in {str(s) for s in STATUSES}:
        raise _bad("status", f"'status' must be one of {', '.join(str(s) for s in STATUSES)}; "
                             f"got {status!r}")
    s, e = _time_range(start, end)
    return await _answer(model, _status_history_body, _store(request), model,
                         window=_parse_window(window), start=s, end=e, status=status,
                         complete=complete, limit=limit, link=lambda **p: _link(request, **p))


@router.get("/models/{model}/metrics", summary="Metric time series (optionally downsampled)",
            responses={200: {"model": MetricSeriesBody}, **_ERRORS})
async def metric_series(
    request: Request, model: str,
    metric: list[str] | None = _METRICS,
    window: str | None = _WINDOW, version: str = _VERSION, segment: str = _SEGMENT,
    start: str | None = _START, end: str | None = _END,
    step: str | None = Query(None, description="Bucket size (a multiple of `window`): each "
                             "bucket's point is the n-weighted mean of its window values."),
    limit: int = _LIMIT,
) -> Response:
    size = _parse_window(window)
    s, e = _time_range(start, end)
    step_td = None
    if step is not None:
        step_scheme = parse_window(_parse_window(step, "step") or "")
        if size is None:
            raise _bad("step", "'step' needs 'window': downsampling merges windows of one size")
        base = parse_window(size)
        if not isinstance(step_scheme, FixedWindows) or not isinstance(base, FixedWindows):
            raise _bad("step", "'step' merges fixed time windows (such as 1h into 1d); "
                               f"got step {step!r} for window {size!r}")
        step_td = step_scheme.size
        if step_td % base.size:
            raise _bad("step", f"'step' ({step}) must be a multiple of 'window' ({size})")
    return await _answer(model, _metric_series_body, _store(request), model, metrics=metric,
                         window=size, version=version, segment=segment, start=s, end=e,
                         step=step_td, limit=limit, link=lambda **p: _link(request, **p))


@router.get("/models/{model}/metrics/latest", summary="Newest point of each metric",
            responses={200: {"model": LatestMetricsBody}, **_ERRORS})
async def latest_metrics(
    request: Request, model: str,
    metric: list[str] | None = _METRICS,
    window: str | None = _WINDOW, version: str = _VERSION, segment: str = _SEGMENT,
    limit: int = Query(1000, ge=1, le=10_000), offset: int = Query(0, ge=0),
) -> Response:
    return await _answer(model, _latest_points_body, _store(request), model, metrics=metric,
                         window=_parse_window(window), version=version, segment=segment,
                         limit=limit, offset=offset, link=lambda **p: _link(request, **p))


@router.get("/models/{model}/drift", summary="Feature drift per window, with a summary",
            responses={200: {"model": DriftBody}, **_ERRORS})
async def drift(
    request: Request, model: str, window: str | None = _WINDOW, start: str | None = _START,
    end: str | None = _END, feature: str | None = Query(None, description="One feature only."),
    version: str = _VERSION, segment: str = _SEGMENT, limit: int = _LIMIT,
) -> Response:
    s, e = _time_range(start, end)
    return await _answer(model, _drift_body, _store(request), model, window=_parse_window(window),
                         version=version, segment=segment, feature=feature, start=s, end=e,
                         limit=limit, link=lambda **p: _link(request, **p))


@router.get("/models/{model}/data-quality",
            summary="Missing values, out-of-range values, unseen categories and schema changes",
            responses={200: {"model": DataQualityBody}, **_ERRORS})
async def data_quality(
    request: Request, model: str, window: str | None = _WINDOW, start: str | None = _START,
    end: str | None = _END, feature: str | None = Query(None, description="One feature only."),
    version: str = _VERSION, segment: str = _SEGMENT, limit: int = _LIMIT,
) -> Response:
    s, e = _time_range(start, end)
    return await _answer(model, _data_quality_body, _store(request), model,
                         window=_parse_window(window), version=version, segment=segment,
                         feature=feature, start=s, end=e, limit=limit,
                         link=lambda **p: _link(request, **p))


@router.get("/models/{model}/detector-events",
            summary="Concept-drift detector warnings and drifts, newest first", responses={200: {"model": DetectorEventsBody}, **_ERRORS})
async def detector_events(
    request: Request, model: str,
    kind: str | None = Query(None, description="'warning' or 'drift' (both when absent)."),
    start: str | None = Query(None, description="ISO 8601; events at or after it."),
    end: str | None = Query(None, description="ISO 8601; events before it (the cursor of "
                                              "`next`)."),
    limit: int = Query(100, ge=1, le=10_000),
) -> Response:
    if kind is not None and kind not in {str(k) for k in DetectorSignal}:
        raise _bad("kind", f"'kind' must be 'warning' or 'drift'; got {kind!r}")
    s, e = _time_range(start, end)
    return await _answer(model, _detector_events_body, _store(request), model, kind=kind,
                         start=s, end=e, limit=limit, link=lambda **p: _link(request, **p))


@router.get("/models/{model}/reports", summary="Evaluation report headers, newest first",
            responses={200: {"model": ReportsBody}, **_ERRORS})
async def reports(
    request: Request, model: str, limit: int = Query(50, ge=1, le=1000),
    before: str | None = Query(None, description="ISO 8601; reports created before it (the "
                                                 "cursor of `next`)."),
) -> Response:
    return await _answer(model, _reports_body, _store(request), model, limit=limit,
                         before=_parse_time(before, "before"),
                         link=lambda **p: _link(request, **p))


def wants_html(request: Request) -> bool:
    """The client prefers ``text/html`` to JSON (a browser, or ``Accept: text/html``)."""
    for part in request.headers.get("accept", "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in ("application/json", "*/*", "application/*"):
            return False
        if media in ("text/html", "application/xhtml+xml", "text/*"):
            return True
    return False


async def _report_html(model: str, store: ResultBackend, report_id: str | None) -> Response:
    from modelmon.report.service import window_report_html

    current_model.set(model)

    def build() -> str:
        chosen = report_id or _latest_report_body(store, model)["id"]
        return window_report_html(store, model, chosen)

    return HTMLResponse(await asyncio.to_thread(build))


_HTML: dict[int | str, dict[str, Any]] = {200: {
    "model": ReportBody, "content": {"text/html": {"schema": {"type": "string"}}},
    "description": "The report; a self-contained HTML page with Accept: text/html"}}


@router.get("/models/{model}/reports/latest", summary="The newest evaluation report",
            responses={**_ERRORS, **_HTML})
async def latest_report(request: Request, model: str) -> Response:
    if wants_html(request):
        return await _report_html(model, _store(request), None)
    return await _answer(model, _latest_report_body, _store(request), model)


@router.get("/models/{model}/reports/{report_id}", summary="One evaluation report (JSON, or "
            "the HTML report with Accept: text/html)", responses={**_ERRORS, **_HTML})
async def report(request: Request, model: str, report_id: str) -> Response:
    if wants_html(request):
        return await _report_html(model, _store(request), report_id)
    return await _answer(model, lambda: _store(request).get_report(model, report_id))


@router.get("/models/{model}/compare-versions",
            summary="Compare two versions on the windows both served", responses={200: {"model": CompareBody}, **_ERRORS})
async def compare_versions(
    request: Request, model: str,
    a: str = Query(description="The reference version."),
    b: str = Query(description="The version compared with it."),
    window: str | None = Query(None, description="Window size (default: the model's smallest)."),
    metric: list[str] | None = _METRICS,
    segment: str = _SEGMENT, start: str | None = _START, end: str | None = _END,
    alpha: float = Query(0.05, gt=0, lt=1, description="Significance level of the verdicts."),
) -> Response:
    s, e = _time_range(start, end)
    return await _answer(model, _compare_body, _store(request), model, a=a, b=b,
                         window=_parse_window(window), metrics=metric, segment=segment,
                         start=s, end=e, alpha=alpha)

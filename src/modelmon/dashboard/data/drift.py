"""The drift page: features ranked by drift, a feature x time heatmap, and one feature's
reference and current distributions.

Fast with hundreds of features: the ranking reads one row per feature (the newest window), the
heatmap reads only the features of the page shown, merged into at most ``HEATMAP_COLUMNS``
time buckets (a bucket shows its largest score), and a distribution reads one column of one
window.
"""

from __future__ import annotations

import math
import warnings
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.dashboard.data.series import Range, unix
from modelmon.drift import default_registry
from modelmon.drift.summaries import summarize_categorical, summarize_numeric
from modelmon.evaluation.references import ReferenceProfile
from modelmon.exceptions import ModelmonWarning, ValidationError
from modelmon.report.distributions import distribution, drift_score
from modelmon.store.base import FEATURE_PREFIX
from modelmon.store.results import ALL
from modelmon.vocabulary import OUTPUT_FEATURE

__all__ = ["HEATMAP_COLUMNS", "PAGE_SIZE", "drift_page", "feature_distribution"]

PAGE_SIZE = 50
HEATMAP_COLUMNS = 120
_US = timedelta(microseconds=1)


def _kind(test: str | None) -> str | None:
    if not test:
        return None
    try:
        return default_registry.get(test).kind
    except (KeyError, ValueError, LookupError):
        return None


def _scores(table: pa.Table) -> np.ndarray:
    tests = table["test"].to_pylist()
    stats = table["statistic"].to_pylist()
    ps = table["p_value"].to_pylist()
    ts = table["threshold"].to_pylist()
    kinds: dict[str | None, str | None] = {}
    out = np.full(table.num_rows, np.nan)
    for i, (t, s, p, th) in enumerate(zip(tests, stats, ps, ts, strict=True)):
        if t not in kinds:
            kinds[t] = _kind(t)
        score = drift_score(kinds[t], s, p, th)
        if score is not None:
            out[i] = score
    return out


def _ranking(store: Any, model: str, rng: Range, version: str, segment: str) -> list[dict[str, Any]]:
    """One row per feature of the newest window, most drifted first."""
    if rng.end is None:
        return []
    last = store.feature_results(model, window_size=rng.window, start=rng.end - _US,
                                 end=rng.end, version=version, segment=segment, limit=100_000)
    if last.num_rows == 0:  # the newest window of this version/segment may lie earlier
        newest = store.feature_results(model, window_size=rng.window, start=rng.start,
                                       end=rng.end, version=version, segment=segment,
                                       limit=100_000)
        if newest.num_rows == 0:
            return []
        at = pc.max(newest["window_start"]).as_py()
        last = newest.filter(pc.equal(newest["window_start"], pa.scalar(
            at, newest.schema.field("window_start").type)))
    scores = _scores(last)
    rows = []
    for r, score in zip(last.to_pylist(), scores.tolist(), strict=True):
        rows.append({"feature": r["feature"], "type": r["feature_type"], "test": r["test"],
                     "statistic": r["statistic"], "p_value": r["p_value"],
                     "threshold": r["threshold"], "drifted": bool(r["drifted"]),
                     "score": None if math.isnan(score) else score, "n": r["n_current"],
                     "missing_share": r["missing_share"], "start": r["window_start"]})
    rows.sort(key=lambda r: (-(r["score"] if r["score"] is not None else -1.0), r["feature"]))
    for rank, r in enumerate(rows, 1):
        r["rank"] = rank
    return rows


def _heatmap(store: Any, model: str, rng: Range, features: list[str], version: str,
             segment: str, link: str) -> dict[str, Any]:
    empty = {"kind": "heatmap", "rows": features, "x": [], "cells": [[] for _ in features],
             "link": link, "empty": "no drift results in this range"}
    if not features or rng.start is None or rng.end is None:
        return empty
    table = store.feature_results(model, window_size=rng.window, start=rng.start, end=rng.end,
                                  feature=features, version=version, segment=segment,
                                  limit=10_000_000)
    if table.num_rows == 0:
        return empty
    starts = np.asarray(pc.cast(table["window_start"], pa.int64()).to_numpy(
        zero_copy_only=False), dtype=np.int64)
    lo, hi = int(starts.min()), int(starts.max())
    distinct = np.unique(starts)
    if distinct.size <= HEATMAP_COLUMNS:  # a column per window
        columns, width = int(distinct.size), 0
        bucket = np.searchsorted(distinct, starts)
        x = [int(v) / 1e6 for v in distinct]
    else:
        columns = HEATMAP_COLUMNS
        width = (hi - lo) // columns + 1
        bucket = np.minimum((starts - lo) // width, columns - 1)
        x = [(lo + k * width) / 1e6 for k in range(columns)]
    row_of = {f: i for i, f in enumerate(features)}
    rows = np.array([row_of.get(f, -1) for f in table["feature"].to_pylist()], dtype=np.int64)
    scores = _scores(table)
    cells = np.full((len(features), columns), -np.inf)
    ok = (rows >= 0) & np.isfinite(scores)
    np.maximum.at(cells, (rows[ok], bucket[ok]), scores[ok])
    return {"kind": "heatmap", "rows": features, "x": x,
            "cells": [[None if not np.isfinite(v) else round(float(v), 4) for v in row]
                      for row in cells], "link": link,
            "bucket_seconds": width / 1e6, "empty": "no drift results in this range"}


def _profile(store: Any, model: str) -> ReferenceProfile | None:
    stored = store.get_reference(model)
    if stored is None:
        return None
    try:
        return ReferenceProfile.from_bytes(stored[2])
    except (ValueError, KeyError):
        return None


def feature_distribution(store: Any, model: str, feature: str, start: datetime,
                         end: datetime, version: str = ALL) -> dict[str, Any] | None:
    """The reference and current distributions of ``feature`` in the window ``[start, end)``
    (None without a stored reference or for the model output)."""
    profile = _profile(store, model)
    if profile is None or feature == OUTPUT_FEATURE or feature not in profile.reference.features:
        return None
    ref = profile.reference[feature]
    column = FEATURE_PREFIX + feature
    table = store.read_predictions(model, start=start, end=end, columns=[column],
                                   version=None if version == ALL else version,
                                   with_actuals=False, ordered=False)
    if column not in table.column_names:
        return None
    values = table[column]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        if ref.feature_type == "numeric":
            cur: Any = summarize_numeric(np.asarray(
                pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64))
        else:
            cur = summarize_categorical(values.to_pylist())
    spec = distribution(ref, cur)
    spec["n_reference"], spec["n_current"] = int(ref.n), int(cur.n)
    return spec


def drift_page(store: Any, model: str, rng: Range, *, version: str, segment: str,
               page: int, feature: str | None, at: datetime | None,
               link: str) -> dict[str, Any]:
    """The ranking (one page of it), the heatmap of that page and one feature's distributions
    (``feature``, default the most drifted, in the window starting at ``at``, default the
    newest)."""
    ranking = _ranking(store, model, rng, version, segment)
    pages = max(1, math.ceil(len(ranking) / PAGE_SIZE))
    if page < 1 or page > pages:
        raise ValidationError(f"'page' must be between 1 and {pages}; got {page}",
                              code="invalid_value", loc=("query", "page"))
    shown = ranking[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    inputs = [r for r in ranking if r["feature"] != OUTPUT_FEATURE]
    chosen = feature or next((r["feature"] for r in inputs), None)
    if feature is not None and feature not in {r["feature"] for r in ranking}:
        raise ValidationError(f"model {model!r} has no drift results for feature {feature!r}",
                              code="unknown_feature", loc=("query", "feature"))
    dist = None
    window: dict[str, Any] | None = None
    if chosen is not None:
        start = at if at is not None else next(
            (r["start"] for r in ranking if r["feature"] == chosen), None)
        if start is not None:
            rows = store.feature_results(model, window_size=rng.window, start=start,
                                         end=start + _US, feature=chosen, version=version,
                                         segment=ALL, limit=1).to_pylist()
            if rows:
                window = {"start": rows[0]["window_start"], "end": rows[0]["window_end"],
                          **{k: rows[0][k] for k in ("test", "statistic", "p_value",
                                                     "threshold", "drifted", "n_current")}}
                dist = feature_distribution(store, model, chosen, rows[0]["window_start"],
                                            rows[0]["window_end"], version)
    tested = [r for r in inputs if r["score"] is not None]
    return {
        "ranking": shown, "page": page, "pages": pages, "features": len(inputs),
        "drifted": sum(r["drifted"] for r in tested), "tested": len(tested),
        "heatmap": _heatmap(store, model, rng, [r["feature"] for r in shown], version,
                            segment, link),
        "feature": chosen, "window": window, "distribution": dist,
        "newest": unix(ranking[0]["start"]) if ranking else None,
    }

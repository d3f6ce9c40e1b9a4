"""Data quality, fairness and feature importance pages of a model."""

from __future__ import annotations

import math
from typing import Any

import pyarrow.compute as pc

from modelmon.dashboard.data.series import Range, metric_charts, unix
from modelmon.evaluation.importance import importance_shift
from modelmon.service.routes import results as api
from modelmon.store.base import BatchKind
from modelmon.store.results import ALL
from modelmon.vocabulary import HEADLINE, Metric, Task

__all__ = ["FAIRNESS_METRICS", "data_quality_page", "fairness_page", "importance_page"]

FAIRNESS_METRICS = ("demographic_parity_difference", "equal_opportunity_difference",
                    "equalized_odds_difference", str(Metric.WORST_GROUP_ACCURACY))
_SHARES = ("missing_share", "out_of_range_share", "unseen_share")
_US = __import__("datetime").timedelta(microseconds=1)


def data_quality_page(store: Any, model: str, rng: Range, version: str) -> dict[str, Any]:
    """The newest window's shares per feature (worst first), findings and schema changes in the
    range, and the largest missing share over time."""
    spec = store.get_model(model).spec
    body = api._data_quality_body(store, model, window=rng.window, version=version,
                                  segment=ALL, feature=None, start=rng.start, end=rng.end,
                                  limit=api.MAX_POINTS, link=lambda **_: "")
    latest: list[dict[str, Any]] = []
    if rng.end is not None:
        rows = store.feature_results(model, window_size=rng.window, start=rng.end - _US,
                                     end=rng.end, version=version, limit=100_000).to_pylist()
        for r in rows:
            worst = max((r[c] or 0.0) for c in _SHARES)
            latest.append({"feature": r["feature"], "type": r["feature_type"],
                           "n": r["n_current"], "worst": worst,
                           **{c: r[c] for c in _SHARES}})
        latest.sort(key=lambda r: (-r["worst"], r["feature"]))
    findings = sorted(body["findings"], key=lambda f: f["start"], reverse=True)
    return {"latest": latest, "findings": findings[:200], "finding_count": len(findings),
            "schema_changes": body["schema_changes"],
            "charts": metric_charts(store, spec, [Metric.MISSING_SHARE], rng=rng,
                                    version=version, segment=ALL)}


def fairness_page(store: Any, model: str, rng: Range) -> dict[str, Any]:
    """Per segment column: its fairness metrics over time and each group's latest headline."""
    spec = store.get_model(model).spec
    headline = HEADLINE[Task(spec.task)]
    latest = store.latest_metric_points(model, window_size=rng.window)
    groups_rows = latest.filter(pc.and_(pc.equal(latest["version"], ALL),
                                        pc.equal(latest["metric"], headline))).to_pylist() \
        if latest.num_rows else []
    columns = []
    for seg in spec.segments:
        groups = sorted((r for r in groups_rows if r["segment"].startswith(f"{seg}=")),
                        key=lambda r: r["segment"])
        bars = {"kind": "bars", "categories": [r["segment"].split("=", 1)[1] for r in groups],
                "series": [{"label": headline, "values": [r["value"] for r in groups]}],
                "empty": f"no group of {seg} has {headline} yet"}
        charts = metric_charts(store, spec, list(FAIRNESS_METRICS), rng=rng, version=ALL,
                               segment=seg)
        columns.append({"segment": seg, "charts": charts, "groups": bars,
                        "group_rows": groups})
    return {"columns": columns, "headline": headline,
            "classification": Task(spec.task).is_classification}


def importance_page(store: Any, model: str, top: int = 8) -> dict[str, Any]:
    """Importance of each feature over its logged snapshots (the top ones of the newest
    snapshot), the newest ranking and whether it shifted from the first snapshot."""
    table = store.read_table(model, BatchKind.FEATURE_IMPORTANCE)
    if table.num_rows == 0:
        return {"chart": None, "latest": [], "shift": None, "snapshots": 0}
    rows = table.to_pylist()
    times = sorted({r["snapshot_time"] for r in rows})
    values: dict[str, dict[Any, float]] = {}
    for r in rows:
        values.setdefault(r["feature"], {})[r["snapshot_time"]] = r["importance"]
    newest = {f: v.get(times[-1]) for f, v in values.items()}
    first = {f: v.get(times[0]) for f, v in values.items()}
    ranked = sorted((f for f in newest if newest[f] is not None),
                    key=lambda f: -float(newest[f] or 0.0))
    chart = {"kind": "series", "x": [unix(t) for t in times],
             "series": [{"label": f, "values": [values[f].get(t) for t in times]}
                        for f in ranked[:top]], "markers": []}
    shift = importance_shift(table)
    latest = [{"feature": f, "rank": i + 1, "importance": newest[f], "first": first.get(f),
               "change": (None if first.get(f) is None or newest[f] is None
                          or not math.isfinite(float(newest[f] or 0.0))
                          else float(newest[f] or 0.0) - float(first[f] or 0.0))}
              for i, f in enumerate(ranked)]
    return {"chart": chart, "latest": latest, "snapshots": len(times),
            "shift": None if shift is None else {"shifted": shift.shifted,
                                                 "reason": shift.reason()}}

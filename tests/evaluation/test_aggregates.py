"""Mergeable window aggregates: the decomposable metrics equal the direct computation on the rows,
and merging the aggregates of any split equals the aggregate of the whole."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmon.config import ModelSpec
from modelmon.evaluation.aggregates import LatencySketch, WindowAggregate
from modelmon.evaluation.frame import EvalFrame, needed_columns
from modelmon.evaluation.operational import operational_metrics
from modelmon.evaluation.presets import quality_metric_names
from modelmon.evaluation.quality import quality_metrics
from modelmon.ingest.predictions import predictions_from_table

NOW = datetime(2026, 1, 1, tzinfo=UTC)

SPECS = {
    "binary": ModelSpec.model_validate({
        "name": "b", "task": "binary_classification", "preset": "advanced",
        "features": [{"name": "x", "type": "numeric"}, {"name": "c", "type": "categorical"}],
        "prediction": {"classes": ["no", "yes"], "score": True}}),
    "multiclass": ModelSpec.model_validate({
        "name": "m", "task": "multiclass_classification",
        "features": [{"name": "x", "type": "numeric"}],
        "prediction": {"classes": ["a", "b", "c"], "probabilities": True}}),
    "regression": ModelSpec.model_validate({
        "name": "r", "task": "regression", "preset": "advanced",
        "features": [{"name": "x", "type": "numeric"}, {"name": "c", "type": "categorical"}]}),
}


def frame(kind: str, n: int, seed: int) -> EvalFrame:
    spec = SPECS[kind]
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {"prediction_id": [f"{seed}-{i}" for i in range(n)],
                               "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
                               "latency_seconds": rng.gamma(2, 0.01, n),
                               "status": np.where(rng.random(n) < 0.05, "error", "ok")}
    if kind != "multiclass":
        cols["c"] = pa.array(np.where(rng.random(n) < 0.1, None, rng.choice(["u", "v"], n)).tolist())
    if kind == "binary":
        score = rng.random(n)
        cols["score"] = score
        actual = np.where(rng.random(n) < score, "yes", "no")
    elif kind == "multiclass":
        p = rng.dirichlet([1, 1, 1], n).round(6)
        p[:, 2] = 1 - p[:, 0] - p[:, 1]
        cols["probabilities"] = pa.array(p.tolist())
        actual = np.asarray(["a", "b", "c"])[rng.integers(0, 3, n)]
    else:
        y = rng.normal(5, 2, n)
        cols["prediction"] = y + rng.normal(0, 1, n)
        actual = np.round(y, 3)
        actual[::17] = 0.0  # zero actuals: MAPE excludes them
    table = predictions_from_table(spec, pa.table(cols), now=NOW)
    labelled = rng.random(n) < 0.8
    if kind == "regression":
        table = table.append_column("actual_value", pa.array(np.where(labelled, actual, np.nan)))
        table = table.append_column("actual_label", pa.nulls(n, pa.string()))
    else:
        table = table.append_column("actual_label", pa.array(np.where(labelled, actual, None).tolist(),
                                                             pa.string()))
    return EvalFrame.from_arrow(spec, table.select([*needed_columns(spec), *
                                                    [c for c in ("actual_label", "actual_value")
                                                     if c in table.column_names]]))


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_decomposable_metrics_equal_the_direct_ones(kind: str) -> None:
    f = frame(kind, 3000, 0)
    agg = WindowAggregate.from_frame(f)
    got = agg.metrics(3600.0, f.positive_index if kind == "binary" else None)
    expected = operational_metrics(f, 3600.0)
    expected.update(quality_metrics(f, quality_metric_names(f.spec)))
    compared = 0
    for name, (value, _) in got.items():
        if name.startswith("latency_") or name not in expected:
            continue
        assert value == pytest.approx(expected[name][0], rel=1e-9, abs=1e-12, nan_ok=True), name
        compared += 1
    assert compared >= 5
    for _q, name in ((0.5, "latency_p50_seconds"), (0.95, "latency_p95_seconds"),
                    (0.99, "latency_p99_seconds")):
        assert got[name][0] == pytest.approx(expected[name][0], rel=0.03), name


@pytest.mark.parametrize("kind", sorted(SPECS))
@given(cuts=st.lists(st.integers(1, 599), max_size=4, unique=True))
def test_merge_of_any_split_equals_the_whole(kind: str, cuts: list[int]) -> None:
    f = frame(kind, 600, 1)
    bounds = [0, *sorted(cuts), 600]
    parts = [WindowAggregate.from_frame(f.subset(np.isin(np.arange(600), np.arange(a, b))))
             for a, b in itertools.pairwise(bounds)]
    merged = parts[0]
    for p in parts[1:]:
        merged.merge(WindowAggregate.from_bytes(p.to_bytes()))  # through storage, too
    whole = WindowAggregate.from_frame(f)
    pos = f.positive_index if kind == "binary" else None
    a, b = merged.metrics(60.0, pos), whole.metrics(60.0, pos)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name][0] == pytest.approx(b[name][0], rel=1e-9, abs=1e-12, nan_ok=True), name
    assert merged.categories == whole.categories and merged.missing == whole.missing


def test_latency_sketch_relative_error() -> None:
    rng = np.random.default_rng(5)
    values = rng.lognormal(-4, 1.5, 100_000)
    sketch = LatencySketch()
    sketch.add(values)
    for q in (0.01, 0.5, 0.9, 0.99, 0.999):
        assert sketch.quantile(q) == pytest.approx(np.quantile(values, q, method="lower"), rel=0.011)
    assert LatencySketch().quantile(0.5) != LatencySketch().quantile(0.5)  # NaN when empty


def test_window_aggregates_are_stored_with_results() -> None:
    from modelmon.evaluation.window import evaluate_window

    f = frame("binary", 500, 2)
    ev = evaluate_window(f, window_seconds=60.0, reference=None)
    res = ev.to_results("1m", NOW, NOW + timedelta(minutes=1))
    blob = res.aggregates[("*", "*")]
    assert WindowAggregate.from_bytes(blob).n == 500


@pytest.mark.parametrize("scale", [1e8, 1e-8])
def test_rolled_up_regression_metrics_keep_their_precision_at_any_scale(scale: float) -> None:
    """Targets near 1e8 (prices) or 1e-8 (rates): R² from merged sums of squares lost every digit
    (``sum_y2 - sum_y**2 / n`` cancels); the streaming aggregates merge moments pairwise."""
    from modelmon.metrics import mean_absolute_error, r2_score

    rng = np.random.default_rng(3)
    n = 2400
    y = scale * (1 + 1e-6 * rng.normal(size=n)) if scale > 1 else scale * rng.normal(5, 1, n)
    pred = y + scale * 3e-7 * rng.normal(size=n) if scale > 1 else y + scale * rng.normal(0, 0.3, n)
    spec = SPECS["regression"]
    table = predictions_from_table(spec, pa.table({
        "prediction_id": [f"s{i}" for i in range(n)], "x": rng.normal(size=n),
        "c": rng.choice(["u", "v"], n), "prediction": pred}), now=NOW)
    table = table.append_column("actual_value", pa.array(y))
    table = table.append_column("actual_label", pa.nulls(n, pa.string()))
    f = EvalFrame.from_arrow(spec, table.select([*needed_columns(spec), "actual_value",
                                                 "actual_label"]))
    parts = [WindowAggregate.from_frame(f.subset((np.arange(n) // 100) == k)) for k in range(24)]
    merged = parts[0]
    for p in parts[1:]:
        merged.merge(WindowAggregate.from_bytes(p.to_bytes()))
    got = merged.metrics(3600.0)
    assert got["r2"][0] == pytest.approx(r2_score(y, pred), rel=1e-9)
    assert 0 < got["r2"][0] < 1
    assert got["mae"][0] == pytest.approx(mean_absolute_error(y, pred), rel=1e-9)

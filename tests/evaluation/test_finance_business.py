"""Finance and business metrics appear in window results when the spec asks for them, with the
same values as the metric functions on the window's rows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from modelmon.config import ModelSpec
from modelmon.evaluation import Evaluator
from modelmon.ingest.actuals import actuals_from_table
from modelmon.ingest.events import metric_events_from_records
from modelmon.ingest.predictions import predictions_from_table
from modelmon.metrics import directional_accuracy, sharpe_ratio, value_at_risk
from modelmon.store import BatchKind, WriteBatch
from modelmon.store.duckdb_store import DuckDBStore
from tests.evaluation.scenario import NOW


def test_finance_metrics(tmp_path: Path) -> None:
    spec = ModelSpec.model_validate({
        "name": "returns", "task": "regression", "windows": ["1h"],
        "features": [{"name": "momentum", "type": "numeric"}],
        "finance": {"kind": "change", "periods_per_year": 252},
    })
    store = DuckDBStore(str(tmp_path / "f.duckdb"))
    store.open()
    store.save_model(spec)
    rng = np.random.default_rng(0)
    n = 300
    start = NOW - timedelta(hours=1)
    times = [start + timedelta(seconds=10 * i) for i in range(n)]
    truth = rng.normal(0.001, 0.02, n)
    pred = truth + rng.normal(0, 0.02, n)
    ids = [f"r{i}" for i in range(n)]
    preds = predictions_from_table(spec, pa.table({"prediction_id": ids, "timestamp": times,
                                                   "momentum": rng.normal(size=n),
                                                   "prediction": pred}), now=NOW)
    acts = actuals_from_table(spec, pa.table({"prediction_id": ids, "actual": truth}), now=NOW)
    store.write([WriteBatch(BatchKind.PREDICTIONS, "returns", preds),
                 WriteBatch(BatchKind.ACTUALS, "returns", acts)])
    Evaluator(store, clock=lambda: NOW).run_cycle()
    pts = {r["metric"]: r["value"] for r in store.metric_series("returns", window_size="1h").to_pylist()}
    assert pts["directional_accuracy"] == pytest.approx(directional_accuracy(truth, pred), abs=1e-12)
    assert pts["sharpe_ratio"] == pytest.approx(sharpe_ratio(truth, pred), abs=1e-9)
    assert pts["value_at_risk"] == pytest.approx(value_at_risk(truth, pred), abs=1e-12)
    assert {"hit_rate", "max_drawdown", "expected_shortfall", "mae"} <= set(pts)
    store.close()


def test_business_metrics(tmp_path: Path) -> None:
    spec = ModelSpec.model_validate({
        "name": "convert", "task": "binary_classification", "windows": ["1h"],
        "features": [{"name": "visits", "type": "numeric"}],
        "prediction": {"classes": [0, 1]}, "business": {},
    })
    store = DuckDBStore(str(tmp_path / "b.duckdb"))
    store.open()
    store.save_model(spec)
    start = NOW - timedelta(hours=1)
    ids = [f"c{i}" for i in range(10)]
    labels = ["1", "1", "0", "0", "1", "0", "0", "0", "1", "0"]
    converted = [1, 0, 0, 0, 1, 0, 1, 0, 1, 0]
    preds = predictions_from_table(spec, pa.table({
        "prediction_id": ids, "timestamp": [start + timedelta(minutes=i) for i in range(10)],
        "visits": [float(i) for i in range(10)], "prediction": labels}), now=NOW)
    events = metric_events_from_records(spec, [
        {"name": "conversion", "value": c, "kind": "business", "prediction_id": i,
         "timestamp": (start + timedelta(minutes=k)).isoformat()}
        for k, (i, c) in enumerate(zip(ids, converted, strict=True))] + [
        {"name": "revenue", "value": 25.0, "kind": "business",
         "timestamp": (start + timedelta(minutes=k)).isoformat()} for k in range(4)], now=NOW)
    store.write([WriteBatch(BatchKind.PREDICTIONS, "convert", preds),
                 WriteBatch(BatchKind.METRIC_EVENTS, "convert", events)])
    Evaluator(store, clock=lambda: NOW).run_cycle()
    pts = {r["metric"]: r["value"] for r in store.metric_series("convert", window_size="1h").to_pylist()}
    assert pts["conversion_rate"] == pytest.approx(0.4)
    agree = np.mean(np.asarray(labels, dtype=int) == np.asarray(converted))
    assert pts["conversion_prediction_accuracy"] == pytest.approx(agree)
    assert pts["realised_revenue"] == pytest.approx(100.0)
    store.close()

"""Batch evaluation of Parquet logs: the Spark job (``local[2]``) computes the same window
aggregates as the embedded engine, which are those the service computes for the same rows;
``evaluate_batch`` stores the same metric points and aggregates as the service's evaluation;
``modelmon evaluate-batch --engine spark`` writes them into a PostgreSQL store."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from modelmon.batch import BatchInput, evaluate_batch
from modelmon.batch.job import compute_aggregates
from modelmon.evaluation import Evaluator
from modelmon.evaluation.aggregates import DECOMPOSABLE, WindowAggregate
from modelmon.store import BatchKind
from modelmon.store.duckdb import DuckDBStore
from modelmon.store.postgres import PostgresStore
from tests.evaluation.scenario import FRAUD, NOW, load
from tests.support.postgres import PostgresServer, postgres_server

__all__ = ["postgres_server"]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from modelmon.batch.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Traffic in a store (evaluated by the service's engine), exported as Parquet logs."""
    path = tmp_path_factory.mktemp("batch")
    store = DuckDBStore(str(path / "served.duckdb"))
    store.open()
    store.save_model(FRAUD)
    load(store, hours=10, n=500, drift_from=6)
    Evaluator(store, clock=lambda: NOW).run_cycle()
    preds = store.read_predictions("fraud", with_actuals=False)
    pq.write_table(preds.drop_columns(["received_at"]), path / "predictions.parquet",
                   row_group_size=700)
    acts = store.read_table("fraud", BatchKind.ACTUALS)
    # a corrected actual: the newer one counts (the store keeps the latest too)
    first = acts.slice(0, 1).to_pylist()[0]
    stale = {**first, "label": "1" if first["label"] == "0" else "0",
             "event_time": first["event_time"] - timedelta(minutes=5)}
    acts = pa.concat_tables([pa.Table.from_pylist([stale], schema=acts.schema), acts])
    pq.write_table(acts.drop_columns(["received_at"]), path / "actuals.parquet")
    served = {(w, bytes(d)) for _, _, w, d in store.window_aggregates(
        "fraud", "1h", NOW - timedelta(days=1), NOW)}
    points = store.metric_series("fraud", window_size="1h").to_pylist()
    store.close()
    inp = BatchInput(str(path / "predictions.parquet"), str(path / "actuals.parquet"), "1h")
    return {"input": inp, "served": served, "points": points, "path": path}


def _same(a: WindowAggregate, b: WindowAggregate) -> None:
    da, db = json.loads(a.to_bytes()), json.loads(b.to_bytes())
    for key in ("sum_log_loss", "sum_brier"):
        assert da.pop(key) == pytest.approx(db.pop(key), rel=1e-12)
    assert da == db


def test_spark_equals_embedded_equals_the_service(logs: dict[str, Any], spark: Any) -> None:
    inp = logs["input"]
    embedded = compute_aggregates(FRAUD, inp, "embedded")
    on_spark = compute_aggregates(FRAUD, inp, "spark", session=spark)
    assert sorted(embedded) == sorted(on_spark) and len(embedded) == 10
    for start in embedded:
        _same(embedded[start], on_spark[start])
    served = {w: WindowAggregate.from_bytes(d) for w, d in logs["served"]}
    assert sorted(served) == sorted(embedded)
    for start, agg in served.items():
        _same(agg, embedded[start])
    assert sum(a.n for a in on_spark.values()) == 5000
    assert sum(a.n_labelled for a in on_spark.values()) == 5000


def test_evaluate_batch_stores_what_the_service_stores(logs: dict[str, Any], spark: Any,
                                                       tmp_path: Path) -> None:
    store = DuckDBStore(str(tmp_path / "batch.duckdb"))
    store.open()
    try:
        store.save_model(FRAUD)
        summary = evaluate_batch(store, "fraud", logs["input"], engine="spark", session=spark)
        assert (summary.windows, summary.rows) == (10, 5000)
        got = {(p["window_start"], p["metric"]): (p["value"], p["n"])
               for p in store.metric_series("fraud", window_size="1h").to_pylist()}
        want = {(p["window_start"], p["metric"]): (p["value"], p["n"]) for p in logs["points"]
                if p["metric"] in DECOMPOSABLE}
        assert set(got) == set(want)
        for key, (value, n) in want.items():
            assert got[key][1] == n, key
            # latency quantiles come from the aggregate's sketch (within 1 % of the exact
            # quantile the service computes from a window's rows), as in the service's roll-ups
            rel = 0.0101 if key[1].startswith("latency_") else 1e-9
            assert got[key][0] == pytest.approx(value, rel=rel, nan_ok=True), key
        assert np.isfinite([v for v, _ in got.values() if v is not None]).all()
    finally:
        store.close()


def test_regression_and_missing_columns(tmp_path: Path, spark: Any) -> None:
    from modelmon.config import ModelSpec

    spec = ModelSpec.model_validate({
        "name": "price", "task": "regression",
        "features": [{"name": "x", "type": "numeric"}, {"name": "c", "type": "categorical"},
                     {"name": "absent", "type": "numeric"}]})
    rng = np.random.default_rng(3)
    n = 3000
    times = pa.array([NOW - timedelta(hours=3) + timedelta(seconds=int(s))
                      for s in rng.integers(0, 3 * 3600, n)], pa.timestamp("us", tz="UTC"))
    ids = [f"r{i}" for i in range(n)]
    x = rng.normal(size=n)
    x[::50] = np.nan
    pq.write_table(pa.table({"prediction_id": ids, "event_time": times,
                             "value": x * 2 + 1, "feature.x": x,
                             "feature.c": rng.choice(["a", "b", None], n),
                             "latency_seconds": rng.gamma(2, 0.01, n)}),
                   tmp_path / "p.parquet", row_group_size=400)
    pq.write_table(pa.table({"prediction_id": ids[: n // 2], "value": rng.normal(size=n // 2),
                             "event_time": times.slice(0, n // 2)}), tmp_path / "a.parquet")
    inp = BatchInput(str(tmp_path / "p.parquet"), str(tmp_path / "a.parquet"), "1h")
    embedded = compute_aggregates(spec, inp, "embedded")
    on_spark = compute_aggregates(spec, inp, "spark", session=spark)
    assert sorted(embedded) == sorted(on_spark)
    for start in embedded:
        a, b = embedded[start], on_spark[start]
        assert (a.n, a.n_labelled, a.missing, a.categories) == (b.n, b.n_labelled, b.missing,
                                                                b.categories)
        assert a.latency.counts == b.latency.counts
        secs = 3600.0
        ma, mb = a.metrics(secs), b.metrics(secs)
        assert ma.keys() == mb.keys()
        for k in ma:
            assert ma[k][1] == mb[k][1]
            assert ma[k][0] == pytest.approx(mb[k][0], rel=1e-9, nan_ok=True), k
    assert sum(a.missing["absent"] for a in embedded.values()) == n


def test_the_command_on_spark_into_postgresql(logs: dict[str, Any], tmp_path: Path,
                                              postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    (tmp_path / "mm.yaml").write_text(yaml.safe_dump({"store": {"url": url},
                                                      "models": [FRAUD.model_dump(mode="json")]}))
    inp = logs["input"]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "modelmon"), "evaluate-batch", "fraud",
         "--predictions", inp.predictions, "--actuals", inp.actuals or "", "--window", "1h",
         "--engine", "spark", "--master", "local[2]", "--config", str(tmp_path / "mm.yaml")],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["windows"] == 10 and summary["rows"] == 5000 and summary["engine"] == "spark"
    store = PostgresStore(url)
    store.open()
    try:
        stored = {(w, bytes(d)) for _, _, w, d in store.window_aggregates(
            "fraud", "1h", NOW - timedelta(days=1), NOW)}
        assert len(stored) == 10
        served = {w: WindowAggregate.from_bytes(d) for w, d in logs["served"]}
        for start, blob in stored:
            _same(served[start], WindowAggregate.from_bytes(blob))
    finally:
        store.close()

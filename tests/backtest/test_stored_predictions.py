"""Backtests over a monitored model's stored predictions, by version: the evaluation-layer query
and ``POST /v1/models/{model}/backtest`` on a real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pytest

from modelmon import backtest as bt
from modelmon.config import ModelSpec, load_settings
from modelmon.evaluation.finance import backtest_model, model_panels
from modelmon.ingest.actuals import actuals_from_table
from modelmon.ingest.predictions import predictions_from_table
from modelmon.store import BatchKind, WriteBatch
from modelmon.store.duckdb_store import DuckDBStore
from tests.support.live_server import live_server

NOW = datetime(2024, 6, 1, tzinfo=UTC)
SPEC = {"name": "returns", "task": "regression",
        "features": [{"name": "momentum", "type": "numeric"},
                     {"name": "symbol", "type": "categorical"}]}


def _fill(path: Path) -> np.ndarray:
    spec = ModelSpec.model_validate(SPEC)
    store = DuckDBStore(str(path))
    store.open()
    store.save_model(spec)
    rng = np.random.default_rng(0)
    n_days, symbols = 60, ["AAA", "BBB", "CCC", "DDD"]
    truth = rng.normal(0.0, 0.01, (n_days, len(symbols)))
    start = NOW - timedelta(days=n_days + 1)
    batches = []
    for version, noise in (("v1", 0.05), ("v2", 0.002)):
        pred = truth + rng.normal(0, noise, truth.shape)
        ids = [f"{version}-{d}-{s}" for d in range(n_days) for s in symbols]
        times = [start + timedelta(days=d, hours=1 + k) for d in range(n_days)
                 for k in range(len(symbols))]
        table = pa.table({"prediction_id": ids, "timestamp": times, "version": [version] * len(ids),
                          "momentum": rng.normal(size=len(ids)), "symbol": symbols * n_days,
                          "prediction": pred.ravel()})
        batches.append(WriteBatch(BatchKind.PREDICTIONS, "returns",
                                  predictions_from_table(spec, table, now=NOW)))
        batches.append(WriteBatch(BatchKind.ACTUALS, "returns", actuals_from_table(
            spec, pa.table({"prediction_id": ids, "actual": truth.ravel()}), now=NOW)))
    store.write(batches)
    store.close()
    return truth


def test_panels_by_version_and_backtest(tmp_path: Path) -> None:
    truth = _fill(tmp_path / "s.duckdb")
    store = DuckDBStore(str(tmp_path / "s.duckdb"))
    store.open()
    try:
        panels = model_panels(store, "returns")
        assert sorted(panels) == ["v1", "v2"]
        p = panels["v2"]
        assert p.shape == (60, 4) and p.symbols.tolist() == ["AAA", "BBB", "CCC", "DDD"]
        np.testing.assert_allclose(p.returns, truth)
        body = backtest_model(store, "returns", strategies=["top_k:k=1"], resamples=200,
                              train=20, test=20, costs=bt.Costs(fees="5bp"))
        names = [row["name"] for row in body["table"]]
        assert names == ["v1 · top_k:k=1", "v2 · top_k:k=1"]
        assert body["differences"]["v2 · top_k:k=1"]["estimate"] > 0
        assert set(body["walk_forward"]) == {"v1", "v2"}
        with pytest.raises(LookupError, match="no version"):
            model_panels(store, "returns", versions=["v9"])
    finally:
        store.close()


def test_backtest_route(tmp_path: Path) -> None:
    _fill(tmp_path / "mm.duckdb")
    (tmp_path / "mm.yaml").write_text("store: {path: mm.duckdb}\nscheduler: {enabled: false}\n")
    with live_server(load_settings(tmp_path / "mm.yaml", env={})) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        resp = client.post("/v1/models/returns/backtest", json={
            "strategies": ["top_k:k=2,long_short=true"], "versions": ["v2"], "fees": "5bp",
            "resamples": 100, "series": False})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["table"][0]["name"] == "v2 · top_k:k=2,long_short=true"
        assert body["table"][0]["sharpe"] > 0 and "series" not in body["runs"][0]
        bad = client.post("/v1/models/returns/backtest", json={"strategies": ["nope"]})
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_parameter"
        bad = client.post("/v1/models/returns/backtest", json={"fees": "ten"})
        assert bad.status_code == 422 and bad.json()["loc"] == ["fees"]
        missing = client.post("/v1/models/nope/backtest", json={})
        assert missing.status_code == 404

"""A model's ``finance:`` section may name every finance metric computed from predicted and
realised values, the IPO metrics included; windows carry the same values as the functions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from modelmon.config import ModelSpec
from modelmon.config.models import FINANCE_METRICS, FinanceSpec
from modelmon.evaluation import Evaluator
from modelmon.ingest.actuals import actuals_from_table
from modelmon.ingest.predictions import predictions_from_table
from modelmon.metrics import (
    first_day_return_accuracy,
    get_metric,
    overvaluation_rate,
    underpricing_error,
    valuation_mape,
)
from modelmon.store import BatchKind, WriteBatch
from modelmon.store.duckdb_store import DuckDBStore
from tests.evaluation.scenario import NOW


def test_every_allowed_finance_metric_is_a_registered_value_metric() -> None:
    for name in FINANCE_METRICS:
        info = get_metric(name)
        assert "finance" in info.tasks and info.input == "value"
    with pytest.raises(ValidationError, match="unknown finance metrics"):
        FinanceSpec(metrics=["over_allocation_rate"])
    assert FinanceSpec(tolerance="5%").tolerance == "5%"
    with pytest.raises(ValidationError, match="tolerance"):
        FinanceSpec(tolerance="five")


def test_ipo_metrics_in_windows(tmp_path: Path) -> None:
    spec = ModelSpec.model_validate({
        "name": "ipo", "task": "regression", "windows": ["1h"],
        "features": [{"name": "book_cover", "type": "numeric"}],
        "finance": {"metrics": ["first_day_return_accuracy", "underpricing_error",
                                "overvaluation_rate", "valuation_mape", "sortino_ratio"],
                    "tolerance": "10%"},
    })
    store = DuckDBStore(str(tmp_path / "ipo.duckdb"))
    store.open()
    store.save_model(spec)
    rng = np.random.default_rng(1)
    n = 200
    start = NOW - timedelta(hours=1)
    truth = rng.normal(0.15, 0.2, n)
    pred = truth + rng.normal(0.02, 0.1, n)
    ids = [f"i{i}" for i in range(n)]
    preds = predictions_from_table(spec, pa.table({
        "prediction_id": ids, "timestamp": [start + timedelta(seconds=15 * i) for i in range(n)],
        "book_cover": rng.normal(size=n), "prediction": pred}), now=NOW)
    acts = actuals_from_table(spec, pa.table({"prediction_id": ids, "actual": truth}), now=NOW)
    store.write([WriteBatch(BatchKind.PREDICTIONS, "ipo", preds),
                 WriteBatch(BatchKind.ACTUALS, "ipo", acts)])
    Evaluator(store, clock=lambda: NOW).run_cycle()
    pts = {r["metric"]: r["value"]
           for r in store.metric_series("ipo", window_size="1h").to_pylist()}
    assert pts["first_day_return_accuracy"] == pytest.approx(
        first_day_return_accuracy(truth, pred, tolerance=0.1))
    assert pts["underpricing_error"] == pytest.approx(underpricing_error(truth, pred))
    assert pts["overvaluation_rate"] == pytest.approx(overvaluation_rate(truth, pred))
    assert pts["valuation_mape"] == pytest.approx(valuation_mape(truth, pred))
    assert "sortino_ratio" in pts
    store.close()

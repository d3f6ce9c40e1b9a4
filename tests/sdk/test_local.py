"""Embedded mode: Monitor.local writes straight into a DuckDB file with the same API."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from modelmon.exceptions import ParameterError
from modelmon.sdk import DeliveryFailure, Monitor
from modelmon.store.base import BatchKind
from modelmon.store.duckdb_store import DuckDBStore
from tests.sdk.servers import MODELS, fraud_features


def _open(path: Path) -> DuckDBStore:
    store = DuckDBStore(str(path))
    store.open()
    return store


def test_round_trip_into_a_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "embedded.duckdb"
    failures: list[DeliveryFailure] = []
    m = Monitor.local(path, models=MODELS, model="fraud", version="v1", flush_interval=0.1,
                      on_error=failures.append)
    ids = [m.log_prediction(fraud_features(i), "1", score=0.9, segments={"region": "eu"})
           for i in range(2500)]
    m.log_actual("early", 0)  # before its prediction
    m.log_prediction(fraud_features(1), "0", prediction_id="early", score=0.2)
    m.log_prediction(fraud_features(2), "0", prediction_id=ids[0], score=0.2)  # duplicate id
    bad = m.log_prediction({**fraud_features(3), "colour": "red"}, "1")  # rejected like a 4xx
    for pid in ids[:10]:
        m.log_actual(pid, 1)
    m.log_metric("revenue", 9.5, kind="business", prediction_id=ids[1])
    m.log_feature_importance({"amount": 0.7, "merchant": 0.3})
    m.log_training_run(duration_seconds=1.5, samples=10)
    frame_ids = m.log_batch(pd.DataFrame({"amount": [1.0, 2.0], "merchant": ["a", "b"],
                                          "is_new": [True, False], "score": [0.3, 0.8]}))
    m.log_actuals({frame_ids[0]: 0, frame_ids[1]: 1})
    assert m.close()
    s = m.stats
    assert (s.rejected, s.dropped, s.duplicates) == (1, 0, 1)
    [failure] = failures
    assert (failure.code, failure.prediction_ids) == ("unknown_feature", (bad,))
    assert failure.loc[0] == "records"
    assert failure.loc[2:] == ("features", "colour")

    store = _open(path)
    try:
        assert store.count("fraud") == 2500 + 1 + 2
        assert store.count("fraud", BatchKind.ACTUALS) == 1 + 10 + 2
        assert store.count("fraud", BatchKind.METRIC_EVENTS) == 1
        assert store.count("fraud", BatchKind.FEATURE_IMPORTANCE) == 2
        assert store.count("fraud", BatchKind.TRAINING_RUNS) == 1
        early = store.get_prediction("fraud", "early")
        assert early is not None
        assert (early["label"], early["actual_label"], early["version"]) == ("0", "0", "v1")
        first = store.get_prediction("fraud", ids[0])
        assert first is not None
        assert (first["label"], first["actual_label"]) == ("1", "1")
        assert store.get_prediction("fraud", frame_ids[1])["actual_label"] == "1"  # type: ignore[index]
    finally:
        store.close()


def test_models_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "modelmon.yaml"
    config.write_text(yaml.safe_dump({"store": {"path": "from-config.duckdb"},
                                      "models": [MODELS[1]]}))
    with Monitor.local(config_path=config, model="price") as m:
        m.log_prediction({"size": 50.0, "rooms": 2}, 123.0)
    assert m.stats.sent == 1
    store = _open(tmp_path / "from-config.duckdb")
    try:
        assert store.count("price") == 1
    finally:
        store.close()


def test_local_needs_a_path() -> None:
    with pytest.raises(ParameterError, match="path"):
        Monitor.local(models=MODELS)


def test_bad_parameters_release_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    with pytest.raises(ParameterError, match="'batch_size' parameter of Monitor"):
        Monitor.local(path, models=MODELS, batch_size=0)
    # Still open in this process, a read-only connection would be refused.
    duckdb.connect(str(path), read_only=True).close()

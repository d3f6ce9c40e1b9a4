"""The SDK against the real service: round trips, out-of-order actuals, duplicates, rejections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from modelmon.exceptions import ParameterError
from modelmon.sdk import DeliveryFailure, Monitor
from tests.sdk.servers import ThreadServer, fraud_features

pytestmark = pytest.mark.integration

MakeMonitor = Callable[..., Monitor]


def test_predictions_and_actuals_round_trip(server: ThreadServer, monitors: MakeMonitor) -> None:
    before = server.counts("fraud")
    m = monitors(server.url)
    ids = [
        m.log_prediction(fraud_features(i), "1" if i % 3 else "0", score=0.25 + (i % 3) / 4,
                         latency=0.001 * i, segments={"region": "eu" if i % 2 else "us"})
        for i in range(1500)
    ]
    for pid in ids[:40]:
        m.log_actual(pid, 1)
    assert m.flush(30)
    after = server.counts("fraud")
    assert after["predictions"] - before["predictions"] == 1500
    assert after["actuals"] - before["actuals"] == 40
    assert len(set(ids)) == 1500
    row = server.prediction("fraud", ids[7])
    assert row is not None
    assert row["feature.amount"] == 7.0
    assert row["feature.merchant"] == "m0"
    assert row["feature.is_new"] is False
    assert row["segment.region"] == "eu"
    assert row["label"] == "1"
    assert row["score"] == pytest.approx(0.5)
    assert row["latency_seconds"] == pytest.approx(0.007)
    assert row["actual_label"] == "1"
    s = m.stats
    assert (s.sent, s.rejected, s.dropped, s.queued) == (1540, 0, 0, 0)


def test_actual_before_its_prediction(server: ThreadServer, monitors: MakeMonitor) -> None:
    m = monitors(server.url)
    pid = "late-prediction-1"
    m.log_actual(pid, 0)
    assert m.flush(10)
    assert server.prediction("fraud", pid) is None
    m.log_prediction(fraud_features(1), "1", prediction_id=pid, score=0.9)
    assert m.flush(10)
    row = server.prediction("fraud", pid)
    assert row is not None
    assert (row["label"], row["actual_label"]) == ("1", "0")


def test_duplicate_ids_are_stored_once(server: ThreadServer, monitors: MakeMonitor) -> None:
    before = server.counts("fraud")["predictions"]
    m = monitors(server.url)
    m.log_prediction(fraud_features(1), "1", prediction_id="dup-1", score=0.9)
    m.log_prediction(fraud_features(2), "0", prediction_id="dup-1", score=0.1)  # same batch
    assert m.flush(10)
    m.log_prediction(fraud_features(3), "0", prediction_id="dup-1", score=0.2)  # later batch
    assert m.flush(10)
    assert server.counts("fraud")["predictions"] - before == 1
    row = server.prediction("fraud", "dup-1")
    assert row is not None
    assert row["feature.amount"] == 1.0  # first write wins
    assert (m.stats.sent, m.stats.duplicates) == (3, 2)


def test_bad_record_is_rejected_once_and_the_rest_stored(
    server: ThreadServer, monitors: MakeMonitor
) -> None:
    failures: list[DeliveryFailure] = []
    before = server.counts("fraud")["predictions"]
    rejects_before = server.metric("modelmon_ingest_rejected_total", code="unknown_feature")
    m = monitors(server.url, on_error=failures.append)
    good = [m.log_prediction(fraud_features(i), "1", score=0.8) for i in range(5)]
    bad = m.log_prediction({**fraud_features(9), "colour": "red"}, "1", score=0.8)
    good.append(m.log_prediction(fraud_features(6), "0", score=0.1))
    assert not m.flush(10)
    s = m.stats
    assert (s.sent, s.rejected, s.retried, s.dropped) == (6, 1, 0, 0)
    assert server.counts("fraud")["predictions"] - before == 6
    assert server.prediction("fraud", bad) is None
    assert all(server.prediction("fraud", g) is not None for g in good)
    [failure] = failures
    assert (failure.reason, failure.code, failure.records, failure.status) == (
        "rejected", "unknown_feature", 1, 422)
    assert failure.loc == ("records", 5, "features", "colour")
    assert failure.prediction_ids == (bad,)
    # The server saw the bad request exactly once: a 4xx is never retried.
    rejects = server.metric("modelmon_ingest_rejected_total", code="unknown_feature")
    assert rejects - rejects_before == 1


def test_unknown_model_rejects_the_whole_batch_without_retry(
    server: ThreadServer, monitors: MakeMonitor
) -> None:
    failures: list[DeliveryFailure] = []
    before = server.metric("modelmon_ingest_rejected_total", code="model_not_found")
    m = monitors(server.url, model="no-such-model", on_error=failures.append)
    for i in range(20):
        m.log_prediction(fraud_features(i), "1")
    assert not m.flush(10)
    assert (m.stats.rejected, m.stats.sent, m.stats.retried) == (20, 0, 0)
    assert [(f.code, f.records, f.status) for f in failures] == [("model_not_found", 20, 404)]
    assert server.metric("modelmon_ingest_rejected_total", code="model_not_found") - before == 1


def test_missing_model_and_bad_features_never_raise(server: ThreadServer) -> None:
    failures: list[DeliveryFailure] = []
    m = Monitor(server.url, on_error=failures.append)  # no default model
    try:
        pid = m.log_prediction({"amount": 1.0}, "1")
        m.log_prediction(["not", "a", "mapping"], "1", model="fraud")  # type: ignore[arg-type]
        m.log_actual(pid, 1)
        assert len(pid) == 32
        assert m.stats.rejected == 3
        assert [f.code for f in failures] == ["missing_field", "invalid_type", "missing_field"]
    finally:
        m.close()


def test_metrics_feature_importance_and_training_runs(
    server: ThreadServer, monitors: MakeMonitor
) -> None:
    before = server.counts("fraud")
    m = monitors(server.url, version="v2")
    pid = m.log_prediction(fraud_features(1), "1", score=0.7)
    m.log_metric("revenue", 12.5, kind="business", prediction_id=pid, segment="eu")
    m.log_metric("queue_depth", 3)
    m.log_feature_importance({"amount": 0.6, "merchant": 0.3, "is_new": 0.1}, method="shap")
    run = m.log_training_run(duration_seconds=12.0, samples=5000, details={"lr": 0.1})
    assert m.flush(10)
    after = server.counts("fraud")
    assert after["metric_events"] - before["metric_events"] == 2
    assert after["feature_importance"] - before["feature_importance"] == 3
    assert after["training_runs"] - before["training_runs"] == 1
    runs = server.get("/v1/models/fraud/training-runs").json()["runs"]
    [mine] = [r for r in runs if r["run_id"] == run]
    assert (mine["version"], mine["samples"], mine["details"]) == ("v2", 5000, {"lr": 0.1})
    assert mine["duration_seconds"] == pytest.approx(12.0)
    row = server.prediction("fraud", pid)
    assert row is not None
    assert row["version"] == "v2"


def test_versions_and_regression(server: ThreadServer, monitors: MakeMonitor) -> None:
    m = monitors(server.url, model="price", version="2024-06")
    a = m.log_prediction({"size": 70.0, "rooms": 3}, 250_000.0)
    b = m.log_prediction({"size": 30.0, "rooms": 1}, 99_000.5, version="2024-07")
    m.log_actual(a, 260_000)
    assert m.flush(10)
    row_a, row_b = server.prediction("price", a), server.prediction("price", b)
    assert row_a is not None
    assert row_b is not None
    assert (row_a["version"], row_a["value"], row_a["actual_value"]) == (
        "2024-06", 250_000.0, 260_000.0)
    assert (row_b["version"], row_b["value"]) == ("2024-07", 99_000.5)


def test_many_threads_log_concurrently(server: ThreadServer, monitors: MakeMonitor) -> None:
    before = server.counts("wide")["predictions"]
    m = monitors(server.url, model="wide")
    ids: list[list[str]] = [[] for _ in range(8)]
    features = {f"f{i}": float(i) for i in range(25)}

    def work(k: int) -> None:
        for _ in range(1500):
            ids[k].append(m.log_prediction(features, 1, score=0.6))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert m.flush(30)
    all_ids = [i for part in ids for i in part]
    assert len(set(all_ids)) == 12_000
    assert server.counts("wide")["predictions"] - before == 12_000
    assert (m.stats.sent, m.stats.dropped, m.stats.duplicates) == (12_000, 0, 0)


def test_api_key(make_server: Callable[..., ThreadServer], monitors: MakeMonitor) -> None:
    srv = make_server(api_key="s3cret")
    good = monitors(srv.url, api_key="s3cret")
    good.log_prediction(fraud_features(1), "1")
    failures: list[DeliveryFailure] = []
    bad = monitors(srv.url, api_key="wrong", on_error=failures.append)
    bad.log_prediction(fraud_features(2), "1")
    assert good.flush(10)
    assert not bad.flush(10)
    assert srv.counts("fraud")["predictions"] == 1
    assert (good.stats.sent, bad.stats.rejected) == (1, 1)
    assert [(f.code, f.status) for f in failures] == [("unauthorized", 401)]


def test_oversized_request_is_split(make_server: Callable[..., ThreadServer],
                                    monitors: MakeMonitor) -> None:
    srv = make_server(ingest={"max_body_bytes": "24KB"})
    m = monitors(srv.url, model="wide", batch_size=1000)
    features = {f"f{i}": 1.0 / (i + 1) for i in range(25)}
    for _ in range(400):  # about 200 KB as one JSON batch: the server answers 413
        m.log_prediction(features, 1, score=0.6)
    assert m.flush(30)
    assert srv.counts("wide")["predictions"] == 400
    assert (m.stats.sent, m.stats.rejected, m.stats.dropped) == (400, 0, 0)
    assert srv.metric("modelmon_ingest_rejected_total", code="payload_too_large") >= 1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"batch_size": 0}, "batch_size"), ({"batch_size": 20_000}, "batch_size"),
     ({"flush_interval": 0}, "flush_interval"), ({"max_queue": 0}, "max_queue"),
     ({"timeout": -1}, "timeout"), ({"max_retries": -1}, "max_retries"),
     ({"retry_backoff": 2.0, "retry_backoff_max": 1.0}, "retry_backoff_max"),
     ({"on_error": 3}, "on_error"), ({"model": 3}, "model")],
)
def test_invalid_parameters(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ParameterError, match=f"The '{name}' parameter of Monitor"):
        Monitor("http://127.0.0.1:9", **kwargs)


def test_invalid_url() -> None:
    with pytest.raises(ParameterError, match="'url' parameter of Monitor"):
        Monitor("127.0.0.1:8000")


def test_flush_reports_what_the_server_refused(make_server: Callable[..., ThreadServer],
                                               monitors: MakeMonitor) -> None:
    srv = make_server(api_key="s3cret")
    for key in (None, "", "wrong"):
        refused = monitors(srv.url, api_key=key)
        refused.log_prediction(fraud_features(3), "1")
        assert not refused.flush(10), key
        assert refused.stats.rejected == 1
    ok = monitors(srv.url, api_key="s3cret")
    ok.log_prediction(fraud_features(4), "1")
    assert ok.flush(10)
    assert srv.counts("fraud")["predictions"] == 1

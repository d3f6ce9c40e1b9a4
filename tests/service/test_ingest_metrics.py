"""Ingest counters and the latency and confidence histograms, counted once per group commit."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pyarrow as pa

from modelmon.service.ingest_metrics import observe_written
from modelmon.service.telemetry import ServiceMetrics
from modelmon.store.base import BatchKind, WriteBatch, WriteResult
from tests.service.test_ingest_api import rec, settings_for
from tests.support.live_server import live_server

LATENCY = "modelmon_prediction_latency_seconds"
CONFIDENCE = "modelmon_prediction_confidence"


def _predictions(ids: list[str], latency: list[float | None], **columns: list) -> WriteBatch:
    columns = {"version": ["v1"] * len(ids), **columns}
    table = pa.table({"prediction_id": ids, "latency_seconds": pa.array(latency, pa.float64()),
                      **columns})
    return WriteBatch(BatchKind.PREDICTIONS, "m", table)


def _sample(metrics: ServiceMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_one_commit_observes_only_the_rows_it_stored() -> None:
    metrics = ServiceMetrics()
    stored = _predictions(["a", "b", "c"], [0.004, 0.2, None], score=[0.9, 0.2, 0.5])
    with_duplicate = _predictions(["d", "a"], [0.03, 7.0], score=[0.6, 0.99])
    replayed = _predictions(["e"], [0.001], score=[0.95])
    actuals = WriteBatch(BatchKind.ACTUALS, "m", pa.table({"prediction_id": ["a"], "actual": [1]}))
    observe_written(metrics, [stored, with_duplicate, replayed, actuals], [
        WriteResult(BatchKind.PREDICTIONS, "m", 3),
        WriteResult(BatchKind.PREDICTIONS, "m", 1, duplicates=1, duplicate_ids=("a",)),
        WriteResult(BatchKind.PREDICTIONS, "m", 1, replayed=True),
        WriteResult(BatchKind.ACTUALS, "m", 1),
    ])
    v1 = {"model": "m", "version": "v1"}
    # a, b, d have a latency (c has none; the second "a" and the replayed "e" were not stored)
    assert _sample(metrics, f"{LATENCY}_count", **v1) == 3
    assert abs(_sample(metrics, f"{LATENCY}_sum", **v1) - (0.004 + 0.2 + 0.03)) < 1e-12
    assert _sample(metrics, f"{LATENCY}_bucket", le="0.005", **v1) == 1
    # confidence of every stored score: 0.9, 0.8, 0.5, 0.6
    assert _sample(metrics, f"{CONFIDENCE}_count", **v1) == 4
    assert abs(_sample(metrics, f"{CONFIDENCE}_sum", **v1) - 2.8) < 1e-12
    assert _sample(metrics, "modelmon_ingested_records_total", model="m", kind="predictions") == 5
    assert _sample(metrics, "modelmon_ingested_records_total", model="m", kind="actuals") == 1
    assert _sample(metrics, "modelmon_ingest_duplicates_total", model="m") == 1


def test_requests_of_different_columns_in_one_commit() -> None:
    metrics = ServiceMetrics()
    scores = _predictions(["a"], [0.01], score=[0.7])
    probabilities = _predictions(["b"], [0.02], probabilities=pa.array([[0.1, 0.6, 0.3]]))
    other_type = _predictions(["c"], [0.03], score=pa.array([0.4], pa.float32()),
                              version=pa.array([1], pa.int64()))  # cannot be concatenated
    observe_written(metrics, [scores, probabilities], [
        WriteResult(BatchKind.PREDICTIONS, "m", 1), WriteResult(BatchKind.PREDICTIONS, "m", 1)])
    v1 = {"model": "m", "version": "v1"}
    assert _sample(metrics, f"{LATENCY}_count", **v1) == 2
    assert _sample(metrics, f"{CONFIDENCE}_count", **v1) == 2  # 0.7 and 0.6
    assert abs(_sample(metrics, f"{CONFIDENCE}_sum", **v1) - 1.3) < 1e-12
    observe_written(metrics, [scores, other_type], [
        WriteResult(BatchKind.PREDICTIONS, "m", 1), WriteResult(BatchKind.PREDICTIONS, "m", 1)])
    assert _sample(metrics, f"{LATENCY}_count", **v1) == 3  # one by one: both observed
    assert _sample(metrics, f"{LATENCY}_count", model="m", version="1") == 1


def test_metrics_count_a_request_before_it_is_answered(tmp_path: Path) -> None:
    with live_server(settings_for(tmp_path)) as s, httpx.Client(base_url=s.url) as c:
        for i in range(5):
            assert c.post("/v1/predictions", json={"model": "fraud", **rec(f"p{i}")}).status_code == 200
            body = c.get("/metrics").text  # right after the answer: already counted
            count = re.search(r'^modelmon_prediction_latency_seconds_count\{model="fraud",'
                              r'version="[^"]*"\} (\S+)$', body, re.M)
            assert count is not None and float(count.group(1)) == i + 1
        assert c.post("/v1/predictions", json={"model": "fraud", **rec("p0")}).json()["duplicates"] == 1
        body = c.get("/metrics").text
    assert re.search(r'^modelmon_ingest_duplicates_total\{model="fraud"\} 1\.0$', body, re.M)
    assert re.search(r'^modelmon_ingested_records_total\{kind="predictions",model="fraud"\} 5\.0$',
                     body, re.M)


def test_a_slice_of_a_coalesced_group_takes_its_own_probabilities() -> None:
    # single predictions validated together are answered with one-row slices of the group
    group = _predictions(["a", "b"], [0.01, 0.02],
                         probabilities=pa.array([[0.1, 0.9], [0.6, 0.4]])).table
    metrics = ServiceMetrics()
    observe_written(metrics, [WriteBatch(BatchKind.PREDICTIONS, "m", group.slice(1, 1))],
                    [WriteResult(BatchKind.PREDICTIONS, "m", 1)])
    assert _sample(metrics, f"{CONFIDENCE}_sum", model="m", version="v1") == 0.6

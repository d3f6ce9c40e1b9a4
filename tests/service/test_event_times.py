"""Event times outside the accepted range are a 422 naming the field on every ingest path (a
prediction of year 1 was accepted and then broke evaluation; ``timestamp: 0`` became a 1970
baseline). The range is configured by ``ingest.max_event_age`` and ``ingest.max_future_skew``."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.service.test_ingest_api import count, error, rec, settings_for
from tests.support.live_server import LiveServer, live_server

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OLD = "2026-04-01T00:00:00Z"  # 61 days before NOW: beyond max_event_age 30d
AHEAD = "2026-06-01T14:00:00Z"  # 2 hours ahead: beyond max_future_skew 1h
GOOD = "2026-05-31T12:00:00Z"
BAD_TIMES = [OLD, AHEAD, 0, "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", 1e20]


@pytest.fixture(scope="module", params=[1, 0], ids=["worker-process", "thread"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path: Path = tmp_path_factory.mktemp("times")
    settings = settings_for(path, ingest={"max_event_age": "30d", "max_future_skew": "1h",
                                          "validation_workers": request.param})
    with live_server(settings, clock=lambda: NOW) as s:
        assert s.state.pool.wait_ready(120) is bool(request.param)
        yield s


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def _refused(resp: httpx.Response, loc: list[Any]) -> None:
    body = error(resp, 422, "timestamp_out_of_range", loc)
    assert "ingest.max_event_age 30d" in body["message"] and "2026-05-02" in body["message"]


@pytest.mark.parametrize("ts", BAD_TIMES)
def test_predictions_on_every_path(client: httpx.Client, ts: Any) -> None:
    before = count(client)["predictions"]
    _refused(client.post("/v1/predictions", json={"model": "fraud", **rec(timestamp=ts)}),
             ["timestamp"])
    small = {"model": "fraud", "records": [rec(timestamp=GOOD), rec(timestamp=ts)]}
    _refused(client.post("/v1/predictions/batch", json=small), ["records", 1, "timestamp"])
    # Over 32 KB: decoded in one pass (model named first), or envelope then records.
    many = [rec(timestamp=GOOD) for _ in range(300)]
    for body in ({"model": "fraud", "records": [*many, rec(timestamp=ts)]},
                 {"records": [*many, rec(timestamp=ts)], "model": "fraud"}):
        _refused(client.post("/v1/predictions/batch", json=body), ["records", 300, "timestamp"])
    lines = orjson.dumps(rec(timestamp=GOOD)) + b"\n" + orjson.dumps(rec(timestamp=ts))
    _refused(client.post("/v1/models/fraud/predictions/bulk", content=lines,
                         headers={"content-type": "application/x-ndjson"}),
             ["lines", 1, "timestamp"])
    assert count(client)["predictions"] == before


def _table(timestamps: pa.Array) -> pa.Table:
    n = len(timestamps)
    return pa.table({"amount": [1.0] * n, "country": ["DE"] * n, "online": [True] * n,
                     "score_in": [0.1] * n, "score": [0.5] * n, "timestamp": timestamps})


def _arrow(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@pytest.mark.parametrize("column", [
    pa.array([1.78e9, 1e20]), pa.array([1_780_000_000, 10**17], pa.int64()),
    pa.array([1_780_000_000, 0], pa.int64()), pa.array([1.78e9, 1.9e12]),
    pa.array([1_780_000_000_000, 10**17], pa.timestamp("ms", tz="UTC")),
    pa.array([1_780_000_000, -(2**40)], pa.timestamp("s")),
], ids=["float-1e20", "int-1e17", "int-0", "milliseconds", "timestamp-ms", "timestamp-s"])
def test_arrow_and_parquet_uploads(client: httpx.Client, column: pa.Array) -> None:
    before = count(client)["predictions"]
    table = _table(column)
    for media, body in (("application/vnd.apache.arrow.stream", _arrow(table)),
                        ("application/vnd.apache.parquet", _parquet(table))):
        _refused(client.post("/v1/models/fraud/predictions/bulk", content=body,
                             headers={"content-type": media}), ["rows", 1, "timestamp"])
    actuals = pa.table({"prediction_id": ["a", "b"], "actual": [1, 0], "timestamp": column})
    _refused(client.post("/v1/models/fraud/actuals/bulk", content=_parquet(actuals),
                         headers={"content-type": "application/vnd.apache.parquet"}),
             ["rows", 1, "timestamp"])
    assert count(client)["predictions"] == before and count(client)["actuals"] == 0


@pytest.mark.parametrize("ts", BAD_TIMES)
def test_actuals_events_importance_and_training_runs(client: httpx.Client, ts: Any) -> None:
    actual = {"prediction_id": "p", "actual": 1, "timestamp": ts}
    _refused(client.post("/v1/actuals", json={"model": "fraud", **actual}), ["timestamp"])
    _refused(client.post("/v1/actuals/batch", json={"model": "fraud", "records": [actual]}),
             ["records", 0, "timestamp"])
    event = {"name": "revenue", "value": 1.0, "timestamp": ts}
    _refused(client.post("/v1/events", json={"model": "fraud", **event}), ["timestamp"])
    _refused(client.post("/v1/events", json={"model": "fraud", "records": [event]}),
             ["records", 0, "timestamp"])
    _refused(client.post("/v1/models/fraud/feature-importance",
                         json={"importances": {"amount": 1.0}, "timestamp": ts}), ["timestamp"])
    for field in ("started_at", "finished_at"):
        _refused(client.post("/v1/models/fraud/training-runs",
                             json={"started_at": GOOD, field: ts}), [field])
    counts = count(client)
    assert counts["actuals"] == counts["metric_events"] == counts["training_runs"] == 0


def test_times_inside_the_range_are_stored(client: httpx.Client) -> None:
    r = client.post("/v1/predictions", json={"model": "fraud", **rec("in-range", timestamp=GOOD)})
    assert r.status_code == 200, r.text
    row = client.get("/v1/models/fraud/predictions/in-range").json()
    assert row["event_time"].startswith("2026-05-31T12:00:00")
    # No time: the server's.
    r = client.post("/v1/predictions", json={"model": "fraud", **rec("no-time")})
    assert client.get("/v1/models/fraud/predictions/no-time").json()["event_time"].startswith(
        "2026-06-01T12:00:00")

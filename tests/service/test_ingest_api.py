"""The ingestion API on a real server (uvicorn on a loopback port, DuckDB in a temporary folder)."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.config import load_settings
from modelmon.config.settings import Settings
from tests.support.live_server import LiveServer, live_server
from tests.support.models import INGEST_MODELS

MODELS = INGEST_MODELS


def settings_for(path: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"store": {"path": str(path / "mm.duckdb")}, "models": MODELS,
                            "scheduler": {"enabled": False}}
    for key, value in overrides.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return load_settings(env={}, overrides=base)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("ingest")
    with live_server(settings_for(path, ingest={"max_batch_records": 50, "max_body_bytes": "200KiB"})) as s:
        yield s


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def rec(pid: str | None = None, **over: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "features": {"amount": 12.5, "country": "DE", "online": True, "age": 31, "score_in": 0.2},
        "score": 0.8, "latency_ms": 12.0, "segments": {"channel": "web"},
    }
    if pid is not None:
        r["prediction_id"] = pid
    for key, value in over.items():
        if key == "features":
            r["features"] = {**r["features"], **value}
        else:
            r[key] = value
    return r


def count(client: httpx.Client, model: str = "fraud") -> dict[str, Any]:
    resp = client.get(f"/v1/models/{model}/counts")
    assert resp.status_code == 200
    return resp.json()  # type: ignore[no-any-return]


def error(resp: httpx.Response, status: int, code: str, loc: list[Any] | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    if loc is not None:
        assert body["loc"] == loc, body
    return body  # type: ignore[no-any-return]


# --- happy paths -----------------------------------------------------------------------------------


def test_single_prediction_then_actual(client: httpx.Client) -> None:
    r = client.post("/v1/predictions", json={"model": "fraud", **rec("s1")})
    assert r.status_code == 200 and r.json()["ids"] == ["s1"] and r.json()["accepted"] == 1
    r = client.post("/v1/actuals", json={"model": "fraud", "prediction_id": "s1", "actual": 1})
    assert r.status_code == 200
    row = client.get("/v1/models/fraud/predictions/s1").json()
    assert row["label"] == "1" and row["score"] == 0.8 and row["actual_label"] == "1"
    assert row["latency_seconds"] == pytest.approx(0.012)
    assert row["segment.country"] == "DE"  # a segment named after a feature takes its value


def test_server_assigns_ids_and_time(client: httpx.Client) -> None:
    r = client.post("/v1/predictions/batch", json={"model": "fraud", "records": [rec(), rec()]})
    ids = r.json()["ids"]
    assert len(ids) == 2 and len(set(ids)) == 2 and all(len(i) == 32 for i in ids)
    row = client.get(f"/v1/models/fraud/predictions/{ids[0]}").json()
    assert row["event_time"] and row["version"] == "default"


def test_duplicate_ids_are_not_double_counted(client: httpx.Client) -> None:
    before = count(client)["predictions"]
    body = {"model": "fraud", "records": [rec("d1"), rec("d2")]}
    assert client.post("/v1/predictions/batch", json=body).json()["accepted"] == 2
    again = client.post("/v1/predictions/batch", json=body).json()
    assert again["accepted"] == 0 and again["duplicates"] == 2
    assert count(client)["predictions"] == before + 2


def test_idempotency_key_replay(client: httpx.Client) -> None:
    body = {"model": "fraud", "records": [rec(), rec()]}  # server-assigned ids: only the key dedups
    h = {"Idempotency-Key": "retry-42"}
    before = count(client)["predictions"]
    first = client.post("/v1/predictions/batch", json=body, headers=h).json()
    second = client.post("/v1/predictions/batch", json=body, headers=h).json()
    assert first["accepted"] == 2 and second["replayed"] and second["accepted"] == 0
    assert count(client)["predictions"] == before + 2


def test_idempotency_key_with_another_body_is_a_conflict(client: httpx.Client) -> None:
    h = {"Idempotency-Key": "reused-7"}
    first = {"model": "fraud", "records": [rec("k1"), rec("k2")]}
    assert client.post("/v1/predictions/batch", json=first, headers=h).json()["accepted"] == 2
    before = count(client)["predictions"]
    other = {"model": "fraud", "records": [rec("k3")]}
    error(client.post("/v1/predictions/batch", json=other, headers=h), 409, "conflict",
          ["header", "idempotency-key"])
    assert client.get("/v1/models/fraud/predictions/k3").status_code == 404
    assert client.post("/v1/predictions/batch", json=first, headers=h).json()["replayed"]
    # Bulk uploads: the body and ?version= make the request.
    lines = b"\n".join(orjson.dumps(rec(f"kb{i}")) for i in range(3))
    bulk = "/v1/models/fraud/predictions/bulk"
    nd = {"content-type": "application/x-ndjson", "Idempotency-Key": "bulk-7"}
    assert client.post(bulk, content=lines, headers=nd).json()["accepted"] == 3
    assert client.post(bulk, content=lines, headers=nd).json()["replayed"]
    error(client.post(bulk + "?version=v9", content=lines, headers=nd), 409, "conflict")
    error(client.post(bulk, content=lines + b"\n" + orjson.dumps(rec("kb9")), headers=nd), 409,
          "conflict")
    # The same key may name a batch of another kind (keys are per model and kind).
    actual = {"model": "fraud", "records": [{"prediction_id": "k1", "actual": 1}]}
    assert client.post("/v1/actuals/batch", json=actual, headers=h).json()["accepted"] == 1
    error(client.post("/v1/actuals/batch", json={**actual, "records": [
        {"prediction_id": "k2", "actual": 1}]}, headers=h), 409, "conflict")
    assert count(client)["predictions"] == before + 3


def test_out_of_order_and_late_actuals(client: httpx.Client) -> None:
    # Ground truth for o1 arrives before the prediction; o2's arrives weeks later (event time).
    client.post("/v1/actuals/batch", json={"model": "fraud", "records": [
        {"prediction_id": "o1", "actual": 0}]}).raise_for_status()
    client.post("/v1/predictions/batch", json={"model": "fraud", "records": [
        rec("o1", timestamp="2026-01-01T00:00:00Z"), rec("o2", timestamp="2026-01-01T00:00:01Z")]}
    ).raise_for_status()
    client.post("/v1/actuals/batch", json={"model": "fraud", "records": [
        {"prediction_id": "o2", "actual": 1, "timestamp": "2026-01-20T00:00:00Z"}]}).raise_for_status()
    assert client.get("/v1/models/fraud/predictions/o1").json()["actual_label"] == "0"
    late = client.get("/v1/models/fraud/predictions/o2").json()
    assert late["actual_label"] == "1" and late["actual_time"].startswith("2026-01-20")


def test_bulk_ndjson_actuals(client: httpx.Client) -> None:
    client.post("/v1/predictions/batch", json={"model": "fraud", "records": [
        rec("na1"), rec("na2")]}).raise_for_status()
    lines = b'{"prediction_id": "na1", "actual": 1}\n\n{"prediction_id": "na2", "actual": 0}\n'
    r = client.post("/v1/models/fraud/actuals/bulk", content=lines,
                    headers={"content-type": "application/x-ndjson"})
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    assert client.get("/v1/models/fraud/predictions/na1").json()["actual_label"] == "1"
    error(client.post("/v1/models/fraud/actuals/bulk", content=lines + b"{nope\n",
                      headers={"content-type": "application/x-ndjson"}), 400, "malformed_body",
          ["body", "line", 4])
    error(client.post("/v1/models/fraud/actuals/bulk", content=b'{"prediction_id": "na1"}',
                      headers={"content-type": "application/x-ndjson"}), 422, "missing_field",
          ["lines", 0, "actual"])


def test_regression_and_multiclass(client: httpx.Client) -> None:
    r = client.post("/v1/predictions", json={"model": "price", "prediction_id": "h1",
                                             "features": {"area": 80}, "prediction": 310000.0})
    assert r.status_code == 200
    client.post("/v1/actuals", json={"model": "price", "prediction_id": "h1", "actual": 300000})
    assert client.get("/v1/models/price/predictions/h1").json()["actual_value"] == 300000.0
    r = client.post("/v1/predictions", json={
        "model": "species", "prediction_id": "i1", "features": {"petal": 1.4},
        "probabilities": {"setosa": 0.7, "versicolor": 0.2, "virginica": 0.1}})
    assert r.status_code == 200
    row = client.get("/v1/models/species/predictions/i1").json()
    assert row["label"] == "setosa" and row["probabilities"] == [0.7, 0.2, 0.1]


def test_error_status_prediction_without_label(client: httpx.Client) -> None:
    r = client.post("/v1/predictions", json={"model": "fraud", "prediction_id": "e1",
                                             "features": rec()["features"], "status": "error",
                                             "error": "timeout calling feature store"})
    assert r.status_code == 200
    assert client.get("/v1/models/fraud/predictions/e1").json()["status"] == "error"


def test_bulk_ndjson_arrow_parquet(client: httpx.Client) -> None:
    before = count(client)["predictions"]
    lines = b"\n".join(orjson.dumps(rec(f"nd{i}")) for i in range(5))
    r = client.post("/v1/models/fraud/predictions/bulk", content=lines,
                    headers={"content-type": "application/x-ndjson"})
    assert r.status_code == 200 and r.json()["accepted"] == 5
    table = pa.table({
        "prediction_id": [f"ar{i}" for i in range(4)], "amount": [1.0, 2.0, 3.0, 4.0],
        "country": ["DE", "FR", "DE", "IT"], "online": [True, False, True, True],
        "score_in": [0.1] * 4, "score": [0.1, 0.9, 0.6, 0.2], "channel": ["web"] * 4,
        "timestamp": pa.array([1.767e9] * 4),
    })
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    r = client.post("/v1/models/fraud/predictions/bulk?version=v2", content=sink.getvalue(),
                    headers={"content-type": "application/vnd.apache.arrow.stream"})
    assert r.status_code == 200 and r.json()["accepted"] == 4, r.text
    pbuf = io.BytesIO()
    pq.write_table(table.set_column(0, "prediction_id", pa.array([f"pq{i}" for i in range(4)])), pbuf)
    r = client.post("/v1/models/fraud/predictions/bulk", content=pbuf.getvalue(),
                    headers={"content-type": "application/vnd.apache.parquet"})
    assert r.status_code == 200 and r.json()["accepted"] == 4, r.text
    assert count(client)["predictions"] == before + 13
    row = client.get("/v1/models/fraud/predictions/ar1").json()
    assert row["label"] == "1" and row["version"] == "v2" and row["segment.country"] == "FR"


def test_events_importance_training_runs(client: httpx.Client) -> None:
    r = client.post("/v1/events", json={"model": "fraud", "records": [
        {"name": "conversion", "value": 1, "kind": "business", "prediction_id": "s1"},
        {"name": "revenue", "value": 19.9, "kind": "business"}]})
    assert r.status_code == 200 and r.json()["accepted"] == 2
    r = client.post("/v1/models/fraud/feature-importance",
                    json={"version": "v1", "importances": {"amount": 0.6, "country": 0.4}})
    assert r.status_code == 200
    assert len(client.get("/v1/models/fraud/feature-importance").json()["rows"]) == 2
    r = client.post("/v1/models/fraud/training-runs", json={
        "kind": "online_update", "status": "success", "samples": 500,
        "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:04Z"})
    assert r.status_code == 200
    runs = client.get("/v1/models/fraud/training-runs").json()
    assert runs["summary"]["online_update"]["count"] == 1
    assert runs["summary"]["online_update"]["mean_duration_seconds"] == 4.0


# --- every validation error: a 4xx with a stable code and the field path; nothing stored --------


def test_unknown_model(client: httpx.Client) -> None:
    error(client.post("/v1/predictions", json={"model": "nope", **rec()}), 404, "model_not_found",
          ["model"])


RECORD_ERRORS = pytest.mark.parametrize(
    ("record", "code", "loc"),
    [
        (rec(features={"zip": "1"}), "unknown_feature", ["records", 1, "features", "zip"]),
        ({**rec(), "features": {"amount": 1, "online": True, "score_in": 1}}, "missing_feature",
         ["records", 1, "features", "country"]),
        (rec(features={"amount": "12"}), "invalid_feature_type", ["records", 1, "features", "amount"]),
        (rec(features={"online": 1}), "invalid_feature_type", ["records", 1, "features", "online"]),
        (rec(features={"country": {"a": 1}}), "invalid_feature_type",
         ["records", 1, "features", "country"]),
        (rec(features={"score_in": None}), "invalid_value", ["records", 1, "features", "score_in"]),
        (rec(score=1.5), "invalid_value", ["records", 1, "score"]),
        (rec(prediction=7), "invalid_prediction", ["records", 1, "prediction"]),
        (rec(probabilities=[0.5, 0.5]), "invalid_prediction", ["records", 1, "probabilities"]),
        ({k: v for k, v in rec().items() if k != "score"}, "invalid_prediction",
         ["records", 1, "prediction"]),
        (rec(segments={"region": "eu"}), "unknown_segment", ["records", 1, "segments", "region"]),
        (rec(colour="red"), "unknown_field", ["records", 1, "colour"]),
        (rec(timestamp="yesterday"), "invalid_timestamp", ["records", 1, "timestamp"]),
        (rec(timestamp=1.9e12), "timestamp_out_of_range", ["records", 1, "timestamp"]),
        (rec(timestamp=0), "timestamp_out_of_range", ["records", 1, "timestamp"]),
        (rec(timestamp="0001-01-01T00:00:00+01:00"), "timestamp_out_of_range",
         ["records", 1, "timestamp"]),
        (rec(timestamp="9999-12-31T23:59:59-01:00"), "timestamp_out_of_range",
         ["records", 1, "timestamp"]),
        (rec(timestamp=1e20), "timestamp_out_of_range", ["records", 1, "timestamp"]),
        (rec(latency_ms=-3), "invalid_value", ["records", 1, "latency_ms"]),
        (rec(""), "invalid_value", ["records", 1, "prediction_id"]),
        (rec("a\x00b"), "invalid_value", ["records", 1, "prediction_id"]),
        (rec(status="maybe"), "invalid_value", ["records", 1, "status"]),
        ({**rec(), "features": "x"}, "invalid_type", ["records", 1, "features"]),
        ("not a record", "invalid_type", ["records", 1]),
        (rec(model="price"), "invalid_value", ["records", 1, "model"]),
    ],
)


@RECORD_ERRORS
def test_record_errors(client: httpx.Client, record: Any, code: str, loc: list[Any]) -> None:
    before = count(client)["predictions"]
    body = {"model": "fraud", "records": [rec(), record, rec()]}  # the good ones are not stored
    err = error(client.post("/v1/predictions/batch", json=body), 422, code, loc)
    assert all({"code", "message", "loc"} <= set(e) for e in err.get("errors", []))
    assert count(client)["predictions"] == before


@pytest.fixture(scope="module", params=[1, 0], ids=["worker-process", "thread"])
def big_client(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server whose large batches are validated in a worker process (modelmon.ingest.pool),
    or, without workers, in a thread of the server."""
    path = tmp_path_factory.mktemp("ingest-big")
    settings = settings_for(path, ingest={"max_batch_records": 400,
                                          "validation_workers": request.param})
    with live_server(settings) as s, httpx.Client(base_url=s.url, timeout=60) as c:
        assert s.state.pool.wait_ready(120) is bool(request.param)
        yield c


BIG = [rec() for _ in range(300)]  # about 45 KB of JSON: the schema-decoding path


@RECORD_ERRORS
def test_record_errors_in_a_large_batch(big_client: httpx.Client, record: Any, code: str,
                                        loc: list[Any]) -> None:
    before = count(big_client)["predictions"]
    body = {"model": "fraud", "records": [rec(), record, *BIG]}
    error(big_client.post("/v1/predictions/batch", json=body), 422, code, loc)
    assert count(big_client)["predictions"] == before


def test_large_batches_are_stored_once(big_client: httpx.Client) -> None:
    before = count(big_client)["predictions"]
    records = [rec(f"big-{i}", timestamp=1_790_000_000 + i) for i in range(350)]
    body = {"model": "fraud", "version": "v7", "records": records}
    first = big_client.post("/v1/predictions/batch", json=body)
    assert first.status_code == 200, first.text
    assert first.json()["accepted"] == 350 and first.json()["ids"][:2] == ["big-0", "big-1"]
    again = big_client.post("/v1/predictions/batch", json=body).json()
    assert (again["accepted"], again["duplicates"]) == (0, 350)
    assert count(big_client)["predictions"] == before + 350
    versions = {v["version"] for v in big_client.get("/v1/models/fraud/versions").json()["versions"]}
    assert "v7" in versions
    server_ids = big_client.post("/v1/predictions/batch", json={"model": "fraud", "records": BIG})
    assert len(set(server_ids.json()["ids"])) == 300  # ids assigned by the server


@pytest.mark.parametrize(
    ("body", "status", "code", "loc"),
    [
        ({"records": BIG}, 422, "missing_field", ["model"]),
        ({"model": "fraud", "records": BIG, "extra": 1}, 422, "unknown_field", ["extra"]),
        ({"model": 3, "records": BIG}, 422, "invalid_type", ["model"]),
        ({"model": "fraud", "version": 2, "records": BIG}, 422, "invalid_type", ["version"]),
        ({"model": "nope", "records": BIG}, 404, "model_not_found", ["model"]),
        ({"model": "fraud", "records": BIG + BIG}, 413, "batch_too_large", ["records"]),
    ],
)
def test_large_batch_envelope_errors(big_client: httpx.Client, body: Any, status: int, code: str,
                                     loc: list[Any]) -> None:
    error(big_client.post("/v1/predictions/batch", json=body), status, code, loc)


def test_an_empty_batch_is_refused(big_client: httpx.Client) -> None:
    # Small bodies are parsed whole; a padded body (past 32 KB) takes the schema-decoding path.
    for body in (b'{"model": "fraud", "records": []}',
                 b'{"model": "fraud", "records": [' + b" " * 40_000 + b"]}"):
        error(big_client.post("/v1/predictions/batch", content=body,
                              headers={"content-type": "application/json"}),
              422, "empty_input", ["records"])
    for path in ("/v1/actuals/batch", "/v1/events"):
        error(big_client.post(path, json={"model": "fraud", "records": []}), 422, "empty_input",
              ["records"])


def test_all_problems_reported_at_once(client: httpx.Client) -> None:
    body = {"model": "fraud", "records": [rec(score=2.0), rec(features={"amount": "x"})]}
    err = error(client.post("/v1/predictions/batch", json=body), 422, "invalid_value")
    assert {e["code"] for e in err["errors"]} == {"invalid_value", "invalid_feature_type"}


@pytest.mark.parametrize(
    ("body", "status", "code", "loc"),
    [
        ({"records": [rec()]}, 422, "missing_field", ["model"]),
        ({"model": "fraud"}, 422, "missing_field", ["records"]),
        ({"model": "fraud", "records": {}}, 422, "invalid_type", ["records"]),
        ({"model": "fraud", "records": [], "extra": 1}, 422, "unknown_field", ["extra"]),
        ({"model": 3, "records": []}, 422, "invalid_type", ["model"]),
        ([1, 2], 422, "invalid_type", ["body"]),
        ({"model": "fraud", "records": [rec() for _ in range(51)]}, 413, "batch_too_large",
         ["records"]),
    ],
)
def test_envelope_errors(client: httpx.Client, body: Any, status: int, code: str, loc: list[Any]) -> None:
    error(client.post("/v1/predictions/batch", json=body), status, code, loc)


def test_malformed_and_wrong_media(client: httpx.Client) -> None:
    error(client.post("/v1/predictions/batch", content=b'{"model": "fraud", "records": [',
                      headers={"content-type": "application/json"}), 400, "malformed_body", ["body"])
    error(client.post("/v1/predictions/batch", content=b""), 400, "malformed_body", ["body"])
    nan = json.dumps({"model": "fraud", **rec(score=math.nan)})  # NaN is not JSON
    error(client.post("/v1/predictions", content=nan, headers={"content-type": "application/json"}),
          400, "malformed_body")
    error(client.post("/v1/predictions", content=b"a=1",
                      headers={"content-type": "application/x-www-form-urlencoded"}),
          415, "unsupported_media_type", ["header", "content-type"])
    error(client.post("/v1/models/fraud/predictions/bulk", content=b"x",
                      headers={"content-type": "text/csv"}), 415, "unsupported_media_type")
    error(client.post("/v1/models/fraud/predictions/bulk", content=b"garbage",
                      headers={"content-type": "application/vnd.apache.arrow.stream"}),
          400, "malformed_body")
    error(client.post("/v1/models/fraud/predictions/bulk", content=b'{"a":\n',
                      headers={"content-type": "application/x-ndjson"}), 400, "malformed_body",
          ["body", "line", 1])


def test_payload_too_large(client: httpx.Client) -> None:
    big = {"model": "fraud", "records": [rec(error="x" * 4000) for _ in range(50)]}
    error(client.post("/v1/predictions/batch", json=big), 413, "payload_too_large")


def test_nan_and_inf_in_bulk_uploads(client: httpx.Client) -> None:
    def arrow(**cols: Any) -> bytes:
        base = {"prediction_id": ["b1", "b2"], "amount": [1.0, float("nan")], "country": ["DE", "FR"],
                "online": [True, True], "score_in": [0.1, 0.2], "score": [0.5, 0.5]}
        table = pa.table({**base, **cols})
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        return sink.getvalue()

    h = {"content-type": "application/vnd.apache.arrow.stream"}
    before = count(client)["predictions"]
    error(client.post("/v1/models/fraud/predictions/bulk", content=arrow(score=[0.5, math.nan]),
                      headers=h), 422, "invalid_value", ["rows", 1, "score"])
    error(client.post("/v1/models/fraud/predictions/bulk",
                      content=arrow(amount=[1.0, math.inf]), headers=h),
          422, "invalid_value", ["rows", 1, "amount"])
    error(client.post("/v1/models/fraud/predictions/bulk",
                      content=arrow(score_in=[0.1, math.nan]), headers=h),
          422, "invalid_value", ["rows", 1, "score_in"])  # NaN is missing; not nullable
    error(client.post("/v1/models/fraud/predictions/bulk", content=arrow(amount=["a", "b"]),
                      headers=h), 422, "invalid_feature_type", ["columns", "amount"])
    assert count(client)["predictions"] == before
    # NaN in a nullable numeric feature is a missing value, accepted.
    assert client.post("/v1/models/fraud/predictions/bulk", content=arrow(), headers=h).status_code == 200
    assert client.get("/v1/models/fraud/predictions/b2").json()["feature.amount"] is None


@pytest.mark.parametrize("pid", ["", "\x00", "id\x00"])
def test_empty_and_nul_ids_everywhere(client: httpx.Client, pid: str) -> None:
    error(client.post("/v1/predictions", json={"model": "fraud", **rec(pid)}), 422,
          "invalid_value", ["prediction_id"])
    lines = orjson.dumps(rec("fine-1")) + b"\n" + orjson.dumps(rec(pid))
    error(client.post("/v1/models/fraud/predictions/bulk", content=lines,
                      headers={"content-type": "application/x-ndjson"}), 422, "invalid_value",
          ["lines", 1, "prediction_id"])
    error(client.post("/v1/actuals", json={"model": "fraud", "prediction_id": pid, "actual": 1}),
          422, "invalid_value", ["prediction_id"])
    error(client.post("/v1/events", json={"model": "fraud", "name": "revenue", "value": 1.0,
                                          "prediction_id": pid}), 422, "invalid_value",
          ["prediction_id"])
    assert client.get("/v1/models/fraud/predictions/fine-1").status_code == 404


@pytest.mark.parametrize("version", ["v" * 10_000, "v" * 129, "", "has space", "-v1", "a/b"])
def test_batch_versions_follow_the_name_rules(client: httpx.Client, big_client: httpx.Client,
                                              version: str) -> None:
    lines = orjson.dumps(rec("vn-1"))
    error(client.post("/v1/models/fraud/predictions/bulk", params={"version": version},
                      content=lines, headers={"content-type": "application/x-ndjson"}), 422,
          "invalid_value", ["query", "version"])
    for c, records in ((client, [rec("vn-2")]), (big_client, [rec(), *BIG])):
        body = {"model": "fraud", "version": version, "records": records}
        error(c.post("/v1/predictions/batch", json=body), 422, "invalid_value", ["version"])
    assert client.get("/v1/models/fraud/predictions/vn-1").status_code == 404


def test_actual_errors(client: httpx.Client) -> None:
    error(client.post("/v1/actuals", json={"model": "fraud", "actual": 1}), 422, "missing_field",
          ["prediction_id"])
    error(client.post("/v1/actuals", json={"model": "fraud", "prediction_id": "x", "actual": 5}),
          422, "invalid_value", ["actual"])
    error(client.post("/v1/actuals", json={"model": "price", "prediction_id": "x", "actual": "big"}),
          422, "invalid_type", ["actual"])


def test_routing_errors(client: httpx.Client) -> None:
    error(client.get("/v1/nothing-here"), 404, "not_found")
    error(client.get("/v1/predictions"), 405, "method_not_allowed")
    error(client.get("/v1/models/fraud/predictions/never"), 404, "not_found", ["prediction_id"])
    error(client.get("/v1/models/fraud/events?limit=0"), 422, "invalid_value", ["query", "limit"])


def test_rejections_are_counted_on_metrics(client: httpx.Client) -> None:
    client.post("/v1/predictions/batch", json={"model": "fraud", "records": [rec(score=3.0)]})
    text = client.get("/metrics").text
    assert 'modelmon_ingest_rejected_total{code="invalid_value"}' in text
    assert 'modelmon_ingested_records_total{kind="predictions",model="fraud"}' in text


def test_request_id_in_and_out(client: httpx.Client) -> None:
    r = client.get("/health/live", headers={"X-Request-ID": "trace-123"})
    assert r.headers["x-request-id"] == "trace-123"
    assert len(client.get("/health/live").headers["x-request-id"]) == 32
    bad = client.get("/health/live", headers={"X-Request-ID": "has spaces"})
    assert bad.headers["x-request-id"] != "has spaces"


# --- auth, health, restart, failure half-way ------------------------------------------------------


def test_api_key(tmp_path: Path) -> None:
    with live_server(settings_for(tmp_path, server={"api_key": "s3cret"})) as s, httpx.Client(
        base_url=s.url
    ) as c:
        error(c.get("/v1/models"), 401, "unauthorized")
        error(c.get("/v1/models", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
        assert c.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/v1/models", headers={"X-API-Key": "s3cret"}).status_code == 200
        assert c.get("/health").status_code == 200
        # with keys, /metrics takes a read key unless server.public_metrics
        error(c.get("/metrics"), 401, "unauthorized")
        assert c.get("/metrics", headers={"X-API-Key": "s3cret"}).status_code == 200
        for empty in ({"X-API-Key": ""}, {"X-API-Key": "", "Authorization": "Bearer"},
                      {"Authorization": "Bearer"}):
            error(c.get("/v1/models", headers=empty), 401, "unauthorized")
            error(c.post("/v1/predictions", headers=empty, json={"model": "fraud", **rec()}),
                  401, "unauthorized")


@pytest.mark.parametrize("key", ["", "  ", "${MODELMON_API_KEY:-}"])
def test_an_empty_api_key_means_no_authentication(tmp_path: Path, key: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "mm.yaml").write_text(f"server: {{api_key: '{key}'}}\nstore: {{path: mm.duckdb}}\n"
                                      "scheduler: {enabled: false}\n")
    settings = load_settings(tmp_path / "mm.yaml", env={"MODELMON_API_KEY": ""})
    assert settings.server.api_key is None and settings.summary()["server"]["auth"] is False
    with caplog.at_level("WARNING", logger="modelmon.service"), live_server(settings) as s:
        assert httpx.get(f"{s.url}/v1/models").status_code == 200
    assert any("no API key configured" in r.getMessage() for r in caplog.records)


def test_restart_keeps_data(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with live_server(settings) as s, httpx.Client(base_url=s.url) as c:
        c.post("/v1/predictions/batch", json={"model": "fraud", "records": [rec("r1"), rec("r2")]})
        c.post("/v1/actuals", json={"model": "fraud", "prediction_id": "r1", "actual": 1})
    with live_server(settings) as s, httpx.Client(base_url=s.url) as c:
        counts = count(c)
        assert (counts["predictions"], counts["actuals"]) == (2, 1)
        assert c.post("/v1/predictions/batch",
                      json={"model": "fraud", "records": [rec("r1")]}).json()["duplicates"] == 1


def test_store_failure_half_way_leaves_nothing(tmp_path: Path) -> None:
    from modelmon.store.duckdb_store import DuckDBStore

    class FailingStore(DuckDBStore):
        fail = False

        def _write_actuals(self, con: Any, entry: Any, batch: Any) -> Any:
            if self.fail:  # predictions of this transaction are already inserted when this fires
                raise RuntimeError("disk on fire")
            return super()._write_actuals(con, entry, batch)

    store = FailingStore(str(tmp_path / "f.duckdb"))
    with live_server(settings_for(tmp_path), store=store) as s:
        from modelmon.ingest.actuals import actuals_from_records
        from modelmon.ingest.predictions import predictions_from_records
        from modelmon.store import BatchKind, WriteBatch

        spec = store.get_model("fraud").spec
        now = s.state.clock()
        batches = [WriteBatch(BatchKind.PREDICTIONS, "fraud",
                              predictions_from_records(spec, [rec("h1"), rec("h2")], now=now)),
                   WriteBatch(BatchKind.ACTUALS, "fraud",
                              actuals_from_records(spec, [{"prediction_id": "h1", "actual": 1}],
                                                   now=now))]
        store.fail = True
        with pytest.raises(RuntimeError):
            s.state.writer.write_sync(batches)
        with httpx.Client(base_url=s.url) as c:
            assert count(c)["predictions"] == 0 and count(c)["actuals"] == 0
            store.fail = False
            # Nothing half-written blocks a retry of the same data.
            s.state.writer.write_sync(batches)
            assert count(c)["predictions"] == 2 and count(c)["actuals"] == 1


def test_health_and_info(client: httpx.Client) -> None:
    h = client.get("/health").json()
    assert h["status"] == "healthy" and set(h["components"]) >= {"store", "queue"}
    assert client.get("/health/ready").json() == {"status": "ready"}
    info = client.get("/info").json()
    assert info["version"] and info["config"]["models"] == ["fraud", "price", "species"]
    assert "api_key" not in json.dumps(info)


def test_models_api(client: httpx.Client) -> None:
    spec = {"name": "churn", "task": "binary_classification",
            "features": [{"name": "tenure", "type": "numeric"}]}
    assert client.post("/v1/models", json=spec).status_code == 201
    spec["features"].append({"name": "plan", "type": "categorical"})
    r = client.put("/v1/models/churn", json=spec)
    assert r.status_code == 200 and r.json()["revision"] == 2
    events = client.get("/v1/models/churn/events?kind=schema_change").json()["events"]
    assert events[0]["details"]["added"] == {"plan": "categorical"}
    error(client.post("/v1/models", json={"name": "bad name!", "task": "regression"}), 422,
          "invalid_value", ["name"])
    error(client.post("/v1/models", json={"name": "x", "task": "clustering"}), 422, "invalid_value",
          ["task"])
    error(client.put("/v1/models/churn", json={**spec, "name": "other"}), 422, "invalid_value",
          ["name"])
    r = client.post("/v1/models/churn/versions", json={"version": "v2", "metadata": {"auc": 0.91}})
    assert r.status_code == 201
    assert [v["version"] for v in client.get("/v1/models/churn/versions").json()["versions"]] == ["v2"]
    assert "churn" in [m["name"] for m in client.get("/v1/models").json()["models"]]


@pytest.mark.parametrize(("path", "body", "loc"), [
    ("training-runs", {"status": {}}, ["status"]),
    ("training-runs", {"kind": ["training"]}, ["kind"]),
    ("training-runs", {"version": True}, ["version"]),
    ("training-runs", {"version": 3}, ["version"]),
    ("training-runs", {"run_id": ""}, ["run_id"]),
    ("training-runs", {"started_at": {}}, ["started_at"]),
    ("feature-importance", {"importances": {"amount": 1.0}, "version": True}, ["version"]),
    ("feature-importance", {"importances": {"amount": 1.0}, "method": {"a": 1}}, ["method"]),
    ("feature-importance", {"importances": {"amount": True}}, ["importances", "amount"]),
])
def test_training_run_and_importance_types(client: httpx.Client, path: str, body: Any,
                                           loc: list[Any]) -> None:
    r = client.post(f"/v1/models/fraud/{path}", json=body)
    assert r.status_code == 422, r.text
    assert loc in [r.json()["loc"], *(e["loc"] for e in r.json().get("errors", []))]


def test_bulk_row_limit_is_checked_before_decoding(client: httpx.Client) -> None:
    sink = io.BytesIO()
    table = pa.table({"amount": pa.array([1.0] * 600_000)})
    with pq.ParquetWriter(sink, table.schema) as writer:
        for _ in range(2):
            writer.write_table(table)
    r = client.post("/v1/models/fraud/predictions/bulk", content=sink.getvalue(),
                    headers={"content-type": "application/vnd.apache.parquet"})
    body = error(r, 413, "batch_too_large", ["body"])
    assert "1200000" in body["message"]

"""The models API on a real server: what a spec registered over the API may ask of the server
(reference files inside ``registry.reference_dirs`` only, bounded feature counts)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.config import load_settings
from tests.service.test_ingest_api import error
from tests.support.live_server import LiveServer, live_server

PASSWD_LINE = "root:x:0:0:root:/root:/bin/bash"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("registry")
    (root / "refs").mkdir()
    (root / "secret").mkdir()
    pq.write_table(pa.table({"x": [1.0, 2.0], "y": ["a", "b"]}), root / "refs" / "good.parquet")
    # The parser's message quotes the bad row: "Expected 2 columns, got 7: root,x,0,...".
    (root / "refs" / "notes.csv").write_text("a,b\n1,2\n" + PASSWD_LINE.replace(":", ",") + "\n")
    (root / "secret" / "passwd.csv").write_text(PASSWD_LINE + "\nuser:x:1000:1000::/home:/bin/sh\n")
    os.symlink(root / "secret" / "passwd.csv", root / "refs" / "escape.csv")
    (root / "mm.yaml").write_text(
        "store: {path: mm.duckdb}\nscheduler: {enabled: false}\nserver: {api_key: k}\n"
        "registry: {reference_dirs: [refs], max_features: 50}\n")
    return {"root": root, "refs": root / "refs"}


@pytest.fixture(scope="module")
def server(folders: dict[str, Path]) -> Iterator[LiveServer]:
    with live_server(load_settings(folders["root"] / "mm.yaml", env={})) as s:
        yield s


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30, headers={"X-API-Key": "k"}) as c:
        yield c


def spec(name: str, path: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "task": "regression",
                            "features": [{"name": "x", "type": "numeric"}], **extra}
    if path is not None:
        body["reference"] = {"path": path, "format": "csv" if path.endswith(".csv") else "auto"}
    return body


def test_settings_default_to_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("store: {path: a.duckdb}\n")
    assert load_settings(tmp_path / "a.yaml", env={}).registry.reference_dirs == [str(tmp_path)]
    assert load_settings(env={}).registry.reference_dirs == []  # no file: no reference files


@pytest.mark.parametrize("path", [
    "/etc/passwd", "../secret/passwd.csv", "escape.csv", "refs/../../secret/passwd.csv",
    "/etc/../etc/passwd", "bad\x00name.csv",
])
def test_reference_outside_the_folders_is_refused(client: httpx.Client, server: LiveServer,
                                                  folders: dict[str, Path], path: str) -> None:
    body = error(client.post("/v1/models", json=spec("leak", path)), 422, "invalid_value",
                 ["reference", "path"])
    assert "root:" not in body["message"] and str(folders["root"]) not in body["message"]
    assert "reference_dirs" in body["message"]
    health = httpx.get(f"{server.url}/health").text
    assert "root:" not in health and str(folders["root"]) not in health
    assert client.get("/v1/models/leak").status_code == 404


def test_reference_inside_the_folders_is_stored_resolved(client: httpx.Client,
                                                         folders: dict[str, Path]) -> None:
    r = client.post("/v1/models", json=spec("inside", "good.parquet"))
    assert r.status_code == 201, r.text
    stored = r.json()["spec"]["reference"]["path"]
    assert stored == str((folders["refs"] / "good.parquet").resolve())


@pytest.mark.parametrize(("path", "says"), [
    ("missing.parquet", "reference data set 'missing.parquet' does not exist"),
    ("notes.csv", "reference data set 'notes.csv' cannot be read as csv"),
    (".", "reference data set '.' does not exist"),
])
def test_unreadable_reference_errors_name_the_file_only(client: httpx.Client, path: str,
                                                        says: str,
                                                        folders: dict[str, Path]) -> None:
    body = error(client.post("/v1/models", json=spec("unreadable", path)), 422, "invalid_value",
                 ["reference", "path"])
    assert says in body["message"]
    assert "root" not in body["message"] and "columns" not in body["message"]
    assert str(folders["root"]) not in body["message"]


def test_features_per_model_are_bounded(client: httpx.Client, server: LiveServer) -> None:
    many = [{"name": f"f{i}", "type": "numeric"} for i in range(51)]
    error(client.post("/v1/models", json={**spec("wide"), "features": many}), 422,
          "invalid_value", ["features"])
    error(client.post("/v1/models", json={**spec("wide"), "segments": [f"s{i}" for i in range(51)]}),
          422, "invalid_value", ["segments"])
    assert client.post("/v1/models", json={**spec("wide"), "features": many[:50]}).status_code == 201


def test_registering_a_wide_model_does_not_block_other_requests(tmp_path: Path) -> None:
    settings = load_settings(env={}, overrides={
        "store": {"path": str(tmp_path / "w.duckdb")}, "scheduler": {"enabled": False}})
    many = [{"name": f"f{i}", "type": "numeric"} for i in range(1000)]  # the default limit
    with live_server(settings) as s, httpx.Client(base_url=s.url, timeout=60) as c:
        done: list[int] = []
        worker = threading.Thread(target=lambda: done.append(
            c.post("/v1/models", json={**spec("wide"), "features": many}).status_code))
        latencies = []
        with httpx.Client(base_url=s.url, timeout=60) as other:
            worker.start()
            while worker.is_alive() or not latencies:
                t = time.monotonic()
                assert other.get("/health/live").status_code == 200
                latencies.append(time.monotonic() - t)
        worker.join()
        assert done == [201]
        assert max(latencies) < 0.5, latencies
        assert len(c.get("/v1/models/wide").json()["spec"]["features"]) == 1000
        error(c.post("/v1/models", json={**spec("wider"), "features": [*many, {"name": "g",
              "type": "numeric"}]}), 422, "invalid_value", ["features"])


@pytest.mark.parametrize(("query", "code", "loc"), [
    ({"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "invalid_value", "end"),
    ({"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "invalid_value", "end"),
    ({"start": "0001-01-01T00:00:00+01:00"}, "timestamp_out_of_range", "start"),
    ({"end": "9999-12-31T23:59:59-01:00"}, "timestamp_out_of_range", "end"),
    ({"start": "yesterday"}, "invalid_timestamp", "start"),
])
def test_counts_time_range_errors(client: httpx.Client, query: dict[str, str], code: str,
                                  loc: str) -> None:
    client.post("/v1/models", json=spec("counted"))
    error(client.get("/v1/models/counted/counts", params=query), 422, code, ["query", loc])


def test_counts_extreme_but_valid_times(client: httpx.Client) -> None:
    client.post("/v1/models", json=spec("counted"))
    r = client.get("/v1/models/counted/counts", params={"start": "0001-01-01T00:00:00Z",
                                                        "end": "9999-12-31T23:59:59Z"})
    assert r.status_code == 200 and r.json()["predictions"] == 0


# --- deleting data ---------------------------------------------------------------------------------


def _fraud_like(name: str) -> dict[str, Any]:
    return {"name": name, "task": "binary_classification",
            "features": [{"name": "x", "type": "numeric"}], "prediction": {"classes": [0, 1]}}


def _log(client: httpx.Client, model: str, ids: list[str], ts: str, version: str = "v1") -> None:
    records = [{"prediction_id": i, "features": {"x": 1.0}, "prediction": 1, "timestamp": ts}
               for i in ids]
    r = client.post("/v1/predictions/batch", json={"model": model, "version": version,
                                                   "records": records})
    assert r.status_code == 200, r.text


def test_delete_data_by_time_version_and_ids(client: httpx.Client) -> None:
    assert client.post("/v1/models", json=_fraud_like("purge")).status_code == 201
    _log(client, "purge", ["a", "b"], "2026-11-01T10:00:00Z")
    _log(client, "purge", ["c"], "2026-11-01T12:00:00Z", version="v2")
    _log(client, "purge", ["d"], "2026-11-02T12:00:00Z")
    for pid in ("a", "c", "never-predicted"):
        assert client.post("/v1/actuals", json={"model": "purge", "prediction_id": pid,
                                                "actual": 1}).status_code == 200
    r = client.post("/v1/models/purge/delete-data", json={
        "start": "2026-11-01T00:00:00Z", "end": "2026-11-01T11:00:00Z"},
        headers={"X-Request-ID": "purge-1"})
    assert r.status_code == 200, r.text
    assert r.json() | {"event_id": 0} == {"model": "purge", "predictions_deleted": 2,
                                          "actuals_deleted": 1, "event_id": 0}
    [event] = client.get("/v1/models/purge/events", params={"kind": "data_deleted"}).json()["events"]
    assert event["id"] == r.json()["event_id"]
    assert event["details"]["request_id"] == "purge-1" and event["details"]["source"] == "api"
    assert event["details"]["start"] == "2026-11-01T00:00:00+00:00"
    r = client.post("/v1/models/purge/delete-data", json={"version": "v2"})
    assert r.json()["predictions_deleted"] == 1 and r.json()["actuals_deleted"] == 1
    r = client.post("/v1/models/purge/delete-data", json={"prediction_ids": ["never-predicted"]})
    assert r.json()["predictions_deleted"] == 0 and r.json()["actuals_deleted"] == 1
    counts = client.get("/v1/models/purge/counts").json()
    assert (counts["predictions"], counts["actuals"]) == (1, 0)
    assert client.get("/v1/models/purge/predictions/a").status_code == 404
    # A deleted id can be sent again.
    _log(client, "purge", ["a"], "2026-11-03T10:00:00Z")
    assert client.get("/v1/models/purge/predictions/a").status_code == 200
    r = client.post("/v1/models/purge/delete-data", json={"all": True})
    assert r.json()["predictions_deleted"] == 2
    assert client.get("/v1/models/purge/counts").json()["predictions"] == 0


@pytest.mark.parametrize(("body", "status", "code", "loc"), [
    ({}, 422, "missing_field", ["all"]),
    ({"all": True, "version": "v1"}, 422, "invalid_value", ["all"]),
    ({"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"}, 422, "invalid_value",
     ["end"]),
    ({"start": "0001-01-01T00:00:00+01:00"}, 422, "timestamp_out_of_range", ["start"]),
    ({"prediction_ids": []}, 422, "invalid_value", ["prediction_ids"]),
    ({"prediction_ids": [""]}, 422, "invalid_value", ["prediction_ids", 0]),
    ({"prediction_ids": "a"}, 422, "invalid_value", ["prediction_ids"]),
    ({"colour": "red"}, 422, "unknown_field", ["colour"]),
    ([1], 422, "invalid_type", ["body"]),
])
def test_delete_data_errors(client: httpx.Client, body: Any, status: int, code: str,
                            loc: list[Any]) -> None:
    client.post("/v1/models", json=_fraud_like("purge2"))
    error(client.post("/v1/models/purge2/delete-data", json=body), status, code, loc)


def test_delete_data_needs_the_api_key(server: LiveServer) -> None:
    r = httpx.post(f"{server.url}/v1/models/purge/delete-data", json={"all": True})
    error(r, 401, "unauthorized")
    error(httpx.post(f"{server.url}/v1/models/nope/delete-data", json={"all": True},
                     headers={"X-API-Key": "k"}), 404, "model_not_found")

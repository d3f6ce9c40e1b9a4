"""Actions over HTTP on a real service: a model whose new version degrades fires a rule whose
rollback waits for approval and whose retraining is a dry run; the records, their filters and
errors, the definitions without secrets, /metrics; the service restarts while the rollback
waits; ``modelmon actions`` approves it from the command line; the serving system's webhook (a
real HTTP server on loopback) is called and the registry shows the previous version active."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest

from modelmon.config import load_settings
from modelmon.config.settings import Settings
from tests.evaluation.scenario import hour_table
from tests.support.live_server import live_server
from tests.support.webhook_receiver import Receiver, receiver

EXE = str(Path(sys.executable).parent / "modelmon")
FRAUD: dict[str, Any] = {
    "name": "fraud", "task": "binary_classification", "windows": ["1h"], "owner": "risk-ml",
    "features": [{"name": "amount", "type": "numeric"}, {"name": "age", "type": "numeric"},
                 {"name": "tenure", "type": "numeric"}, {"name": "channel", "type": "categorical"}],
    "prediction": {"classes": [0, 1], "score": True},
}
HOURS, NEW_VERSION_FROM = 8, 6
TOKEN = "serving-token-0123456789"


def _arrow(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()


def _settings(path: Path, serving: str) -> Settings:
    return load_settings(env={"SERVING_TOKEN": TOKEN}, overrides={
        "store": {"path": str(path / "actions.duckdb")}, "scheduler": {"enabled": False},
        "models": [FRAUD],
        "actions": {"definitions": [
            {"name": "rollback", "type": "rollback", "url": serving + "/models/{model}/rollback",
             "approval": True, "secret_headers": {"Authorization": "Bearer " + TOKEN}},
            {"name": "retrain", "type": "retrain", "url": serving + "/retrain",
             "dry_run": True}]},
        "alerts": {"rules": [{
            "name": "AccuracyLow", "severity": "critical",
            "condition": {"kind": "metric", "metric": "accuracy", "op": "<", "value": 0.7},
            "actions": ["rollback", {"name": "retrain", "min_severity": "critical"}]}]}})


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Receiver, Path, str]]:
    """The serving system, the data folder, and the id of the rollback waiting for approval
    (made by the first service, which is stopped)."""
    path = tmp_path_factory.mktemp("actions")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=HOURS)
    with receiver() as serving:
        with live_server(_settings(path, serving.url)) as s, \
                httpx.Client(base_url=s.url, timeout=120) as c:
            rng = np.random.default_rng(4)
            for h in range(HOURS):
                new = h >= NEW_VERSION_FROM  # v2 is deployed: it drifts and degrades
                table, y = hour_table(rng, h, 500, drift=new, start=start)
                table = table.append_column("version", pa.array(["v2" if new else "v1"]
                                                                * table.num_rows))
                c.post("/v1/models/fraud/predictions/bulk", content=_arrow(table), headers={
                    "content-type": "application/vnd.apache.arrow.stream"}).raise_for_status()
                acts = pa.table({"prediction_id": table.column("prediction_id"),
                                 "actual": y.astype(str)})
                c.post("/v1/models/fraud/actuals/bulk", content=_arrow(acts), headers={
                    "content-type": "application/vnd.apache.arrow.stream"}).raise_for_status()
            c.post("/v1/evaluate").raise_for_status()
            assert s.state.actions.drain(30)
            waiting = c.get("/v1/actions", params={"state": "pending_approval"}).json()
            [rollback] = waiting["actions"]
            _check_listing(c, rollback)
        yield serving, path, rollback["id"]


def _check_listing(c: httpx.Client, rollback: dict[str, Any]) -> None:
    """What the first service shows (called while it runs)."""
    assert rollback["action"] == "rollback" and rollback["model"] == "fraud"
    assert rollback["trigger"]["rule"] == "AccuracyLow"
    assert rollback["trigger"]["event"] == "firing"
    assert rollback["details"]["from_version"] == "v2"
    assert rollback["details"]["to_version"] == "v1"
    assert rollback["request"]["headers"]["Authorization"] == "***"
    everything = c.get("/v1/actions").json()["actions"]
    assert {(a["action"], a["state"]) for a in everything} == {
        ("rollback", "pending_approval"), ("retrain", "dry_run")}
    assert TOKEN not in json.dumps(everything)
    page = c.get("/v1/actions", params={"limit": 1}).json()
    assert len(page["actions"]) == 1 and page["next"]
    rest = c.get(page["next"]).json()
    assert {a["id"] for a in page["actions"] + rest["actions"]} == {a["id"] for a in everything}
    assert [a["action"] for a in c.get("/v1/actions", params={"action": "retrain"}).json()[
        "actions"]] == ["retrain"]
    one = c.get(f"/v1/actions/{rollback['id']}")
    assert one.status_code == 200 and one.json() == rollback
    definitions = c.get("/v1/actions/definitions").json()
    assert TOKEN not in json.dumps(definitions)
    assert definitions["actions"][0]["secret_headers"] == {"Authorization": "***"}
    metrics = c.get("/metrics").text
    assert 'modelmon_actions_total{action="rollback",state="pending_approval"} 1.0' in metrics
    assert 'modelmon_actions_total{action="retrain",state="dry_run"} 1.0' in metrics
    assert "modelmon_actions_pending_approval 1.0" in metrics


def test_bad_requests_are_clear_4xx(world: tuple[Receiver, Path, str]) -> None:
    serving, path, waiting = world
    with live_server(_settings(path, serving.url)) as s, httpx.Client(base_url=s.url) as c:
        dry = c.get("/v1/actions", params={"action": "retrain"}).json()["actions"][0]
        for method, url, body, status, code, loc in (
                ("GET", "/v1/actions/nope", None, 404, "not_found", ["action_id"]),
                ("GET", "/v1/actions?state=done", None, 422, "invalid_value",
                 ["query", "state"]),
                ("GET", "/v1/actions?start=yesterday", None, 422, "invalid_timestamp",
                 ["query", "start"]),
                ("GET", "/v1/actions?before=then", None, 422, "invalid_timestamp",
                 ["query", "before"]),
                ("GET", "/v1/actions?limit=0", None, 422, "invalid_value", ["query", "limit"]),
                ("POST", "/v1/actions/x/approve", [1], 422, "invalid_type", ["body"]),
                ("POST", f"/v1/actions/{waiting}/approve", {"note": "who?"}, 422,
                 "missing_field", ["by"]),
                ("POST", f"/v1/actions/{waiting}/approve", {"by": "x", "extra": 1}, 422,
                 "unknown_field", ["extra"]),
                ("POST", f"/v1/actions/{dry['id']}/approve", {"by": "x"}, 409, "conflict",
                 ["action_id"]),
                ("POST", "/v1/actions/nope/reject", {"by": "x"}, 404, "not_found",
                 ["action_id"]),
                ("POST", "/v1/rules", {"name": "Y", "condition": {"kind": "verdict"},
                                       "actions": ["rollback", "nope"]}, 422, "invalid_value",
                 ["actions", 1, "name"])):
            r = c.request(method, url, json=body)
            assert r.status_code == status and r.json()["code"] == code, (url, r.text)
            if loc is not None:
                assert r.json()["loc"] == loc, r.text
        made = c.post("/v1/rules", json={"name": "Y", "condition": {"kind": "verdict"},
                                         "actions": [{"name": "retrain", "on": ["resolved"]}]})
        assert made.status_code == 201, made.text
        assert made.json()["actions"][0]["on"] == ["resolved"]
        assert c.delete("/v1/rules/Y").status_code == 200
        assert c.get(f"/v1/actions/{waiting}").json()["state"] == "pending_approval"


def test_after_a_restart_the_rollback_still_waits_and_the_cli_approves_it(
        world: tuple[Receiver, Path, str]) -> None:
    serving, path, waiting = world
    assert serving.requests == []  # nothing was sent while it waited
    with live_server(_settings(path, serving.url)) as s, httpx.Client(base_url=s.url) as c:
        assert c.get(f"/v1/actions/{waiting}").json()["state"] == "pending_approval"
        listed = subprocess.run([EXE, "actions", "list", "--url", s.url, "--state",
                                 "pending_approval", "--json"], capture_output=True, text=True,
                                timeout=60)
        assert listed.returncode == 0, listed.stderr
        assert [a["id"] for a in json.loads(listed.stdout)] == [waiting]
        done = subprocess.run([EXE, "actions", "approve", waiting, "--by", "alice", "--note",
                               "v2 is broken", "--url", s.url], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        assert f"{waiting}: approved by alice" in done.stdout
        assert s.state.actions.drain(30)
        record = c.get(f"/v1/actions/{waiting}").json()
        assert record["state"] == "succeeded", record
        assert record["approval"]["by"] == "alice" and record["approval"]["note"] == "v2 is broken"
        [call] = serving.requests
        assert call.path == "/models/fraud/rollback"
        assert call.headers["Authorization"] == "Bearer " + TOKEN
        assert call.headers["Idempotency-Key"] == record["idempotency_key"]
        versions = {v["version"]: v["stage"] for v in
                    c.get("/v1/models/fraud/versions").json()["versions"]}
        assert versions == {"v1": "active", "v2": "rolled_back"}
        events = c.get("/v1/models/fraud/events", params={"kind": "rolled_back"}).json()
        assert events["events"][0]["details"]["action_id"] == waiting
        again = subprocess.run([EXE, "actions", "reject", waiting, "--by", "bob", "--url", s.url],
                               capture_output=True, text=True, timeout=60)
        assert again.returncode == 1 and "409" in again.stderr and "succeeded" in again.stderr
        table = subprocess.run([EXE, "actions", "list", "--url", s.url], capture_output=True,
                               text=True, timeout=60)
        assert table.returncode == 0 and "v2 -> v1" in table.stdout
        assert 'modelmon_actions_total{action="rollback",state="succeeded"} 1.0' in \
            c.get("/metrics").text

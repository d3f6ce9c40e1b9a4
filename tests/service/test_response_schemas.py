"""Every JSON success answer is documented with a real schema, and real answers match it.

A live server holds a model with two versions over twelve hours (the last four drifting and
degrading), evaluated, with alerts, a silence, a rule, a receiver, feature importance, a training
run, a backfill and a key; every operation is called with valid requests and each 2xx JSON body
is validated (``jsonschema``, 2020-12) against the schema the OpenAPI description documents for
that operation and status, ``$ref`` resolved against ``components/schemas``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest
from jsonschema import Draft202012Validator

from modelmon.config import load_settings
from modelmon.config.settings import Settings
from modelmon.service.app import create_app
from tests.evaluation.scenario import hour_table
from tests.service.test_alerts_api import FRAUD, _arrow
from tests.support.live_server import LiveServer, live_server
from tests.support.receivers import Receiver

pytestmark = pytest.mark.integration

ADMIN = "schema-admin-key-1"
HOURS, DRIFT_FROM = 12, 8
METHODS = ("get", "post", "put", "patch", "delete")
JSON = "application/json"

#: JSON success answers documented without a schema on purpose (none: add one with its reason).
FREE_FORM: dict[tuple[str, str], str] = {}

#: Operations the live test does not call, each with its reason (the fuzz test still does).
NOT_CALLED: dict[tuple[str, str], str] = {
    ("post", "/v1/models/{model}/backtest"): "needs a finance model with symbols and returns",
    ("get", "/v1/actions/{action_id}"): "no action is defined in this scenario",
    ("post", "/v1/actions/{action_id}/approve"): "no action is defined in this scenario",
    ("post", "/v1/actions/{action_id}/reject"): "no action is defined in this scenario",
    ("get", "/v1/admin/backup"): "answers a DuckDB file, not JSON",
    ("get", "/metrics"): "answers Prometheus text, not JSON",
}


def _description() -> dict[str, Any]:
    app = create_app(load_settings(env={}, overrides={"store": {"path": "unused.duckdb"}}))
    return app.openapi()


SPEC = _description()


def _json_successes(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """``(method, path, status, schema)`` of every documented 2xx JSON answer."""
    for path, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            for status, answer in op["responses"].items():
                if status.startswith("2") and JSON in answer.get("content", {}):
                    yield method, path, status, answer["content"][JSON].get("schema")


def test_no_json_success_answer_is_documented_with_an_empty_schema() -> None:
    empty = [(m, p, s) for m, p, s, schema in _json_successes(SPEC)
             if not schema and (m, p) not in FREE_FORM]
    assert empty == []
    documented = {(m, p) for m, p, _, _ in _json_successes(SPEC)}
    assert len(documented) >= 69, len(documented)  # 71 operations: /metrics and the backup aren't JSON


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": SPEC["components"]})


def _settings(path: Path, hook: Receiver) -> Settings:
    return load_settings(env={}, overrides={
        "store": {"path": str(path / "schemas.duckdb")}, "scheduler": {"enabled": False},
        "server": {"api_keys": [{"key": ADMIN, "role": "admin", "name": "ops"}]},
        "models": [FRAUD], "retention": {"predictions": "3650d"},
        "alerts": {"external_url": "https://modelmon.example"},
        "notifications": {
            "receivers": [{"name": "team", "webhook": [{"url": f"{hook.url}/hook"}]}],
            "route": {"receiver": "team", "group_by": ["model"], "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "4h"},
            "delivery": {"min_backoff": "1s", "max_backoff": "2s"}}})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("schemas")
    hook = Receiver()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS)
    with live_server(_settings(path, hook)) as s, httpx.Client(
            base_url=s.url, timeout=120, headers={"X-API-Key": ADMIN}) as c:
        rng = np.random.default_rng(7)
        for h in range(HOURS):
            table, y = hour_table(rng, h, 400, drift=h >= DRIFT_FROM, start=start)
            half = table.num_rows // 2
            for version, part in (("v1", table.slice(0, half)), ("v2", table.slice(half))):
                c.post("/v1/models/fraud/predictions/bulk", params={"version": version},
                       content=_arrow(part), headers={
                           "content-type": "application/vnd.apache.arrow.stream"},
                       ).raise_for_status()
            acts = pa.table({"prediction_id": table.column("prediction_id"),
                             "actual": y.astype(str)})
            c.post("/v1/models/fraud/actuals/bulk", content=_arrow(acts), headers={
                "content-type": "application/vnd.apache.arrow.stream"}).raise_for_status()
        yield s
    hook.down()


class Checker:
    """Calls operations and validates each success answer against its documented schema."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.called: set[tuple[str, str]] = set()
        self.problems: list[str] = []

    def __call__(self, method: str, template: str, url: str | None = None,
                 **kw: Any) -> Any:
        resp = self.client.request(method.upper(), url or template, **kw)
        assert resp.status_code < 300, f"{method.upper()} {url or template}: {resp.text}"
        op = SPEC["paths"][template][method]
        answer = op["responses"].get(str(resp.status_code))
        assert answer is not None, f"{method} {template}: undocumented {resp.status_code}"
        schema = answer["content"][JSON]["schema"]
        body = resp.json()
        for err in _validator(schema).iter_errors(body):
            self.problems.append(f"{method.upper()} {template} {resp.status_code}: "
                                 f"{'/'.join(map(str, err.absolute_path))}: {err.message[:300]}")
        self.called.add((method, template))
        return body


def _exercise(check: Checker) -> None:
    m = "/v1/models/{model}"
    for path in ("/health/live", "/health/ready", "/health", "/info", "/v1/system"):
        check("get", path)
    check("post", "/v1/evaluate")
    check("post", f"{m}/evaluate", "/v1/models/fraud/evaluate")
    check("post", f"{m}/feature-importance", "/v1/models/fraud/feature-importance",
          json={"version": "v1", "importances": {"amount": 0.6, "age": 0.3}, "method": "shap"})
    check("get", f"{m}/feature-importance", "/v1/models/fraud/feature-importance")
    check("post", f"{m}/training-runs", "/v1/models/fraud/training-runs",
          json={"version": "v2", "duration_seconds": 12.5, "samples": 4800,
                "details": {"learning_rate": 0.1}})
    check("post", f"{m}/training-runs", "/v1/models/fraud/training-runs",
          json={"kind": "online_update", "status": "failed"})
    check("get", f"{m}/training-runs", "/v1/models/fraud/training-runs")
    # the registry
    extra = {"name": "extra", "task": "regression",
             "features": [{"name": "x", "type": "numeric"}]}
    check("post", "/v1/models", json=extra)
    check("post", "/v1/models", json={**extra, "description": "again"})
    check("put", m, "/v1/models/extra", json={**extra, "description": "put"})
    check("get", "/v1/models")
    check("get", m, "/v1/models/fraud")
    check("get", f"{m}/versions", "/v1/models/fraud/versions")
    check("post", f"{m}/versions", "/v1/models/fraud/versions",
          json={"version": "v3", "metadata": {"git": "abc"}, "stage": "shadow"})
    check("get", f"{m}/events", "/v1/models/fraud/events")
    check("get", f"{m}/predictions/{{prediction_id}}", "/v1/models/fraud/predictions/p3-7")
    check("get", f"{m}/counts", "/v1/models/fraud/counts")
    check("post", "/v1/predictions", json={"model": "extra", "features": {"x": 1.0},
                                          "prediction": 2.5, "prediction_id": "e1"})
    check("post", f"{m}/delete-data", "/v1/models/extra/delete-data", json={"all": True})
    # results
    check("get", "/v1/overview")
    check("get", f"{m}/status", "/v1/models/fraud/status")
    check("get", f"{m}/status/history", "/v1/models/fraud/status/history")
    check("get", f"{m}/metrics", "/v1/models/fraud/metrics?limit=50")
    check("get", f"{m}/metrics", "/v1/models/fraud/metrics?window=1h&step=2h&version=v1")
    check("get", f"{m}/metrics/latest", "/v1/models/fraud/metrics/latest")
    check("get", f"{m}/drift", "/v1/models/fraud/drift")
    check("get", f"{m}/data-quality", "/v1/models/fraud/data-quality")
    check("get", f"{m}/detector-events", "/v1/models/fraud/detector-events")
    reports = check("get", f"{m}/reports", "/v1/models/fraud/reports?limit=2")
    check("get", f"{m}/reports/latest", "/v1/models/fraud/reports/latest")
    check("get", f"{m}/reports/{{report_id}}",
          f"/v1/models/fraud/reports/{reports['reports'][-1]['id']}")
    check("get", f"{m}/compare-versions", "/v1/models/fraud/compare-versions?a=v1&b=v2")
    # a backfill, until it ends
    check("post", f"{m}/backfill", "/v1/models/fraud/backfill")
    for _ in range(600):
        job = check("get", f"{m}/backfill", "/v1/models/fraud/backfill")
        if job["state"] != "running":
            break
        time.sleep(0.1)
    # alerts, silences, rules
    alerts = check("get", "/v1/alerts")
    assert alerts["alerts"], "the drifting model fires no alert"
    fp = alerts["alerts"][0]["fingerprint"]
    check("get", "/v1/alerts/history")
    check("get", "/v1/alerts/{key}", f"/v1/alerts/{fp}")
    check("post", "/v1/alerts/{fingerprint}/ack", f"/v1/alerts/{fp}/ack",
          json={"by": "alice", "note": "looking"})
    check("get", "/v1/alerts/{key}", f"/v1/alerts/{fp}")
    silence = check("post", "/v1/silences", json={"matchers": ["model=fraud"],
                                                  "duration": "2h", "created_by": "alice"})
    check("get", "/v1/silences")
    check("delete", "/v1/silences/{silence_id}", f"/v1/silences/{silence['id']}")
    rule = {"name": "LatencyHigh", "condition": {"kind": "metric",
            "metric": "latency_p95_seconds", "op": ">", "value": 0.001}}
    check("post", "/v1/rules", json=rule)
    check("put", "/v1/rules/{name}", "/v1/rules/LatencyHigh", json={**rule, "severity": "high"})
    check("get", "/v1/rules")
    check("delete", "/v1/rules/{name}", "/v1/rules/LatencyHigh")
    # notifications (the dispatcher queues the firing alerts' messages within seconds)
    for _ in range(100):
        listed = check("get", "/v1/notifications")
        if listed["notifications"]:
            break
        time.sleep(0.1)
    check("post", "/v1/receivers/{name}/test", "/v1/receivers/team/test")
    listed = check("get", "/v1/notifications")
    check("get", "/v1/notifications/{notification_id}",
          f"/v1/notifications/{listed['notifications'][0]['id']}")
    check("get", "/v1/receivers")
    # actions, administration, keys and the audit log
    check("get", "/v1/actions")
    check("get", "/v1/actions/definitions")
    check("post", "/v1/admin/retention")
    key = check("post", "/v1/keys", json={"name": "viewer", "role": "read", "models": ["fraud"]})
    check("get", "/v1/keys")
    check("get", "/v1/keys/{key_id}", f"/v1/keys/{key['key_id']}")
    check("delete", "/v1/keys/{key_id}", f"/v1/keys/{key['key_id']}")
    check("get", "/v1/keys", "/v1/keys?revoked=true")
    check("get", "/v1/audit", "/v1/audit?limit=5")


def test_every_answer_matches_its_documented_schema(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=120, headers={"X-API-Key": ADMIN}) as c:
        check = Checker(c)
        _exercise(check)
    assert not check.problems, "\n".join(check.problems)
    # every JSON operation was called, but those listed with their reason
    documented = {(m, p) for m, p, _, _ in _json_successes(SPEC)}
    ingest = {(m, p) for m, p, _, schema in _json_successes(SPEC)
              if schema == {"$ref": "#/components/schemas/IngestResponse"}}
    missed = documented - check.called - ingest - set(NOT_CALLED)
    assert missed == set()

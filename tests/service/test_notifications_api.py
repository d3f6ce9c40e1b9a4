"""Notifications on a real server with real HTTP receivers: alerts of a degrading model reach a
signed webhook, Slack and PagerDuty grouped as routed; the delivery log and receiver tests over
HTTP; a receiver down gets everything once it is back; a restart loses nothing queued and tells
nothing twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import numpy as np
import pyarrow as pa
import pytest

from modelmon.config import load_settings
from modelmon.config.settings import Settings
from tests.evaluation.scenario import hour_table
from tests.service.test_alerts_api import FRAUD, _arrow
from tests.support.live_server import LiveServer
from tests.support.receivers import Receiver

SCHEMAS = Path(__file__).parents[1] / "notify" / "schemas"
HOURS, DRIFT_FROM = 20, 16


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text())


def _settings(path: Path, hook: Receiver, slack: Receiver, pd: Receiver) -> Settings:
    (path / "hook-secret").write_text("s3cret\n")
    return load_settings(env={}, overrides={
        "store": {"path": str(path / "notify.duckdb")}, "scheduler": {"enabled": False},
        "models": [FRAUD],
        "alerts": {"external_url": "https://modelmon.example"},
        "notifications": {
            "receivers": [
                {"name": "team", "webhook": [{"url": f"{hook.url}/hook",
                                              "secret": {"file": str(path / "hook-secret")}}],
                 "slack": [{"url": f"{slack.url}/services/T/B/XYZ"}]},
                {"name": "pager", "pagerduty": [{"routing_key": "R0UT1NG",
                                                 "url": f"{pd.url}/v2/enqueue"}]}],
            "route": {"receiver": "team", "group_by": ["model"], "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "4h",
                      "routes": [{"matchers": ["alertname=ModelDegraded"], "receiver": "pager",
                                  "continue": True}]},
            "delivery": {"min_backoff": "1s", "max_backoff": "2s"}}})


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("notify")
    hook, slack, pd = Receiver(), Receiver(), Receiver()
    settings = _settings(path, hook, slack, pd)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=HOURS)
    server = LiveServer(settings)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as c:
            rng = np.random.default_rng(4)
            for h in range(HOURS):
                table, y = hour_table(rng, h, 600, drift=h >= DRIFT_FROM, start=start)
                c.post("/v1/models/fraud/predictions/bulk", content=_arrow(table), headers={
                    "content-type": "application/vnd.apache.arrow.stream"}).raise_for_status()
                acts = pa.table({"prediction_id": table.column("prediction_id"),
                                 "actual": y.astype(str)})
                c.post("/v1/models/fraud/actuals/bulk", content=_arrow(acts), headers={
                    "content-type": "application/vnd.apache.arrow.stream"}).raise_for_status()
            c.post("/v1/evaluate").raise_for_status()
        yield {"server": server, "settings": settings, "hook": hook, "slack": slack, "pd": pd,
               "path": path}
    finally:
        server.stop()
        for r in (hook, slack, pd):
            r.close()


def _wait(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    return check()


def test_firing_alerts_reach_each_receiver_grouped_and_signed(setup: dict[str, Any]) -> None:
    hook, slack, pd = setup["hook"], setup["slack"], setup["pd"]
    [msg] = hook.wait_for(1)
    body = msg.json()
    jsonschema.validate(body, _schema("alertmanager_webhook_v4.json"))
    assert msg.path == "/hook" and body["receiver"] == "team"
    assert body["groupLabels"] == {"model": "fraud"} and body["status"] == "firing"
    names = {a["labels"]["alertname"] for a in body["alerts"]}
    assert "AccuracyDrop" in names and len(body["alerts"]) >= 2  # one message for the group
    assert "ModelDegraded" not in names  # the pager's route took it (as Alertmanager routes)
    assert all(a["generatorURL"].startswith("https://modelmon.example/v1/alerts/")
               for a in body["alerts"])
    ts = msg.headers["X-Modelmon-Timestamp"]
    mac = hmac.new(b"s3cret", ts.encode() + b"." + msg.body, hashlib.sha256).hexdigest()
    assert msg.headers["X-Modelmon-Signature"] == f"sha256={mac}"
    [sl] = slack.wait_for(1)
    jsonschema.validate(sl.json(), _schema("slack_incoming_webhook.json"))
    events = [r.json() for r in pd.wait_for(1)]
    for e in events:
        jsonschema.validate(e, _schema("pagerduty_events_v2.json"))
    assert [(e["event_action"], e["payload"]["class"]) for e in events] == [
        ("trigger", "ModelDegraded")]                           # only what the route sends
    time.sleep(2.5)                                             # two more group intervals
    assert len(hook.requests) == 1 and len(slack.requests) == 1  # nothing new: nothing sent


def test_the_delivery_log_receivers_and_a_receiver_test(setup: dict[str, Any]) -> None:
    s: LiveServer = setup["server"]
    with httpx.Client(base_url=s.url) as c:
        log = c.get("/v1/notifications").json()
        delivered = [n for n in log["notifications"] if n["state"] == "delivered"]
        assert {(n["receiver"], n["integration"]) for n in delivered} >= {
            ("team", "webhook"), ("team", "slack"), ("pager", "pagerduty")}
        fp = next(a["fingerprint"] for n in delivered for a in n["alerts"]
                  if a["alertname"] == "ModelDegraded")
        mine = c.get("/v1/notifications", params={"alert": fp}).json()["notifications"]
        assert mine and all(any(a["fingerprint"] == fp for a in n["alerts"]) for n in mine)
        one = c.get(f"/v1/notifications/{delivered[0]['id']}").json()
        assert one["payload"]["alerts"] and one["attempts"] == 1
        receivers = c.get("/v1/receivers").json()
        assert receivers["receivers"] == [
            {"name": "team", "integrations": {"slack": 1, "webhook": 1}},
            {"name": "pager", "integrations": {"pagerduty": 1}}]
        assert "XYZ" not in json.dumps(receivers) and "R0UT1NG" not in json.dumps(log)
        before = len(setup["hook"].requests)
        tested = c.post("/v1/receivers/team/test").json()
        assert tested["delivered"] and {r["integration"] for r in tested["results"]} == {
            "webhook", "slack"}
        assert setup["hook"].requests[before].json()["alerts"][0]["labels"]["alertname"] == \
            "ModelmonTest"
        assert c.post("/v1/receivers/nobody/test").status_code == 404
        bad = c.get("/v1/notifications", params={"state": "lost"})
        assert bad.status_code == 422 and bad.json()["loc"] == ["query", "state"]
        metrics = c.get("/metrics").text
        assert 'modelmon_notifications_total{integration="webhook",receiver="team",' \
               'result="delivered"}' in metrics
        assert "modelmon_notification_outbox_messages 0.0" in metrics


def test_a_receiver_down_gets_everything_after_it_recovers(setup: dict[str, Any]) -> None:
    s: LiveServer = setup["server"]
    pd: Receiver = setup["pd"]
    with httpx.Client(base_url=s.url) as c:
        degraded = next(a for a in c.get("/v1/alerts").json()["alerts"]
                        if a["rule"] == "ModelDegraded")
        pd.down()
        c.post(f"/v1/alerts/{degraded['fingerprint']}/ack",
               json={"by": "bob", "note": "looking"}).raise_for_status()
        queued = _wait(lambda: [n for n in c.get("/v1/notifications", params={
            "kind": "acknowledge"}).json()["notifications"] if n["attempts"] >= 2])
        assert queued and queued[0]["state"] == "queued" and "could not connect" in \
            queued[0]["last_error"]
        pd.up()
        acks = _wait(lambda: [r.json() for r in pd.requests
                              if r.json()["event_action"] == "acknowledge"], timeout=10)
        assert [a["dedup_key"] for a in acks] == [degraded["fingerprint"]]
        jsonschema.validate(acks[0], _schema("pagerduty_events_v2.json"))


def test_a_restart_loses_nothing_queued_and_tells_nothing_twice(setup: dict[str, Any]) -> None:
    s: LiveServer = setup["server"]
    hook: Receiver = setup["hook"]
    with httpx.Client(base_url=s.url) as c:
        degraded = next(a for a in c.get("/v1/alerts").json()["alerts"]
                        if a["rule"] == "AccuracyDrop")
        hook.down()
        # a silence then its expiry do not change what the group says; a new rule does
        c.post("/v1/rules", json={"name": "AlwaysOn", "condition": {
            "kind": "metric", "metric": "accuracy", "op": ">", "value": 0.0}}).raise_for_status()
        c.post("/v1/models/fraud/evaluate").raise_for_status()
        _wait(lambda: c.get("/v1/notifications", params={
            "receiver": "team", "state": "queued"}).json()["notifications"])
    told = len(hook.requests)
    s.stop()
    hook.up()
    again = LiveServer(setup["settings"])
    again.start()
    try:
        got = hook.wait_for(told + 1, timeout=15)
        news = [r.json() for r in got[told:]]
        assert any("AlwaysOn" in {a["labels"]["alertname"] for a in n["alerts"]} for n in news)
        time.sleep(2.5)                  # the rebuilt groups say nothing they said before
        assert len(hook.requests) == told + 1, [r.json()["alerts"] for r in hook.requests[told:]]
        with httpx.Client(base_url=again.url) as c:
            assert any(a["fingerprint"] == degraded["fingerprint"]
                       for a in c.get("/v1/alerts").json()["alerts"])
    finally:
        again.stop()
        setup["server"] = again

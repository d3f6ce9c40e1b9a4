"""Alertmanager interop with Debian's Alertmanager 0.25 and amtool: the exported configuration
passes `amtool check-config` and routes label sets to the receivers modelmon picks; alerts
forwarded to a running Alertmanager reach the webhook it routes them to, and their resolution
too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from modelmon.alerts.conditions import ModelContext
from modelmon.alerts.engine import AlertEngine
from modelmon.alerts.rules import AlertRule
from modelmon.config.models import ModelSpec
from modelmon.judgement import WindowFacts
from modelmon.notify.config import NotificationSettings
from modelmon.notify.routing import RouteTree
from modelmon.notify.service import NotificationService
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.vocabulary import Status, Task
from tests.support.live_server import free_port
from tests.support.receivers import Receiver

AMTOOL = shutil.which("amtool")
ALERTMANAGER = shutil.which("prometheus-alertmanager")
EXE = str(Path(sys.executable).parent / "modelmon")
MISSING = "Debian's prometheus-alertmanager package (make test installs it)"

CONFIG = """
alerts:
  external_url: https://modelmon.example
notifications:
  receivers:
    - name: team
      webhook: [{url: "http://127.0.0.1:9/hook"}]
      email: [{to: [ml@example.com], from: modelmon@example.com, smarthost: "smtp.example.com:587",
               auth_username: modelmon, auth_password: hunter2}]
    - name: pager
      pagerduty: [{routing_key: R0UT1NG}]
    - name: risk
      slack: [{url: "https://hooks.slack.com/services/T/B/X", channel: "#risk"}]
      teams: [{url: "https://example.webhook.office.com/x"}]
    - name: night
      webhook: [{url: "http://127.0.0.1:9/night", secret: s3cret}]
  route:
    receiver: team
    group_by: [alertname, model]
    group_wait: 30s
    routes:
      - matchers: [severity=critical]
        receiver: pager
        continue: true
        escalate: {after: 15m, receiver: night}
      - matchers: ['team=~"risk|fraud-.*"']
        receiver: risk
        routes:
          - matchers: [alertname=FeatureDrift]
            receiver: night
            mute_time_intervals: [office]
      - matchers: [model!=price, alertname=~"Latency.*"]
        receiver: night
  inhibit_rules:
    - source_matchers: [severity=critical]
      target_matchers: [severity=warning]
      equal: [model]
  time_intervals:
    - name: office
      time_intervals:
        - weekdays: ["monday:friday"]
          times: [{start_time: "09:00", end_time: "17:00"}]
"""

LABEL_SETS = [
    {"alertname": "ModelDegraded", "severity": "critical", "model": "fraud", "team": "risk"},
    {"alertname": "ModelDegraded", "severity": "critical", "model": "intent"},
    {"alertname": "FeatureDrift", "severity": "warning", "model": "fraud", "team": "risk"},
    {"alertname": "AccuracyDrop", "severity": "warning", "model": "fraud", "team": "fraud-ops"},
    {"alertname": "LatencyP95High", "severity": "warning", "model": "intent"},
    {"alertname": "LatencyP95High", "severity": "warning", "model": "price"},
    {"alertname": "HighErrorRate", "severity": "high", "model": "price"},
]


def test_the_exported_configuration_passes_amtool_and_routes_as_modelmon(tmp_path: Path) -> None:
    assert AMTOOL, f"amtool is missing: {MISSING}"
    (tmp_path / "mm.yaml").write_text(CONFIG)
    done = subprocess.run([EXE, "export", "alertmanager-config", "-c", "mm.yaml", "--out",
                           "am.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "not exported: receiver risk: Microsoft Teams" in done.stderr
    assert "escalation after 15m" in done.stderr
    assert oct(os.stat(tmp_path / "am.yml").st_mode & 0o777) == "0o600"
    check = subprocess.run([AMTOOL, "check-config", "am.yml"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    settings = NotificationSettings.model_validate(yaml.safe_load(CONFIG)["notifications"])
    assert settings.route is not None
    tree = RouteTree(settings.route)
    for labels in LABEL_SETS:
        routed = subprocess.run(
            [AMTOOL, "config", "routes", "test", "--config.file=am.yml",
             *[f"{k}={v}" for k, v in labels.items()]],
            cwd=tmp_path, capture_output=True, text=True)
        assert routed.returncode == 0, routed.stderr
        theirs = routed.stdout.strip().split(",")
        ours = [r.receiver for r in tree.match(labels)]
        assert theirs == ours, (labels, theirs, ours)


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[tuple[str, Receiver]]:
    assert ALERTMANAGER, f"prometheus-alertmanager is missing: {MISSING}"
    hook = Receiver()
    port = free_port()
    (tmp_path / "am.yml").write_text(yaml.safe_dump({
        "route": {"receiver": "hook", "group_by": ["alertname"], "group_wait": "1s",
                  "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "hook", "webhook_configs": [
            {"url": f"{hook.url}/am", "send_resolved": True}]}]}))
    proc = subprocess.Popen(
        [ALERTMANAGER, f"--config.file={tmp_path / 'am.yml'}",
         f"--storage.path={tmp_path / 'am'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address=", f"--web.external-url=http://127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield url, hook
    finally:
        proc.terminate()
        proc.wait(10)
        hook.close()


SPEC = ModelSpec.model_validate({"name": "fraud", "task": "binary_classification",
                                 "labels": {"team": "risk"},
                                 "prediction": {"classes": [0, 1], "score": True}})


def _ctx(acc: float, at: datetime) -> ModelContext:
    facts = WindowFacts("fraud", Task.BINARY, "1h", at - timedelta(hours=1), at, 1000,
                        metrics={"accuracy": (acc, 1000)})
    return ModelContext("fraud", {"model": "fraud", "team": "risk"}, at, "1h", Status.HEALTHY,
                        facts, [])


def test_alerts_forwarded_to_alertmanager_reach_its_webhook_and_resolve(
        alertmanager: tuple[str, Receiver]) -> None:
    url, hook = alertmanager
    store = DuckDBStore(":memory:")
    store.open()
    engine = AlertEngine(store.alerts, [(AlertRule.model_validate({
        "name": "AccuracyLow", "severity": "critical",
        "condition": {"kind": "metric", "metric": "accuracy", "op": "<", "value": 0.8}}),
        "config")])
    settings = NotificationSettings.model_validate(
        {"alertmanagers": [{"url": url, "resend_interval": "1m"}],
         "delivery": {"min_backoff": "1s", "max_backoff": "1s"}})
    service = NotificationService(settings, store, engine, lambda: datetime.now(UTC),
                                  "https://modelmon.example").start()
    try:
        engine.evaluate_model(SPEC, _ctx(0.7, datetime.now(UTC)))
        fired = _messages(hook, "firing")
        [alert] = fired[0]["alerts"]
        assert alert["labels"]["alertname"] == "AccuracyLow"
        assert alert["labels"]["model"] == "fraud" and alert["labels"]["team"] == "risk"
        assert alert["generatorURL"].startswith("https://modelmon.example/v1/alerts/")
        ams = httpx.get(f"{url}/api/v2/alerts").json()
        assert [a["labels"]["alertname"] for a in ams] == ["AccuracyLow"]
        engine.evaluate_model(SPEC, _ctx(0.9, datetime.now(UTC)))
        resolved = _messages(hook, "resolved")
        assert resolved[0]["alerts"][0]["labels"]["alertname"] == "AccuracyLow"
        log = store.notifications.list_notifications(kind="forward")
        assert {n.state for n in log} == {"delivered"}
    finally:
        service.stop()
        store.close()


def _messages(hook: Receiver, status: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [r.json() for r in hook.requests if r.json()["status"] == status]
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"Alertmanager sent no {status} message: "
                         f"{[r.json()['status'] for r in hook.requests]}")

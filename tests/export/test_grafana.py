"""The exported Grafana dashboards: provisioning-ready structure, and every panel's query (and
every variable's) run against a real Prometheus (Debian's package) scraping a live service
that holds an evaluated, alerting model with importance snapshots and training runs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from modelmon.cli import app
from modelmon.export.grafana import SCHEMA_VERSION, dashboards
from tests.evaluation.scenario import hour_table
from tests.support.dashboard import dashboard_server
from tests.support.live_server import LiveServer
from tests.support.prometheus import prometheus, query, wait_for

#: What Grafana would put in for the variables (the test model, a real version, its window).
VARIABLES = {"$model": "fraud", "$version": "default", "$window": "1h",
             "$__rate_interval": "20s"}


def _queries() -> list[tuple[str, str, str]]:
    out = []
    for name, board in dashboards().items():
        for panel in board["panels"]:
            for target in panel["targets"]:
                out.append((name, panel["title"], target["expr"]))
    return out


def test_dashboards_are_provisioning_ready() -> None:
    boards = dashboards()
    assert set(boards) == {"modelmon-overview.json", "modelmon-model.json",
                           "modelmon-service.json"}
    for name, board in boards.items():
        text = json.dumps(board)
        assert "${DS_" not in text and "__inputs" not in text, name
        assert board["schemaVersion"] == SCHEMA_VERSION and board["uid"].startswith("modelmon-")
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)) and board["panels"]
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, (name, panel["title"])
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}"
                assert re.fullmatch(r"[A-Z]", target["refId"]) and target["expr"]
        used = set(re.findall(r"\$(\w+)", text)) - {"__rate_interval"}
        assert used <= set(variables), (name, used - set(variables))
    model = {v["name"] for v in boards["modelmon-model.json"]["templating"]["list"]}
    assert {"model", "version", "window"} <= model


def test_the_command_writes_the_files_and_a_provider(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", "grafana-dashboards", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "g").iterdir())
    assert files == ["modelmon-model.json", "modelmon-overview.json", "modelmon-provider.yaml",
                     "modelmon-service.json"]
    assert json.loads((tmp_path / "g" / "modelmon-model.json").read_text())["uid"] == \
        "modelmon-model"
    assert "type: file" in (tmp_path / "g" / "modelmon-provider.yaml").read_text()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with dashboard_server(tmp_path_factory.mktemp("grafana")) as s, \
            httpx.Client(base_url=s.url, timeout=60) as c:
        now = datetime.now(UTC)
        for kind, minutes in (("training", 120), ("online_update", 30), ("online_update", 5)):
            started = now - timedelta(minutes=minutes)
            c.post("/v1/models/fraud/training-runs", json={
                "run_id": f"{kind}-{minutes}", "version": "default", "kind": kind,
                "status": "success", "started_at": started.isoformat(),
                "finished_at": (started + timedelta(seconds=90)).isoformat(),
                "samples": 1000}).raise_for_status()
        c.post("/v1/predictions/batch", json={"model": "fraud", "records": [{"bad": 1}]})
        yield s


def _traffic(service: LiveServer, stop: threading.Event) -> None:
    """Predictions keep coming while Prometheus scrapes, so every rate() has something."""
    import io

    import pyarrow as pa

    rng = np.random.default_rng(9)
    with httpx.Client(base_url=service.url, timeout=30) as c:
        i = 0
        while not stop.is_set():
            h = 1000 + i  # ids p<h>-<k> of the batch's hour h, its times in the last hour
            start = datetime.now(UTC) - timedelta(hours=h, minutes=61)
            table, y = hour_table(rng, h, 50, drift=False, start=start)
            actuals = pa.table({"prediction_id": table.column("prediction_id"),
                                "actual": y.astype(str)})
            for kind, data in (("predictions", table), ("actuals", actuals)):
                sink = io.BytesIO()
                with pa.ipc.new_stream(sink, data.schema) as w:
                    w.write_table(data)
                c.post(f"/v1/models/fraud/{kind}/bulk", content=sink.getvalue(),
                       headers={"content-type": "application/vnd.apache.arrow.stream"})
            if i % 10 == 0:  # alert rules are evaluated after each evaluation
                c.post("/v1/evaluate")
            i += 1
            stop.wait(0.3)


def _substitute(expr: str) -> str:
    for name in sorted(VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, VARIABLES[name])
    return expr


def test_every_panel_query_returns_data_from_a_real_prometheus(service: LiveServer,
                                                               tmp_path: Path) -> None:
    stop = threading.Event()
    feeder = threading.Thread(target=_traffic, args=(service, stop), daemon=True)
    feeder.start()
    try:
        with prometheus(tmp_path, service.port) as (prom, proc):
            queries = _queries()

            def without_data() -> dict[str, str]:
                empty = {}
                for board, title, expr in queries:
                    values = [r["value"][1] for r in query(prom, _substitute(expr))]
                    if not values or all(v in ("NaN", "+Inf", "-Inf") for v in values):
                        empty[f"{board}: {title}"] = expr
                return empty

            try:
                wait_for(lambda: not without_data(), "every panel to hold data", proc, 60)
            except AssertionError:
                raise AssertionError(f"panels without data: {without_data()}") from None
            for variable, match in (("model", "modelmon_model_status"),
                                    ("version", 'modelmon_model_metric{model="fraud"}'),
                                    ("window", 'modelmon_model_metric{model="fraud"}')):
                values = prom.get(f"/api/v1/label/{variable}/values",
                                  params={"match[]": match}).json()["data"]
                assert values, variable
                if variable == "version":
                    assert "default" in values  # a real version beside "*"
    finally:
        stop.set()
        feeder.join(10)


def test_metrics_has_what_the_panels_read(service: LiveServer) -> None:
    text = httpx.get(service.url + "/metrics").text
    for needed in ('modelmon_prediction_confidence_bucket{le="0.9",model="fraud",'
                   'version="default"}',
                   'modelmon_feature_importance{feature="amount",model="fraud"} 0.2',
                   'modelmon_training_runs_total{kind="online_update",model="fraud",'
                   'status="success"} 2.0',
                   'modelmon_training_run_duration_seconds{kind="training",model="fraud"} 90.0',
                   'modelmon_model_version_created_timestamp_seconds{model="fraud",'
                   'stage="active",version="default"}'):
        assert needed in text, needed
    assert "modelmon_training_last_run_timestamp_seconds{" in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: make test installs Debian's prometheus package"
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr

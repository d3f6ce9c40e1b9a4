"""Two real ``modelmon serve`` processes on one real PostgreSQL: both ingest; one leads the
background work; it is killed (SIGKILL) in the middle of evaluating, and the other takes over
within a lease and a cycle. Afterwards every prediction is stored once, every window is
evaluated and its results stored once, each alert fired once, and every notification message
reached the receiver once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pyarrow as pa
import pytest
import yaml

from tests.evaluation.scenario import hour_table
from tests.service.test_alerts_api import FRAUD, _arrow
from tests.support.live_server import free_port
from tests.support.postgres import PostgresServer, postgres_server
from tests.support.receivers import Receiver

__all__ = ["postgres_server"]

pytestmark = pytest.mark.integration

EXE = str(Path(sys.executable).parent / "modelmon")
HOURS, DRIFT_FROM, ROWS = 20, 14, 400
LEASE = 3.0


def _config(path: Path, url: str, hook: Receiver) -> Path:
    cfg = {
        "store": {"url": url, "lease_seconds": LEASE, "pool_max": 4},
        "ingest": {"validation_workers": 0},
        # a few windows per cycle: evaluating the history takes several cycles, so the kill
        # lands in the middle of it
        "scheduler": {"interval_seconds": 0.5, "max_windows_per_cycle": 2},
        "models": [FRAUD],
        "alerts": {"external_url": "https://modelmon.example"},
        "notifications": {
            "receivers": [{"name": "team", "webhook": [{"url": f"{hook.url}/hook"}]}],
            "route": {"receiver": "team", "group_by": ["model"], "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "4h"},
            "delivery": {"min_backoff": "1s", "max_backoff": "2s"}},
    }
    out = path / "mm.yaml"
    out.write_text(yaml.safe_dump(cfg))
    return out


class Serve:
    def __init__(self, config: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.proc = subprocess.Popen([EXE, "serve", "--config", str(config), "--port",
                                      str(self.port)], cwd=config.parent, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the server exited"
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.url} not ready")

    def leads(self) -> bool:
        body = httpx.get(f"{self.url}/health", timeout=10).json()
        return bool(body["components"]["leadership"]["leader"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


@pytest.fixture
def cluster(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[dict[str, Any]]:
    url = postgres_server.create_database()
    hook = Receiver()
    config = _config(tmp_path, url, hook)
    servers = [Serve(config, tmp_path / f"server{i}.log") for i in range(2)]
    try:
        for s in servers:
            s.ready()
        yield {"servers": servers, "url": url, "hook": hook, "path": tmp_path}
    finally:
        for s in servers:
            s.stop()
        hook.close()


def _one(con: psycopg.Connection[Any], sql: str) -> Any:
    row = con.execute(sql).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def _windows_done(url: str) -> int:
    with psycopg.connect(url) as con:
        return int(_one(con, "SELECT count(*) FROM window_verdicts"))


def test_two_servers_share_the_work_and_survive_a_kill(cluster: dict[str, Any]) -> None:
    a, b = cluster["servers"]
    url, hook = cluster["url"], cluster["hook"]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=HOURS)
    rng = np.random.default_rng(7)
    arrow = {"content-type": "application/vnd.apache.arrow.stream"}
    # Ingest through both servers, hour by hour in turn; every batch is then re-sent to the
    # other server (a client retrying elsewhere): stored once.
    for h in range(HOURS):
        table, y = hour_table(rng, h, ROWS, drift=h >= DRIFT_FROM, start=start)
        acts = pa.table({"prediction_id": table.column("prediction_id"),
                         "actual": y.astype(str)})
        first, other = (a, b) if h % 2 == 0 else (b, a)
        for server in (first, other):
            r = httpx.post(f"{server.url}/v1/models/fraud/predictions/bulk",
                           content=_arrow(table), headers=arrow, timeout=60)
            assert r.status_code == 200, r.text
        httpx.post(f"{other.url}/v1/models/fraud/actuals/bulk", content=_arrow(acts),
                   headers=arrow, timeout=60).raise_for_status()
    leaders: list[Serve] = []
    settle = time.monotonic() + 10
    while time.monotonic() < settle:
        leaders = [s for s in (a, b) if s.leads()]
        if len(leaders) == 1:
            break
        time.sleep(0.2)
    assert len(leaders) == 1
    leader = leaders[0]
    survivor = b if leader is a else a
    # Kill the leader in the middle of evaluating the history.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _windows_done(url) < 4:
        time.sleep(0.05)
    done_at_kill = _windows_done(url)
    assert 0 < done_at_kill < HOURS, done_at_kill
    os.kill(leader.proc.pid, signal.SIGKILL)
    leader.proc.wait(10)
    killed_at = time.monotonic()
    # The survivor leads within a lease (and a renewal) and finishes the history.
    while time.monotonic() - killed_at < 2 * LEASE + 5 and not survivor.leads():
        time.sleep(0.1)
    assert survivor.leads(), "the survivor did not take over"
    took_over = time.monotonic() - killed_at
    while time.monotonic() < deadline + 120 and _windows_done(url) < HOURS:
        time.sleep(0.2)
    assert _windows_done(url) == HOURS
    # Alerts of the drifted hours fire and reach the receiver: the group's message, then one
    # more each group interval while the evaluation adds alerts to it; nothing twice.
    hook.wait_for(1, timeout=60)
    time.sleep(3 * LEASE)  # more cycles and group intervals: nothing more is sent
    sent_sets = [tuple(sorted(x["fingerprint"] for x in r.json()["alerts"]))
                 for r in hook.requests]
    assert all(r.json()["status"] == "firing" for r in hook.requests)
    assert len(set(sent_sets)) == len(sent_sets), "a message was sent twice"
    assert all(r.json()["groupLabels"] == {"model": "fraud"} for r in hook.requests)
    with psycopg.connect(url) as con:
        assert _one(con, "SELECT count(*) FROM pred_1") == HOURS * ROWS
        assert _one(con, "SELECT count(*) FROM pid_1") == HOURS * ROWS
        assert _one(con, "SELECT count(DISTINCT prediction_id) FROM act_1") == HOURS * ROWS
        # every window's results once: no key stored twice
        assert _one(con, "SELECT count(*) FROM (SELECT 1 FROM metric_points GROUP BY model_id, "
                         "version, segment, window_size, window_start, metric "
                         "HAVING count(*) > 1) d") == 0
        assert _one(con, "SELECT count(*) FROM (SELECT 1 FROM feature_results GROUP BY "
                         "model_id, version, segment, window_size, window_start, feature "
                         "HAVING count(*) > 1) d") == 0
        assert _one(con, "SELECT count(DISTINCT window_start) FROM metric_points") == HOURS
        # each alert fired once: one incident per fingerprint, one 'fired' line per incident
        assert _one(con, "SELECT count(*) FROM alerts") > 0
        assert _one(con, "SELECT count(*) - count(DISTINCT fingerprint) FROM alerts") == 0
        assert _one(con, "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM "
                         "alert_events WHERE event = 'firing' GROUP BY alert_id) f") == 1
        # each queued message delivered once, at its first attempt
        queued = con.execute("SELECT state, attempts FROM notifications "
                             "WHERE receiver = 'team'").fetchall()
        assert queued == [("delivered", 1)] * len(hook.requests)
        announced = {fp for fps in sent_sets for fp in fps}
        firing = {r[0] for r in con.execute(
            "SELECT fingerprint FROM alerts WHERE state = 'firing' AND NOT silenced").fetchall()}
        assert firing and firing <= announced
        owners = con.execute("SELECT owner FROM leases WHERE name = 'leader'").fetchall()
    body = httpx.get(f"{survivor.url}/health", timeout=10).json()
    assert owners == [(body["components"]["leadership"]["server"],)]
    print(json.dumps({"windows_at_kill": done_at_kill, "takeover_seconds": round(took_over, 2)}))

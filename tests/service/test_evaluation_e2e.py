"""End to end over HTTP on a real server: traffic with a known injected drift is found on the right
features in the right windows, a stable model stays quiet over a long run, and late actuals change
the past window they belong to."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest

from modelmon.config import load_settings
from tests.evaluation.scenario import hour_table
from tests.support.live_server import LiveServer, live_server

FRAUD = {
    "name": "fraud", "task": "binary_classification", "windows": ["1h"],
    "features": [{"name": "amount", "type": "numeric"}, {"name": "age", "type": "numeric"},
                 {"name": "tenure", "type": "numeric"}, {"name": "channel", "type": "categorical"}],
    "segments": ["channel"], "prediction": {"classes": [0, 1], "score": True},
}
STABLE = {**FRAUD, "name": "stable"}
HOURS = 36
DRIFT_FROM = 26


def _arrow(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()


def _send(client: httpx.Client, model: str, *, drift_from: int | None, seed: int,
          start: datetime, actuals: bool = True) -> None:
    rng = np.random.default_rng(seed)
    for h in range(HOURS):
        table, y = hour_table(rng, h, 600, drift=drift_from is not None and h >= drift_from,
                              start=start)
        r = client.post(f"/v1/models/{model}/predictions/bulk", content=_arrow(table),
                        headers={"content-type": "application/vnd.apache.arrow.stream"})
        assert r.status_code == 200, r.text
        if actuals:
            acts = pa.table({"prediction_id": table.column("prediction_id"),
                             "actual": y.astype(str)})
            r = client.post(f"/v1/models/{model}/actuals/bulk", content=_arrow(acts),
                            headers={"content-type": "application/vnd.apache.arrow.stream"})
            assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, datetime]]:
    path = tmp_path_factory.mktemp("e2e")
    settings = load_settings(env={}, overrides={
        "store": {"path": str(path / "e2e.duckdb")}, "scheduler": {"enabled": False},
        "models": [FRAUD, STABLE]})
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=HOURS)
    with live_server(settings) as s, httpx.Client(base_url=s.url, timeout=120) as c:
        _send(c, "fraud", drift_from=DRIFT_FROM, seed=1, start=start)
        _send(c, "stable", drift_from=None, seed=2, start=start)
        summary = c.post("/v1/evaluate").json()
        assert summary["windows_evaluated"] == 2 * HOURS, summary
        yield s, start


def _hour(start: datetime, window_start: str) -> int:
    return int((datetime.fromisoformat(window_start) - start).total_seconds() // 3600)


def _drifted(client: httpx.Client, model: str, start: datetime) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    url: str | None = f"/v1/models/{model}/drift?window=1h&limit=5000"
    while url:
        body: dict[str, Any] = client.get(url).json()
        for w in body["windows"]:
            if w["summary"]["drifted_features"]:
                out[_hour(start, w["start"])] = set(w["summary"]["drifted_features"])
        url = body.get("next")
    return out


def test_injected_drift_found_on_the_right_features_and_windows(server: tuple[LiveServer, datetime]) -> None:
    s, start = server
    with httpx.Client(base_url=s.url) as c:
        drifted = _drifted(c, "fraud", start)
        assert set(range(DRIFT_FROM, HOURS)) <= set(drifted)
        assert all(drifted[h] >= {"amount", "channel"} for h in range(DRIFT_FROM, HOURS))
        assert len({h for h in drifted if h < DRIFT_FROM}) <= 1  # rare chance flag at most
        status = c.get("/v1/models/fraud/status").json()
        assert status["status"] == "degraded"
        text = " | ".join(r["message"] for r in status["reasons"])
        assert "feature amount drifted" in text and "feature channel drifted" in text
        report = c.get("/v1/models/fraud/reports/latest").json()
        assert any("Retraining recommended" in r for r in report["recommendations"])


def test_stable_model_raises_no_finding_over_a_long_run(server: tuple[LiveServer, datetime]) -> None:
    s, start = server
    with httpx.Client(base_url=s.url) as c:
        flagged = _drifted(c, "stable", start)
        # Per window the family-wise error is 5 % (Holm): a chance flag in a few of 36 windows,
        # never the same feature in consecutive windows, so the status never changes.
        assert len(flagged) <= 3, flagged
        assert not any(flagged[h] & flagged.get(h + 1, set()) for h in flagged), flagged
        status = c.get("/v1/models/stable/status").json()
        assert status["status"] == "healthy", status["reasons"]
        events = c.get("/v1/models/stable/detector-events?kind=drift").json()
        assert events["events"] == []


def test_late_actuals_change_a_past_window(server: tuple[LiveServer, datetime]) -> None:
    s, start = server
    with httpx.Client(base_url=s.url, timeout=60) as c:
        # A third model receives predictions for a past hour, without ground truth.
        spec = {**FRAUD, "name": "late"}
        assert c.post("/v1/models", json=spec).status_code == 201
        rng = np.random.default_rng(5)
        past = start + timedelta(hours=3)
        table, y = hour_table(rng, 0, 400, drift=False, start=past)
        c.post("/v1/models/late/predictions/bulk", content=_arrow(table),
               headers={"content-type": "application/vnd.apache.arrow.stream"}).raise_for_status()
        c.post("/v1/models/late/evaluate").raise_for_status()
        params = {"metric": ["labelled_count", "accuracy"], "window": "1h"}

        def points() -> dict[str, Any]:
            body = c.get("/v1/models/late/metrics", params=params).json()
            return {ser["metric"]: ser["points"][0]["value"] for ser in body["series"]
                    if ser["points"]}

        before = points()
        assert before.get("labelled_count") == 0 and before.get("accuracy") is None
        # Weeks later (in event time) the ground truth arrives: that past window is re-evaluated.
        acts = pa.table({"prediction_id": table.column("prediction_id"), "actual": y.astype(str)})
        c.post("/v1/models/late/actuals/bulk", content=_arrow(acts),
               headers={"content-type": "application/vnd.apache.arrow.stream"}).raise_for_status()
        result = c.post("/v1/models/late/evaluate").json()
        assert result["windows_evaluated"] == 1
        after = points()
        assert after["labelled_count"] == 400 and 0.4 < after["accuracy"] < 1.0


def test_every_window_has_a_verdict_in_the_status_history(server: tuple[LiveServer, datetime]) -> None:
    s, start = server
    with httpx.Client(base_url=s.url) as c:
        body = c.get("/v1/models/fraud/status/history", params={"limit": 20}).json()
        assert body["window"] == "1h" and len(body["verdicts"]) == 20 and body["next"]
        rest = c.get(body["next"]).json()
        verdicts = body["verdicts"] + rest["verdicts"]
        assert rest["next"] is None and len(verdicts) == HOURS
        by_hour = {_hour(start, v["start"]): v for v in verdicts}
        degraded = sorted(h for h, v in by_hour.items() if v["status"] == "degraded")
        assert degraded == list(range(DRIFT_FROM, HOURS))
        first = by_hour[DRIFT_FROM]
        assert first["complete"] and first["n"] == 600
        assert {r["kind"] for r in first["reasons"]} >= {"quality", "drift"}
        assert all(set(r) >= {"kind", "severity", "message", "metric", "feature", "value",
                              "threshold", "baseline", "evidence"} for r in first["reasons"])
        only = c.get("/v1/models/fraud/status/history", params={"status": "degraded"}).json()
        assert len(only["verdicts"]) == HOURS - DRIFT_FROM
        assert only["counts"]["degraded"] == HOURS - DRIFT_FROM
        for params, code in (({"window": "5m"}, "unknown_window"), ({"status": "bad"}, "invalid_value"),
                             ({"window": "x"}, "invalid_value")):
            r = c.get("/v1/models/fraud/status/history", params=params)
            assert r.status_code == 422 and r.json()["code"] == code, r.text
        # fairness rows are read back by their segment column
        fair = c.get("/v1/models/fraud/metrics", params={"segment": "channel", "window": "1h",
                                                         "metric": "worst_group_accuracy"})
        assert fair.status_code == 200 and fair.json()["series"][0]["points"]


def test_backfill_of_history_over_the_api(server: tuple[LiveServer, datetime]) -> None:
    s, _ = server
    with httpx.Client(base_url=s.url, timeout=60) as c:
        spec = {**FRAUD, "name": "history", "windows": ["1d"],
                "judgement": {"window": "1d", "baseline_windows": 6}}
        assert c.post("/v1/models", json=spec).status_code == 201
        assert c.get("/v1/models/history/backfill").status_code == 404
        long_ago = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) \
            - timedelta(days=400)
        rng = np.random.default_rng(12)
        for day in range(12):
            table, y = hour_table(rng, day * 24, 300, drift=day >= 9, start=long_ago)
            c.post("/v1/models/history/predictions/bulk", content=_arrow(table),
                   headers={"content-type": "application/vnd.apache.arrow.stream"}
                   ).raise_for_status()
            acts = pa.table({"prediction_id": table.column("prediction_id"),
                             "actual": y.astype(str)})
            c.post("/v1/models/history/actuals/bulk", content=_arrow(acts),
                   headers={"content-type": "application/vnd.apache.arrow.stream"}
                   ).raise_for_status()
        started = c.post("/v1/models/history/backfill")
        assert started.status_code == 202 and started.json()["state"] == "running"
        again = c.post("/v1/models/history/backfill")
        assert again.status_code in (202, 409)
        import time

        deadline = time.monotonic() + 60
        job = started.json()
        while job["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
            job = c.get("/v1/models/history/backfill").json()
        assert job["state"] == "done", job
        assert job["summary"]["windows_evaluated"] == 12
        history = c.get("/v1/models/history/status/history").json()
        statuses = [v["status"] for v in history["verdicts"]]
        assert history["window"] == "1d" and len(statuses) == 12
        assert statuses[9:] == ["degraded"] * 3 and "degraded" not in statuses[:9]
        assert c.get("/v1/models/history/status").json()["status"] == "degraded"

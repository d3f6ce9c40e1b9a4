"""Regression tests for defects of issue 15 that had none of their own (the others live beside
the code they test; the issue's report lists them all):

- 3: records already stored with impossible event times (year 0 in UTC, the epoch), as a store
  written before times were checked holds them, never make ``POST .../evaluate`` a 500, before
  or after a restart; the other windows are evaluated;
- 5: the results routes' time parameters outside years 1-9999 in UTC are a 422, not a 500;
- 7: a model whose whole evaluation keeps failing says so in its status instead of keeping the
  status it had;
- 8: the NDJSON record shape documented in docs/api.md is what the bulk routes accept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from modelmon.evaluation.engine import Evaluator
from tests.service.test_ingest_api import error, rec, settings_for
from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.integration

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _poison(db: Path) -> None:
    """Copy a stored prediction twice with event times a checked ingest refuses."""
    with duckdb.connect(str(db)) as con:
        (mid,) = con.execute("SELECT model_id FROM models WHERE name = 'fraud'").fetchone()  # type: ignore[misc]
        for pid, when in (("year0", "0000-12-31 23:00:00"), ("epoch", "1970-01-01 00:00:00")):
            con.execute(f"INSERT INTO pred_{mid} SELECT * REPLACE ('{pid}' AS prediction_id, "
                        f"TIMESTAMP '{when}' AS event_time) FROM pred_{mid} LIMIT 1")


def test_stored_impossible_times_never_stop_evaluation(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with live_server(settings) as s, httpx.Client(base_url=s.url, timeout=60) as c:
        batch = {"model": "fraud", "records": [rec(f"p{i}") for i in range(50)]}
        c.post("/v1/predictions/batch", json=batch).raise_for_status()
    _poison(tmp_path / "mm.duckdb")
    for restart in range(2):  # and again after a restart
        with live_server(settings) as s, httpx.Client(base_url=s.url, timeout=60) as c:
            assert c.get("/v1/models/fraud/counts").json()["predictions"] == 52
            r = c.post("/v1/models/fraud/evaluate")
            assert r.status_code == 200, r.text
            assert r.json()["error"] is None and r.json()["windows_failed"] == 0, r.json()
            assert r.json()["windows_evaluated"] > 0 or restart  # nothing new the second time
            assert c.post("/v1/evaluate").status_code == 200
            status = c.get("/v1/models/fraud/status")
            assert status.status_code == 200 and status.json()["status"] != "no_data", status.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(settings_for(tmp_path_factory.mktemp("i15"))) as s:
        yield s


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.mark.parametrize("path", ["metrics", "drift", "data-quality", "status/history",
                                  "detector-events", "compare-versions"])
@pytest.mark.parametrize(("name", "value"), [("start", "0001-01-01T00:00:00+01:00"),
                                             ("end", "9999-12-31T23:59:59-01:00")])
def test_time_parameters_beyond_the_calendar_are_a_422(client: httpx.Client, path: str,
                                                       name: str, value: str) -> None:
    extra = {"a": "v1", "b": "v2"} if path == "compare-versions" else {}
    body = error(client.get(f"/v1/models/fraud/{path}", params={name: value, **extra}), 422,
                 "timestamp_out_of_range")
    assert name in body["message"]


def test_a_model_whose_evaluation_keeps_failing_says_so(server: LiveServer,
                                                        client: httpx.Client,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    client.post("/v1/predictions/batch", json={"model": "price", "records": [
        {"prediction_id": f"r{i}", "features": {"area": 50.0 + i}, "prediction": 1.0}
        for i in range(30)]}).raise_for_status()
    assert client.post("/v1/models/price/evaluate").status_code == 200
    before = client.get("/v1/models/price/status").json()
    assert not any(r["kind"] == "evaluation" for r in before["reasons"])

    real = Evaluator._evaluate_model

    def broken(self: Evaluator, spec: Any, *args: Any, **kwargs: Any) -> Any:
        if spec.name == "price":
            raise OverflowError("date value out of range: /srv/data/secret.parquet")
        return real(self, spec, *args, **kwargs)

    monkeypatch.setattr(Evaluator, "_evaluate_model", broken)
    for _ in range(2):
        summary = client.post("/v1/evaluate")
        assert summary.status_code == 200, summary.text
    after = client.get("/v1/models/price/status").json()
    failing = [r for r in after["reasons"] if r["kind"] == "evaluation"]
    assert failing, after
    assert "failed 2 time(s)" in failing[0]["message"]
    assert "OverflowError" in failing[0]["message"] and "/srv" not in failing[0]["message"]
    assert after["status"] != "ok"
    assert "/srv" not in httpx.get(f"{server.url}/health").text


def _ndjson_example() -> str:
    text = DOCS.read_text()
    section = text[text.index("**NDJSON**"):]
    return re.search(r"```\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_the_documented_ndjson_records_are_accepted(client: httpx.Client) -> None:
    body = _ndjson_example()
    assert body.count("\n") == 2
    client.post("/v1/models", json={  # the model the example's records are for
        "name": "documented", "task": "binary_classification",
        "features": [{"name": "amount", "type": "numeric"},
                     {"name": "country", "type": "categorical"}],
        "segments": ["channel"], "prediction": {"classes": [0, 1], "score": True},
    }).raise_for_status()
    r = client.post("/v1/models/documented/predictions/bulk", content=body.encode(),
                    headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    got = client.get("/v1/models/documented/predictions/p-1").json()
    assert got["score"] == 0.91 and got["feature.country"] == "DE" and got["label"] == "1"
    actuals = '{"prediction_id": "p-1", "actual": 1}\n{"prediction_id": "p-2", "actual": 0, "timestamp": "2026-01-31T13:00:00Z"}\n'
    r = client.post("/v1/models/documented/actuals/bulk", content=actuals.encode(),
                    headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text

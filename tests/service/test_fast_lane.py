"""The fast lane for ``POST /v1/predictions`` and ``/v1/predictions/batch`` (modelmon.service.fast_lane).

The ingest API tests already run through the lane (status codes, error bodies, API key, body
limit, request ids); these check what is particular to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.routing import APIRouter

from modelmon.config import load_settings
from modelmon.service.fast_lane import ModelmonAPI
from tests.support.live_server import LiveServer, live_server
from tests.support.models import INGEST_MODELS

RECORD: dict[str, Any] = {
    "model": "fraud", "score": 0.7,
    "features": {"amount": 1.0, "country": "DE", "online": True, "score_in": 0.1},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("lane")
    settings = load_settings(env={}, overrides={
        "store": {"path": str(path / "mm.duckdb")}, "models": INGEST_MODELS,
        "scheduler": {"enabled": False}, "server": {"api_key": "s3cret"},
    })
    with live_server(settings) as s:
        yield s


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"Authorization": "Bearer s3cret"}) as c:
        yield c


def test_lane_routes_bypass_fastapi_routing(server: LiveServer, client: httpx.Client,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = FastAPI.__call__

    async def spy(self: Any, scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(FastAPI, "__call__", spy)
    assert client.post("/v1/predictions", json=RECORD).status_code == 200
    assert client.post("/v1/predictions/batch",
                       json={"model": "fraud", "records": [RECORD]}).status_code == 200
    assert client.get("/v1/models/fraud/counts").status_code == 200
    assert calls == ["/v1/models/fraud/counts"]


def test_lane_keeps_the_service_contract(client: httpx.Client) -> None:
    resp = client.post("/v1/predictions", json=RECORD, headers={"X-Request-ID": "lane-1"})
    assert resp.status_code == 200
    assert resp.headers["x-request-id"] == "lane-1"
    assert len(resp.json()["ids"]) == 1
    # API key, validation errors and the metrics' route label as on every other route.
    resp = client.post("/v1/predictions", json=RECORD, headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401 and resp.json()["code"] == "unauthorized"
    resp = client.post("/v1/predictions/batch", json={"model": "fraud", "records": [{"score": 2}]})
    assert resp.status_code == 422 and resp.json()["loc"][0] == "records"
    metrics = client.get("/metrics").text
    assert ('modelmon_http_requests_total{method="POST",route="/v1/predictions",status="200"}'
            in metrics)
    assert 'route="/v1/predictions/batch",status="422"' in metrics
    # Still described in the OpenAPI document.
    paths = client.get("/openapi.json").json()["paths"]
    assert "post" in paths["/v1/predictions"] and "post" in paths["/v1/predictions/batch"]


def test_a_bug_is_a_500_with_the_error_shape_and_the_server_goes_on(
    server: LiveServer, client: httpx.Client, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(server.state.coalescer, "validate", broken)
    resp = client.post("/v1/predictions", json=RECORD)
    assert resp.status_code == 500
    assert resp.json() == {"code": "internal_error", "message": "internal error; nothing was stored",
                           "loc": []}
    assert resp.headers["x-request-id"]
    monkeypatch.undo()
    assert client.post("/v1/predictions", json=RECORD).status_code == 200


def test_every_lane_path_must_be_a_route() -> None:
    app = ModelmonAPI()
    router = APIRouter(prefix="/v1")

    @router.post("/a")
    async def a(request: Request) -> None:
        return None

    with pytest.raises(ValueError, match="/v1/b"):
        app.add_fast_lane({"/v1/a": a, "/v1/b": a}, router, lambda lane: lane)  # type: ignore[dict-item]


def test_startup_warm_up_writes_nothing(tmp_path: Path) -> None:
    settings = load_settings(env={}, overrides={
        "store": {"path": str(tmp_path / "mm.duckdb")}, "models": INGEST_MODELS,
        "scheduler": {"enabled": False},
    })
    with live_server(settings) as s, httpx.Client(base_url=s.url) as c:
        for model in ("fraud", "price", "species"):
            assert c.get(f"/v1/models/{model}/counts").json()["predictions"] == 0

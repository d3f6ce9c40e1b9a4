"""Structured JSON logs carry the request id (the one the client sent, or a new one) and model."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import httpx

from modelmon.service.logs import configure_logging
from tests.service.test_ingest_api import rec, settings_for
from tests.support.live_server import live_server


def test_json_access_log_with_request_id_and_model(tmp_path: Path) -> None:
    buf = io.StringIO()
    configure_logging("info", "json", stream=buf)
    try:
        with live_server(settings_for(tmp_path, server={"access_log": True})) as s, httpx.Client(
            base_url=s.url
        ) as c:
            c.post("/v1/predictions", json={"model": "fraud", **rec("l1")},
                   headers={"X-Request-ID": "req-abc"})
            c.get("/health/live")
    finally:
        for name in ("modelmon", "uvicorn", "uvicorn.error"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    lines = [json.loads(line) for line in buf.getvalue().splitlines() if line.startswith("{")]
    access = [r for r in lines if r["logger"] == "modelmon.access"]
    post = next(r for r in access if r["message"].startswith("POST /v1/predictions"))
    assert post["request_id"] == "req-abc" and post["model"] == "fraud" and post["status"] == 200
    assert {"ts", "level", "logger", "message", "duration_seconds"} <= set(post)
    live = next(r for r in access if "/health/live" in r["message"])
    assert len(live["request_id"]) == 32 and "model" not in live

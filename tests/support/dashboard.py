"""A live service with a model whose traffic drifts and degrades part-way, evaluated and alerting:
what the dashboard tests (HTTP and browser) look at. Optionally with API keys (an admin key
``admin-key`` named alice, a read-only key ``read-key`` named viewer)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa

from modelmon.config import load_settings
from tests.evaluation.scenario import hour_table
from tests.support.live_server import LiveServer, live_server

ADMIN_KEY, READ_KEY = "admin-key", "read-key"
HOURS, DRIFT_FROM = 30, 22

FRAUD: dict[str, Any] = {
    "name": "fraud", "task": "binary_classification", "windows": ["1h"], "owner": "risk-ml",
    "labels": {"team": "risk"},
    "features": [{"name": "amount", "type": "numeric"}, {"name": "age", "type": "numeric"},
                 {"name": "tenure", "type": "numeric"}, {"name": "channel", "type": "categorical"}],
    "segments": ["channel"], "prediction": {"classes": [0, 1], "score": True},
}


def _arrow(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()


@contextmanager
def dashboard_server(path: Path, *, keys: bool = False) -> Iterator[LiveServer]:
    """The service with 30 hourly windows of 'fraud' (drifting from hour 22), evaluated."""
    server: dict[str, Any] = {}
    if keys:
        server["api_keys"] = [{"key": ADMIN_KEY, "role": "admin", "name": "alice"},
                              {"key": READ_KEY, "role": "read", "name": "viewer"}]
    settings = load_settings(env={}, overrides={
        "store": {"path": str(path / "dash.duckdb")}, "scheduler": {"enabled": False},
        "server": server, "models": [FRAUD], "ingest": {"validation_workers": 0}})
    headers = {"x-api-key": ADMIN_KEY} if keys else {}
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=HOURS)
    arrow = {"content-type": "application/vnd.apache.arrow.stream"}
    with live_server(settings) as s, httpx.Client(base_url=s.url, timeout=120,
                                                  headers=headers) as c:
        rng = np.random.default_rng(4)
        for h in range(HOURS):
            table, y = hour_table(rng, h, 600, drift=h >= DRIFT_FROM, start=start)
            c.post("/v1/models/fraud/predictions/bulk", content=_arrow(table),
                   headers=arrow).raise_for_status()
            acts = pa.table({"prediction_id": table.column("prediction_id"),
                             "actual": y.astype(str)})
            c.post("/v1/models/fraud/actuals/bulk", content=_arrow(acts),
                   headers=arrow).raise_for_status()
        for hours, amount in ((HOURS, 0.5), (HOURS // 2, 0.45), (1, 0.2)):
            c.post("/v1/models/fraud/feature-importance", json={
                "timestamp": (now - timedelta(hours=hours)).isoformat(),
                "importances": {"amount": amount, "age": 0.3, "tenure": 0.1 + (0.5 - amount),
                                "channel": 0.1}}).raise_for_status()
        c.post("/v1/evaluate").raise_for_status()
        yield s

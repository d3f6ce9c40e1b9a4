"""``/metrics`` passes Prometheus's own linter and follows its naming conventions."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx

from tests.service.test_ingest_api import rec, settings_for
from tests.support.live_server import live_server

PROMTOOL = shutil.which("promtool")


def test_promtool_check_metrics(tmp_path: Path) -> None:
    assert PROMTOOL, "promtool is missing: make test installs Debian's prometheus package"
    with live_server(settings_for(tmp_path)) as s, httpx.Client(base_url=s.url) as c:
        c.post("/v1/predictions/batch", json={"model": "fraud", "records": [rec("m1"), rec("m1")]})
        c.post("/v1/predictions/batch", json={"model": "fraud", "records": [rec(score=9.0)]})
        c.get("/v1/nothing")
        body = c.get("/metrics").text
        om = c.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    done = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    for needed in ("modelmon_http_requests_total", "modelmon_http_request_duration_seconds_bucket",
                   "modelmon_ingested_records_total", "modelmon_ingest_duplicates_total",
                   "modelmon_ingest_rejected_total", "modelmon_store_size_bytes",
                   "modelmon_store_commit_duration_seconds_bucket", "process_resident_memory_bytes",
                   "modelmon_ingest_queue_rows"):
        assert needed in body, needed
    held = re.search(r"^modelmon_store_memory_bytes (\S+)$", body, re.M)
    assert held is not None and float(held.group(1)) > 0  # DuckDB holds the written rows
    # Route templates, never raw paths, keep label cardinality bounded.
    assert 'route="/v1/predictions/batch"' in body and 'route="unmatched"' in body
    assert "/v1/nothing" not in body
    names = set(re.findall(r"^# TYPE (\S+) (\S+)", body, flags=re.M))
    for name, kind in names:
        assert not re.search(r"_(ms|milliseconds|percent)$", name), name
        if kind == "counter":
            assert name.endswith("_total") or not name.startswith("modelmon_"), name

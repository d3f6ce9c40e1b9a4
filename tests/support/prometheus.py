"""A real Prometheus (Debian's package) on a free loopback port, scraping one target every
second, with temporary storage."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.live_server import free_port

PROMETHEUS = shutil.which("prometheus")


@contextmanager
def prometheus(folder: Path, target_port: int) -> Iterator[tuple[httpx.Client, Any]]:
    """``(client of its HTTP API, its process)``; ready when yielded, stopped after."""
    assert PROMETHEUS, "prometheus is missing: make test installs Debian's prometheus package"
    port = free_port()
    config = folder / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: modelmon\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{target_port}']\n")
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={folder / 'prom'}",
         f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle",
         f"--web.external-url={base}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            wait_for(lambda: _ready(client), "Prometheus to be ready", proc)
            yield client, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ready(prom: httpx.Client) -> bool:
    try:
        return prom.get("/-/ready").status_code == 200
    except httpx.TransportError:
        return False


def query(prom: httpx.Client, expr: str) -> list[dict[str, Any]]:
    """The instant query's result (asserting Prometheus accepted it)."""
    body = prom.get("/api/v1/query", params={"query": expr}).json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def wait_for(check: Any, what: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> Any:
    """Poll ``check`` until it returns something true (failing if Prometheus exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {proc.stderr.read().decode()[-2000:]}"
                                 if proc.stderr else "prometheus exited")
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")

"""A full disk, for real: the store on a small tmpfs filled up. Health says so (it stayed healthy
while every commit failed) and recovers once commits succeed again; no answer names the store's
files; shutdown logs one line instead of a traceback.

Mounting needs root (as on the project's machines and CI); elsewhere these tests are skipped."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.test_ingest_api import rec, settings_for
from tests.support.live_server import live_server


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def batch(n: int, prefix: str) -> dict[str, object]:
    return {"model": "fraud", "records": [rec(f"{prefix}{i}", error="x" * 200) for i in range(n)]}


def test_health_reports_failing_commits_and_recovers(disk: Path) -> None:
    with live_server(settings_for(disk, scheduler={"enabled": False})) as s, \
            httpx.Client(base_url=s.url, timeout=30) as c:
        assert c.post("/v1/predictions/batch", json=batch(10, "a")).status_code == 200
        filler = fill(disk)
        r = c.post("/v1/predictions/batch", json=batch(500, "b"))
        assert r.status_code == 503 and r.json()["code"] == "store_unavailable"
        assert str(disk) not in r.text and "No space" not in r.text
        health = c.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "unhealthy"
        reason = health.json()["components"]["store"]["error"]
        assert "commits failed" in reason and str(disk) not in health.text
        ready = c.get("/health/ready")
        assert ready.status_code == 503 and "commits failed" in ready.json()["reason"]
        filler.unlink()
        assert c.post("/v1/predictions/batch", json=batch(500, "b")).status_code == 200
        assert c.get("/health").json()["status"] == "healthy"
        assert c.get("/health/ready").json() == {"status": "ready"}


def test_shutdown_on_a_full_disk_logs_one_line(disk: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_for(disk, scheduler={"enabled": False})
    with caplog.at_level(logging.INFO), live_server(settings) as s, \
            httpx.Client(base_url=s.url, timeout=30) as c:
        for i in range(3):  # data in the write-ahead log for the closing checkpoint to fold in
            assert c.post("/v1/predictions/batch", json=batch(500, f"c{i}")).status_code == 200
        fill(disk)
    lines = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].getMessage().startswith("shutdown: could not fold the write-ahead log")
    assert all(r.exc_info is None for r in caplog.records)
    assert "replayed when the store opens again" in lines[0].getMessage()

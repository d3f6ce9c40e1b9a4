"""A full disk, for real: the store on a small tmpfs filled up. Health says so (it stayed healthy
while every commit failed) and recovers once commits succeed again; no answer names the store's
files; shutdown logs one line instead of a traceback.

The small filesystem is a tmpfs of 16 MiB, else (where tmpfs cannot be mounted) an ext4 image of
16 MiB loop-mounted; both need root, as on the project's machines and CI. Where neither can be
mounted these tests fail, naming why: a disk-full test that does not run proves nothing."""

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


def _run(*argv: str) -> str:
    """'' when the command succeeded, else what it said."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"{argv[0]}: {exc}"
    return "" if done.returncode == 0 else f"{' '.join(argv)}: {done.stderr.strip()}"


def mount_small_filesystem(mount: Path, image: Path, kinds: tuple[str, ...]) -> None:
    """A 16 MiB filesystem at ``mount``: the first of ``kinds`` (tmpfs, loop) that mounts."""
    problems = []
    for kind in kinds:
        if kind == "tmpfs":
            problem = _run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount))
        else:
            with open(image, "wb") as f:
                f.truncate(16 * 2**20)
            problem = (_run("mkfs.ext4", "-q", "-F", "-m", "0", str(image))
                       or _run("mount", "-o", "loop", str(image), str(mount)))
        if not problem:
            return
        problems.append(problem)
    pytest.fail("no small filesystem can be mounted here (run as root): " + "; ".join(problems))


@pytest.fixture(params=["tmpfs", "loop"])
def disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """The tmpfs (else the loop-mounted image), and the loop-mounted image on its own so the
    fallback is known to work."""
    mount = tmp_path / "disk"
    mount.mkdir()
    kinds = ("tmpfs", "loop") if request.param == "tmpfs" else ("loop",)
    mount_small_filesystem(mount, tmp_path / "disk.img", kinds)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk: Path, name: str = "filler") -> Path:
    filler = disk / name
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
        assert int(r.headers["Retry-After"]) > 0
        assert str(disk) not in r.text and "No space" not in r.text
        # A single record may still fit in a page the store's log file already holds: such a
        # write is stored and acknowledged (ext4 holds a few blocks ahead); later ones are not.
        top_up = fill(disk, "top-up")
        singles = [c.post("/v1/predictions", json={"model": "fraud", **rec(f"s{i}", error="x" * 4000)})
                   for i in range(20)]
        stored_singles = sum(one.status_code == 200 for one in singles)
        refused = [one for one in singles if one.status_code != 200]
        assert refused, [one.status_code for one in singles]
        for one in refused:
            assert one.status_code == 503 and one.json()["code"] == "store_unavailable", one.text
            assert int(one.headers["Retry-After"]) > 0
        health = c.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "unhealthy"
        reason = health.json()["components"]["store"]["error"]
        assert "commits failed" in reason and str(disk) not in health.text
        ready = c.get("/health/ready")
        assert ready.status_code == 503 and "commits failed" in ready.json()["reason"]
        filler.unlink()
        top_up.unlink()
        assert c.post("/v1/predictions/batch", json=batch(500, "b")).status_code == 200
        assert c.get("/health").json()["status"] == "healthy"
        assert c.get("/health/ready").json() == {"status": "ready"}
        # nothing of the refused requests was stored, everything acknowledged was
        assert c.get("/v1/models/fraud/counts").json()["predictions"] == 510 + stored_singles


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

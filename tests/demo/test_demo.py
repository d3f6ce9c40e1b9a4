"""``modelmon demo`` itself, started as a user would, reaches the expected statuses: the drifting
model degraded with the right features named, the slow one flagged, the healthy one healthy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.support.live_server import free_port

EXPECTED = {"fraud": "degraded", "intent": "warning", "price": "healthy"}


def _statuses(url: str) -> dict[str, dict]:  # type: ignore[type-arg]
    out = {}
    for model in EXPECTED:
        r = httpx.get(f"{url}/v1/models/{model}/status", timeout=10)
        if r.status_code == 200:
            out[model] = r.json()
    return out


def test_demo_reaches_the_expected_statuses(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    exe = Path(sys.executable).parent / "modelmon"
    # Shorter timeline than the default (change after 30 s, 5 s windows) to keep the suite fast.
    proc = subprocess.Popen(
        [str(exe), "demo", "--port", str(port), "--directory", str(tmp_path / "demo"),
         "--change-after", "30", "--window", "5s", "--no-live"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    last: dict[str, dict] = {}  # type: ignore[type-arg]
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            time.sleep(3)
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else "demo exited"
            try:
                last = _statuses(url)
            except httpx.HTTPError:
                continue
            got = {m: s.get("status") for m, s in last.items()}
            if got == EXPECTED:
                break
        assert {m: s.get("status") for m, s in last.items()} == EXPECTED, last
        fraud = " | ".join(r["message"] for r in last["fraud"]["reasons"])
        assert any(r["kind"] == "quality" and "vs baseline" in r["message"]
                   for r in last["fraud"]["reasons"]), fraud
        assert "amount" in fraud and "merchant_risk" in fraud  # the features that really drifted
        drifted = {r["feature"] for r in last["fraud"]["reasons"] if r["kind"] == "drift"}
        assert {"amount", "merchant_risk"} <= drifted
        assert not drifted & {"country", "account_age_days", "is_online"}, drifted
        intent = " | ".join(r["message"] for r in last["intent"]["reasons"])
        assert "latency_p95_seconds" in intent
        assert last["price"]["reasons"] == []
        overview = httpx.get(f"{url}/v1/overview", timeout=10).json()
        assert {m["model"]: m["status"] for m in overview["models"]} == EXPECTED
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C stops everything cleanly (SIGTERM too)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert proc.returncode == 0, out[-3000:]
    assert "demo stopped" in out

"""``modelmon demo`` itself, started as a user would, reaches the expected statuses (the drifting
model degraded with the right features named, the slow one flagged, the healthy one healthy)
and fires the expected alerts; fraud's critical alert rolls it back to v1 on the simulated
serving system (its accuracy recovers, its drift stays); then it recovers, the models are
healthy and the alerts resolve."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


#: Alerts the change must fire (rule, model, an identifying label or None).
FIRED = {("FeatureDrift", "fraud", "amount"), ("FeatureDrift", "fraud", "merchant_risk"),
         ("AccuracyDrop", "fraud", None), ("ModelDegraded", "fraud", None),
         ("LatencyP95High", "intent", None)}
RECOVER_AFTER = 110.0


def _fired(url: str) -> set[tuple[str, str, str | None]]:
    alerts = httpx.get(f"{url}/v1/alerts", params={"state": "firing"}, timeout=10).json()["alerts"]
    return {(a["rule"], a["model"], a["labels"].get("feature")) for a in alerts}


def _wait(what: str, check: Callable[[], bool], deadline: float,
          proc: subprocess.Popen[str]) -> None:
    while time.monotonic() < deadline:
        time.sleep(1.5)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else "demo exited"
        try:
            if check():
                return
        except httpx.HTTPError:
            continue
    raise AssertionError(f"the demo never reached: {what}")


def test_demo_reaches_the_expected_statuses_alerts_and_recovers(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    exe = Path(sys.executable).parent / "modelmon"
    # Shorter timeline than the default (change after 30 s, 5 s windows) to keep the suite fast.
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(exe), "demo", "--port", str(port), "--directory", str(tmp_path / "demo"),
         "--change-after", "30", "--recover-after", str(RECOVER_AFTER), "--window", "5s",
         "--no-live"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    last: dict[str, dict] = {}  # type: ignore[type-arg]
    fired: set[tuple[str, str, str | None]] = set()
    try:
        # fraud is degraded by v2 until its rollback: each model's changed status is kept as
        # seen (the rollback may come between two polls)
        def changed() -> bool:
            nonlocal fired
            now = _statuses(url)
            fired |= _fired(url)
            for model, st in now.items():
                quality = any(r["kind"] == "quality" for r in st.get("reasons", []))
                if st.get("status") == EXPECTED[model] and (model != "fraud" or quality):
                    last[model] = st
            return set(last) == set(EXPECTED) and fired >= FIRED

        _wait("the changed state", changed, started + RECOVER_AFTER, proc)
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
        assert not {a for a in fired if a[1] == "price"}, fired  # the healthy model never alerts
        # the overview says the same (polled: a window judged between two requests, on a
        # loaded machine, may show a model's status a moment before or after the change)
        seen: list[dict[str, Any]] = []

        def overview_agrees() -> bool:
            models = httpx.get(f"{url}/v1/overview", timeout=10).json()["models"]
            by = {m["model"]: m for m in models}
            seen.append({m: (e["status"], [r["message"] for r in e["reasons"]][:3])
                         for m, e in by.items()})
            return (by["intent"]["status"] == "warning" and by["price"]["status"] == "healthy"
                    and "FeatureDrift" in {a["rule"] for a in by["fraud"]["alerts"]})

        try:
            _wait("the overview's statuses", overview_agrees, time.monotonic() + 45, proc)
        except AssertionError:
            raise AssertionError(f"the overview never agreed; last seen: {seen[-3:]}") from None
        # ... and the dashboard tells the same story
        page = httpx.get(f"{url}/ui/", timeout=30).text
        assert re.search(r'data-model="fraud">.*?badge (degraded|warning)', page, re.S)
        drift = httpx.get(f"{url}/ui/models/fraud/drift", timeout=30).text
        top = re.findall(r'<tr data-feature="([^"]+)">', drift)[:4]
        assert {"amount", "merchant_risk"} <= set(top), top
        assert "FeatureDrift" in httpx.get(f"{url}/ui/alerts", timeout=30).text

        # fraud's critical alert rolled it back: the serving system serves v1 again, the
        # registry says so, accuracy recovers while the drift stays (before the recovery)
        def rolled_back() -> bool:
            done = httpx.get(f"{url}/v1/actions", params={"action": "rollback"},
                             timeout=10).json()["actions"]
            return any(a["state"] == "succeeded" for a in done)

        _wait("the rollback", rolled_back, started + RECOVER_AFTER, proc)
        [rollback] = httpx.get(f"{url}/v1/actions", timeout=10).json()["actions"]
        assert rollback["state"] == "succeeded" and rollback["model"] == "fraud"
        assert rollback["trigger"]["rule"] == "ModelDegraded"
        assert rollback["trigger"]["severity"] == "critical"
        assert (rollback["details"]["from_version"], rollback["details"]["to_version"]) == (
            "v2", "v1")
        versions = httpx.get(f"{url}/v1/models/fraud/versions", timeout=10).json()["versions"]
        assert {v["version"]: v["stage"] for v in versions} == {"v1": "active",
                                                              "v2": "rolled_back"}
        serving = httpx.get(rollback["request"]["url"].removesuffix("/rollback"),
                            timeout=10).json()
        assert serving["version"] == "v1"
        assert serving["deployments"][-1] == {"version": "v1", "by": "modelmon rollback",
                                              "from": "v2"}

        def accuracy_recovered() -> bool:
            now = _fired(url)
            return (("FeatureDrift", "fraud", "amount") in now
                    and not {a for a in now if a[:2] == ("AccuracyDrop", "fraud")})

        _wait("fraud's accuracy back while its drift stays", accuracy_recovered,
              started + RECOVER_AFTER, proc)

        # the traffic is as before: the models recover and the change's alerts resolve
        def recovered() -> bool:
            statuses = {m: s.get("status") for m, s in _statuses(url).items()}
            return set(statuses.values()) == {"healthy"} and not FIRED & _fired(url)

        _wait("recovery", recovered, time.monotonic() + 120, proc)

        def resolved() -> bool:  # every incident of the change, however many there were
            found = httpx.get(f"{url}/v1/alerts/history", timeout=10, params={
                "state": "resolved", "model": "fraud", "limit": 10_000}).json()["alerts"]
            return {"FeatureDrift", "AccuracyDrop", "ModelDegraded"} <= {a["rule"] for a in found}

        _wait("fraud's incidents resolved", resolved, time.monotonic() + 30, proc)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C stops everything cleanly (SIGTERM too)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert proc.returncode == 0, out[-3000:]
    assert "demo stopped" in out
    assert f"dashboard:          {url}/ui/" in out
    # the alerts as the demo printed them while they fired and resolved
    assert re.search(r"FIRING +\S+ +FeatureDrift\{feature=amount\}", out), out[-3000:]
    assert re.search(r"FIRING +warning +LatencyP95High", out), out[-3000:]
    assert re.search(r"RESOLVED +\S+ +FeatureDrift\{feature=amount\}", out), out[-3000:]
    assert re.search(r"ROLLBACK fraud v2 -> v1 \(succeeded; ModelDegraded critical\)", out), \
        out[-3000:]

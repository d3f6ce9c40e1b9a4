"""Notifications: 1,000 alerts firing at once, grouped and delivered to a local webhook; what the
notification pipeline adds to an evaluation cycle.

Targets (issue 13): 1,000 alerts delivered in <= 2 s; <= 5 ms added to a cycle.

Delivery: one evaluation cycle of 100 models fires 10 drift alerts each (1,000 alerts, written
in one transaction, as the evaluator's cycle does); the dispatcher groups them (by model: 100
messages; by alert name: one message of 1,000 alerts) and the delivery posts them to a webhook
receiver on loopback (a threaded HTTP server in this process). Timed from the cycle's start to
the receiver holding every alert.

Overhead: the alerting benchmark's cycle (100 models x 50 rules, about 530 alerts active, a
fifth of them changing state every cycle so notifications keep flowing) with and without the
notification service. What it adds to a cycle is the listener's time on the evaluation thread
plus the CPU time the dispatcher and delivery threads spend per cycle (measured per thread,
which could at worst hold the interpreter lock during a cycle); the medians of 20 cycles with
and without are shown beside it (on a loaded two-core machine they differ by more than the
pipeline's cost, either way).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psutil

from benchmarks._common import print_table
from benchmarks.bench_alerts import _context, _rules, _specs
from modelmon.alerts.conditions import ModelContext
from modelmon.alerts.engine import AlertEngine
from modelmon.alerts.rules import AlertRule
from modelmon.judgement import FeatureFacts, WindowFacts
from modelmon.notify.config import NotificationSettings
from modelmon.notify.service import NotificationService
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.vocabulary import Status, Task


class _Sink:
    """A webhook receiver counting the alerts it was sent."""

    def __init__(self) -> None:
        self.alerts = 0
        self.messages = 0
        self.done = threading.Event()
        self.expect = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                n = len(orjson.loads(body)["alerts"])
                with sink.lock:
                    sink.alerts += n
                    sink.messages += 1
                    if sink.alerts >= sink.expect:
                        sink.done.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _drift_context(model: str, at: datetime) -> ModelContext:
    features = [FeatureFacts(f"f{j}", "numeric", "normalized_wasserstein", 0.4, 0.1, True, 1000)
                for j in range(10)]
    facts = WindowFacts(model, Task.BINARY, "1h", at - timedelta(hours=1), at, 1000,
                        features=features)
    return ModelContext(model, {"model": model}, at, "1h", Status.WARNING, facts, [])


def delivery(quick: bool) -> list[dict[str, Any]]:
    rows = []
    models = 20 if quick else 100
    for group_by in (["model"], ["alertname"]):
        tmp = Path(tempfile.mkdtemp(prefix="mm-bench-notify-"))
        store = DuckDBStore(str(tmp / "notify.duckdb"))
        store.open()
        sink = _Sink()
        sink.expect = models * 10
        rule = AlertRule.model_validate({"name": "FeatureDrift",
                                         "condition": {"kind": "drift", "feature": "*"}})
        engine = AlertEngine(store.alerts, [(rule, "config")])
        settings = NotificationSettings.model_validate({
            "receivers": [{"name": "hook", "webhook": [{"url": sink.url}]}],
            "route": {"receiver": "hook", "group_by": group_by, "group_wait": "0s"}})
        service = NotificationService(settings, store, engine, lambda: datetime.now(UTC),
                                      "http://modelmon").start()
        specs = _specs(models)
        now = datetime.now(UTC)
        contexts = [_drift_context(s.name, now) for s in specs]
        t0 = time.perf_counter()
        with engine.deferred():
            for spec, ctx in zip(specs, contexts, strict=True):
                engine.evaluate_model(spec, ctx)
        cycle = time.perf_counter() - t0
        delivered = sink.done.wait(30)
        took = time.perf_counter() - t0
        service.stop()
        store.close()
        sink.server.shutdown()
        rows.append({"case": f"{models * 10:,} alerts firing at once, grouped by "
                             f"{', '.join(group_by)}",
                     "messages": sink.messages, "alerts delivered": sink.alerts,
                     "cycle_s": cycle, "fired to delivered_s": took if delivered else float("nan"),
                     "target_s": 2.0})
    return rows


def overhead(quick: bool) -> list[dict[str, Any]]:
    rows = []
    for interval in ("5m", "1s"):
        rows.append(_overhead(quick, interval))
    return rows


def _overhead(quick: bool, interval: str) -> dict[str, Any]:
    models = 20 if quick else 100
    out = {}
    for listening in (False, True):
        tmp = Path(tempfile.mkdtemp(prefix="mm-bench-notify-cycle-"))
        store = DuckDBStore(str(tmp / "cycle.duckdb"))
        store.open()
        sink = _Sink()
        sink.expect = 10**9
        engine = AlertEngine(store.alerts, [(r, "config") for r in _rules()])
        service = None
        if listening:
            settings = NotificationSettings.model_validate({
                "receivers": [{"name": "hook", "webhook": [{"url": sink.url}]}],
                "route": {"receiver": "hook", "group_by": ["model"], "group_wait": "0s",
                          "group_interval": interval}})
            service = NotificationService(settings, store, engine, lambda: datetime.now(UTC),
                                          "http://modelmon").start()
            listener = engine.listeners[0]
            engine.listeners[0] = lambda changes: _timed(listener, changes, spent)
        specs = _specs(models)
        rng = np.random.default_rng(0)
        times = []
        spent: list[float] = []
        cpu0 = 0.0
        for c in range(25):
            contexts = [_flapping(_context(s, c, rng), c) for s in specs]
            if c == 5:
                cpu0, spent[:] = _notify_cpu(), []
            t0 = time.perf_counter()
            with engine.deferred():
                for spec, ctx in zip(specs, contexts, strict=True):
                    engine.evaluate_model(spec, ctx)
            if c >= 5:
                times.append(time.perf_counter() - t0)
            time.sleep(0.3)  # the cycles are apart, as the scheduler's are
        background = (_notify_cpu() - cpu0) / 20 * 1000
        if service is not None:
            service.stop()
        store.close()
        sink.server.shutdown()
        out[listening] = (statistics.median(times) * 1000, sum(spent) / 20 * 1000, background,
                          sink.messages)
    return {"case": f"{models} models x 50 rules, one cycle, group_interval {interval}",
            "listener_ms": out[True][1], "dispatch+delivery CPU_ms": out[True][2],
            "added_ms": out[True][1] + out[True][2], "target_added_ms": 5.0,
            "messages sent": out[True][3], "median without_ms": out[False][0],
            "median with_ms": out[True][0]}


def _timed(listener: Any, changes: Any, spent: list[float]) -> None:
    t0 = time.perf_counter()
    listener(changes)
    spent.append(time.perf_counter() - t0)


def _flapping(ctx: ModelContext, cycle: int) -> ModelContext:
    """A fifth of the models alternate between a good and a bad recall, so alerts keep firing
    and resolving (notifications flow every cycle)."""
    from dataclasses import replace

    if int(ctx.model[-3:]) % 5 != 1 or ctx.facts is None:
        return ctx
    metrics = dict(ctx.facts.metrics)
    metrics["recall"] = (0.5 if cycle % 2 else 0.9, 2000)
    return replace(ctx, facts=replace(ctx.facts, metrics=metrics))


def _notify_cpu() -> float:
    """CPU seconds the notification threads used so far."""
    ids = {t.native_id for t in threading.enumerate() if t.name.startswith("modelmon-notify")}
    return sum(t.user_time + t.system_time for t in psutil.Process().threads() if t.id in ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print_table("Notifications: alerts firing at once to a webhook on loopback",
                delivery(args.quick))
    print_table("Notifications: what the pipeline adds to an evaluation cycle",
                overhead(args.quick))


if __name__ == "__main__":
    main()

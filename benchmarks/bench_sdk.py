"""SDK overhead: what ``Monitor.log_prediction`` costs the calling thread, and bulk throughput.

Set-up: the real service runs in its own process (uvicorn, a temporary DuckDB file, one model
with 25 numeric features), as in production; the monitor lives in this process with its
background sender delivering to that server while the calls are timed, so the figures include
the sender competing for the GIL.

Rows:

* ``log_prediction`` cost per call, 25 features, with the sender running against the server:
  mean from the loop's total time (the headline: target < 20 µs), and the distribution
  (p50 / p99 / p99.9 / max) from a per-call ``perf_counter_ns`` timer (whose own cost, reported
  as ``timer_us``, is included). Two load shapes: *saturated* (calls back to back, about as fast
  as one Python thread can go) and *paced* (bursts of 10 calls every millisecond, about 10,000
  predictions per second, a busy model server). ``end_to_end_per_s`` (saturated run): records
  per second from the first call until ``flush()`` returned (all durable on the server).
* the same call with no server and an idle sender (the bare cost of queueing a record);
* ``log_prediction`` in embedded mode (``Monitor.local``, writing to a DuckDB file);
* ``log_batch``: a pandas / polars / Arrow frame with 25 feature columns: the caller's time
  (conversion to Arrow, ids, cutting into uploads) and the end-to-end rate until durable.

Timings are wall-clock on a shared 2-core machine (the server process, the sender thread and the
calling thread share both cores), so they are pessimistic. Benchmarks never assert timing.

Run: ``.venv/bin/python -m benchmarks.bench_sdk [--quick]``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._common import print_table
from modelmon.sdk import Monitor

FEATURES = [f"f{i}" for i in range(25)]
MODEL = {
    "name": "bench",
    "task": "binary_classification",
    "features": [{"name": f, "type": "numeric"} for f in FEATURES],
    "prediction": {"classes": ["0", "1"], "score": True},
}

_SERVER = """
import json, sys
import uvicorn
from modelmon.config.settings import load_settings
from modelmon.service.app import create_app
cfg = json.loads(sys.argv[1])
settings = load_settings(env={}, overrides={
    "store": {"path": cfg["db"]}, "models": cfg["models"], "server": {"port": cfg["port"]},
    "scheduler": {"enabled": False}})
uvicorn.run(create_app(settings), host="127.0.0.1", port=cfg["port"], log_level="warning",
            lifespan="on", log_config=None, access_log=False)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """The modelmon service in a child process on a temporary DuckDB file."""

    def __init__(self, folder: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = json.dumps({"db": os.path.join(folder, "bench.duckdb"), "port": self.port,
                          "models": [MODEL]})
        src = str(Path(__file__).resolve().parents[1] / "src")
        env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVER, cfg], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/health/live", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.1)

    def count(self) -> int:
        return int(httpx.get(f"{self.url}/v1/models/bench/counts", timeout=30).json()["predictions"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _feature_pool(k: int = 64, seed: int = 0) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(k, len(FEATURES)))
    return [dict(zip(FEATURES, map(float, row))) for row in values]


def _timer_overhead_us(n: int = 100_000) -> float:
    clock = time.perf_counter_ns
    t0 = clock()
    for _ in range(n):
        clock()
        clock()
    return (clock() - t0) / n / 1000


def _log_predictions(m: Monitor, n: int, *, paced: bool, per_call: bool) -> tuple[float, np.ndarray]:
    """Total seconds of the calls (sleeps excluded) and per-call ns (empty unless per_call)."""
    pool = _feature_pool()
    k = len(pool)
    clock = time.perf_counter_ns
    costs = np.zeros(n if per_call else 0, dtype=np.int64)
    log = m.log_prediction
    spent = 0
    i = 0
    burst = 10 if paced else n
    while i < n:
        end = min(i + burst, n)
        t0 = clock()
        if per_call:
            for j in range(i, end):
                a = clock()
                log(pool[j % k], j & 1, score=0.5, latency=0.002)
                costs[j] = clock() - a
        else:
            for j in range(i, end):
                log(pool[j % k], j & 1, score=0.5, latency=0.002)
        spent += clock() - t0
        i = end
        if paced:
            time.sleep(0.001)
    return spent / 1e9, costs


def _prediction_rows(url: str | None, n: int, folder: str) -> list[dict[str, Any]]:
    rows = []
    timer = _timer_overhead_us()
    shapes = [("saturated", False), ("paced 10k/s", True)] if url else [("idle sender", False)]
    for shape, paced in shapes:
        for per_call in (False, True):
            if url is None:
                m = Monitor("http://127.0.0.1:9", model="bench", flush_interval=3600,
                            max_queue=2 * n)
            else:
                m = Monitor(url, model="bench", max_queue=2 * n, batch_size=1000)
            started = time.perf_counter()
            spent, costs = _log_predictions(m, n, paced=paced, per_call=per_call)
            delivered = m.flush(300) if url else False
            elapsed = time.perf_counter() - started
            stats = m.stats
            m.close(timeout=0 if url is None else 30)
            if not per_call:
                row: dict[str, Any] = {
                    "case": f"log_prediction, {shape}" + ("" if url else ", no server"),
                    "calls": n, "mean_us": spent / n * 1e6,
                }
                if url:
                    # Paced calls arrive at the pace's rate: only the saturated run says how fast
                    # records reach the server.
                    if not paced:
                        row["end_to_end_per_s"] = n / elapsed if delivered else float("nan")
                    row["dropped"] = stats.dropped
                rows.append(row)
            else:
                us = costs / 1000
                rows[-1].update({
                    "p50_us": float(np.percentile(us, 50)), "p99_us": float(np.percentile(us, 99)),
                    "p99.9_us": float(np.percentile(us, 99.9)), "max_us": float(us.max()),
                    "timer_us": timer,
                })
    return rows


def _local_row(n: int, folder: str) -> dict[str, Any]:
    path = os.path.join(folder, "embedded.duckdb")
    m = Monitor.local(path, models=[MODEL], model="bench", max_queue=2 * n)
    started = time.perf_counter()
    spent, _ = _log_predictions(m, n, paced=False, per_call=False)
    delivered = m.flush(300)
    elapsed = time.perf_counter() - started
    m.close()
    return {"case": "log_prediction, embedded (Monitor.local)", "calls": n,
            "mean_us": spent / n * 1e6,
            "end_to_end_per_s": n / elapsed if delivered else float("nan"),
            "dropped": m.stats.dropped}


def _frames(n: int) -> dict[str, Any]:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    rng = np.random.default_rng(1)
    data: dict[str, np.ndarray] = {f: rng.normal(size=n) for f in FEATURES}
    data["prediction"] = rng.integers(0, 2, n)
    data["score"] = rng.random(n)
    df = pd.DataFrame(data)
    return {"pandas": df, "polars": pl.from_pandas(df), "arrow": pa.Table.from_pandas(df)}


def _batch_rows(server: _Server, n: int) -> list[dict[str, Any]]:
    rows = []
    for kind, frame in _frames(n).items():
        m = Monitor(server.url, model="bench", max_queue=2 * n)
        before = server.count()
        started = time.perf_counter()
        ids = m.log_batch(frame)
        call = time.perf_counter() - started
        delivered = m.flush(300)
        elapsed = time.perf_counter() - started
        m.close()
        stored = server.count() - before
        rows.append({
            "case": f"log_batch, {kind} ({len(FEATURES)} features)", "calls": 1,
            "rows": len(ids), "call_ms": call * 1000, "call_rows_per_s": n / call,
            "end_to_end_per_s": n / elapsed if delivered else float("nan"),
            "stored": stored,
        })
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure; return one row per case (see the module docstring)."""
    n = 20_000 if quick else 200_000
    frame_rows = 20_000 if quick else 200_000
    with tempfile.TemporaryDirectory() as folder:
        # The no-server case drops its queue at close on purpose: keep its warnings quiet.
        sdk_log = logging.getLogger("modelmon.sdk")
        level = sdk_log.level
        sdk_log.setLevel(logging.ERROR)
        try:
            rows = _prediction_rows(None, n, folder)
        finally:
            sdk_log.setLevel(level)
        server = _Server(folder)
        try:
            rows += _prediction_rows(server.url, n, folder)
            rows += _batch_rows(server, frame_rows)
        finally:
            server.stop()
        rows.append(_local_row(n, folder))
    return rows


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    print_table("SDK: cost on the caller and throughput", run(quick))


if __name__ == "__main__":
    main()

"""Soak: a live ``modelmon serve`` process under mixed load for ``--seconds`` (600).

Load, all at once for the whole run, each generator in its own process:

- single predictions: wrk, paced at 1,000 requests per second on a fixed schedule (open loop,
  192 connections; ``singles_late`` counts requests whose slot passed while every connection
  waited: wrk times those from when they left, so many late ones mean its latencies hide a wait);
- batches: a JSON batch of 200 predictions every second, and the actuals of half of them;
- queries: two a second, in turn: counts, status, the 5-minute metric series, drift, the
  overview, alerts;
- evaluation: ``POST /v1/evaluate`` every 30 s (the standard preset's 5-minute windows).

The model has 25 features (20 numeric, 5 categorical). The server's RSS (and its validation
workers') is read every 5 s; the figures per minute show whether it stays flat after warm-up
(the first two minutes), and ``rss_slope_mb_per_min`` is the least-squares slope over the rest
(``rss_slope_last_half_mb_per_min`` over the second half of the run). Part of the RSS is
DuckDB's buffer pool (``modelmon_store_memory_bytes``, sampled too): a cache of the growing
tables, bounded by ``store.memory_limit`` (``--memory-limit``, 128MB here so that a 10-minute run
shows the bound reached and held); ``rss_without_store_slope_mb_per_min`` is the rest's slope.
At the end the store must hold every acknowledged prediction (``stored_rows`` may exceed
``acknowledged_rows`` by the requests wrk had in flight when it stopped). The targets: errors < 0.1 % of
requests, p95 < 100 ms, RSS flat after warm-up. The machine's load average is printed beside
the figures (the machine may be shared). Benchmarks report; they never fail on timing.

Run: ``python -m benchmarks.bench_soak [--seconds 600] [--quick]`` (``--quick``: 60 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import print_table
from benchmarks.bench_ingest import N_CAT, N_NUM, WRK_DIR, _free_port, _record

SINGLE_RATE = 1000.0
# Enough connections that a slot rarely finds them all waiting (at 64, half the requests were
# late: wrk then times them from when they left, not from their slot, and hides the wait).
SINGLE_CONNECTIONS = 192
BATCH_ROWS = 200
QUERY_PER_SECOND = 2.0
EVALUATE_EVERY = 30.0
WARM_UP = 120.0
QUERIES = ["/v1/models/bench/counts", "/v1/models/bench/status",
           "/v1/models/bench/metrics?window=5m", "/v1/models/bench/drift", "/v1/overview",
           "/v1/alerts"]


def _config(tmp: Path, port: int, memory_limit: str) -> Path:
    features = [{"name": f"num_{i:02d}", "type": "numeric"} for i in range(N_NUM)]
    features += [{"name": f"cat_{i}", "type": "categorical"} for i in range(N_CAT)]
    cfg = {
        "store": {"path": str(tmp / "soak.duckdb"), "memory_limit": memory_limit},
        "server": {"host": "127.0.0.1", "port": port, "log_level": "warning"},
        "scheduler": {"enabled": False},  # the client asks for evaluations (and times them)
        "models": [{"name": "bench", "task": "binary_classification", "features": features,
                    "prediction": {"classes": [0, 1], "score": True}, "preset": "standard"}],
    }
    path = tmp / "soak.yaml"
    path.write_text(json.dumps(cfg))  # JSON is YAML
    return path


class Server:
    """``modelmon serve`` in its own process, on a temporary store."""

    def __init__(self, memory_limit: str) -> None:
        import httpx

        self.tmp = Path(tempfile.mkdtemp(prefix="mm-soak-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = Path(sys.executable).parent / "modelmon"
        self.proc = subprocess.Popen([str(exe), "serve", "--config", str(_config(self.tmp, self.port, memory_limit))],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def rss_mb(self) -> tuple[float, float, float]:
        """The server's RSS, its validation workers' together, and what DuckDB's buffer
        manager holds (``modelmon_store_memory_bytes``, part of the server's RSS), in MiB."""
        import httpx
        import psutil

        p = psutil.Process(self.proc.pid)
        workers = sum(c.memory_info().rss for c in p.children(recursive=True))
        rss = p.memory_info().rss / 2**20
        try:
            metrics = httpx.get(f"{self.url}/metrics", timeout=10).text
            held = next(float(line.split()[-1]) for line in metrics.splitlines()
                        if line.startswith("modelmon_store_memory_bytes "))
        except (httpx.HTTPError, StopIteration):
            held = float("nan")
        return rss, workers / 2**20, held / 2**20

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return err.decode(errors="replace") if err else ""


# --- the Python load generator (batches, actuals, queries, evaluation) --------------------------


async def _mixed_load(url: str, seconds: float, out: Any) -> None:
    import httpx

    rng = np.random.default_rng(3)
    template = json.dumps({"model": "bench", "records": [_record(rng, i) for i in range(BATCH_ROWS)]})
    t0 = time.monotonic()
    # (kind, minute, seconds, ok) per request
    log: list[tuple[str, int, float, bool]] = []
    rows_ok = 0

    async def timed(kind: str, coro: Any) -> httpx.Response | None:
        start = time.monotonic()
        try:
            r = await coro
        except httpx.HTTPError:
            r = None
        ok = r is not None and r.status_code == 200
        log.append((kind, int((start - t0) // 60), time.monotonic() - start, ok))
        return r

    async def every(period: float, fn: Any) -> None:
        n = 0
        while (due := t0 + n * period) < t0 + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await fn(n)
            n += 1

    async with httpx.AsyncClient(base_url=url, timeout=120) as c:
        async def batch(n: int) -> None:
            nonlocal rows_ok
            body = template.replace("@@@@@@@@@@", f"b{n:09d}")
            r = await timed("batch", c.post("/v1/predictions/batch", content=body,
                                            headers={"content-type": "application/json"}))
            if r is not None and r.status_code == 200:
                rows_ok += BATCH_ROWS
                acts = [{"prediction_id": f"b{n:09d}-{i:05d}", "actual": int(rng.random() < 0.3)}
                        for i in range(0, BATCH_ROWS, 2)]
                await timed("actuals", c.post("/v1/actuals/batch",
                                              json={"model": "bench", "records": acts}))

        async def query(n: int) -> None:
            await timed("query", c.get(QUERIES[n % len(QUERIES)]))

        async def evaluate(n: int) -> None:
            if n:  # not at the start: nothing to evaluate yet
                await timed("evaluate", c.post("/v1/evaluate"))

        await asyncio.gather(every(1.0, batch), every(1 / QUERY_PER_SECOND, query),
                             every(EVALUATE_EVERY, evaluate))
    out.put({"log": log, "rows_ok": rows_ok})


def _client(url: str, seconds: float, out: Any) -> None:
    asyncio.run(_mixed_load(url, seconds, out))


def _wrk_singles(url: str, seconds: float) -> subprocess.Popen[str]:
    env = dict(os.environ, LUA_PATH=f"{WRK_DIR / '?.lua'};;", MODELMON_WRK_RATE=str(SINGLE_RATE))
    return subprocess.Popen(["wrk", "-t1", f"-c{SINGLE_CONNECTIONS}", f"-d{int(seconds)}s", "--timeout", "30s",
                             "-s", str(WRK_DIR / "single.lua"), url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _p95_ms(values: list[float]) -> float:
    return float(np.percentile(values, 95) * 1000) if values else float("nan")


def run(seconds: float, memory_limit: str = "128MB") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    import httpx

    if shutil.which("wrk") is None:
        raise SystemExit("bench_soak needs wrk (make bench installs it: apt-get install wrk)")
    load_before = os.getloadavg()
    server = Server(memory_limit)
    samples: list[tuple[float, float, float, float]] = []  # (seconds, server, workers, store MiB)
    try:
        ctx = mp.get_context("spawn")
        q: Any = ctx.Queue()
        client = ctx.Process(target=_client, args=(server.url, seconds, q))
        t0 = time.monotonic()
        wrk = _wrk_singles(server.url, seconds)
        client.start()
        while wrk.poll() is None:
            samples.append((time.monotonic() - t0, *server.rss_mb()))
            time.sleep(5.0)
        samples.append((time.monotonic() - t0, *server.rss_mb()))
        wrk_out, wrk_err = wrk.communicate()
        mixed = q.get(timeout=600)
        client.join(60)
        load_after = os.getloadavg()
        stored = int(httpx.get(f"{server.url}/v1/models/bench/counts", timeout=120)
                     .json()["predictions"])
    finally:
        server_log = server.stop()
    line = next((x for x in wrk_out.splitlines() if x.startswith("WRK_RESULT")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {wrk_err[-2000:]}")
    singles = json.loads(line.split(" ", 1)[1])
    singles_ok = singles["requests"] - singles["non_2xx"]
    log: list[tuple[str, int, float, bool]] = mixed["log"]

    # every request, whoever sent it; wrk's socket errors and non-2xx answers both count
    requests = singles["requests"] + len(log)
    errors = singles["errors"] + sum(not ok for *_, ok in log)
    after = [(t, s, w, d) for t, s, w, d in samples if t >= min(WARM_UP, seconds / 3)]
    slope = (float(np.polyfit([t / 60 for t, *_ in after], [s for _, s, *_ in after], 1)[0])
             if len(after) >= 3 else float("nan"))
    half = [(t, s) for t, s, *_ in samples if t >= seconds / 2]
    half_slope = (float(np.polyfit([t / 60 for t, _ in half], [s for _, s in half], 1)[0])
                  if len(half) >= 3 else float("nan"))
    # the same without what DuckDB's buffer manager holds (bounded by store.memory_limit)
    rest = [(t, s - d) for t, s, _, d in after if np.isfinite(d)]
    rest_slope = (float(np.polyfit([t / 60 for t, _ in rest], [r for _, r in rest], 1)[0])
                  if len(rest) >= 3 else float("nan"))
    by_kind = {k: [d for kind, _, d, _ in log if kind == k]
               for k in ("batch", "actuals", "query", "evaluate")}
    summary = {
        "seconds": seconds, "store_memory_limit": memory_limit, "load_avg_before": f"{load_before[0]:.2f}",
        "load_avg_after": f"{load_after[0]:.2f}",
        "requests": requests, "errors": errors, "error_rate_pct": 100 * errors / max(requests, 1),
        "singles_per_second": singles["requests"] / singles["seconds"],
        "single_p50_ms": singles["p50_ms"], "single_p95_ms": singles["p95_ms"],
        "single_p99_ms": singles["p99_ms"], "singles_late": singles["late"],
        "batch_p95_ms": _p95_ms(by_kind["batch"]), "actuals_p95_ms": _p95_ms(by_kind["actuals"]),
        "query_p95_ms": _p95_ms(by_kind["query"]), "queries": len(by_kind["query"]),
        "evaluations": len(by_kind["evaluate"]),
        "evaluate_mean_s": float(np.mean(by_kind["evaluate"])) if by_kind["evaluate"] else float("nan"),
        "evaluate_max_s": max(by_kind["evaluate"], default=float("nan")),
        "acknowledged_rows": singles_ok + mixed["rows_ok"], "stored_rows": stored,
        "rss_after_warm_up_mb": after[0][1] if after else float("nan"),
        "rss_end_mb": samples[-1][1], "rss_max_mb": max(s for _, s, *_ in samples),
        "rss_slope_mb_per_min": slope, "rss_slope_last_half_mb_per_min": half_slope,
        "store_held_end_mb": samples[-1][3],
        "rss_without_store_slope_mb_per_min": rest_slope, "workers_rss_end_mb": samples[-1][2],
    }
    if "Traceback" in server_log:
        summary["server_tracebacks"] = server_log.count("Traceback")
    minutes = []
    for m in range(int(np.ceil(seconds / 60))):
        in_minute = ([(s, w, d) for t, s, w, d in samples if m * 60 <= t < (m + 1) * 60]
                     or [samples[-1][1:]])
        reqs = [(k, d, ok) for k, mm, d, ok in log if mm == m]
        minutes.append({
            "minute": m + 1, "rss_mb": in_minute[-1][0], "store_held_mb": in_minute[-1][2],
            "workers_rss_mb": in_minute[-1][1],
            "batches": sum(k == "batch" for k, _, _ in reqs),
            "batch_p95_ms": _p95_ms([d for k, d, _ in reqs if k == "batch"]),
            "query_p95_ms": _p95_ms([d for k, d, _ in reqs if k == "query"]),
            "evaluate_s": max((d for k, d, _ in reqs if k == "evaluate"), default=float("nan")),
            "errors": sum(not ok for _, _, ok in reqs),
        })
    return [summary], minutes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="how long (600)")
    parser.add_argument("--quick", action="store_true", help="60 s")
    parser.add_argument("--memory-limit", default="128MB",
                        help="the store's memory_limit (DuckDB caches the tables up to it)")
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else (60.0 if args.quick else 600.0)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    summary, minutes = run(seconds, args.memory_limit)
    rate = f"{SINGLE_RATE:,.0f} single predictions/s (wrk, paced)"
    print_table(f"Soak: {seconds / 60:.0f} min, {rate} + a {BATCH_ROWS}-row batch and its "
                f"actuals every second + {QUERY_PER_SECOND:.0f} queries/s + an evaluation "
                f"every {EVALUATE_EVERY:.0f} s",
                [{"figure": k, "value": v} for k, v in summary[0].items()])
    print_table("Soak: per minute (RSS at the minute's last sample; the client's batches, "
                "queries and evaluations)", minutes)


if __name__ == "__main__":
    main()

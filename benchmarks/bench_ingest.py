"""Ingest throughput and latency over HTTP, server and load generator in separate processes.

Phases (each against a fresh server process on a temporary DuckDB file, 25 features):

1. batch: JSON batches of 1,000 predictions, 16 connections, for ``--seconds`` (60); the server
   validates them in its validation worker processes (``ingest.validation_workers``, one per
   core), which ``modelmon serve`` starts with the server;
2. bulk: the same rows as Arrow IPC uploads (the SDK's ``log_batch`` path), batches of 1,000
   rows (16 connections) and of 10,000 rows;
3. single: one prediction per request, with wrk (installed by ``make bench``) twice: 48
   connections in a closed loop measure the rate the server sustains, then 1,000 requests per
   second on a fixed schedule (open loop, 128 connections) measure the latency p50/p95/p99 at
   the target rate, with how many requests left late (every connection still waiting) and the
   largest lag behind the schedule. Without wrk a Python client offers 1,000 req/s open loop
   (that client, not the server, is then the limit).

The JSON phases use wrk when it is installed: a Python HTTP client costs milliseconds of CPU per
request and would starve a 2-core server.

After each phase the server is asked how many predictions it holds: every acknowledged row must be
there (durable and counted). Server RSS is read at the start and the end of each phase (and
every second in between: its middle and largest value); ``workers_rss_end_mb`` is that of the
validation workers together, at the end.

Run: ``python -m benchmarks.bench_ingest [--seconds 60] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import print_table

N_NUM, N_CAT = 20, 5
_CATS = ["red", "green", "blue", "amber"]


def _config(tmp: Path, port: int) -> Path:
    features = [{"name": f"num_{i:02d}", "type": "numeric"} for i in range(N_NUM)]
    features += [{"name": f"cat_{i}", "type": "categorical"} for i in range(N_CAT)]
    cfg = {
        "store": {"path": str(tmp / "bench.duckdb"), "memory_limit": "1GB"},
        "server": {"host": "127.0.0.1", "port": port, "log_level": "warning"},
        "ingest": {"max_queue_records": 2_000_000, "max_commit_records": 100_000},
        "scheduler": {"enabled": False},
        "models": [{"name": "bench", "task": "binary_classification", "features": features,
                    "prediction": {"classes": [0, 1], "score": True}}],
    }
    path = tmp / "bench.yaml"
    path.write_text(json.dumps(cfg))  # JSON is YAML
    return path


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``modelmon serve`` in its own process."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="mm-bench-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = _config(self.tmp, self.port)
        exe = Path(sys.executable).parent / "modelmon"
        self.proc = subprocess.Popen([str(exe), "serve", "--config", str(cfg)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start: " + (self.proc.stderr.read(2000).decode()
                                                        if self.proc.stderr else ""))

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.proc.pid).memory_info().rss / 2**20

    def workers_rss_mb(self) -> float:
        """RSS of the server's validation worker processes, together."""
        import psutil

        children = psutil.Process(self.proc.pid).children(recursive=True)
        return sum(c.memory_info().rss for c in children) / 2**20

    def count(self) -> int:
        import httpx

        return int(httpx.get(f"{self.url}/v1/models/bench/counts", timeout=60).json()["predictions"])

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


def _record(rng: np.random.Generator, i: int) -> dict[str, Any]:
    feats: dict[str, Any] = {f"num_{j:02d}": round(float(rng.normal()), 5) for j in range(N_NUM)}
    feats.update({f"cat_{j}": _CATS[int(rng.integers(4))] for j in range(N_CAT)})
    return {"prediction_id": f"@@@@@@@@@@-{i:05d}", "features": feats,
            "score": round(float(rng.random()), 4), "latency_seconds": 0.012}


def _batch_templates(size: int, count: int = 16) -> list[bytes]:
    rng = np.random.default_rng(0)
    return [json.dumps({"model": "bench", "records": [_record(rng, i) for i in range(size)]})
            .encode() for _ in range(count)]


def _arrow_template(size: int) -> bytes:
    import pyarrow as pa

    rng = np.random.default_rng(1)
    cols: dict[str, Any] = {f"num_{j:02d}": rng.normal(size=size) for j in range(N_NUM)}
    cols.update({f"cat_{j}": np.asarray(_CATS)[rng.integers(0, 4, size)] for j in range(N_CAT)})
    cols["score"] = rng.random(size)
    ids = [f"@@@@@@@@@@-{i:05d}" for i in range(size)]
    table = pa.table({"prediction_id": ids, **cols})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()


# --- load generators (run in a child process) ---------------------------------------------------


async def _batch_load(url: str, seconds: float, size: int, conns: int, out: Any) -> None:
    import httpx

    templates = _batch_templates(size)
    sent = ok = errors = 0
    counter = [0]
    deadline = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sent, ok, errors
        while time.monotonic() < deadline:
            n = counter[0]
            counter[0] += 1
            body = templates[n % len(templates)].replace(b"@@@@@@@@@@", f"{n:010d}".encode())
            try:
                r = await client.post(f"{url}/v1/predictions/batch", content=body,
                                      headers={"content-type": "application/json"})
            except httpx.HTTPError:
                errors += 1
                continue
            sent += size
            if r.status_code == 200:
                ok += r.json()["accepted"]
            else:
                errors += 1

    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        t0 = time.monotonic()
        await asyncio.gather(*(worker(client) for _ in range(conns)))
        elapsed = time.monotonic() - t0
    out.put({"accepted": ok, "errors": errors, "seconds": elapsed})


async def _bulk_load(url: str, seconds: float, size: int, conns: int, out: Any) -> None:
    import httpx
    import pyarrow as pa

    rng = np.random.default_rng(1)
    cols: dict[str, Any] = {f"num_{j:02d}": rng.normal(size=size) for j in range(N_NUM)}
    cols.update({f"cat_{j}": np.asarray(_CATS)[rng.integers(0, 4, size)] for j in range(N_CAT)})
    cols["score"] = rng.random(size)
    ok = errors = 0
    counter = [0]
    deadline = time.monotonic() + seconds

    base_ids = np.char.add("-", np.arange(size).astype(str))

    def body(n: int) -> bytes:
        ids = np.char.add(f"k{n:08d}", base_ids)
        table = pa.table({"prediction_id": pa.array(ids.astype(object)), **cols})
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        return sink.getvalue()

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal ok, errors
        while time.monotonic() < deadline:
            n = counter[0]
            counter[0] += 1
            try:
                r = await client.post(f"{url}/v1/models/bench/predictions/bulk", content=body(n),
                                      headers={"content-type": "application/vnd.apache.arrow.stream"})
            except httpx.HTTPError:
                errors += 1
                continue
            if r.status_code == 200:
                ok += r.json()["accepted"]
            else:
                errors += 1

    async with httpx.AsyncClient(timeout=120) as client:
        t0 = time.monotonic()
        await asyncio.gather(*(worker(client) for _ in range(conns)))
        elapsed = time.monotonic() - t0
    out.put({"accepted": ok, "errors": errors, "seconds": elapsed})


async def _single_load(url: str, seconds: float, rate: float, conns: int, out: Any) -> None:
    import httpx

    rng = np.random.default_rng(2)
    template = json.dumps({"model": "bench", **_record(rng, 0)}).encode()
    latencies: list[float] = []
    errors = ok = 0
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        sem = asyncio.Semaphore(conns)

        async def one(n: int, scheduled: float) -> None:
            nonlocal errors, ok
            body = template.replace(b"@@@@@@@@@@", f"{n:010d}".encode())
            async with sem:
                try:
                    r = await client.post(f"{url}/v1/predictions", content=body,
                                          headers={"content-type": "application/json"})
                    if r.status_code == 200:
                        ok += 1
                    else:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
            latencies.append(time.monotonic() - scheduled)  # open loop: includes queueing

        t0 = time.monotonic()
        tasks = []
        n = 0
        while (now := time.monotonic()) - t0 < seconds:
            due = t0 + n / rate
            if due > now:
                await asyncio.sleep(due - now)
            tasks.append(asyncio.create_task(one(n, due)))
            n += 1
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - t0
    lat = np.asarray(latencies)
    out.put({"accepted": ok, "errors": errors, "seconds": elapsed, "requests": n,
             "p50_ms": float(np.percentile(lat, 50) * 1000), "p95_ms": float(np.percentile(lat, 95) * 1000),
             "p99_ms": float(np.percentile(lat, 99) * 1000)})


def _child(kind: str, url: str, seconds: float, arg: float, conns: int, out: Any) -> None:
    fn = {"batch": _batch_load, "bulk": _bulk_load, "single": _single_load}[kind]
    asyncio.run(fn(url, seconds, arg, conns, out))  # type: ignore[arg-type]


WRK_DIR = Path(__file__).resolve().parent / "wrk"


def _wrk(kind: str, url: str, seconds: float, conns: int, size: int,
         rate: float | None = None) -> dict[str, Any]:
    """Drive the server with wrk (C): the load generator must not starve a 2-core server.

    ``rate``: offer that many requests per second (open loop) instead of sending each
    connection's next request as soon as its previous one is answered.
    """
    env = dict(os.environ, LUA_PATH=f"{WRK_DIR / '?.lua'};;")  # the scripts share common.lua
    if rate is not None:
        env["MODELMON_WRK_RATE"] = str(rate)
    if kind == "batch":
        path = Path(tempfile.mkdtemp(prefix="mm-wrk-")) / "batch.json"
        path.write_bytes(_batch_templates(size, count=1)[0])
        env["MODELMON_WRK_BODY"] = str(path)
    if kind == "bulk":
        path = Path(tempfile.mkdtemp(prefix="mm-wrk-")) / "bulk.arrow"
        path.write_bytes(_arrow_template(size))
        env["MODELMON_WRK_BODY"] = str(path)
    script = WRK_DIR / f"{kind}.lua"
    # --timeout 30s: wrk's default (2 s) would count a slow answer as a socket error.
    done = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{int(seconds)}s", "--timeout", "30s",
                           "-s", str(script),
                           url], capture_output=True, text=True, env=env, timeout=seconds + 120)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT"))
    res = json.loads(line.split(" ", 1)[1])
    ok_requests = res["requests"] - res["non_2xx"]
    res["accepted"] = ok_requests * (size if kind in ("batch", "bulk") else 1)
    res["generator"] = f"wrk -c{conns}" + (f", paced {rate:,.0f}/s" if rate else "")
    return res


def _phase(kind: str, seconds: float, arg: float, conns: int, paced: bool = False) -> dict[str, Any]:
    server = Server()
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:  # server RSS every second: flat, or growing?
        while not stop.wait(1.0):
            try:
                samples.append(server.rss_mb())
            except Exception:
                return

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        rss0 = server.rss_mb()
        sampler.start()
        use_wrk = shutil.which("wrk") and (kind in ("batch", "single") or arg <= 9_999)
        if use_wrk:
            res = _wrk(kind, server.url, seconds, conns, int(arg) if kind != "single" else 1,
                       rate=arg if paced else None)
        else:
            q: Any = mp.get_context("spawn").Queue()
            p = mp.get_context("spawn").Process(target=_child, args=(kind, server.url, seconds,
                                                                      arg, conns, q))
            p.start()
            res = q.get(timeout=seconds + 600)
            p.join(60)
            res["generator"] = f"python httpx, {conns} connections"
        rss1 = server.rss_mb()
        workers_rss = server.workers_rss_mb()
        stop.set()
        stored = server.count()
    finally:
        stop.set()
        server.stop()
    label = (f"{kind} ({int(arg):,} rows)" if kind in ("batch", "bulk")
             else f"single ({'paced' if paced else 'closed loop'})")
    row: dict[str, Any] = {"phase": label, "generator": res["generator"],
                           "seconds": res["seconds"], "accepted": res["accepted"],
                           "per_second": res["accepted"] / res["seconds"], "errors": res["errors"],
                           "stored_after": stored, "all_durable": stored >= res["accepted"],
                           "rss_start_mb": rss0,
                           "rss_half_mb": samples[len(samples) // 2] if samples else rss1,
                           "rss_end_mb": rss1, "rss_max_mb": max(samples, default=rss1),
                           "workers_rss_end_mb": workers_rss}
    if kind == "single":
        row["requests_per_second"] = res.get("requests", res["accepted"]) / res["seconds"]
    for k in ("requests", "p50_ms", "p95_ms", "p99_ms", "late", "max_lag_ms"):
        if k in res:
            row[k] = res[k]
    return row


def run(quick: bool = False, seconds: float | None = None) -> list[dict[str, Any]]:
    secs = seconds if seconds is not None else (10.0 if quick else 60.0)
    return [
        # 16 connections: while one group of requests commits, the next ones are read and
        # validated (JSON in the server's validation worker process), and a commit takes many
        # batches at once. With 4 the pipeline drains between commits (measured: JSON 53k
        # rows/s with 4, 73k with 8, 90k with 16; Arrow 59k, 89-108k, 115-120k).
        _phase("batch", secs, 1000, 16),
        _phase("bulk", secs, 1_000, 16),
        _phase("bulk", secs, 10_000, 2),
        # Closed loop (48 connections, each sending as soon as its previous request was
        # answered): the rate it reaches is the server's capacity on this machine.
        _phase("single", secs, 1000.0, 48),
        # Open loop: 1,000 requests per second on a fixed schedule, the service-level target;
        # its latencies are those a steady 1,000 req/s sees (late/max_lag_ms: stalls).
        _phase("single", secs, 1000.0, 128, paced=True),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    print_table("Ingest over HTTP (server and load generator in separate processes)",
                run(args.quick, args.seconds))


if __name__ == "__main__":
    main()

"""Ingest over HTTP into one store through one or two ``modelmon serve`` processes: DuckDB (one
server: an embedded store has one writer process) beside PostgreSQL (one server, then two on
the same database, as behind a load balancer).

Each server gets its own client process sending Arrow bulk uploads of 10,000 predictions (25
features) with ``CONNECTIONS`` requests in flight; a request is answered once its rows are
committed. Rows are counted in the store afterwards: every acknowledged row is there once.

Run: ``python -m benchmarks.bench_servers [--quick]``.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from benchmarks._common import print_table

N_NUM, N_CAT, ROWS, CONNECTIONS = 20, 5, 10_000, 2
MODEL = {"name": "bench", "task": "binary_classification", "prediction": {"score": True},
         "features": [*({"name": f"num_{i:02d}", "type": "numeric"} for i in range(N_NUM)),
                      *({"name": f"cat_{i}", "type": "categorical"} for i in range(N_CAT))]}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _upload(prefix: str, b: int) -> bytes:
    rng = np.random.default_rng(b)
    cols: dict[str, Any] = {"prediction_id": [f"{prefix}-{b}-{i}" for i in range(ROWS)]}
    cols.update({f"num_{j:02d}": rng.normal(size=ROWS) for j in range(N_NUM)})
    cols.update({f"cat_{j}": rng.choice(["red", "green", "blue", "amber"], ROWS)
                 for j in range(N_CAT)})
    cols["score"] = rng.random(ROWS)
    table = pa.table(cols)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()


def _client(url: str, prefix: str, count: int, start: Any, out: Any) -> None:
    import httpx

    bodies = [_upload(prefix, b) for b in range(count)]
    headers = {"content-type": "application/vnd.apache.arrow.stream"}
    start.wait()
    t0 = time.perf_counter()
    with httpx.Client(base_url=url, timeout=300) as c, \
            ThreadPoolExecutor(CONNECTIONS) as pool:
        answers = list(pool.map(lambda body: c.post("/v1/models/bench/predictions/bulk",
                                                    content=body, headers=headers), bodies))
    ok = sum(r.json()["accepted"] for r in answers if r.status_code == 200)
    out.put((time.perf_counter() - t0, ok, sum(r.status_code != 200 for r in answers)))


def _serve(folder: Path, store: dict[str, Any], port: int) -> subprocess.Popen[bytes]:
    config = folder / f"server-{port}.yaml"
    config.write_text(yaml.safe_dump({
        "store": store, "server": {"port": port, "log_level": "warning"},
        "scheduler": {"enabled": False}, "alerts": {"enabled": False},
        "ingest": {"max_body_bytes": "64MiB"}, "models": [MODEL]}))
    modelmon = Path(sys.executable).with_name("modelmon")
    proc = subprocess.Popen([str(modelmon), "serve", "-c", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("a server did not start")


def phase(folder: Path, store: dict[str, Any], servers: int, count: int) -> dict[str, Any]:
    ports = [_port() for _ in range(servers)]
    procs = []
    for port in ports:  # one after the other: the first applies the migrations
        procs.append(_serve(folder, store, port))
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    clients = [ctx.Process(target=_client, args=(f"http://127.0.0.1:{p}", f"s{p}", count,
                                                  start, out)) for p in ports]
    try:
        for c in clients:
            c.start()
        time.sleep(6)  # the clients have built their uploads
        wall0 = time.perf_counter()
        start.set()
        got = [out.get(timeout=1800) for _ in clients]
        wall = time.perf_counter() - wall0
        for c in clients:
            c.join()
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=60)
    sent = servers * count * ROWS
    return {"servers": servers, "rows_sent": sent, "rows_acknowledged": sum(g[1] for g in got),
            "failed_requests": sum(g[2] for g in got), "seconds": wall,
            "rows_per_s": sent / wall}


def _count(store: dict[str, Any]) -> int:
    from modelmon.config.settings import StoreSettings
    from modelmon.store import create_store

    s = create_store(StoreSettings.model_validate(store))
    s.open()
    try:
        return int(s.count("bench"))
    finally:
        s.close()


def run(quick: bool) -> list[dict[str, Any]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.postgres import PostgresServer

    count = 4 if quick else 20
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        duck = {"path": str(folder / "bench.duckdb")}
        res = phase(folder, duck, 1, count)
        rows.append({"store": "DuckDB (file)", **res, "rows_stored": _count(duck)})
        pg = PostgresServer()
        pg.fsync = True
        pg.start()
        try:
            for servers in (1, 2):
                store = {"url": pg.create_database()}
                res = phase(folder, store, servers, count)
                rows.append({"store": "PostgreSQL 15", **res, "rows_stored": _count(store)})
        finally:
            pg.stop()
    for r in rows:
        assert r["rows_stored"] == r["rows_acknowledged"], r  # every acknowledged row, once
    return rows


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    print_table("Ingest over HTTP through one or two servers (Arrow uploads of 10,000 rows, "
                f"{CONNECTIONS} in flight per server)" + (" (quick)" if quick else ""),
                run(quick))


if __name__ == "__main__":
    main()

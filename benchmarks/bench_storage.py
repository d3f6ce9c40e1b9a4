"""Batch ingest into the store: DuckDB (embedded) beside PostgreSQL (shared), rows per second.

Each writer calls ``store.write`` with prebuilt batches of 10,000 predictions (25 features: 20
numeric, 5 categorical, a segment, a score), each batch one transaction that returns only once
committed (what an acknowledged ingest request waits for). The batches are built (validated
into Arrow) before the clock starts: this measures the store, not HTTP or validation (see the
"Ingest over HTTP" section for the whole path). PostgreSQL 15 runs on the same machine
(Debian's package, a temporary cluster, default settings except ``fsync`` on), with one writer
process, and with two writer processes (two servers sharing the database) each writing its own
ids; a last phase has both write the *same* ids at once (every row a duplicate for one of
them). Rows are counted afterwards: every acknowledged row is there once.

Run: ``python -m benchmarks.bench_storage [--quick]``.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks._common import print_table

N_NUM, N_CAT = 20, 5
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def spec() -> Any:
    from modelmon.config import ModelSpec

    features = [{"name": f"num_{i:02d}", "type": "numeric"} for i in range(N_NUM)]
    features += [{"name": f"cat_{i}", "type": "categorical"} for i in range(N_CAT)]
    return ModelSpec.model_validate({"name": "bench", "task": "binary_classification",
                                     "features": features, "segments": ["region"],
                                     "prediction": {"classes": [0, 1], "score": True}})


def batches(prefix: str, count: int, rows: int) -> list[Any]:
    from modelmon.ingest.predictions import predictions_from_table
    from modelmon.store import BatchKind, WriteBatch

    s = spec()
    rng = np.random.default_rng(abs(hash(prefix)) % 2**32)
    out = []
    for b in range(count):
        cols: dict[str, Any] = {
            "prediction_id": [f"{prefix}-{b}-{i}" for i in range(rows)],
            "timestamp": pa.array([T0 + timedelta(seconds=b * rows + i) for i in range(rows)]),
            "score": rng.random(rows), "region": rng.choice(["eu", "us", "apac"], rows)}
        for i in range(N_NUM):
            cols[f"num_{i:02d}"] = rng.normal(size=rows)
        for i in range(N_CAT):
            cols[f"cat_{i}"] = rng.choice(["red", "green", "blue", "amber"], rows)
        table = predictions_from_table(s, pa.table(cols), now=T0 + timedelta(days=30))
        out.append(WriteBatch(BatchKind.PREDICTIONS, "bench", table))
    return out


def _open(kind: str, where: str) -> Any:
    if kind == "duckdb":
        from modelmon.store.duckdb import DuckDBStore

        return DuckDBStore(where)
    from modelmon.store.postgres import PostgresStore

    return PostgresStore(where, pool_max=2)


def _writer(kind: str, where: str, prefix: str, count: int, rows: int, start: Any,
            out: Any) -> None:
    work = batches(prefix, count, rows)
    store = _open(kind, where)
    store.open()
    start.wait()
    t0 = time.perf_counter()
    inserted = sum(r.inserted for b in work for r in store.write([b]))
    out.put((time.perf_counter() - t0, inserted))
    store.close()


def phase(kind: str, where: str, prefixes: list[str], count: int, rows: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(kind, where, p, count, rows, start, out))
             for p in prefixes]
    for p in procs:
        p.start()
    time.sleep(8 if count > 5 else 4)  # every writer has built its batches and opened
    wall0 = time.perf_counter()
    start.set()
    got = [out.get(timeout=900) for _ in procs]
    wall = time.perf_counter() - wall0
    for p in procs:
        p.join()
    sent = len(prefixes) * count * rows
    inserted = sum(n for _, n in got)
    return {"rows_sent": sent, "rows_stored": inserted, "seconds": wall,
            "rows_per_s": sent / wall, "batch_ms_mean": 1000 * wall / count}


def run(quick: bool) -> list[dict[str, Any]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.postgres import PostgresServer

    count, rows = (4, 2_000) if quick else (30, 10_000)
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.duckdb")
        store = _open("duckdb", path)
        store.open()
        store.save_model(spec())
        store.close()
        res = phase("duckdb", path, ["a"], count, rows)
        store = _open("duckdb", path)
        store.open()
        assert store.count("bench") == res["rows_stored"]
        store.close()
        out.append({"store": "DuckDB (file)", "writers": 1, **res})
    server = PostgresServer()
    server.fsync = True
    server.start()
    try:
        for label, prefixes in (("PostgreSQL 15", ["a"]), ("PostgreSQL 15", ["a", "b"]),
                                ("PostgreSQL 15, same ids", ["c", "c"])):
            url = server.create_database()
            store = _open("postgres", url)
            store.open()
            store.save_model(spec())
            store.close()
            res = phase("postgres", url, prefixes, count, rows)
            store = _open("postgres", url)
            store.open()
            stored = store.count("bench")
            store.close()
            assert stored == res["rows_stored"], (stored, res)
            out.append({"store": label, "writers": len(prefixes), **res})
    finally:
        server.stop()
    return out


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    print_table("Batch ingest into the store (store.write, 10,000-row batches)"
                + (" (quick)" if quick else ""), run(quick))


if __name__ == "__main__":
    main()

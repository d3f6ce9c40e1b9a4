"""Batch evaluation of a large Parquet log: the Spark job (``local[*]``) beside the embedded
engine on the same files.

The log: ``--rows`` predictions (10,000,000 by default) of a binary classifier with 8 numeric
features, 2 categorical ones and a segment, spread over 100 hourly windows, in 20 Parquet
files, and actuals for half of them. Each engine computes every window's mergeable aggregates
(counts, confusion matrix, log-loss and Brier sums, latency sketch, missing and category
counts); the table gives the wall time of each and checks that they agree (rows, labelled
rows and confusion matrices equal). Spark runs in this machine's JVM with every core
(``local[*]``); the embedded engine reads the whole log into memory and runs in one process.
The session's first job (JVM warm-up, Python workers importing modelmon) is timed apart on a
small log.

Run: ``python -m benchmarks.bench_batch [--rows N] [--quick]``.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks._common import print_table

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOURS, FILES = 100, 20


def spec() -> Any:
    from modelmon.config import ModelSpec

    features = [{"name": f"num_{i}", "type": "numeric"} for i in range(8)]
    features += [{"name": f"cat_{i}", "type": "categorical"} for i in range(2)]
    return ModelSpec.model_validate({"name": "big", "task": "binary_classification",
                                     "features": features, "segments": ["region"],
                                     "prediction": {"classes": ["0", "1"], "score": True}})


def write_logs(folder: Path, rows: int) -> None:
    (folder / "predictions").mkdir()
    (folder / "actuals").mkdir()
    rng = np.random.default_rng(11)
    per = rows // FILES
    span_us = HOURS * 3600 * 1_000_000
    for f in range(FILES):
        ids = pc.binary_join_element_wise(
            pa.scalar(f"f{f}-"), pa.array(np.arange(per).astype(str)), "")
        times = pa.array(T0.timestamp() * 1e6 + rng.integers(0, span_us, per),
                         pa.int64()).cast(pa.timestamp("us", tz="UTC"))
        score = rng.random(per)
        cols: dict[str, Any] = {
            "prediction_id": ids, "event_time": times, "version": pa.array(["v1"] * per),
            "label": pa.array(np.where(score >= 0.5, "1", "0")), "score": score,
            "latency_seconds": rng.gamma(2, 0.01, per),
            "segment.region": pa.array(rng.choice(["eu", "us", "apac"], per))}
        for i in range(8):
            cols[f"feature.num_{i}"] = rng.normal(size=per)
        for i in range(2):
            cols[f"feature.cat_{i}"] = pa.array(rng.choice(["a", "b", "c", "d"], per))
        pq.write_table(pa.table(cols), folder / "predictions" / f"part-{f:03d}.parquet")
        half = per // 2
        truth = (rng.random(half) < score[:half]).astype(int).astype(str)
        pq.write_table(pa.table({"prediction_id": ids.slice(0, half), "label": truth,
                                 "event_time": times.slice(0, half)}),
                       folder / "actuals" / f"part-{f:03d}.parquet")


def run(rows: int) -> list[dict[str, Any]]:
    os.environ.setdefault("MODELMON_SPARK_DRIVER_MEMORY", "6g")
    from modelmon.batch import BatchInput
    from modelmon.batch.job import compute_aggregates
    from modelmon.batch.spark import spark_session

    s = spec()
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        write_logs(folder, rows)
        print(f"wrote {rows:,} rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        inp = BatchInput(str(folder / "predictions"), str(folder / "actuals"), "1h")
        session = spark_session("local[*]")
        # The session's first job starts the JVM's code paths and the Python workers (each
        # imports modelmon): timed on a small log of its own, apart from the measured run.
        small = folder / "warm"
        small.mkdir()
        write_logs(small, 20_000)
        t0 = time.perf_counter()
        compute_aggregates(s, BatchInput(str(small / "predictions"), str(small / "actuals"),
                                         "1h"), "spark", session=session)
        out.append({"engine": "spark: first job of a session (20,000 rows)", "rows": 20_000,
                    "windows": HOURS, "seconds": time.perf_counter() - t0, "rows_per_s": math.nan})
        results = {}
        for engine in ("spark", "embedded"):
            t0 = time.perf_counter()
            aggs = compute_aggregates(s, inp, engine, session=session)
            took = time.perf_counter() - t0
            results[engine] = aggs
            out.append({"engine": engine, "rows": sum(a.n for a in aggs.values()),
                        "windows": len(aggs), "seconds": took,
                        "rows_per_s": sum(a.n for a in aggs.values()) / took})
        session.stop()
        a, b = results["spark"], results["embedded"]
        same = sorted(a) == sorted(b) and all(
            a[k].n == b[k].n and a[k].n_labelled == b[k].n_labelled
            and (a[k].confusion == b[k].confusion).all() for k in a)
        for row in out[1:]:
            row["agrees"] = "yes" if same else "NO"
    return out


def main() -> None:
    args = sys.argv[1:]
    rows = 200_000 if "--quick" in args else 10_000_000
    if "--rows" in args:
        rows = int(args[args.index("--rows") + 1])
    print_table(f"Batch evaluation of {rows:,} predictions (100 hourly windows): Spark "
                "local[*] beside the embedded engine", run(rows))


if __name__ == "__main__":
    main()

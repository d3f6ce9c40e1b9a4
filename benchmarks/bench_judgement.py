"""Judgement: detection on public data beside NannyML, planted changes, stable runs, backfill.

1. NannyML's bundled data sets (``benchmarks.public_data``) through the whole service path
   (store, backfill, verdicts), chunked as NannyML chunks them; beside NannyML 0.13.1's own
   per-chunk alerts on the same chunks (univariate drift and realized performance with their
   default thresholds, run in NannyML's own environment): the first flagged chunk after the
   known change, drifting features found and missed, false findings before it and in the
   reference period.
2. Simulations with a planted step, gradual and recurring change, and stable runs of 1,000
   windows (false degraded verdicts and drift findings against the nominal 1 %).
3. Backfill: 100,000 predictions over 20 months with weekly windows, while a second model is
   evaluated live by scheduled cycles (their number and longest time during the backfill).

Run: ``python -m benchmarks.bench_judgement [--quick] [--no-peers]``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks._common import print_table
from benchmarks.detection import run_public, run_simulation, summarize
from modelmon.config import ModelSpec
from modelmon.evaluation import Evaluator
from modelmon.ingest.actuals import actuals_from_table
from modelmon.ingest.predictions import predictions_from_table
from modelmon.store import BatchKind, WriteBatch
from modelmon.store.duckdb_store import DuckDBStore

SETS = ("synthetic_binary_classification", "us_census_ma_employment",
        "modified_california_housing")


#: Per data set: the chunk where the known input change starts, the features it moves, and the
#: chunk where the known quality drop starts (from ``benchmarks.public_data``'s known changes;
#: the census quality drop is the episode of chunks 27-28, chunk 26 holds its first rows).
KNOWN = {
    "synthetic_binary_classification": (5, ("distance_from_office", "public_transportation_cost",
                                            "salary_range", "wfh_prev_workday"), 5),
    "us_census_ma_employment": (14, ("RELP",), 27),
    "modified_california_housing": (8, ("Latitude", "Longitude"), 3),
}


def _compare(drifted: list[set[str]], degraded: list[bool], reference_drift: list[bool],
             reference_degraded: list[bool], name: str) -> dict[str, Any]:
    """Our verdicts and NannyML's alerts, summarised alike against the known changes."""
    drift_at, features, perf_at = KNOWN[name]
    named = set().union(*drifted[drift_at:]) if len(drifted) > drift_at else set()
    first_drift = next((i for i in range(drift_at, len(drifted))
                        if drifted[i] & set(features)), None)
    first_degraded = next((i for i in range(perf_at, len(degraded)) if degraded[i]), None)
    return {
        "drift from": drift_at, "first drift": first_drift,
        "found": f"{len(set(features) & named)} of {len(features)}",
        "missed": ", ".join(sorted(set(features) - named)) or "-",
        "drift before": sum(bool(d) for d in drifted[:drift_at]),
        "quality drop from": perf_at, "first degraded": first_degraded,
        "degraded before": sum(degraded[:perf_at]),
        "reference chunks": len(reference_drift),
        "reference drift": sum(reference_drift), "reference degraded": sum(reference_degraded),
    }


def _nannyml(name: str) -> dict[str, Any]:
    """NannyML's per-chunk alerts (univariate drift, realized performance; default methods and
    thresholds) on the same chunks."""
    from benchmarks.peers.nannyml_chunks import run

    doc = run(name)
    chunks = doc["chunks"]

    def drifted(c: dict[str, Any]) -> set[str]:
        return {k for k, v in (c.get("univariate_drift") or {}).items() if v.get("alert")}

    def perf(c: dict[str, Any]) -> bool:
        return any(v.get("alert") for v in (c.get("performance") or {}).values())

    analysis = [c for c in chunks if c["period"] == "analysis"]
    reference = [c for c in chunks if c["period"] == "reference"]
    secs = doc.get("seconds") or {}
    spent = sum(float(part.get(step, 0.0)) for calc, part in secs.items()
                if calc in ("univariate_drift", "performance") for step in ("fit", "calculate"))
    return {**_compare([drifted(c) for c in analysis], [perf(c) for c in analysis],
                       [bool(drifted(c)) for c in reference], [perf(c) for c in reference], name),
            "seconds": round(spent, 2)}


def public(peers: bool, quick: bool) -> list[dict[str, Any]]:
    from benchmarks.public_data import load

    rows = []
    sets = SETS[:1] if quick else SETS
    for name in sets:
        ds = load(name)
        for mode in ("file", "history") if name == SETS[0] else ("file",):
            run = run_public(name, mode=mode)
            analysis = run.windows[run.reference_windows:]
            reference = run.windows[:run.reference_windows]
            ours = _compare([set(w.drifted) for w in analysis],
                            [w.status == "degraded" for w in analysis],
                            [bool(w.drifted) for w in reference],
                            [w.status == "degraded" for w in reference], name)
            rows.append({"data set": name, "chunk": f"{ds.chunk_size} rows",
                         "tool": f"modelmon ({mode})", **ours, "seconds": round(run.seconds, 2)})
        if peers:
            try:
                theirs = _nannyml(name)
            except Exception as exc:  # the peer is optional; say why it is missing
                theirs = {"first drift": f"unavailable: {type(exc).__name__}"}
            rows.append({"data set": name, "chunk": f"{ds.chunk_size} rows",
                         "tool": "NannyML 0.13.1", **theirs})
    return rows


def simulations(quick: bool) -> list[dict[str, Any]]:
    rows = []
    for kind in ("step", "gradual", "recurring", "stable"):
        run = run_simulation(kind, windows=60, rows=2000, change=30)
        s = summarize(run, change=None if kind == "stable" else 30, drifting=["x1", "c1"])
        rows.append({"simulation": kind, "windows": 60, "rows/window": 2000, **s})
    for seed in (1, 2) if quick else (1, 2, 3, 4):
        run = run_simulation("stable", windows=1000, rows=500, seed=seed)
        statuses = Counter(w.status for w in run.windows[run.reference_windows:])
        rows.append({"simulation": f"stable, seed {seed}", "windows": 1000, "rows/window": 500,
                     "false_degraded_before": statuses.get("degraded", 0),
                     "false_drift_before": sum(bool(w.drifted)
                                               for w in run.windows[run.reference_windows:]),
                     "nominal": "10 + 10 (1 % each)", "seconds": round(run.seconds, 1)})
    return rows


def _fraud(name: str, windows: list[str]) -> ModelSpec:
    return ModelSpec.model_validate({
        "name": name, "task": "binary_classification", "windows": windows,
        "judgement": {"window": windows[0], "baseline_windows": 8},
        "features": [{"name": "amount", "type": "numeric"}, {"name": "age", "type": "numeric"},
                     {"name": "tenure", "type": "numeric"},
                     {"name": "channel", "type": "categorical"}],
        "prediction": {"classes": [0, 1], "score": True}})


def _traffic(rng: np.random.Generator, n: int, start: datetime, span: timedelta,
             prefix: str, drift_from: float = 2.0) -> tuple[pa.Table, pa.Table]:
    secs = np.sort(rng.uniform(0, span.total_seconds(), n))
    late = secs > drift_from * span.total_seconds()
    amount = rng.normal(100, 20, n) + np.where(late, 40, 0)
    age = rng.normal(40, 10, n)
    score = 1 / (1 + np.exp(-(0.03 * (amount - 100) - 0.02 * (age - 40))))
    y = (rng.random(n) < np.where(late, 0.5, score)).astype(int)
    times = pa.array(((start.timestamp() + secs) * 1e6).astype(np.int64)).cast(
        pa.timestamp("us", tz="UTC"))
    ids = pa.array([f"{prefix}{i}" for i in range(n)])
    preds = pa.table({"prediction_id": ids, "timestamp": times, "amount": amount, "age": age,
                      "tenure": rng.exponential(5, n),
                      "channel": rng.choice(["web", "app", "store"], n), "score": score})
    acts = pa.table({"prediction_id": ids, "actual": y.astype(str)})
    return preds, acts


def backfill(quick: bool) -> list[dict[str, Any]]:
    n = 20_000 if quick else 100_000
    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-backfill-"))
    store = DuckDBStore(str(tmp / "backfill.duckdb"))
    store.open()
    now = datetime(2026, 6, 1, tzinfo=UTC)
    history = _fraud("history", ["1w"])
    live = _fraud("live", ["1m"])
    store.save_model(history)
    store.save_model(live)
    rng = np.random.default_rng(0)
    start = now - timedelta(days=608)  # 20 months
    preds, acts = _traffic(rng, n, start, timedelta(days=600), "h", drift_from=0.8)
    store.write([WriteBatch(BatchKind.PREDICTIONS, "history",
                            predictions_from_table(history, preds, now=now)),
                 WriteBatch(BatchKind.ACTUALS, "history", actuals_from_table(history, acts, now=now))])
    p2, a2 = _traffic(rng, 30 * 200, now - timedelta(minutes=30), timedelta(minutes=30), "l")
    store.write([WriteBatch(BatchKind.PREDICTIONS, "live", predictions_from_table(live, p2, now=now)),
                 WriteBatch(BatchKind.ACTUALS, "live", actuals_from_table(live, a2, now=now))])
    ev = Evaluator(store, clock=lambda: now)
    ev.run_cycle()  # the live model's first cycle (and the backfill's model, locked next)
    store.delete_window_results("history", "1w", [s for s, _ in store.window_starts("history", "1w")])
    store.set_evaluation_state("history", None, None, [], None)
    cycles: list[float] = []
    stop = threading.Event()

    def scheduled() -> None:
        k = 0
        while not stop.is_set():
            k += 1
            extra, _ = _traffic(rng, 50, now - timedelta(minutes=1), timedelta(seconds=50),
                                f"x{k}-")
            store.write([WriteBatch(BatchKind.PREDICTIONS, "live",
                                    predictions_from_table(live, extra, now=now))])
            t0 = time.perf_counter()
            summary = ev.run_cycle()
            cycles.append(time.perf_counter() - t0)
            assert any(m.model == "live" and m.windows_evaluated for m in summary.models)
            stop.wait(0.2)

    thread = threading.Thread(target=scheduled)
    thread.start()
    t0 = time.perf_counter()
    result = ev.backfill("history", chunk=50)
    took = time.perf_counter() - t0
    stop.set()
    thread.join()
    verdicts = store.verdicts("history", window_size="1w", limit=10_000)
    store.close()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return [{"case": f"backfill {n:,} predictions over 20 months, weekly windows",
             "seconds": took, "windows": result.windows_evaluated, "verdicts": len(verdicts),
             "degraded": sum(v.status == "degraded" for v in verdicts), "target_s": 10.0,
             "live cycles meanwhile": len(cycles),
             "longest live cycle_s": max(cycles) if cycles else float("nan")}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    print_table("Judgement: detection on NannyML's public data sets, beside NannyML",
                public(not args.no_peers, args.quick))
    print_table("Judgement: planted changes and stable runs (first window after the change = 30)",
                simulations(args.quick))
    print_table("Judgement: backfill", backfill(args.quick))


if __name__ == "__main__":
    main()

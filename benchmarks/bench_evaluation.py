"""Evaluation engine costs (issue 4 targets).

1. One window of 1,000,000 labelled predictions, 25 features (20 numeric, 5 categorical; 7
   drifting): fetch from DuckDB, quality + operational + data quality + drift + fairness, store
   the results, then judge the model (degradation ensemble, status, report). Target <= 3 s.
2. A scheduler cycle over 20 models with 30 days of hourly windows already evaluated, when
   nothing new arrived. Target <= 1 s. Also: the same cycle after one new prediction arrives in
   one model (only its window is recomputed).

Run: ``python -m benchmarks.bench_evaluation [--quick]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks._common import print_table
from benchmarks.data import CATEGORICAL, NUMERIC, make_frames
from modelmon.config import ModelSpec
from modelmon.evaluation import Evaluator
from modelmon.ingest.actuals import actuals_from_table
from modelmon.ingest.predictions import predictions_from_table
from modelmon.store import BatchKind, WriteBatch
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.store.results import WindowResults
from modelmon.windows import Window

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _spec(name: str, reference: str | None = None) -> ModelSpec:
    data: dict[str, Any] = {
        "name": name, "task": "binary_classification", "windows": ["1h"],
        "features": [{"name": c, "type": "numeric"} for c in NUMERIC]
        + [{"name": c, "type": "categorical"} for c in CATEGORICAL],
        "segments": ["cat_0"], "prediction": {"classes": [0, 1], "score": True},
    }
    if reference:
        data["reference"] = {"path": reference}
    return ModelSpec.model_validate(data)


def big_window(n: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-eval-"))
    ref, cur = make_frames(n, seed=3)
    import pyarrow.parquet as pq

    pq.write_table(pa.table(ref), tmp / "ref.parquet")
    spec = _spec("big", str(tmp / "ref.parquet"))
    store = DuckDBStore(str(tmp / "eval.duckdb"), memory_limit="8GB")
    store.open()
    store.save_model(spec)
    rng = np.random.default_rng(0)
    start = NOW - timedelta(hours=1)
    score = rng.random(n)
    t_load = time.perf_counter()
    chunk = 250_000
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        micros = (np.linspace(start.timestamp(), start.timestamp() + 3599, n)[lo:hi] * 1e6)
        times = pa.array(micros.astype(np.int64)).cast(pa.timestamp("us", tz="UTC"))
        ids = pa.array([f"b{i}" for i in range(lo, hi)])
        table = pa.table({"prediction_id": ids, "timestamp": times, "score": score[lo:hi],
                          "latency_seconds": rng.gamma(2, 0.01, hi - lo),
                          **{k: v[lo:hi] for k, v in cur.items()}})
        acts = pa.table({"prediction_id": ids,
                         "actual": np.where(rng.random(hi - lo) < score[lo:hi], "1", "0")})
        store.write([WriteBatch(BatchKind.PREDICTIONS, "big", predictions_from_table(spec, table, now=NOW)),
                     WriteBatch(BatchKind.ACTUALS, "big", actuals_from_table(spec, acts, now=NOW))])
    load_s = time.perf_counter() - t_load
    ev = Evaluator(store, clock=lambda: NOW)
    scheme = ev.status_scheme(spec)
    t0 = time.perf_counter()
    # the reference (summary, drift bands, noise) is fitted once per spec revision, not per window
    profile = ev.references.get("big", NOW, scheme, spec.judgement.baseline_windows)
    t_reference = time.perf_counter() - t0
    window = Window(start, start + timedelta(hours=1), "1h")
    # Warm-up on a small window so one-off compilation (numba) is not counted.
    ev._evaluate_window(spec, Window(start, start + timedelta(seconds=10), "1h"), profile)
    t0 = time.perf_counter()
    results = ev._evaluate_window(spec, window, profile)
    t_eval = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.replace_window_results("big", [results])
    t_store = time.perf_counter() - t0
    t0 = time.perf_counter()
    ev.judge.judge(spec, scheme, profile=profile, now=NOW)
    ev._update_status(spec, NOW, force=True)
    t_judge = time.perf_counter() - t0
    store.close()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return {"case": f"one window, {n:,} labelled rows, 25 features",
            "fetch+evaluate_s": t_eval, "store_s": t_store, "judge_s": t_judge,
            "total_s": t_eval + t_store + t_judge, "target_s": 3.0, "load_s (setup)": load_s,
            "reference_fit_s (once)": t_reference}


def _synthetic_results(spec: ModelSpec, start: datetime) -> WindowResults:
    metrics = ["prediction_count", "accuracy", "f1", "roc_auc", "log_loss", "latency_p95_seconds",
               "error_rate", "drift_share"] + [f"m{i}" for i in range(32)]
    end = start + timedelta(hours=1)
    pts = pa.table({"version": ["*"] * len(metrics), "segment": ["*"] * len(metrics),
                    "window_size": ["1h"] * len(metrics), "window_start": [start] * len(metrics),
                    "window_end": [end] * len(metrics), "metric": metrics,
                    "value": np.random.default_rng(0).random(len(metrics)),
                    "n": [100] * len(metrics)})
    feats = [f.name for f in spec.features]
    fr = pa.table({"version": ["*"] * len(feats), "segment": ["*"] * len(feats),
                   "window_size": ["1h"] * len(feats), "window_start": [start] * len(feats),
                   "window_end": [end] * len(feats), "feature": feats,
                   "feature_type": ["numeric"] * len(feats), "test": ["ks"] * len(feats),
                   "statistic": [0.01] * len(feats), "p_value": [0.5] * len(feats),
                   "threshold": [0.05] * len(feats), "drifted": [False] * len(feats),
                   "n_reference": [1000] * len(feats), "n_current": [100] * len(feats)})
    return WindowResults("1h", start, end, pts, fr)


def idle_cycle(models: int, days: int) -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-cycle-"))
    store = DuckDBStore(str(tmp / "cycle.duckdb"))
    store.open()
    hours = days * 24
    first = NOW - timedelta(hours=hours)
    rng = np.random.default_rng(1)
    setup = time.perf_counter()
    for m in range(models):
        spec = _spec(f"model_{m:02d}")
        store.save_model(spec)
        n = hours * 5  # five predictions per hour: the point is the stored history, not volume
        times = pa.array(((first.timestamp() + np.arange(n) * 720.0) * 1e6).astype(np.int64)).cast(
            pa.timestamp("us", tz="UTC"))
        frame = {c: rng.normal(size=n) for c in NUMERIC}
        frame.update({c: np.asarray(["a", "b"])[rng.integers(0, 2, n)] for c in CATEGORICAL})
        table = pa.table({"prediction_id": [f"{m}-{i}" for i in range(n)], "timestamp": times,
                          "score": rng.random(n), **frame})
        store.write([WriteBatch(BatchKind.PREDICTIONS, spec.name,
                                predictions_from_table(spec, table, now=NOW))])
        results = [_synthetic_results(spec, first + timedelta(hours=h)) for h in range(hours)]
        for lo in range(0, hours, 200):
            store.replace_window_results(spec.name, results[lo:lo + 200])
        p, a = store.data_watermarks(spec.name)
        store.set_evaluation_state(spec.name, p, a, [], "-|0")
    setup_s = time.perf_counter() - setup
    ev = Evaluator(store, clock=lambda: NOW)
    ev.run_cycle()  # first cycle after start: judges every model once
    t0 = time.perf_counter()
    idle = ev.run_cycle()
    t_idle = time.perf_counter() - t0
    spec = store.get_model("model_00").spec
    table = pa.table({"prediction_id": ["new-1"], "timestamp": [NOW - timedelta(minutes=30)],
                      "score": [0.5], **{c: [0.0] for c in NUMERIC}, **{c: ["a"] for c in CATEGORICAL}})
    store.write([WriteBatch(BatchKind.PREDICTIONS, "model_00", predictions_from_table(spec, table, now=NOW))])
    t0 = time.perf_counter()
    one = ev.run_cycle()
    t_one = time.perf_counter() - t0
    store.close()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return [
        {"case": f"scheduler cycle, {models} models x {days} days hourly stored, nothing new",
         "seconds": t_idle, "windows_recomputed": idle.windows_evaluated, "target_s": 1.0,
         "setup_s": setup_s},
        {"case": "same, after one new prediction in one model", "seconds": t_one,
         "windows_recomputed": one.windows_evaluated, "target_s": "", "setup_s": ""},
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows = [big_window(100_000 if quick else 1_000_000)]
    rows += idle_cycle(5 if quick else 20, 3 if quick else 30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = run(args.quick)
    print_table("Evaluation: one big window", rows[:1])
    print_table("Evaluation: scheduler cycles", rows[1:])


if __name__ == "__main__":
    main()

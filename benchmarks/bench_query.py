"""Query side of the service: time series, drift, overview and a full ``/metrics`` scrape.

The store holds 30 days of hourly results for 20 models: 40 metrics per window (version and
segment ``*``) and 25 feature rows per window, written through
``ResultStore.replace_window_results`` as the evaluation engine would; each model also has a
status, a report and a few detector events. Then, best of 5 after a warm-up:

* one metric's 30-day hourly series (720 points) straight from the store and over HTTP (the issue's
  target: under 50 ms), and all 40 metrics (28,800 points);
* the same downsampled to daily buckets (``step=1d``);
* drift: the last day of one model (24 windows x 25 features) and all 30 days (18,000 rows);
* ``/v1/overview`` over the 20 models;
* a full ``/metrics`` scrape over HTTP (the models unchanged since the previous scrape, so only
  their statuses are read), and the results collector alone, also with every model re-read (the
  scrape right after an evaluation cycle changed them all).

HTTP timings go through a real uvicorn server on loopback (``httpx`` client, JSON parsed).
``--quick``: 4 models x 7 days.

Run: ``.venv/bin/python -m benchmarks.bench_query [--quick]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
from prometheus_client import CollectorRegistry, generate_latest
from tests.support.live_server import live_server

from benchmarks._common import print_table
from modelmon.config import ModelSpec, load_settings
from modelmon.service.collectors import ModelResultsCollector
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.store.results import DetectorState, WindowResults

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
METRICS = ["accuracy", "f1", "roc_auc", "precision", "recall", "log_loss", "brier",
           "prediction_count", "labelled_count", "latency_p50_seconds", "latency_p95_seconds",
           "latency_p99_seconds", "error_rate", "throughput_per_second", "drift_share",
           "missing_share", *(f"custom_{i:02d}" for i in range(24))]
FEATURES = [f"num_{i:02d}" for i in range(20)] + [f"cat_{i}" for i in range(5)]
_TS = pa.timestamp("us", tz="UTC")


def _window(rng: np.random.Generator, start: datetime) -> WindowResults:
    end = start + HOUR
    m, f = len(METRICS), len(FEATURES)
    points = pa.table({
        "version": ["*"] * m, "segment": ["*"] * m, "window_size": ["1h"] * m,
        "window_start": pa.array([start] * m, _TS), "window_end": pa.array([end] * m, _TS),
        "metric": METRICS, "value": rng.random(m), "n": rng.integers(100, 1000, m),
    })
    drifted = rng.random(f) < 0.1
    features = pa.table({
        "version": ["*"] * f, "segment": ["*"] * f, "window_size": ["1h"] * f,
        "window_start": pa.array([start] * f, _TS), "window_end": pa.array([end] * f, _TS),
        "feature": FEATURES, "feature_type": ["numeric"] * 20 + ["categorical"] * 5,
        "test": ["ks"] * 20 + ["chi2"] * 5, "statistic": rng.random(f),
        "p_value": np.where(drifted, 0.001, 0.5), "threshold": [0.05] * f, "drifted": drifted,
        "n_reference": [10_000] * f, "n_current": [1000] * f,
        "missing_share": rng.random(f) * 0.01, "out_of_range_share": np.zeros(f),
        "unseen_share": np.zeros(f),
    })
    return WindowResults("1h", start, end, points, features)


def fill(store: DuckDBStore, models: int, days: int) -> float:
    """Write the results; return the seconds it took."""
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    for i in range(models):
        name = f"model_{i:02d}"
        store.save_model(ModelSpec.model_validate({
            "name": name, "task": "binary_classification",
            "features": [{"name": f, "type": "numeric" if f.startswith("num") else "categorical"}
                         for f in FEATURES]}))
        store.replace_window_results(name, [_window(rng, T0 + h * HOUR)
                                            for h in range(24 * days)])
        times = [T0 + timedelta(hours=h) for h in (10, 200, 400)]
        events = pa.table({
            "version": ["*"] * 3, "detector": ["adwin"] * 3, "kind": ["warning", "drift", "drift"],
            "event_time": pa.array(times, _TS), "prediction_id": ["a", "b", "c"],
            "position": [1, 2, 3], "details": ["{}"] * 3,
        })
        store.save_detector_progress(name, DetectorState("*", "adwin", b"", 3, times[-1], "c"),
                                     events)
        store.save_report(name, {"id": f"{name}-r", "status": "healthy",
                                 "window": {"size": "1h"}})
        store.set_status(name, "healthy", [], f"{name}-r")
    return time.perf_counter() - started


def _best_ms(fn: Any, repeat: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def run(quick: bool = False) -> list[dict[str, Any]]:
    models, days = (4, 7) if quick else (20, 30)
    hours = 24 * days
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        store = DuckDBStore(str(Path(folder) / "bench.duckdb"))
        store.open()
        seconds = fill(store, models, days)
        rows.append({"task": f"fill the store: {models} models x {hours} windows "
                             f"({len(METRICS)} metrics + {len(FEATURES)} features each)",
                     "ms": seconds * 1000, "target ms": float("nan"),
                     "note": "replace_window_results, one call per model"})
        settings = load_settings(env={}, overrides={
            "store": {"path": store.path}, "scheduler": {"enabled": False}})
        m = "model_03"
        last_day = (T0 + (hours - 24) * HOUR).isoformat()
        with live_server(settings, store=store) as server, \
                httpx.Client(base_url=server.url, timeout=60) as client:

            def get(path: str, **params: Any) -> Any:
                resp = client.get(path, params=params)
                resp.raise_for_status()
                return resp.json() if "json" in resp.headers["content-type"] else resp.text

            one = {"metric": "accuracy", "window": "1h"}
            cases: list[tuple[str, Any, float]] = [
                (f"store: 1 metric, {hours} hourly points",
                 lambda: store.metric_series(m, metrics=["accuracy"], window_size="1h"), 50),
                (f"HTTP: 1 metric, {hours} hourly points",
                 lambda: get(f"/v1/models/{m}/metrics", **one), 50),
                (f"store: {len(METRICS)} metrics, {hours * len(METRICS):,} points",
                 lambda: store.metric_series(m, window_size="1h"), float("nan")),
                (f"HTTP: {len(METRICS)} metrics, {hours * len(METRICS):,} points",
                 lambda: get(f"/v1/models/{m}/metrics", window="1h", limit=100_000),
                 float("nan")),
                (f"HTTP: {len(METRICS)} metrics downsampled to 1d",
                 lambda: get(f"/v1/models/{m}/metrics", window="1h", step="1d", limit=100_000),
                 float("nan")),
                ("HTTP: latest point of every metric",
                 lambda: get(f"/v1/models/{m}/metrics/latest"), float("nan")),
                (f"store: drift, last day (24 x {len(FEATURES)} rows)",
                 lambda: store.feature_results(m, window_size="1h", start=datetime.fromisoformat(
                     last_day)), float("nan")),
                (f"HTTP: drift, last day (24 x {len(FEATURES)} rows)",
                 lambda: get(f"/v1/models/{m}/drift", window="1h", start=last_day),
                 float("nan")),
                (f"HTTP: drift, all {hours} windows ({hours * len(FEATURES):,} rows)",
                 lambda: get(f"/v1/models/{m}/drift", window="1h", limit=100_000),
                 float("nan")),
                (f"HTTP: /v1/overview, {models} models", lambda: get("/v1/overview"),
                 float("nan")),
                (f"HTTP: /metrics scrape, {models} models x {len(FEATURES)} features",
                 lambda: get("/metrics"), float("nan")),
            ]
            for task, fn, target in cases:
                rows.append({"task": task, "ms": _best_ms(fn), "target ms": target, "note": ""})
            for label, max_age in (("unchanged models", 60.0), ("every model re-read", 0.0)):
                registry = CollectorRegistry()
                registry.register(ModelResultsCollector(store, max_age=max_age))
                size = len(generate_latest(registry))
                rows.append({"task": f"results collector alone, {label}",
                             "ms": _best_ms(lambda r=registry: generate_latest(r)),
                             "target ms": float("nan"),
                             "note": f"{size:,} bytes of exposition"})
    return rows


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    print_table("Query API and /metrics" + (" (quick)" if quick else ""), run(quick))


if __name__ == "__main__":
    main()

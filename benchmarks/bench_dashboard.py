"""The dashboard: first render of every page in Chromium, and the bytes the heaviest page moves.

The store holds what the issue names: one model with 30 days of hourly windows x 25 features
(40 metrics a window, a verdict for every window, detector events, reports), 99 more models with
30 days of hourly headline metrics (the overview shows 100), and one model with 800 features
(30 days of hourly drift rows: 576,000) for the drift page's ranking and paging. Results are
written through the ResultStore as the evaluation engine writes them.

For each page: the server's answer (HTTP GET, first request after start and best of 5), and the
first render in Debian's Chromium through Playwright (navigation until the load event and every
chart drawn, in a fresh browser context: no cached assets), with the bytes that visit moved.
Target: first render under 1 s (``browser_first_ms``: to the load event, the charts in view
drawn; ``all_charts_ms``: every chart of the page drawn).

Run: ``.venv/bin/python -m benchmarks.bench_dashboard [--quick]`` (``--quick``: 7 days, 20
models, 200 wide features).
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
from tests.support.browser import CHROMIUM, FLAGS
from tests.support.live_server import live_server

from benchmarks._common import print_table
from benchmarks.bench_query import FEATURES, HOUR, _window
from modelmon.config import ModelSpec, load_settings
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.store.results import DetectorState, StoredVerdict, WindowResults

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_TS = pa.timestamp("us", tz="UTC")
SMALL = ["accuracy", "prediction_count", "error_rate", "latency_p95_seconds", "drift_share"]


def _spec(name: str, features: list[str]) -> ModelSpec:
    return ModelSpec.model_validate({
        "name": name, "task": "binary_classification", "windows": ["1h"],
        "segments": ["country"],
        "features": [{"name": f, "type": "numeric" if not f.startswith("cat") else "categorical"}
                     for f in features]})


def _small_window(rng: np.random.Generator, start: datetime) -> WindowResults:
    m = len(SMALL)
    points = pa.table({
        "version": ["*"] * m, "segment": ["*"] * m, "window_size": ["1h"] * m,
        "window_start": pa.array([start] * m, _TS), "window_end": pa.array([start + HOUR] * m, _TS),
        "metric": SMALL, "value": [0.85 + 0.05 * rng.random(), 800.0, 0.01, 0.05, 0.1],
        "n": [800] * m})
    empty = pa.table({"feature": pa.array([], pa.string())})
    return WindowResults("1h", start, start + HOUR, points, empty)


def _wide_window(rng: np.random.Generator, start: datetime, features: list[str]) -> WindowResults:
    f = len(features)
    end = start + HOUR
    drifted = rng.random(f) < 0.05
    table = pa.table({
        "version": ["*"] * f, "segment": ["*"] * f, "window_size": ["1h"] * f,
        "window_start": pa.array([start] * f, _TS), "window_end": pa.array([end] * f, _TS),
        "feature": features, "feature_type": ["numeric"] * f,
        "test": ["normalized_wasserstein"] * f, "statistic": rng.random(f) * 0.2,
        "p_value": pa.nulls(f, pa.float64()), "threshold": [0.1] * f, "drifted": drifted,
        "n_reference": [10_000] * f, "n_current": [1000] * f,
        "missing_share": rng.random(f) * 0.01, "out_of_range_share": np.zeros(f),
        "unseen_share": np.zeros(f)})
    points = pa.table({
        "version": ["*"], "segment": ["*"], "window_size": ["1h"],
        "window_start": pa.array([start], _TS), "window_end": pa.array([end], _TS),
        "metric": ["drift_share"], "value": [float(drifted.mean())], "n": [1000]})
    return WindowResults("1h", start, end, points, table)


def fill(store: DuckDBStore, days: int, models: int, wide: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    hours = 24 * days
    took = {}
    t = time.perf_counter()
    store.save_model(_spec("fraud", FEATURES))
    store.replace_window_results("fraud", [_window(rng, T0 + h * HOUR) for h in range(hours)])
    statuses = ["healthy"] * (hours - 30) + ["warning"] * 10 + ["degraded"] * 20
    verdicts = [StoredVerdict("1h", T0 + h * HOUR, T0 + (h + 1) * HOUR, True, 800, s,
                              [] if s == "healthy" else [{"kind": "quality",
                                                          "severity": "high", "message":
                                                          "accuracy fell"}], T0)
                for h, s in enumerate(statuses)]
    store.replace_verdicts("fraud", verdicts)
    times = [T0 + timedelta(hours=h) for h in (10, 200, 400)]
    events = pa.table({
        "version": ["*"] * 3, "detector": ["adwin"] * 3, "kind": ["warning", "drift", "drift"],
        "event_time": pa.array(times, _TS), "prediction_id": ["a", "b", "c"],
        "position": [1, 2, 3], "details": ["{}"] * 3})
    store.save_detector_progress("fraud", DetectorState("*", "adwin", b"", 3, times[-1], "c"),
                                 events)
    for i in range(5):
        store.save_report("fraud", {"id": f"fraud-r{i}", "status": "degraded",
                                    "window": {"size": "1h"}})
    store.set_status("fraud", "degraded", [{"kind": "quality", "severity": "high",
                                            "message": "accuracy 0.71 vs baseline 0.86"}],
                     "fraud-r4")
    took["fraud"] = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(models - 1):
        name = f"model_{i:03d}"
        store.save_model(_spec(name, FEATURES[:5]))
        store.replace_window_results(name, [_small_window(rng, T0 + h * HOUR)
                                            for h in range(hours)])
        store.set_status(name, "healthy", [], None)
    took["others"] = time.perf_counter() - t
    t = time.perf_counter()
    names = [f"f{i:03d}" for i in range(wide)]
    store.save_model(_spec("wide", names))
    store.replace_window_results("wide", [_wide_window(rng, T0 + h * HOUR, names)
                                          for h in range(hours)])
    store.set_status("wide", "healthy", [], None)
    took["wide"] = time.perf_counter() - t
    return took


def _browser_visit(browser: Any, url: str) -> tuple[float, float, int, int]:
    """Seconds to the load event (the charts in view drawn), to every chart drawn, bytes the
    visit moved (HTML and assets, none cached), and the number of charts."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url, wait_until="load")
    seconds = time.perf_counter() - t0  # on screen: the charts in view are drawn by then
    page.wait_for_function("Array.from(document.querySelectorAll('.mm-chart'))"
                           ".every(e => e.hasAttribute('data-points'))")
    every = time.perf_counter() - t0
    charts = page.eval_on_selector_all(".mm-chart", "els => els.length")
    moved = page.evaluate(
        "performance.getEntriesByType('navigation').concat("
        "performance.getEntriesByType('resource')).reduce((s, e) => s + e.transferSize, 0)")
    context.close()
    return seconds, every, int(moved), charts


def run(quick: bool = False) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    days, models, wide = (7, 20, 200) if quick else (30, 100, 800)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        store = DuckDBStore(str(Path(folder) / "bench.duckdb"))
        store.open()
        took = fill(store, days, models, wide)
        rows.append({"page": f"(fill: {24 * days} hourly windows; fraud {took['fraud']:.1f} s, "
                             f"{models - 1} models {took['others']:.1f} s, {wide} features "
                             f"{took['wide']:.1f} s)", "server_first_ms": float("nan"),
                     "server_best_ms": float("nan"), "browser_first_ms": float("nan"),
                     "all_charts_ms": float("nan"), "target_ms": float("nan"),
                     "kb_moved": float("nan"), "charts": 0})
        settings = load_settings(env={}, overrides={
            "store": {"path": store.path}, "scheduler": {"enabled": False},
            "ingest": {"validation_workers": 0}})
        pages = [
            (f"overview, {models} models", "/ui/"),
            (f"model, {24 * days} hourly windows x 25 features", "/ui/models/fraud"),
            ("model, operations view", "/ui/models/fraud?view=operations"),
            ("drift, 25 features", "/ui/models/fraud/drift"),
            (f"drift, {wide} features (page 1 of {-(-wide // 50)})", "/ui/models/wide/drift"),
            (f"drift, {wide} features, last page",
             f"/ui/models/wide/drift?page={-(-wide // 50)}"),
            ("data quality", "/ui/models/fraud/quality"),
            ("fairness", "/ui/models/fraud/fairness"),
            ("reports", "/ui/models/fraud/reports"),
            ("alerts", "/ui/alerts"),
            ("system", "/ui/system"),
        ]
        with live_server(settings, store=store) as server, \
                httpx.Client(base_url=server.url, timeout=120) as client, \
                sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for label, path in pages:
                t0 = time.perf_counter()
                first = client.get(path)
                server_first = time.perf_counter() - t0
                first.raise_for_status()
                best = float("inf")
                for _ in range(5):
                    t0 = time.perf_counter()
                    client.get(path).raise_for_status()
                    best = min(best, time.perf_counter() - t0)
                seconds, every, moved, charts = _browser_visit(browser, server.url + path)
                rows.append({"page": label, "server_first_ms": server_first * 1000,
                             "server_best_ms": best * 1000, "browser_first_ms": seconds * 1000,
                             "all_charts_ms": every * 1000, "target_ms": 1000.0,
                             "kb_moved": moved / 1000, "charts": charts})
            browser.close()
        store.close()
    heaviest = max(rows[1:], key=lambda r: r["kb_moved"])
    rows.append({"page": f"heaviest page: {heaviest['page']}", "server_first_ms": float("nan"),
                 "server_best_ms": float("nan"), "browser_first_ms": float("nan"),
                 "all_charts_ms": float("nan"), "target_ms": float("nan"),
                 "kb_moved": heaviest["kb_moved"],
                 "charts": heaviest["charts"]})
    return rows


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    print_table("Dashboard: first render in Chromium" + (" (quick)" if quick else ""),
                run(quick))


if __name__ == "__main__":
    main()

"""The query API on a real server, over synthetic evaluation results written through the store.

The results are written with the ResultStore methods (``replace_window_results``,
``save_detector_progress``, ``save_report``, ``set_status``), so these tests do not depend on the
evaluation engine; every expected number is computed here from the same seeded data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from modelmon.config import load_settings
from modelmon.config.models import ModelSpec
from modelmon.config.settings import Settings
from modelmon.service.routes.results import downsample
from modelmon.store.results import DetectorState, WindowResults
from tests.support.live_server import LiveServer, live_server

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOURS = 48
HOUR = timedelta(hours=1)
FEATURES = ["amount", "age", "income", "country", "online"]

MODELS: list[dict[str, Any]] = [
    {
        "name": "fraud", "task": "binary_classification", "windows": ["1h", "1d"],
        "features": [{"name": "amount", "type": "numeric"}, {"name": "age", "type": "numeric"},
                     {"name": "income", "type": "numeric"},
                     {"name": "country", "type": "categorical"},
                     {"name": "online", "type": "boolean"}],
        "segments": ["channel"], "prediction": {"classes": [0, 1], "score": True},
    },
    {"name": "price", "task": "regression", "windows": ["1h"],
     "features": [{"name": "area", "type": "numeric"}]},
    {"name": "idle", "task": "binary_classification", "windows": ["1h"]},
]

_TS = pa.timestamp("us", tz="UTC")


def settings_for(path: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"store": {"path": str(path / "mm.duckdb")}, "models": MODELS,
                            "scheduler": {"enabled": False}}
    base.update(overrides)
    return load_settings(env={}, overrides=base)


@dataclass
class Synthetic:
    """What was written, for computing expectations."""

    # (version, segment, window, metric) -> list of (start, end, value, n) in time order
    points: dict[tuple[str, str, str, str], list[tuple[datetime, datetime, float, int]]] = field(
        default_factory=dict)
    # window start -> list of feature rows (1h windows, version *, segment *)
    features: dict[datetime, list[dict[str, Any]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    report_ids: list[str] = field(default_factory=list)

    def series(self, metric: str, window: str = "1h", version: str = "*",
               segment: str = "*") -> list[tuple[datetime, datetime, float, int]]:
        return self.points.get((version, segment, window, metric), [])


def _points_table(rows: list[tuple[str, str, str, datetime, datetime, str, float, int]]) -> pa.Table:
    cols = list(zip(*rows, strict=True))
    return pa.table({
        "version": pa.array(cols[0]), "segment": pa.array(cols[1]),
        "window_size": pa.array(cols[2]), "window_start": pa.array(cols[3], _TS),
        "window_end": pa.array(cols[4], _TS), "metric": pa.array(cols[5]),
        "value": pa.array(cols[6], pa.float64()), "n": pa.array(cols[7], pa.int64()),
    })


def _feature_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows) if rows else pa.table({"feature": pa.array([], pa.string())})


def populate(store: Any, seed: int = 7) -> Synthetic:
    """Write 48 hourly (and 2 daily) windows of results for 'fraud' and a few for 'price'."""
    rng = np.random.default_rng(seed)
    syn = Synthetic()
    for v in ("v3", "v4"):
        store.register_version("fraud", v)
    results = []
    for h in range(HOURS):
        start = T0 + h * HOUR
        end = start + HOUR
        rows: list[tuple[str, str, str, datetime, datetime, str, float, int]] = []

        def add(version: str, segment: str, metric: str, value: float, n: int,
                s: datetime = start, e: datetime = end, size: str = "1h",
                rows: list[Any] = rows) -> None:
            rows.append((version, segment, size, s, e, metric, value, n))
            syn.points.setdefault((version, segment, size, metric), []).append((s, e, value, n))

        n = int(rng.integers(50, 500))
        add("*", "*", "accuracy", float(rng.normal(0.88, 0.02)), n)
        add("*", "*", "f1", float(rng.normal(0.7, 0.05)), n)
        add("*", "*", "roc_auc", math.nan if h == 5 else float(rng.normal(0.93, 0.01)), n)
        add("*", "*", "prediction_count", float(n * 3), n * 3)
        add("*", "*", "labelled_count", float(n), n * 3)
        add("*", "*", "latency_p95_seconds", float(rng.normal(0.05, 0.005)), n * 3)
        add("*", "*", "error_rate", float(rng.uniform(0, 0.02)), n * 3)
        add("*", "*", "drift_share", 0.4 if h >= 40 else 0.0, n * 3)
        add("*", "channel=web", "accuracy", float(rng.normal(0.85, 0.02)), n // 2)
        # v3 serves all along, v4 from hour 24: v4 is better on accuracy and latency
        add("v3", "*", "accuracy", float(rng.normal(0.87, 0.01)), n)
        add("v3", "*", "latency_p95_seconds", float(rng.normal(0.06, 0.004)), n)
        if h >= 24:
            add("v4", "*", "accuracy", float(rng.normal(0.91, 0.01)), n)
            add("v4", "*", "latency_p95_seconds", float(rng.normal(0.05, 0.004)), n)
        if h in (30, 31):
            add("v3", "*", "roc_auc", float(rng.normal(0.9, 0.01)), n)
        if h == 31:
            add("v4", "*", "roc_auc", float(rng.normal(0.92, 0.01)), n)
        feats = []
        for name in [*FEATURES, "prediction"]:
            drifted = h >= 40 and name in ("amount", "income", "prediction")
            feats.append({
                "version": "*", "segment": "*", "window_size": "1h", "window_start": start,
                "window_end": end, "feature": name,
                "feature_type": "categorical" if name == "country" else "numeric",
                "test": "chi2" if name == "country" else "ks",
                "statistic": float(rng.uniform(0.3, 0.6) if drifted else rng.uniform(0, 0.1)),
                "p_value": float(rng.uniform(0, 0.01) if drifted else rng.uniform(0.1, 1)),
                "threshold": 0.05, "drifted": drifted if name != "online" or h % 2 else None,
                "n_reference": 1000, "n_current": n * 3,
                "missing_share": 0.1 if (name == "age" and h % 10 == 0) else 0.0,
                "out_of_range_share": 0.02 if (name == "amount" and h == 45) else 0.0,
                "unseen_share": 0.05 if (name == "country" and h >= 44) else 0.0,
            })
        syn.features[start] = feats
        results.append(WindowResults("1h", start, end, _points_table(rows), _feature_table(feats)))
    for d in range(2):
        start = T0 + timedelta(days=d)
        rows = []
        series = syn.series("accuracy")[d * 24:(d + 1) * 24]
        value = float(np.average([p[2] for p in series], weights=[p[3] for p in series]))
        total = sum(p[3] for p in series)
        rows.append(("*", "*", "1d", start, start + timedelta(days=1), "accuracy", value, total))
        syn.points[("*", "*", "1d", "accuracy")] = syn.points.get(("*", "*", "1d", "accuracy"),
                                                                  [])
        syn.points[("*", "*", "1d", "accuracy")].append(
            (start, start + timedelta(days=1), value, total))
        results.append(WindowResults("1d", start, start + timedelta(days=1), _points_table(rows),
                                     _feature_table([])))
    store.replace_window_results("fraud", results)

    price = []
    for h in range(3):
        start = T0 + h * HOUR
        rows = [("*", "*", "1h", start, start + HOUR, m, v, 100)
                for m, v in (("mae", 2.0 + h), ("rmse", 3.0 + h), ("r2", 0.8))]
        for r in rows:
            syn.points.setdefault((r[0], r[1], r[2], r[5]), []).append((r[3], r[4], r[6], r[7]))
        price.append(WindowResults("1h", start, start + HOUR, _points_table(rows),
                                   _feature_table([])))
    store.replace_window_results("price", price)

    # detector events: distinct times, plus two sharing one time (a page boundary case)
    times = [T0 + timedelta(hours=h, minutes=m) for h, m in
             ((3, 0), (10, 5), (20, 0), (20, 0), (30, 30), (41, 0), (42, 0), (43, 0))]
    kinds = ["warning", "warning", "drift", "warning", "warning", "drift", "warning", "drift"]
    ev = pa.table({
        "version": ["*"] * len(times), "detector": ["adwin"] * len(times), "kind": kinds,
        "event_time": pa.array(times, _TS), "prediction_id": [f"p{i}" for i in range(len(times))],
        "position": list(range(0, 100 * len(times), 100)),
        "details": ['{"estimation": 0.1}'] * len(times),
    })
    store.save_detector_progress("fraud", DetectorState("*", "adwin", b"x", 800, times[-1], "p7"),
                                 ev)
    syn.events = ev.to_pylist()

    for i in range(3):
        rid = f"r{i}"
        store.save_report("fraud", {"id": rid, "kind": "evaluation", "status": "healthy",
                                    "window": {"size": "1h", "start": (T0 + i * HOUR).isoformat(),
                                               "end": (T0 + (i + 1) * HOUR).isoformat()},
                                    "metrics": [{"metric": "accuracy", "current": 0.8 + i / 100}]})
        syn.report_ids.append(rid)
    store.set_status("fraud", "degraded",
                     [{"severity": "critical", "kind": "degradation",
                       "message": "accuracy 0.71 vs baseline 0.86 (−17 %), p < 0.001"}], "r2")
    store.set_status("price", "healthy", [], None)
    return syn


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Synthetic]]:
    path = tmp_path_factory.mktemp("results")
    with live_server(settings_for(path)) as server:
        yield server, populate(server.state.store)


@pytest.fixture
def client(populated: tuple[LiveServer, Synthetic]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=populated[0].url, timeout=30) as c:
        yield c


@pytest.fixture
def syn(populated: tuple[LiveServer, Synthetic]) -> Synthetic:
    return populated[1]


def ok(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def error(resp: httpx.Response, status: int, code: str, loc: list[Any] | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    if loc is not None:
        assert body["loc"] == loc, body


def iso(t: datetime) -> str:
    return t.isoformat()


def finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def follow(client: httpx.Client, url: str, params: Any = None, most: int = 50) -> list[dict[str, Any]]:
    """Every page of a paginated answer, following ``next``."""
    pages = []
    body = ok(client.get(url, params=params))
    pages.append(body)
    while body["next"] is not None:
        assert len(pages) < most, "pagination does not end"
        body = ok(client.get(body["next"]))
        pages.append(body)
    return pages


# --- overview and status ---------------------------------------------------------------------------


def test_overview_lists_every_model_with_status_and_headline_metrics(
        client: httpx.Client, syn: Synthetic) -> None:
    body = ok(client.get("/v1/overview"))
    by_name = {m["model"]: m for m in body["models"]}
    assert list(by_name) == ["fraud", "idle", "price"]
    assert body["next"] is None
    assert by_name["fraud"]["status"] == "degraded"
    assert by_name["fraud"]["reasons"][0]["kind"] == \
        "degradation"
    assert by_name["idle"] == {"model": "idle", "status": "no_data", "reasons": [],
                               "report_id": None, "updated_at": None,
                               "task": "binary_classification", "metrics": {}, "alerts": []}
    assert body["counts"] == {"healthy": 1, "warning": 0, "degraded": 1, "no_data": 1}
    assert body["alerts"]["firing"] == 0
    fraud = by_name["fraud"]["metrics"]
    assert set(fraud["1h"]) == {"accuracy", "f1", "roc_auc", "prediction_count",
                                "latency_p95_seconds", "error_rate", "drift_share"}
    last = syn.series("accuracy")[-1]
    assert fraud["1h"]["accuracy"] == {"value": last[2], "n": last[3], "start": iso(last[0]),
                                       "end": iso(last[1])}
    assert fraud["1d"]["accuracy"]["value"] == pytest.approx(syn.series("accuracy", "1d")[-1][2])
    assert set(by_name["price"]["metrics"]["1h"]) == {"mae", "rmse", "r2"}
    assert by_name["price"]["metrics"]["1h"]["mae"]["value"] == 4.0


def test_overview_pagination(client: httpx.Client) -> None:
    pages = follow(client, "/v1/overview", {"limit": 1})
    assert [m["model"] for p in pages for m in p["models"]] == ["fraud", "idle", "price"]
    error(client.get("/v1/overview", params={"limit": 0}), 422, "invalid_value", ["query", "limit"])
    error(client.get("/v1/overview", params={"limit": 1001}), 422, "invalid_value",
          ["query", "limit"])


def test_status(client: httpx.Client) -> None:
    body = ok(client.get("/v1/models/fraud/status"))
    assert body["status"] == "degraded"
    assert body["report_id"] == "r2"
    assert datetime.fromisoformat(body["updated_at"]).tzinfo is not None
    assert ok(client.get("/v1/models/idle/status"))["status"] == "no_data"
    error(client.get("/v1/models/nope/status"), 404, "model_not_found")


# --- metric series ---------------------------------------------------------------------------------


def _expected_points(rows: list[tuple[datetime, datetime, float, int]]) -> list[dict[str, Any]]:
    return [{"start": iso(s), "end": iso(e), "value": finite(v), "n": n} for s, e, v, n in rows]


def test_metric_series_values_match_the_store(client: httpx.Client, syn: Synthetic) -> None:
    body = ok(client.get("/v1/models/fraud/metrics",
                         params={"metric": ["roc_auc", "accuracy"], "window": "1h"}))
    assert [s["metric"] for s in body["series"]] == ["accuracy", "roc_auc"]
    for s in body["series"]:
        assert (s["version"], s["segment"], s["window"]) == ("*", "*", "1h")
        assert s["points"] == _expected_points(syn.series(s["metric"]))
    assert body["series"][1]["points"][5]["value"] is None  # NaN is null in JSON
    assert body["next"] is None


def test_metric_series_filters(client: httpx.Client, syn: Synthetic) -> None:
    web = ok(client.get("/v1/models/fraud/metrics", params={
        "metric": "accuracy", "window": "60m", "segment": "channel=web"}))
    assert web["window"] == "1h"  # "60m" is the same window size
    assert web["series"][0]["points"] == _expected_points(syn.series("accuracy",
                                                                     segment="channel=web"))
    v4 = ok(client.get("/v1/models/fraud/metrics", params={"metric": "accuracy", "version": "v4"}))
    assert [p["start"] for p in v4["series"][0]["points"]] == \
        [iso(T0 + h * HOUR) for h in range(24, HOURS)]
    ranged = ok(client.get("/v1/models/fraud/metrics", params={
        "metric": "accuracy", "window": "1h", "start": "2026-01-01T10:00:00Z",
        "end": "2026-01-01T13:00:00+00:00"}))
    assert [p["start"] for p in ranged["series"][0]["points"]] == \
        [iso(T0 + h * HOUR) for h in (10, 11, 12)]  # start inclusive, end exclusive
    both = ok(client.get("/v1/models/fraud/metrics", params={"metric": "accuracy"}))
    assert [s["window"] for s in both["series"]] == ["1h", "1d"]
    naive = ok(client.get("/v1/models/fraud/metrics", params={  # no offset means UTC
        "metric": "accuracy", "window": "1h", "start": "2026-01-02T23:00:00"}))
    assert [p["start"] for p in naive["series"][0]["points"]] == [iso(T0 + 47 * HOUR)]


def test_metric_series_pagination_keeps_windows_whole(client: httpx.Client, syn: Synthetic) -> None:
    params = {"metric": ["accuracy", "f1", "error_rate"], "window": "1h", "limit": 10}
    pages = follow(client, "/v1/models/fraud/metrics", params)
    assert len(pages) == math.ceil(HOURS * 3 / 9)  # 10 points hold 3 whole windows of 3 metrics
    for page in pages:
        starts = {p["start"] for s in page["series"] for p in s["points"]}
        for s in page["series"]:
            assert {p["start"] for p in s["points"]} == starts  # no window split across pages
    for metric in ("accuracy", "f1", "error_rate"):
        got = [p for page in pages for s in page["series"] if s["metric"] == metric
               for p in s["points"]]
        assert got == _expected_points(syn.series(metric))
    # a limit smaller than one window's points returns that window whole
    small = follow(client, "/v1/models/fraud/metrics", {**params, "limit": 2}, most=60)
    assert len(small) == HOURS
    assert all(len(page["series"]) == 3 for page in small)
    nxt = urlsplit(pages[0]["next"])
    assert nxt.path == "/v1/models/fraud/metrics"
    assert parse_qs(nxt.query)["metric"] == ["accuracy", "f1", "error_rate"]


def _reference_downsample(rows: list[tuple[datetime, datetime, float, int]],
                          step: timedelta) -> list[tuple[datetime, float | None, int]]:
    buckets: dict[datetime, list[tuple[float, int]]] = {}
    for s, _, v, n in rows:
        b = T0 + ((s - T0) // step) * step
        buckets.setdefault(b, []).append((v, n))
    out = []
    for b, items in sorted(buckets.items()):
        good = [(v, n) for v, n in items if math.isfinite(v)]
        wsum = sum(n for _, n in good if n > 0)
        if wsum > 0:
            value: float | None = sum(v * n for v, n in good if n > 0) / wsum
        elif good:
            value = sum(v for v, _ in good) / len(good)
        else:
            value = None
        out.append((b, value, sum(n for _, n in items)))
    return out


def test_metric_series_step_is_the_n_weighted_mean(client: httpx.Client, syn: Synthetic) -> None:
    body = ok(client.get("/v1/models/fraud/metrics", params={
        "metric": ["accuracy", "roc_auc"], "window": "1h", "step": "6h"}))
    assert body["step"] == "6h"
    for s in body["series"]:
        want = _reference_downsample(syn.series(s["metric"]), timedelta(hours=6))
        assert [p["start"] for p in s["points"]] == [iso(b) for b, _, _ in want]
        assert [p["end"] for p in s["points"]] == [iso(b + timedelta(hours=6)) for b, _, _ in want]
        assert [p["n"] for p in s["points"]] == [n for _, _, n in want]
        assert [p["value"] for p in s["points"]] == pytest.approx([v for _, v, _ in want],
                                                                  rel=1e-12)
    # a step of one window changes nothing
    same = ok(client.get("/v1/models/fraud/metrics", params={
        "metric": "accuracy", "window": "1h", "step": "1h"}))
    assert [p["value"] for p in same["series"][0]["points"]] == pytest.approx(
        [p[2] for p in syn.series("accuracy")], rel=1e-12)
    # pagination keeps whole buckets
    pages = follow(client, "/v1/models/fraud/metrics", {"metric": "accuracy", "window": "1h",
                                                        "step": "1d", "limit": 30})
    got = [p for page in pages for p in page["series"][0]["points"]]
    want = _reference_downsample(syn.series("accuracy"), timedelta(days=1))
    assert [p["value"] for p in got] == pytest.approx([v for _, v, _ in want], rel=1e-12)


@given(st.lists(st.tuples(st.integers(0, 40), st.floats(-1e3, 1e3) | st.just(math.nan),
                          st.integers(0, 500) | st.none()), min_size=1, max_size=60),
       st.sampled_from([2, 3, 6, 24]))
def test_downsample_matches_a_plain_python_reference(
        points: list[tuple[int, float, int | None]], hours: int) -> None:
    points = sorted({h: (h, v, n) for h, v, n in points}.values())
    table = pa.table({
        "metric": ["m"] * len(points), "version": ["*"] * len(points),
        "segment": ["*"] * len(points), "window_size": ["1h"] * len(points),
        "window_start": pa.array([T0 + h * HOUR for h, _, _ in points], _TS),
        "value": pa.array([v for _, v, _ in points], pa.float64()),
        "n": pa.array([n for _, _, n in points], pa.int64()),
    })
    out = downsample(table, timedelta(hours=hours))
    want = _reference_downsample([(T0 + h * HOUR, T0, v, n or 0) for h, v, n in points],
                                 timedelta(hours=hours))
    assert out["window_start"].to_pylist() == [b for b, _, _ in want]
    assert out["n"].to_pylist() == [n for _, _, n in want]
    got = [None if v is None or math.isnan(v) else v for v in out["value"].to_pylist()]
    for g, (_, w, _) in zip(got, want, strict=True):
        if w is None:
            assert g is None
        else:
            assert g == pytest.approx(w, rel=1e-9, abs=1e-9)


def test_latest_metric_points(client: httpx.Client, syn: Synthetic) -> None:
    body = ok(client.get("/v1/models/fraud/metrics/latest", params={"window": "1h"}))
    got = {p["metric"]: p for p in body["points"]}
    assert set(got) == {"accuracy", "f1", "roc_auc", "prediction_count", "labelled_count",
                        "latency_p95_seconds", "error_rate", "drift_share"}
    for metric, p in got.items():
        s, e, v, n = syn.series(metric)[-1]
        assert p == {"metric": metric, "window": "1h", "start": iso(s), "end": iso(e),
                     "value": finite(v), "n": n}
    v3 = ok(client.get("/v1/models/fraud/metrics/latest", params={"version": "v3",
                                                                   "metric": "roc_auc"}))
    assert [p["start"] for p in v3["points"]] == [iso(T0 + 31 * HOUR)]
    pages = follow(client, "/v1/models/fraud/metrics/latest", {"limit": 3})
    assert sum(len(p["points"]) for p in pages) == 9  # 8 hourly metrics and 1 daily
    assert [p["window"] for p in pages[-1]["points"]][-1] == "1d"


# --- errors never 500 ------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "status", "code", "loc"), [
    ({"window": "1x"}, 422, "invalid_value", ["query", "window"]),
    ({"window": "0h"}, 422, "invalid_value", ["query", "window"]),
    ({"start": "yesterday"}, 422, "invalid_timestamp", ["query", "start"]),
    ({"end": "2026-13-01"}, 422, "invalid_timestamp", ["query", "end"]),
    ({"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, 422, "invalid_value",
     ["query", "end"]),
    ({"limit": 0}, 422, "invalid_value", ["query", "limit"]),
    ({"limit": 100_001}, 422, "invalid_value", ["query", "limit"]),
    ({"limit": "many"}, 422, "invalid_type", ["query", "limit"]),
    ({"step": "6h"}, 422, "invalid_value", ["query", "step"]),
    ({"window": "1h", "step": "90m"}, 422, "invalid_value", ["query", "step"]),
    ({"window": "1h", "step": "soon"}, 422, "invalid_value", ["query", "step"]),
    ({"segment": "web"}, 422, "unknown_segment", ["query", "segment"]),
    ({"segment": "channel="}, 422, "invalid_value", ["query", "segment"]),
    ({"segment": "region=eu"}, 422, "unknown_segment", ["query", "segment"]),
    ({"version": "v9"}, 404, "version_not_found", ["query", "version"]),
])
def test_metric_query_errors(client: httpx.Client, params: dict[str, Any], status: int, code: str,
                             loc: list[Any]) -> None:
    error(client.get("/v1/models/fraud/metrics", params=params), status, code, loc)


_SERIES = ["window", "start", "end", "version", "segment", "limit"]
#: Each query endpoint with the parameters it takes.
ENDPOINTS: dict[str, list[str]] = {
    "/v1/models/{m}/status": [],
    "/v1/models/{m}/metrics": [*_SERIES, "metric", "step"],
    "/v1/models/{m}/metrics/latest": ["metric", "window", "version", "segment", "limit",
                                      "offset"],
    "/v1/models/{m}/drift": [*_SERIES, "feature"],
    "/v1/models/{m}/data-quality": [*_SERIES, "feature"],
    "/v1/models/{m}/detector-events": ["kind", "start", "end", "limit"],
    "/v1/models/{m}/reports": ["limit", "before"],
    "/v1/models/{m}/reports/latest": [],
    "/v1/models/{m}/compare-versions?a=v3&b=v4": ["window", "metric", "segment", "start", "end",
                                                  "alpha"],
}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_unknown_model_is_404_everywhere(client: httpx.Client, path: str) -> None:
    error(client.get(path.format(m="nope")), 404, "model_not_found")


GARBAGE = ["", " ", "*", "=", "a=b=c", "-1", "1e309", "nan", "2026-02-30", "\u00e9t\u00e9",
           "%00", "x" * 300, "1h;drop table", "9999999999w"]


@pytest.mark.parametrize(("path", "names"), ENDPOINTS.items())
def test_garbage_query_values_are_never_a_server_error(client: httpx.Client, path: str,
                                                       names: list[str]) -> None:
    for name in names:
        for value in GARBAGE:
            resp = client.get(path.format(m="fraud"), params={name: value})
            assert resp.status_code < 500, (name, value, resp.text)
            if resp.status_code >= 400:
                assert set(resp.json()) >= {"code", "message", "loc"}
    assert client.get("/v1/overview", params={"after": "\u00e9t\u00e9"}).status_code == 200


# --- drift and data quality ------------------------------------------------------------------------


def test_drift_per_window_and_feature(client: httpx.Client, syn: Synthetic) -> None:
    body = ok(client.get("/v1/models/fraud/drift", params={"window": "1h",
                                                           "start": iso(T0 + 38 * HOUR)}))
    assert [w["start"] for w in body["windows"]] == [iso(T0 + h * HOUR) for h in range(38, HOURS)]
    for w in body["windows"]:
        rows = syn.features[datetime.fromisoformat(w["start"])]
        assert [f["feature"] for f in w["features"]] == sorted(r["feature"] for r in rows)
        by = {r["feature"]: r for r in rows}
        for f in w["features"]:
            r = by[f["feature"]]
            assert f == {k: r[k] for k in ("feature", "feature_type", "test", "statistic",
                                           "p_value", "threshold", "drifted", "n_reference",
                                           "n_current")}
        inputs = [r for r in rows if r["feature"] != "prediction" and r["statistic"] is not None]
        drifted = sorted(r["feature"] for r in inputs if r["drifted"])
        s = w["summary"]
        assert s["features"] == 5
        assert s["tested"] == len(inputs)
        assert s["drifted_features"] == drifted
        assert s["drift_share"] == pytest.approx(len(drifted) / len(inputs))
        assert s["prediction_drifted"] == (datetime.fromisoformat(w["start"]) >= T0 + 40 * HOUR)
    one = ok(client.get("/v1/models/fraud/drift", params={"feature": "income", "limit": 5}))
    assert {f["feature"] for w in one["windows"] for f in w["features"]} == {"income"}
    assert len(one["windows"]) == 5
    assert one["next"] is not None


def test_drift_pagination(client: httpx.Client) -> None:
    pages = follow(client, "/v1/models/fraud/drift", {"window": "1h", "limit": 13})
    windows = [w for p in pages for w in p["windows"]]
    assert [w["start"] for w in windows] == [iso(T0 + h * HOUR) for h in range(HOURS)]
    assert all(len(w["features"]) == 6 for w in windows)
    assert all(len(p["windows"]) <= 2 for p in pages)
    tiny = follow(client, "/v1/models/fraud/drift", {"window": "1h", "limit": 4,
                                                     "start": iso(T0 + 45 * HOUR)})
    assert [len(p["windows"]) for p in tiny] == [1, 1, 1]  # a window is never split


def test_data_quality_findings(client: httpx.Client, syn: Synthetic) -> None:
    body = ok(client.get("/v1/models/fraud/data-quality", params={"window": "1h"}))
    want = []
    for start, rows in sorted(syn.features.items()):
        for r in sorted(rows, key=lambda r: r["feature"]):
            issues = [name for c, name in (("missing_share", "missing"),
                                           ("out_of_range_share", "out_of_range"),
                                           ("unseen_share", "unseen_categories")) if r[c] > 0]
            if issues:
                want.append((iso(start), r["feature"], issues, r["missing_share"],
                             r["out_of_range_share"], r["unseen_share"]))
    got = [(f["start"], f["feature"], f["issues"], f["missing_share"], f["out_of_range_share"],
            f["unseen_share"]) for f in body["findings"]]
    assert got == want
    assert body["windows_examined"] == HOURS
    assert body["schema_changes"] == []


def test_schema_changes_are_data_quality_findings(tmp_path: Path) -> None:
    with live_server(settings_for(tmp_path)) as server, \
            httpx.Client(base_url=server.url) as client:
        store = server.state.store
        spec = store.get_model("price").spec.model_dump()
        spec["features"] = [{"name": "area", "type": "categorical"}, {"name": "rooms",
                                                                      "type": "numeric"}]
        store.save_model(ModelSpec.model_validate(spec))
        body = ok(client.get("/v1/models/price/data-quality"))
        [change] = body["schema_changes"]
        assert change["kind"] == "schema_change"
        assert change["details"]["added"] == {"rooms": "numeric"}
        assert change["details"]["type_changed"] == {"area": ["numeric", "categorical"]}
        assert ok(client.get("/v1/models/price/data-quality",
                             params={"end": "2000-01-01T00:00:00Z"}))["schema_changes"] == []


# --- detector events and reports -------------------------------------------------------------------


def test_detector_events_newest_first_with_kind_filter(client: httpx.Client,
                                                       syn: Synthetic) -> None:
    body = ok(client.get("/v1/models/fraud/detector-events"))
    times = [e["event_time"] for e in body["events"]]
    assert times == sorted(times, reverse=True)
    assert len(times) == len(syn.events)
    assert body["events"][0]["details"] == {"estimation": 0.1}
    assert body["events"][0]["prediction_id"] == "p7"
    drifts = ok(client.get("/v1/models/fraud/detector-events", params={"kind": "drift"}))
    assert {e["kind"] for e in drifts["events"]} == {"drift"}
    assert len(drifts["events"]) == 3
    ranged = ok(client.get("/v1/models/fraud/detector-events", params={
        "start": iso(T0 + 20 * HOUR), "end": iso(T0 + 41 * HOUR)}))
    assert sorted(e["prediction_id"] for e in ranged["events"]) == ["p2", "p3", "p4"]
    error(client.get("/v1/models/fraud/detector-events", params={"kind": "alarm"}), 422,
          "invalid_value", ["query", "kind"])


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_detector_event_pagination_loses_nothing(client: httpx.Client, syn: Synthetic,
                                                 limit: int) -> None:
    pages = follow(client, "/v1/models/fraud/detector-events", {"limit": limit})
    ids = [e["prediction_id"] for p in pages for e in p["events"]]
    assert sorted(ids) == sorted(e["prediction_id"] for e in syn.events)
    assert len(ids) == len(set(ids))


def test_reports(client: httpx.Client, syn: Synthetic) -> None:
    body = ok(client.get("/v1/models/fraud/reports"))
    assert [r["id"] for r in body["reports"]] == ["r2", "r1", "r0"]
    assert body["next"] is None
    assert body["reports"][0]["window_size"] == "1h"
    assert "metrics" not in body["reports"][0]
    pages = follow(client, "/v1/models/fraud/reports", {"limit": 1})
    assert [r["id"] for p in pages for r in p["reports"]] == ["r2", "r1", "r0"]
    latest = ok(client.get("/v1/models/fraud/reports/latest"))
    assert latest["id"] == "r2"
    assert latest["metrics"][0]["current"] == pytest.approx(0.82)
    assert ok(client.get("/v1/models/fraud/reports/r0"))["id"] == "r0"
    error(client.get("/v1/models/fraud/reports/r9"), 404, "not_found")
    error(client.get("/v1/models/idle/reports/latest"), 404, "not_found")
    assert ok(client.get("/v1/models/idle/reports"))["reports"] == []
    error(client.get("/v1/models/fraud/reports", params={"before": "later"}), 422,
          "invalid_timestamp", ["query", "before"])


# --- version comparison ----------------------------------------------------------------------------


def test_compare_versions(client: httpx.Client, syn: Synthetic) -> None:
    body = ok(client.get("/v1/models/fraud/compare-versions", params={
        "a": "v3", "b": "v4", "window": "1h",
        "metric": ["accuracy", "latency_p95_seconds", "roc_auc", "f1"]}))
    by = {m["metric"]: m for m in body["metrics"]}
    assert set(by) == {"accuracy", "latency_p95_seconds", "roc_auc"}
    assert body["without_shared_windows"] == ["f1"]
    for metric in ("accuracy", "latency_p95_seconds"):
        a = np.array([p[2] for p in syn.series(metric, version="v3")[24:]])
        b = np.array([p[2] for p in syn.series(metric, version="v4")])
        m = by[metric]
        assert m["windows"] == 24
        assert m["a_mean"] == pytest.approx(a.mean())
        assert m["b_mean"] == pytest.approx(b.mean())
        assert m["difference"] == pytest.approx(b.mean() - a.mean())
        assert m["relative_difference"] == pytest.approx((b.mean() - a.mean()) / abs(a.mean()))
        assert m["p_value"] == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue,
                                             rel=1e-9)
        assert m["significant"]
        assert m["better"] == "v4"
        assert m["verdict"].startswith(f"v4 outperforms v3 on {metric}: ")
    assert by["accuracy"]["direction"] == "higher"
    assert by["latency_p95_seconds"]["direction"] == "lower"
    assert by["roc_auc"]["windows"] == 1
    assert by["roc_auc"]["p_value"] is None
    assert by["roc_auc"]["better"] is None
    assert by["roc_auc"]["verdict"].startswith(
        "not enough shared windows (1)")
    # swapping a and b swaps the means, not the verdict
    swapped = ok(client.get("/v1/models/fraud/compare-versions", params={
        "a": "v4", "b": "v3", "metric": "accuracy"}))
    assert swapped["window"] == "1h"  # the model's smallest window by default
    assert swapped["metrics"][0]["better"] == "v4"
    assert swapped["metrics"][0]["verdict"] == by["accuracy"]["verdict"]


def test_compare_versions_verdict_text() -> None:
    from modelmon.evaluation.versions import _verdict

    assert _verdict("accuracy", "v3", "v4", 0.87, 0.91, 0.003, "v4", 0.05, 24) == \
        "v4 outperforms v3 on accuracy: 0.91 vs 0.87 (+4.6 %), p = 0.003"
    assert _verdict("accuracy", "v3", "v4", 0.87, 0.88, 0.4, "v4", 0.05, 24) == \
        "no significant difference between v4 and v3 on accuracy: 0.88 vs 0.87 (+1.1 %), p = 0.40"
    assert "neither is called better" in _verdict("throughput", "v3", "v4", 10, 12, 0.001, None,
                                                  0.05, 24)
    assert "did not vary" in _verdict("r2", "v3", "v4", 0.8, 0.8, math.nan, None, 0.05, 5)


@pytest.mark.parametrize(("params", "status", "code", "loc"), [
    ({"a": "v3", "b": "v9"}, 404, "version_not_found", ["query", "b"]),
    ({"a": "v0", "b": "v4"}, 404, "version_not_found", ["query", "a"]),
    ({"a": "v3", "b": "v3"}, 422, "invalid_value", ["query", "b"]),
    ({"a": "*", "b": "v3"}, 422, "invalid_value", ["query", "a"]),
    ({"a": "v3"}, 422, "missing_field", ["query", "b"]),
    ({"a": "v3", "b": "v4", "alpha": 1.5}, 422, "invalid_value", ["query", "alpha"]),
])
def test_compare_versions_errors(client: httpx.Client, params: dict[str, Any], status: int,
                                 code: str, loc: list[Any]) -> None:
    error(client.get("/v1/models/fraud/compare-versions", params=params), status, code, loc)


# --- system and auth -------------------------------------------------------------------------------


def test_system(client: httpx.Client) -> None:
    body = ok(client.get("/v1/system"))
    cpu = body["cpu"]
    assert 0.0 <= cpu["utilization_ratio"] <= 1.0
    assert len(cpu["per_core_utilization_ratio"]) == cpu["logical_cores"] >= 1
    assert all(0.0 <= r <= 1.0 for r in cpu["per_core_utilization_ratio"])
    assert set(cpu["load_average"]) == {"1m", "5m", "15m"}
    assert 0 < body["memory"]["used_bytes"] <= body["memory"]["total_bytes"]
    assert body["disk"]["path"] == str(Path(body["disk"]["path"]))  # the store's folder
    assert body["disk"]["total_bytes"] >= body["disk"]["used_bytes"] > 0
    assert body["network"]["received_bytes"] >= 0
    assert body["process"]["rss_bytes"] > 0
    assert body["process"]["threads"] >= 2
    if body["gpu_available"]:
        assert body["gpus"]
        assert body["gpu_reason"] is None
    else:  # this machine: no NVIDIA GPU, and the reason is said
        assert body["gpus"] == []
        assert body["gpu_reason"]


def test_query_endpoints_require_the_api_key(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, server={"api_key": "s3cret"})
    with live_server(settings) as server, httpx.Client(base_url=server.url) as client:
        for path in ("/v1/overview", "/v1/system", "/v1/models/fraud/metrics"):
            error(client.get(path), 401, "unauthorized")
            assert client.get(path, headers={"X-API-Key": "s3cret"}).status_code == 200
        error(client.get("/metrics"), 401, "unauthorized")  # per-feature drift: keyed
    public = settings_for(tmp_path / "public", server={"api_key": "s3cret",
                                                        "public_metrics": True})
    with live_server(public) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/metrics").status_code == 200  # a Prometheus without credentials
        error(client.get("/info"), 401, "unauthorized")   # /info stays keyed


def test_openapi_documents_the_query_routes(client: httpx.Client) -> None:
    paths = ok(client.get("/openapi.json"))["paths"]
    for path in ("/v1/overview", "/v1/system", "/v1/models/{model}/metrics",
                 "/v1/models/{model}/compare-versions", "/v1/models/{model}/reports/{report_id}"):
        assert "get" in paths[path], path
    params = {p["name"] for p in paths["/v1/models/{model}/metrics"]["get"]["parameters"]}
    assert params >= {"metric", "window", "version", "segment", "start", "end", "step", "limit"}
    assert "422" in paths["/v1/models/{model}/drift"]["get"]["responses"]

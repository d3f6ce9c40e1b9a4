"""The evaluation engine takes the storage protocol: on PostgreSQL it computes and stores the
same results (metric points, drift by feature, verdicts, detector events, status) as on
DuckDB for the same traffic.

One exception, by design of the estimators rather than of the stores: the standard errors of
estimated metrics are Monte-Carlo draws over a window's rows in the order the store returns
them, and the engine reads windows unordered (cheaper); each backend is deterministic, but the
two orders differ, so those errors (and the sigmas derived from them) agree only within their
own sampling noise."""

from __future__ import annotations

from pathlib import Path

from modelmon.evaluation import Evaluator
from modelmon.store.backend import Backend
from modelmon.store.duckdb import DuckDBStore
from modelmon.store.postgres import PostgresStore
from tests.evaluation.scenario import FRAUD, NOW, load
from tests.support.postgres import PostgresServer, postgres_server

__all__ = ["postgres_server"]


def evaluated(store: Backend) -> dict[str, object]:
    store.open()
    try:
        store.save_model(FRAUD)
        load(store, hours=16, n=300, drift_from=12)  # type: ignore[arg-type]
        summary = Evaluator(store, clock=lambda: NOW).run_cycle()
        assert summary.models[0].error is None and summary.windows_evaluated == 16
        points = store.metric_series("fraud", window_size="1h", version=None, segment=None)
        features = store.feature_results("fraud", window_size="1h", version=None, segment=None)
        key = ["window_start", "version", "segment", "metric"]
        status = store.get_status("fraud")
        return {
            "points": points.sort_by([(k, "ascending") for k in key]).to_pylist(),
            "features": features.sort_by([(k, "ascending") for k in
                                          ["window_start", "version", "segment", "feature"]]
                                         ).to_pylist(),
            "verdicts": [(v.window_start, v.status, v.n,
                          [(r["kind"], r["severity"], r["metric"], r["feature"])
                           for r in v.reasons]) for v in store.verdicts("fraud")],
            "detectors": store.detector_events("fraud").drop_columns(["event_id"]).to_pylist(),
            "status": None if status is None else (status.status, len(status.reasons)),
        }
    finally:
        store.close()


def _monte_carlo(point: object) -> bool:
    return isinstance(point, dict) and str(point.get("metric", "")).endswith("standard_error")


def _close(a: object, b: object, rel: float = 1e-9) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= rel * max(1.0, abs(a)) or (a != a and b != b)
    if _monte_carlo(a) and _monte_carlo(b):
        assert isinstance(a, dict) and isinstance(b, dict)
        rest = [k for k in a if k != "value"]
        return [a[k] for k in rest] == [b.get(k) for k in rest] and (
            a["value"] == b["value"] or abs(a["value"] - b["value"]) <= 0.1 * abs(a["value"]) + 1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], rel) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y, rel) for x, y in zip(a, b))
    return a == b


def test_postgres_evaluates_like_duckdb(tmp_path: Path, postgres_server: PostgresServer) -> None:
    duck = evaluated(DuckDBStore(str(tmp_path / "e.duckdb")))
    pg = evaluated(PostgresStore(postgres_server.create_database()))
    assert len(duck["points"]) > 100 and len(duck["features"]) > 50  # type: ignore[arg-type]
    assert any(v[1] == "degraded" for v in duck["verdicts"])  # type: ignore[attr-defined]
    for part in duck:
        assert _close(duck[part], pg[part]), part

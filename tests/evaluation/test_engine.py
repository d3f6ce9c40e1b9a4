"""The evaluation engine on generated traffic: injected drift is found on the right features and
windows, a stable model raises nothing, late actuals re-open past windows, idle cycles are cheap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from modelmon.evaluation import Evaluator
from modelmon.store.duckdb_store import DuckDBStore
from tests.evaluation.scenario import FRAUD, NOW, hour_table, load


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(str(tmp_path / "eval.duckdb"))
    s.open()
    s.save_model(FRAUD)
    yield s
    s.close()


def drifted_by_window(store: DuckDBStore) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    first = NOW - timedelta(hours=40)
    for r in store.feature_results("fraud", window_size="1h").to_pylist():
        h = int((r["window_start"] - first).total_seconds() // 3600)
        if r["drifted"]:
            out.setdefault(h, set()).add(r["feature"])
    return out


def verdicts_by_window(store: DuckDBStore) -> dict[int, str]:
    first = NOW - timedelta(hours=40)
    return {int((v.window_start - first).total_seconds() // 3600): v.status
            for v in store.verdicts("fraud", window_size="1h")}


def test_injected_drift_is_found_on_the_right_features_and_windows(store: DuckDBStore) -> None:
    load(store, hours=40, drift_from=30)
    ev = Evaluator(store, clock=lambda: NOW)
    summary = ev.run_cycle()
    assert summary.windows_evaluated == 40 and summary.models[0].error is None
    drifted = drifted_by_window(store)
    # Reference = the first 12 hours (default baseline); drift starts at hour 30 and moves the
    # model's output (its score) too. Thresholds come from the reference's noise, at 1 % per
    # window over all features: at most a rare chance flag before hour 30.
    assert set(range(30, 40)) <= set(drifted)
    assert all(drifted[h] >= {"amount", "channel", "prediction"} for h in range(30, 40))
    chance = sum(len(f - {"amount", "channel", "prediction"}) for f in drifted.values())
    assert chance <= 1, drifted
    # Every window has a verdict: the first one after the change is already degraded.
    verdicts = verdicts_by_window(store)
    assert sorted(verdicts) == list(range(40))
    assert [h for h, v in verdicts.items() if v == "degraded"] == list(range(30, 40))
    assert sum(v != "healthy" for h, v in verdicts.items() if h < 30) <= 1, verdicts
    status = store.get_status("fraud")
    assert status is not None and status.status == "degraded"
    messages = " | ".join(r["message"] for r in status.reasons)
    assert "accuracy" in messages and "vs baseline" in messages and "sd below its band" in messages
    assert "feature amount drifted" in messages and "feature channel drifted" in messages
    report = store.get_report("fraud", status.report_id)  # type: ignore[arg-type]
    assert report["status"] == "degraded"
    assert any("Retraining recommended" in r for r in report["recommendations"])
    acc = next(m for m in report["metrics"] if m["metric"] == "accuracy")
    assert acc["finding"] and acc["relative_change"] < -0.1 and acc["sigmas"] > 5
    # The concept-drift detector fired shortly after the change, not before it.
    events = store.detector_events("fraud", kind="drift").to_pylist()
    assert events, "ADWIN should flag the error-rate change"
    first = min(e["event_time"] for e in events)
    change = NOW - timedelta(hours=10)
    assert change <= first < change + timedelta(hours=1)


def test_stable_model_raises_no_finding(store: DuckDBStore) -> None:
    load(store, hours=48, drift_from=None, seed=7)
    Evaluator(store, clock=lambda: NOW).run_cycle()
    # Per window a chance drift finding has probability 1 % (over all features): over 48
    # windows at most a couple, and the newest complete window's verdict is healthy.
    flagged = drifted_by_window(store)
    assert len(flagged) <= 2, flagged
    assert not any(h + 1 in flagged for h in flagged)
    status = store.get_status("fraud")
    assert status is not None and status.status == "healthy", status.reasons
    assert store.detector_events("fraud", kind="drift").num_rows == 0


def test_late_actuals_reopen_a_past_window(store: DuckDBStore) -> None:
    load(store, hours=20, with_actuals=False, seed=3)
    clock = [NOW]
    ev = Evaluator(store, clock=lambda: clock[0])
    ev.run_cycle()
    target = NOW - timedelta(hours=15)

    def point(metric: str) -> float | None:
        t = store.metric_series("fraud", metrics=[metric], window_size="1h", start=target,
                                end=target + timedelta(minutes=1))
        return t.column("value")[0].as_py() if t.num_rows else None

    assert point("labelled_count") == 0 and point("accuracy") is None
    # Ground truth for that hour arrives much later.
    from modelmon.ingest.actuals import actuals_from_table
    from modelmon.store import BatchKind, WriteBatch

    preds = store.read_predictions("fraud", start=target, end=target + timedelta(hours=1),
                                   columns=["prediction_id"], with_actuals=False)
    acts = pa.table({"prediction_id": preds.column("prediction_id"),
                     "actual": pa.array(["1"] * preds.num_rows)})
    clock[0] = NOW + timedelta(days=3)
    store.write([WriteBatch(BatchKind.ACTUALS, "fraud", actuals_from_table(FRAUD, acts, now=clock[0]))])
    summary = ev.run_cycle()
    assert summary.windows_evaluated == 1  # only the window whose actuals arrived
    assert point("labelled_count") == preds.num_rows
    assert point("accuracy") is not None


def test_idle_cycle_recomputes_nothing(store: DuckDBStore) -> None:
    load(store, hours=6)
    ev = Evaluator(store, clock=lambda: NOW)
    assert ev.run_cycle().windows_evaluated == 6
    again = ev.run_cycle()
    assert again.windows_evaluated == 0 and again.seconds < 0.5


def test_new_data_recomputes_only_its_window(store: DuckDBStore) -> None:
    import numpy as np

    from modelmon.ingest.predictions import predictions_from_table
    from modelmon.store import BatchKind, WriteBatch

    load(store, hours=6)
    ev = Evaluator(store, clock=lambda: NOW)
    ev.run_cycle()
    table, _ = hour_table(np.random.default_rng(9), 5, 10, drift=False,
                          start=NOW - timedelta(hours=6))
    table = table.set_column(0, "prediction_id", pa.array([f"extra{i}" for i in range(10)]))
    store.write([WriteBatch(BatchKind.PREDICTIONS, "fraud",
                            predictions_from_table(FRAUD, table, now=NOW))])
    assert ev.run_cycle().windows_evaluated == 1


def test_bounded_cost_per_cycle(store: DuckDBStore) -> None:
    load(store, hours=10, n=200)
    ev = Evaluator(store, clock=lambda: NOW, max_windows_per_cycle=4)
    first = ev.run_cycle()
    assert first.windows_evaluated == 4 and first.models[0].windows_pending == 6
    # The queue survives a restart of the evaluator (it is stored with the watermarks).
    ev2 = Evaluator(store, clock=lambda: NOW, max_windows_per_cycle=4)
    assert ev2.run_cycle().windows_evaluated == 4
    assert ev2.run_cycle().windows_evaluated == 2
    assert ev2.run_cycle().windows_evaluated == 0
    assert store.metric_series("fraud", metrics=["prediction_count"], window_size="1h").num_rows == 10


def test_versions_and_segments_get_their_own_series(store: DuckDBStore) -> None:
    load(store, hours=3, n=300)
    Evaluator(store, clock=lambda: NOW).run_cycle()
    pts = store.metric_series("fraud", metrics=["accuracy"], window_size="1h", version=None,
                              segment=None).to_pylist()
    segments = {p["segment"] for p in pts}
    assert {"*", "channel=web", "channel=app", "channel=store"} <= segments
    assert {p["version"] for p in pts} == {"*", "default"}
    fair = store.metric_series("fraud", metrics=["demographic_parity_difference"], window_size="1h",
                               segment="channel")
    assert fair.num_rows == 3 and all(0 <= v <= 1 for v in fair.column("value").to_pylist())


def test_open_larger_windows_roll_up_from_base_aggregates(tmp_path: Path) -> None:
    spec = FRAUD.model_copy(update={"windows": ["1h", "1d"]})
    store = DuckDBStore(str(tmp_path / "roll.duckdb"))
    store.open()
    store.save_model(spec)
    load(store, hours=6, n=300, spec=spec)  # the six hours before NOW: inside the day ending at NOW
    clock = [NOW - timedelta(minutes=1)]    # the day is still open
    ev = Evaluator(store, clock=lambda: clock[0])
    summary = ev.run_cycle()
    assert summary.models[0].windows_evaluated == 6          # the hourly windows, from rows
    assert summary.models[0].windows_rolled_up == 1          # the open day, from aggregates
    daily = {r["metric"]: r["value"] for r in store.metric_series(
        "fraud", window_size="1d").to_pylist()}
    hourly = store.metric_series("fraud", window_size="1h", metrics=["prediction_count"])
    assert daily["prediction_count"] == sum(hourly.column("value").to_pylist()) == 1800
    assert "accuracy" in daily and "roc_auc" not in daily     # not decomposable: waits
    assert store.feature_results("fraud", window_size="1d").num_rows == 0
    # Once the day has closed it is evaluated in full from its rows, exactly once.
    clock[0] = NOW + timedelta(minutes=1)
    again = ev.run_cycle()
    assert again.models[0].windows_evaluated == 1 and again.models[0].windows_rolled_up == 0
    daily = {r["metric"]: r["value"] for r in store.metric_series(
        "fraud", window_size="1d").to_pylist()}
    assert "roc_auc" in daily and daily["prediction_count"] == 1800
    assert ev.run_cycle().windows_evaluated == 0
    store.close()

"""Verdicts for every window, history judged in event time, backfill, row windows, partial
windows, failing windows, references with their own column names, and deletions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.config import ModelSpec
from modelmon.evaluation import Evaluator
from modelmon.ingest.actuals import actuals_from_table
from modelmon.ingest.predictions import predictions_from_table
from modelmon.store import BatchKind, WriteBatch
from modelmon.store.duckdb_store import DuckDBStore
from tests.evaluation.scenario import FRAUD, NOW, hour_table, load

LATER = NOW + timedelta(days=200)  # the data is history by the time it is evaluated


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(str(tmp_path / "v.duckdb"))
    s.open()
    yield s
    s.close()


def _hours(store: DuckDBStore, model: str, size: str = "1h") -> dict[int, str]:
    first = NOW - timedelta(hours=40)
    return {int((v.window_start - first).total_seconds() // 3600): v.status
            for v in store.verdicts(model, window_size=size)}


def test_history_is_judged_in_event_time_and_the_status_is_its_newest_window(
        store: DuckDBStore) -> None:
    store.save_model(FRAUD)
    load(store, hours=40, drift_from=30)
    ev = Evaluator(store, clock=lambda: LATER, max_windows_per_cycle=7)
    seen: list[tuple[int, int]] = []
    summary = ev.backfill("fraud", chunk=7, progress=lambda d, t: seen.append((d, t)))
    assert summary.windows_evaluated == 40 and summary.windows_failed == 0
    assert seen[-1] == (40, 40) and len(seen) >= 6
    verdicts = _hours(store, "fraud")
    assert sorted(verdicts) == list(range(40))
    assert [h for h, v in verdicts.items() if v == "degraded"] == list(range(30, 40))
    status = store.get_status("fraud")
    assert status is not None and status.status == "degraded"
    kinds = {r["kind"] for r in status.reasons}
    assert {"quality", "drift", "no_data"} <= kinds  # no_data: the info that data stopped
    silence = next(r for r in status.reasons if r["kind"] == "no_data")
    assert silence["severity"] == "info" and "2026-03-03" in silence["message"]
    # Concept-drift reasons name the date, not only the time of day.
    concept = [v for v in store.verdicts("fraud", window_size="1h")
               if any(r["kind"] == "concept_drift" for r in v.reasons)]
    assert concept and all("2026-03-02" in r["message"] for v in concept for r in v.reasons
                           if r["kind"] == "concept_drift")


def test_a_second_model_is_evaluated_while_a_backfill_holds_the_first(store: DuckDBStore) -> None:
    store.save_model(FRAUD)
    other = FRAUD.model_copy(update={"name": "other"})
    store.save_model(other)
    load(store, hours=4, spec=other)
    ev = Evaluator(store, clock=lambda: LATER)
    with ev.lock("fraud"):
        summary = ev.run_cycle()
    by_model = {m.model: m for m in summary.models}
    assert by_model["fraud"].skipped and by_model["fraud"].error is None
    assert by_model["other"].windows_evaluated == 4


def test_row_windows_follow_the_rows_and_move_when_old_rows_arrive(store: DuckDBStore) -> None:
    spec = FRAUD.model_copy(update={"name": "rows", "windows": ["500rows"]})
    store.save_model(spec)
    load(store, hours=6, n=300, spec=spec)  # 1,800 rows: three full windows and one of 300
    ev = Evaluator(store, clock=lambda: LATER)
    ev.run_cycle()
    counts = store.metric_series("rows", window_size="500rows", metrics=["prediction_count"])
    assert counts.column("value").to_pylist() == [500, 500, 500, 300]
    complete = [v.complete for v in store.verdicts("rows", window_size="500rows")]
    assert complete == [True, True, True, False]
    # 100 rows with old timestamps: every window from the first one moves.
    rng = np.random.default_rng(3)
    table, _ = hour_table(rng, 0, 100, drift=False, start=NOW - timedelta(hours=7))
    table = table.set_column(0, "prediction_id", pa.array([f"old{i}" for i in range(100)]))
    store.write([WriteBatch(BatchKind.PREDICTIONS, "rows",
                            predictions_from_table(spec, table, now=LATER))])
    ev.run_cycle()
    counts = store.metric_series("rows", window_size="500rows", metrics=["prediction_count"])
    assert counts.column("value").to_pylist() == [500, 500, 500, 400]
    assert len(store.verdicts("rows", window_size="500rows")) == 4


def test_a_window_still_filling_warns_but_does_not_set_the_status(store: DuckDBStore) -> None:
    store.save_model(FRAUD)
    load(store, hours=20)
    # The newest hour is still open and already bad: 300 rows of drifted traffic so far.
    rng = np.random.default_rng(8)
    table, y = hour_table(rng, 0, 300, drift=True, start=NOW)
    table = table.set_column(0, "prediction_id", pa.array([f"now{i}" for i in range(300)]))
    acts = pa.table({"prediction_id": table.column("prediction_id"), "actual": y.astype(str)})
    store.write([WriteBatch(BatchKind.PREDICTIONS, "fraud",
                            predictions_from_table(FRAUD, table, now=NOW)),
                 WriteBatch(BatchKind.ACTUALS, "fraud", actuals_from_table(FRAUD, acts, now=NOW))])
    clock = NOW + timedelta(minutes=59)
    Evaluator(store, clock=lambda: clock).run_cycle()
    newest = store.verdicts("fraud", window_size="1h", newest_first=True, limit=1)[0]
    assert not newest.complete and newest.status == "degraded"
    status = store.get_status("fraud")
    assert status is not None and status.status == "warning"
    partial = next(r for r in status.reasons if r["kind"] == "partial_window")
    assert "300 predictions so far" in partial["message"]


def test_a_failing_window_never_stops_the_others(store: DuckDBStore,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store.save_model(FRAUD)
    load(store, hours=6)
    bad = NOW - timedelta(hours=3)
    from modelmon.evaluation import engine

    real = engine.evaluate_window

    def flaky(frame, **kw):  # type: ignore[no-untyped-def]
        if frame.n and int(frame.event_time.min()) // 3_600_000_000 == \
                int(bad.timestamp()) // 3600:
            raise RuntimeError("/srv/secret/path year 0 is out of range")
        return real(frame, **kw)

    monkeypatch.setattr(engine, "evaluate_window", flaky)
    summary = Evaluator(store, clock=lambda: NOW).run_cycle()
    m = summary.models[0]
    assert m.windows_evaluated == 5 and m.windows_failed == 1 and m.error is None
    status = store.get_status("fraud")
    assert status is not None
    failing = next(r for r in status.reasons if r["kind"] == "evaluation")
    assert "RuntimeError" in failing["message"] and "/srv" not in failing["message"]
    assert status.status == "warning"


def test_a_missing_reference_file_is_said_not_taken_for_missing_data(store: DuckDBStore,
                                                                    tmp_path: Path) -> None:
    spec = ModelSpec.model_validate({**FRAUD.model_dump(), "name": "ref",
                                     "reference": {"path": str(tmp_path / "gone.parquet")}})
    store.save_model(spec)
    load(store, hours=3, spec=spec)
    Evaluator(store, clock=lambda: NOW).run_cycle()
    status = store.get_status("ref")
    assert status is not None and status.status == "warning"
    text = " | ".join(r["message"] for r in status.reasons)
    assert "the reference cannot be used" in text and "no predictions" not in text
    assert str(tmp_path) not in text


def test_a_reference_file_with_its_own_column_names_gives_the_quality_baseline(
        store: DuckDBStore, tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    ref, y = hour_table(rng, 0, 6000, drift=False, start=NOW - timedelta(days=30))
    reference = pa.table({
        "txn_id": ref.column("prediction_id"), "ts": ref.column("timestamp"),
        "amount": ref.column("amount"), "age": ref.column("age"),
        "tenure": ref.column("tenure"), "channel": ref.column("channel"),
        "fraud_probability": ref.column("score"), "is_fraud": pa.array(y)})
    pq.write_table(reference, tmp_path / "ref.parquet")
    spec = ModelSpec.model_validate({
        "name": "mapped", "task": "binary_classification", "windows": ["1h"],
        "prediction": {"classes": [0, 1], "score": True},
        "reference": {"path": str(tmp_path / "ref.parquet"), "columns": {
            "id": "txn_id", "timestamp": "ts", "score": "fraud_probability",
            "target": "is_fraud"}}})
    from modelmon.config.inference import complete_spec

    spec = complete_spec(spec)
    assert [f.name for f in spec.features] == ["amount", "age", "tenure", "channel"]
    store.save_model(spec)
    load(store, hours=6, drift_from=3, spec=spec)
    Evaluator(store, clock=lambda: NOW).run_cycle()
    hours = {int((v.window_start - (NOW - timedelta(hours=6))).total_seconds() // 3600): v
             for v in store.verdicts("mapped", window_size="1h")}
    # Quality is judged from the first window on: its baseline is the reference's own chunks.
    assert [h for h, v in hours.items() if v.status == "degraded"] == [3, 4, 5]
    first = next(r for r in hours[3].reasons if r["kind"] == "quality")
    # the reference spans one hour: not three windows, so ten row chunks
    assert first["evidence"]["baseline_windows"] == 10
    report = store.get_report("mapped", store.get_status("mapped").report_id)  # type: ignore[union-attr, arg-type]
    assert report["reference"] == "file"
    acc = next(m for m in report["metrics"] if m["metric"] == "accuracy")
    assert acc["baseline_source"] == "reference"


def test_deleted_data_is_evaluated_again(store: DuckDBStore) -> None:
    store.save_model(FRAUD)
    load(store, hours=4)
    ev = Evaluator(store, clock=lambda: NOW)
    ev.run_cycle()
    assert len(store.verdicts("fraud", window_size="1h")) == 4
    gone = NOW - timedelta(hours=4)
    store.delete_predictions("fraud", start=gone, end=gone + timedelta(hours=1))
    ev.run_cycle()
    starts = [v.window_start for v in store.verdicts("fraud", window_size="1h")]
    assert gone not in starts and len(starts) == 3
    assert store.metric_series("fraud", window_size="1h", start=gone,
                               end=gone + timedelta(hours=1)).num_rows == 0


def test_a_failing_judgement_is_said_and_the_windows_stay(store: DuckDBStore,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store.save_model(FRAUD)
    load(store, hours=3)
    ev = Evaluator(store, clock=lambda: NOW)

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(ev.judge, "judge", broken)
    summary = ev.run_cycle()
    m = summary.models[0]
    assert m.error is None and m.windows_evaluated == 3 and m.windows_failed == 1
    status = store.get_status("fraud")
    assert status is not None
    texts = [r["message"] for r in status.reasons]
    assert any("ZeroDivisionError" in t for t in texts), texts
    assert "no window judged yet" in texts and "no predictions received yet" not in texts
    assert store.metric_series("fraud", window_size="1h", metrics=["prediction_count"]).num_rows == 3

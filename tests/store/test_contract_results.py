"""The result-storage contract (:class:`modelmon.store.results.ResultStore`) on every backend:
window results replaced atomically, series and latest points, feature results, aggregates,
verdicts, detector progress, reports, status, references, evaluation state and what changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pyarrow as pa
import pytest
from tests.store.conftest import StoreFactory
from tests.store.test_contract import SPEC, T0, acts, preds

from modelmon.exceptions import NotFoundError
from modelmon.store import BatchKind, WriteBatch
from modelmon.store.backend import Backend
from modelmon.store.results import (
    FEATURE_RESULT_COLUMNS,
    METRIC_POINT_COLUMNS,
    DetectorState,
    StoredVerdict,
    WindowResults,
)
from modelmon.windows import parse_window

H = timedelta(hours=1)


@pytest.fixture
def store(factory: StoreFactory) -> Iterator[Backend]:
    s = factory()
    s.open()
    s.save_model(SPEC, source="test")
    yield s
    s.close()


def points(start: int, values: dict[str, float], *, version: str = "*") -> pa.Table:
    rows = [{"version": version, "segment": "*", "window_size": "1h",
             "window_start": T0 + start * H, "window_end": T0 + (start + 1) * H,
             "metric": m, "value": v, "n": 10} for m, v in values.items()]
    return pa.Table.from_pylist(rows, schema=pa.schema(METRIC_POINT_COLUMNS))


def features(start: int, drifted: bool) -> pa.Table:
    row = {c: None for c in FEATURE_RESULT_COLUMNS}
    row.update(version="*", segment="*", window_size="1h", window_start=T0 + start * H,
               window_end=T0 + (start + 1) * H, feature="amount", feature_type="numeric",
               test="ks", statistic=0.3, p_value=0.01, threshold=0.05, drifted=drifted,
               n_reference=100, n_current=10)
    return pa.Table.from_pylist([row], schema=pa.schema(FEATURE_RESULT_COLUMNS))


def window(start: int, values: dict[str, float], drifted: bool = False) -> WindowResults:
    return WindowResults("1h", T0 + start * H, T0 + (start + 1) * H, points(start, values),
                         features(start, drifted), {("*", "*"): bytes([start % 256, 1, 2])})


def test_window_results_replace_and_read(store: Backend) -> None:
    store.replace_window_results("fraud", [window(0, {"accuracy": 0.9, "f1": 0.8}),
                                           window(1, {"accuracy": 0.7})])
    store.replace_window_results("fraud", [window(1, {"accuracy": 0.6}, drifted=True)])
    series = store.metric_series("fraud", metrics=["accuracy"], window_size="1h")
    assert series.schema == pa.schema(METRIC_POINT_COLUMNS)
    assert series.column("value").to_pylist() == [0.9, 0.6]
    assert series.column("window_start").to_pylist() == [T0, T0 + H]
    latest = store.latest_metric_points("fraud").to_pylist()
    assert {(r["metric"], r["value"]) for r in latest} == {("accuracy", 0.6), ("f1", 0.8)}
    feats = store.feature_results("fraud", window_size="1h", feature=["amount"])
    assert feats.schema == pa.schema(FEATURE_RESULT_COLUMNS)
    assert feats.column("drifted").to_pylist() == [False, True]
    assert store.feature_results("fraud", start=T0 + H).num_rows == 1
    aggs = store.window_aggregates("fraud", "1h", T0, T0 + 2 * H)
    assert aggs == [("*", "*", T0, bytes([0, 1, 2])), ("*", "*", T0 + H, bytes([1, 1, 2]))]
    assert store.window_starts("fraud", "1h") == [(T0, T0 + H), (T0 + H, T0 + 2 * H)]
    # Replace a single point of a window; the others stay.
    store.replace_metric_points("fraud", "1h", T0, points(0, {"f1": 0.5}))
    got = {r["metric"]: r["value"] for r in store.metric_series("fraud", end=T0 + H).to_pylist()}
    assert got == {"accuracy": 0.9, "f1": 0.5}
    store.delete_window_results("fraud", "1h", [T0])
    assert store.window_starts("fraud", "1h") == [(T0 + H, T0 + 2 * H)]
    assert store.window_aggregates("fraud", "1h", T0, T0 + H) == []


def test_verdicts(store: Backend) -> None:
    now = T0 + 5 * H
    reasons = [{"kind": "quality_drop", "metric": "accuracy"}]
    store.replace_verdicts("fraud", [StoredVerdict("1h", T0, T0 + H, True, 10, "ok", [], now),
                                     StoredVerdict("1h", T0 + H, T0 + 2 * H, False, 3, "warning",
                                                   reasons, now)])
    store.replace_verdicts("fraud", [StoredVerdict("1h", T0, T0 + H, True, 12, "critical",
                                                   reasons, now)])
    got = store.verdicts("fraud", window_size="1h")
    assert [(v.status, v.n, v.complete) for v in got] == [("critical", 12, True),
                                                        ("warning", 3, False)]
    assert got[0].reasons == reasons and got[0].window_start == T0
    assert [v.status for v in store.verdicts("fraud", newest_first=True, limit=1)] == ["warning"]
    assert [v.n for v in store.verdicts("fraud", complete=True)] == [12]


def test_detector_progress(store: Backend) -> None:
    events = pa.Table.from_pylist([{"version": "v1", "detector": "adwin", "kind": "drift",
                                    "event_time": T0, "prediction_id": "p1", "position": 7,
                                    "details": "{}"}])
    state = DetectorState("v1", "adwin", b"\x00state", 8, T0, "p1")
    store.save_detector_progress("fraud", state, events)
    store.save_detector_progress("fraud", DetectorState("v1", "adwin", b"s2", 9, T0 + H, "p2"),
                                 events.slice(0, 0))
    [saved] = store.detector_states("fraud")
    assert (saved.state, saved.processed, saved.cursor_time, saved.cursor_id) == (
        b"s2", 9, T0 + H, "p2")
    got = store.detector_events("fraud", kind="drift").to_pylist()
    assert len(got) == 1 and got[0]["position"] == 7 and got[0]["event_time"] == T0
    assert "event_id" in got[0]


def test_reports_status_references(store: Backend) -> None:
    report = {"id": "r1", "kind": "evaluation", "status": "ok",
              "window": {"size": "1h", "start": T0.isoformat(), "end": (T0 + H).isoformat()},
              "body": {"x": [1, 2]}}
    assert store.save_report("fraud", report) == "r1"
    assert store.get_report("fraud", "r1") == report
    [head] = store.list_reports("fraud")
    assert head["id"] == "r1" and head["window_start"] == T0.isoformat()
    with pytest.raises(NotFoundError):
        store.get_report("fraud", "nope")
    assert store.get_status("fraud") is None
    store.set_status("fraud", "warning", [{"kind": "drift"}], "r1")
    status = store.get_status("fraud")
    assert status is not None and (status.status, status.report_id) == ("warning", "r1")
    assert store.get_reference("fraud") is None
    store.save_reference("fraud", 1, "file.parquet", 100, b"summary-1")
    store.save_reference("fraud", 2, "file.parquet", 120, b"summary-2")
    assert store.get_reference("fraud") == (2, "file.parquet", b"summary-2")


def test_evaluation_state_round_trip(store: Backend) -> None:
    assert store.evaluation_state("fraud") == (None, None, [], None)
    pending = [("1h", T0, "evaluate"), ("1d", T0, "final")]
    store.set_evaluation_state("fraud", T0, T0 + H, pending, reference="ref-1")
    assert store.evaluation_state("fraud") == (T0, T0 + H, pending, "ref-1")
    store.set_evaluation_state("fraud", T0 + H, None)
    assert store.evaluation_state("fraud") == (T0 + H, None, [], None)


def test_what_changed(store: Backend) -> None:
    assert store.data_watermarks("fraud") == (None, None)
    store.write([preds(["a", "b"], t=T0), preds(["c"], t=T0 + 2 * H + timedelta(minutes=5))])
    seen_p, seen_a = store.data_watermarks("fraud")
    assert seen_p is not None and seen_a is None
    hourly, monthly = parse_window("1h"), parse_window("1mo")
    kw = {"predictions_since": None, "actuals_since": None}
    assert store.changed_windows("fraud", hourly, **kw) == [T0, T0 + 2 * H]
    assert store.changed_windows("fraud", monthly, **kw) == [T0.replace(day=1, hour=0)]
    assert store.changed_windows("fraud", hourly, **kw, min_start=T0 + H) == [T0 + 2 * H]
    assert store.window_counts("fraud", hourly) == [2, 1]
    assert store.event_time_range("fraud") == (T0 + timedelta(seconds=1) * 0,
                                              T0 + 2 * H + timedelta(minutes=5))
    # Nothing new since the watermarks; an actual marks its prediction's window changed.
    assert store.changed_windows("fraud", hourly, predictions_since=seen_p,
                                 actuals_since=seen_a) == []
    store.write([acts([("c", 1)])])
    _, seen_a2 = store.data_watermarks("fraud")
    assert seen_a2 is not None and seen_a2 > seen_p
    assert store.changed_windows("fraud", hourly, predictions_since=seen_p,
                                 actuals_since=T0 - H) == [T0 + 2 * H]
    assert store.changed_windows("fraud", hourly, predictions_since=seen_p,
                                 actuals_since=seen_a2) == []


def test_received_at_increases_with_every_write(store: Backend) -> None:
    for k in range(5):
        store.write([preds([f"s{k}"])])
    stamps = store.read_predictions("fraud", columns=["prediction_id", "received_at"],
                                    with_actuals=False).column("received_at").to_pylist()
    assert stamps == sorted(stamps) and len(set(stamps)) == 5


def test_row_chunks(store: Backend) -> None:
    store.write([preds([f"r{k}" for k in range(5)])])
    chunks = store.row_chunks("fraud", 2, predictions_since=None, actuals_since=None)
    assert [(c.index, c.first_id, c.last_id, c.n) for c in chunks] == [
        (0, "r0", "r1", 2), (1, "r2", "r3", 2), (2, "r4", "r4", 1)]
    assert not any(c.changed for c in chunks)
    seen = store.data_watermarks("fraud")[0]
    store.write([acts([("r3", 1)])])
    changed = store.row_chunks("fraud", 2, predictions_since=seen, actuals_since=seen)
    assert [c.changed for c in changed] == [False, True, False]
    # Rows of a row window are read back by their (time, id) bounds.
    rows = store.read_predictions("fraud", first=(chunks[1].first_time, chunks[1].first_id),
                                  last=(chunks[1].last_time, chunks[1].last_id))
    assert rows.column("prediction_id").to_pylist() == ["r2", "r3"]
    assert rows.column("actual_label").to_pylist() == [None, "1"]


def test_other_kinds_time_filters(store: Backend) -> None:
    from modelmon.ingest.events import metric_events_from_records

    ev = metric_events_from_records(SPEC, [
        {"name": "revenue", "value": 1.0, "timestamp": T0.isoformat()},
        {"name": "revenue", "value": 2.0, "timestamp": (T0 + H).isoformat()}], now=T0 + 2 * H)
    store.write([WriteBatch(BatchKind.METRIC_EVENTS, "fraud", ev)])
    assert store.count("fraud", BatchKind.METRIC_EVENTS, start=T0 + H) == 1
    got = store.read_table("fraud", BatchKind.METRIC_EVENTS, end=T0 + H).to_pylist()
    assert [r["value"] for r in got] == [1.0]

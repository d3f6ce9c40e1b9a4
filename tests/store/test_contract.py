"""The storage contract (see modelmon.store.base), run against every Store implementation.

A new backend joins by adding a factory to ``BACKENDS`` (``conftest.py``); every test here must
pass unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from tests.store.conftest import StoreFactory

from modelmon.config import ModelSpec
from modelmon.exceptions import NotFoundError, StoreError, ValidationError
from modelmon.ingest.actuals import actuals_from_records
from modelmon.ingest.predictions import predictions_from_records
from modelmon.store import BatchKind, Store, WriteBatch

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

@pytest.fixture
def store(factory: StoreFactory) -> Iterator[Store]:
    s = factory()
    s.open()
    s.save_model(SPEC, source="test")
    yield s
    s.close()


SPEC = ModelSpec.model_validate({
    "name": "fraud",
    "task": "binary_classification",
    "features": [{"name": "amount", "type": "numeric"}, {"name": "country", "type": "categorical"},
                 {"name": "online", "type": "boolean"}],
    "segments": ["channel"],
    "prediction": {"classes": [0, 1], "score": True},
})


def preds(ids: list[str], *, t: datetime = T0, version: str = "v1", amount: float = 1.0) -> WriteBatch:
    records = [{"prediction_id": i, "timestamp": (t + timedelta(seconds=k)).isoformat(),
                "features": {"amount": amount + k, "country": "DE", "online": True},
                "score": 0.9, "segments": {"channel": "web"}} for k, i in enumerate(ids)]
    table = predictions_from_records(SPEC, records, now=T0 + timedelta(days=1), version=version)
    return WriteBatch(BatchKind.PREDICTIONS, "fraud", table)


def acts(pairs: list[tuple[str, int]], *, t: datetime = T0) -> WriteBatch:
    records = [{"prediction_id": i, "actual": a, "timestamp": t.isoformat()} for i, a in pairs]
    return WriteBatch(BatchKind.ACTUALS, "fraud", actuals_from_records(SPEC, records, now=T0))


def test_write_and_read_back(store: Store) -> None:
    [r] = store.write([preds(["a", "b", "c"])])
    assert (r.inserted, r.duplicates) == (3, 0)
    table = store.read_predictions("fraud")
    assert table.column("prediction_id").to_pylist() == ["a", "b", "c"]
    assert table.column("feature.amount").to_pylist() == [1.0, 2.0, 3.0]
    assert table.column("segment.channel").to_pylist() == ["web"] * 3
    assert table.column("feature.online").to_pylist() == [True] * 3
    assert table.column("label").to_pylist() == ["1"] * 3
    assert table.schema.field("event_time").type == pa.timestamp("us", tz="UTC")
    assert table.column("event_time")[0].as_py() == T0


def test_prediction_ids_are_idempotent(store: Store) -> None:
    store.write([preds(["a", "b"])])
    [r] = store.write([preds(["b", "c", "c"])])
    assert (r.inserted, r.duplicates) == (1, 2)
    assert "b" in r.duplicate_ids
    assert store.count("fraud") == 3
    # First write wins: b keeps the first amount.
    row = store.get_prediction("fraud", "b")
    assert row is not None and row["feature.amount"] == 2.0


def test_duplicates_across_batches_of_one_transaction(store: Store) -> None:
    r1, r2 = store.write([preds(["x", "y"]), preds(["y", "z"])])
    assert (r1.inserted, r2.inserted, r2.duplicates) == (2, 1, 1)
    assert store.count("fraud") == 3


def test_idempotency_key_replays_a_whole_batch(store: Store) -> None:
    b = preds(["k1", "k2"])
    keyed = WriteBatch(b.kind, b.model, b.table, idempotency_key="batch-1")
    [first] = store.write([keyed])
    [again] = store.write([keyed])
    assert first.inserted == 2 and not first.replayed
    assert again.replayed and again.inserted == 0
    assert store.count("fraud") == 2


def test_idempotency_key_with_another_request_is_a_conflict(store: Store) -> None:
    first = preds(["c1", "c2"])
    keyed = WriteBatch(first.kind, first.model, first.table, "batch-2", fingerprint="aaa")
    other = preds(["c3"])
    reused = WriteBatch(other.kind, other.model, other.table, "batch-2", fingerprint="bbb")
    [stored] = store.write([keyed])
    [again] = store.write([keyed])
    [conflict] = store.write([reused])
    assert stored.inserted == 2 and again.replayed and not again.conflict
    assert conflict.conflict and not conflict.replayed and conflict.inserted == 0
    assert store.count("fraud") == 2
    # Within one group commit too.
    a = WriteBatch(other.kind, other.model, other.table, "batch-3", fingerprint="aaa")
    b = WriteBatch(first.kind, first.model, preds(["c4"]).table, "batch-3", fingerprint="ccc")
    ra, rb = store.write([a, b])
    assert ra.inserted == 1 and rb.conflict and store.count("fraud") == 3


def test_group_is_all_or_nothing(store: Store) -> None:
    good = preds(["g1", "g2"])
    # A batch whose table does not fit the model's columns fails inside the transaction.
    other = preds(["g3", "g4"])
    bad_table = other.table.append_column("feature.nope", pa.array([1.0, 2.0]))
    bad = WriteBatch(BatchKind.PREDICTIONS, "fraud", bad_table)
    with pytest.raises((StoreError, ValidationError)):
        store.write([good, bad])
    assert store.count("fraud") == 0
    # ... and the failed attempt taught the duplicate index nothing: the ids still go in.
    [r] = store.write([good])
    assert r.inserted == 2


def test_actuals_before_and_after_predictions_join(store: Store) -> None:
    store.write([acts([("p1", 1)])])          # arrives before its prediction
    store.write([preds(["p1", "p2"])])
    store.write([acts([("p2", 0)])])
    table = store.read_predictions("fraud")
    got = dict(zip(table.column("prediction_id").to_pylist(),
                   table.column("actual_label").to_pylist(), strict=True))
    assert got == {"p1": "1", "p2": "0"}


def test_later_actual_replaces_earlier(store: Store) -> None:
    store.write([preds(["p1"])])
    store.write([acts([("p1", 0)])])
    store.write([acts([("p1", 1)])])
    row = store.get_prediction("fraud", "p1")
    assert row is not None and row["actual_label"] == "1"
    assert store.count("fraud", BatchKind.ACTUALS) == 1


def test_time_and_version_filters(store: Store) -> None:
    store.write([preds(["a", "b"], t=T0, version="v1")])
    store.write([preds(["c"], t=T0 + timedelta(hours=1), version="v2")])
    assert store.count("fraud", start=T0 + timedelta(minutes=30)) == 1
    assert store.count("fraud", end=T0 + timedelta(minutes=30)) == 2
    table = store.read_predictions("fraud", version="v2", columns=["prediction_id", "feature.amount"])
    assert table.column("prediction_id").to_pylist() == ["c"]
    assert "feature.country" not in table.column_names
    assert {v.version for v in store.list_versions("fraud")} == {"v1", "v2"}


def test_durable_across_restart(factory: StoreFactory) -> None:
    s = factory()
    s.open()
    s.save_model(SPEC)
    s.write([preds(["a", "b"]), acts([("a", 1)])])
    s.close()
    s2 = factory()
    s2.open()
    try:
        assert s2.count("fraud") == 2
        assert s2.get_model("fraud").spec == SPEC
        # The duplicate index is rebuilt: re-sending after a restart stores nothing.
        [r] = s2.write([preds(["a", "c"])])
        assert (r.inserted, r.duplicates) == (1, 1)
    finally:
        s2.close()


def test_dedup_beyond_the_index_horizon_at_read(factory: StoreFactory) -> None:
    s = factory(dedup_capacity=64)
    s.open()
    s.save_model(SPEC)
    try:
        for k in range(20):
            s.write([preds([f"id{k}-{j}" for j in range(10)])])
        # id0-0 fell out of the in-memory index: the write may store it again, reads must not.
        s.write([preds(["id0-0"], amount=99.0)])
        assert s.count("fraud") == 200
        table = s.read_predictions("fraud")
        assert table.num_rows == 200
        row = [r for r in table.to_pylist() if r["prediction_id"] == "id0-0"]
        assert len(row) == 1 and row[0]["feature.amount"] == 1.0
    finally:
        s.close()


def test_spec_revisions_and_schema_change_events(store: Store) -> None:
    assert store.get_model("fraud").revision == 1
    same = store.save_model(SPEC)
    assert same.revision == 1  # unchanged spec: no new revision
    data = SPEC.model_dump(mode="json")
    data["features"][2]["type"] = "categorical"
    data["features"].append({"name": "age", "type": "numeric"})
    changed = ModelSpec.model_validate(data)
    info = store.save_model(changed)
    assert info.revision == 2
    kinds = [e.kind for e in store.list_events("fraud")]
    assert kinds[:2] == ["schema_change", "spec_updated"]
    details = store.list_events("fraud", kind="schema_change")[0].details
    assert details["added"] == {"age": "numeric"}
    assert details["type_changed"] == {"online": ["boolean", "categorical"]}
    # The re-typed feature gets a new column; data of both shapes can be stored.
    rec = {"prediction_id": "n1", "features": {"amount": 1.0, "country": "FR", "online": "yes",
                                               "age": 30}, "score": 0.1}
    table = predictions_from_records(changed, [rec], now=T0)
    [r] = store.write([WriteBatch(BatchKind.PREDICTIONS, "fraud", table)])
    assert r.inserted == 1
    row = store.get_prediction("fraud", "n1")
    assert row is not None and row["feature.online"] == "yes" and row["feature.age"] == 30.0


def test_versions_and_stages(store: Store) -> None:
    store.register_version("fraud", "v7", metadata={"git": "abc"})
    v = store.register_version("fraud", "v7", stage="retired")
    assert v.stage == "retired" and v.metadata == {"git": "abc"}
    with pytest.raises(NotFoundError):
        store.list_versions("nope")


def test_unknown_model_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError) as info:
        store.get_model("nope")
    assert info.value.code == "model_not_found"


def test_other_kinds_round_trip(store: Store) -> None:
    from modelmon.ingest.events import (
        feature_importance_from_record,
        metric_events_from_records,
        training_run_from_record,
    )

    ev = metric_events_from_records(SPEC, [{"name": "revenue", "value": 12.5, "kind": "business"}],
                                    now=T0)
    fi = feature_importance_from_record(SPEC, {"importances": {"amount": 0.7, "country": 0.3}},
                                        now=T0)
    tr = training_run_from_record(SPEC, {"kind": "online_update", "samples": 10,
                                         "started_at": T0.isoformat(),
                                         "finished_at": (T0 + timedelta(seconds=3)).isoformat()},
                                  now=T0 + timedelta(minutes=1))
    store.write([WriteBatch(BatchKind.METRIC_EVENTS, "fraud", ev),
                 WriteBatch(BatchKind.FEATURE_IMPORTANCE, "fraud", fi),
                 WriteBatch(BatchKind.TRAINING_RUNS, "fraud", tr)])
    assert store.count("fraud", BatchKind.METRIC_EVENTS) == 1
    assert store.count("fraud", BatchKind.FEATURE_IMPORTANCE) == 2
    runs = store.read_table("fraud", BatchKind.TRAINING_RUNS).to_pylist()
    assert runs[0]["kind"] == "online_update" and runs[0]["duration_seconds"] == 3.0


def test_delete_predictions_with_their_actuals(store: Store) -> None:
    store.write([preds(["a", "b"], t=T0), preds(["c"], t=T0 + timedelta(hours=2), version="v2"),
                 acts([("a", 1), ("c", 0), ("orphan", 1)])])
    gone = store.delete_predictions("fraud", start=T0, end=T0 + timedelta(hours=1),
                                    details={"source": "test"})
    assert (gone.predictions, gone.actuals) == (2, 1)
    assert store.read_predictions("fraud").column("prediction_id").to_pylist() == ["c"]
    assert store.count("fraud", BatchKind.ACTUALS) == 2  # c's and the orphan's
    [event] = store.list_events("fraud", kind="data_deleted")
    assert event.id == gone.event_id
    assert event.details["predictions"] == 2 and event.details["source"] == "test"
    assert event.details["start"].startswith("2026-03-01")
    # By version, by ids (an actual whose prediction never came goes too), then everything.
    assert store.delete_predictions("fraud", version="v1").predictions == 0
    by_id = store.delete_predictions("fraud", prediction_ids=["orphan", "nope"])
    assert (by_id.predictions, by_id.actuals) == (0, 1)
    assert store.delete_predictions("fraud", version="v2").predictions == 1
    assert store.count("fraud") == store.count("fraud", BatchKind.ACTUALS) == 0


def test_a_deleted_prediction_id_may_be_written_again(store: Store) -> None:
    store.write([preds(["a", "b"])])
    store.delete_predictions("fraud", prediction_ids=["a"])
    [r] = store.write([preds(["a", "b"], amount=5.0)])
    assert (r.inserted, r.duplicates) == (1, 1)
    row = store.get_prediction("fraud", "a")
    assert row is not None and row["feature.amount"] == 5.0

"""The reads of many models at once (the overview) answer what the per-model reads answer, on
every backend."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from tests.store.conftest import StoreFactory
from tests.store.test_contract import SPEC
from tests.store.test_contract_results import window

from modelmon.store.backend import Backend

NAMES = ["a", "b", "c", "quiet"]


@pytest.fixture
def store(factory: StoreFactory) -> Iterator[Backend]:
    s = factory()
    s.open()
    for i, name in enumerate(NAMES):
        s.save_model(SPEC.model_copy(update={"name": name}), source="test")
        if name == "quiet":
            continue
        metrics = ["accuracy", "f1", "prediction_count"][: i + 1]
        s.replace_window_results(name, [window(h, {m: 0.1 * h + 0.01 * i for m in metrics})
                                        for h in range(8 + i)])
        s.set_status(name, "healthy" if i else "degraded", [{"message": name}], None)
    yield s
    s.close()


def test_many_models_at_once_equal_one_at_a_time(store: Backend) -> None:
    latest = store.latest_points_of(NAMES, metrics=["accuracy", "f1"])
    assert latest.column_names[0] == "model"
    for name in NAMES:
        mine = latest.filter(pc.equal(latest["model"], name)).drop(["model"])
        one = store.latest_metric_points(name)
        one = one.filter(pc.and_(pc.and_(pc.equal(one["version"], "*"),
                                          pc.equal(one["segment"], "*")),
                                 pc.is_in(one["metric"], pa.array(["accuracy", "f1"]))))
        key = [("window_size", "ascending"), ("metric", "ascending")]
        assert mine.sort_by(key).to_pylist() == one.sort_by(key).to_pylist(), name
    recent = store.recent_points_of({"a": "1h", "b": "1h", "quiet": "1h"}, count=5)
    for name in ("a", "b"):
        mine = recent.filter(pc.equal(recent["model"], name)).drop(["model"])
        starts = sorted({r["window_start"] for r in mine.to_pylist()})
        assert len(starts) == 5
        series = store.metric_series(name, window_size="1h", start=starts[0])
        key = [("window_start", "ascending"), ("metric", "ascending")]
        assert mine.to_pylist() == series.sort_by(key).to_pylist()
    assert "quiet" not in recent["model"].to_pylist()
    statuses = store.statuses(NAMES)
    assert set(statuses) == {"a", "b", "c"}
    assert statuses["a"] == store.get_status("a")
    assert store.statuses([]) == {}
    assert store.latest_points_of([]).num_rows == 0
    assert store.recent_points_of({}, count=3).num_rows == 0

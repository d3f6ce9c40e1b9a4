"""Feature-importance shift between snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from modelmon.evaluation.importance import importance_shift

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def snapshots(*snaps: dict[str, float]) -> pa.Table:
    rows = [{"feature": f, "importance": v, "snapshot_time": T0 + timedelta(days=i)}
            for i, snap in enumerate(snaps) for f, v in snap.items()]
    return pa.Table.from_pylist(rows)


def test_no_shift_for_a_stable_ranking() -> None:
    s = importance_shift(snapshots({"a": 0.5, "b": 0.3, "c": 0.2}, {"a": 0.52, "b": 0.28, "c": 0.2}))
    assert s is not None and not s.shifted and s.rank_correlation == pytest.approx(1.0)


def test_reordered_importances_are_a_shift() -> None:
    s = importance_shift(snapshots({"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05},
                                   {"a": 0.05, "b": 0.15, "c": 0.3, "d": 0.5}))
    assert s is not None and s.shifted
    assert s.rank_correlation == pytest.approx(-1.0)
    assert (s.top_feature_before, s.top_feature_now) == ("a", "d")
    assert s.biggest_moves[0][0] in {"a", "d"}
    assert "top feature a -> d" in s.reason()


def test_undefined_cases() -> None:
    assert importance_shift(pa.table({"feature": pa.array([], pa.string())})) is None
    assert importance_shift(snapshots({"a": 1.0, "b": 2.0})) is None  # one snapshot only
    assert importance_shift(snapshots({"a": 1.0}, {"b": 2.0})) is None  # nothing in common

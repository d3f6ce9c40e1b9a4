"""The registry of metric directions."""

from __future__ import annotations

import math

import pytest

from modelmon.degradation import Direction, DirectionRegistry, default_directions
from modelmon.degradation.directions import OPERATIONAL, OPERATIONAL_PATTERNS
from modelmon.exceptions import ParameterError
from modelmon.metrics.registry import MetricInfo, MetricRegistry


def _noop(*args: object) -> float:
    return 0.0


def test_every_registered_metric_has_a_direction_unless_declared_unknown() -> None:
    import modelmon.metrics  # noqa: F401  (registers the built-in metrics)
    from modelmon.metrics.registry import default_registry

    undecided = []
    for info in default_registry:
        d = default_directions.get(info.name)
        assert d.source in ("metrics", "user"), info.name
        if d.direction is Direction.UNKNOWN and info.direction is not Direction.UNKNOWN:
            undecided.append(info.name)  # e.g. TARGET without a target value
        if d.direction is Direction.TARGET:
            assert d.target is not None, info.name
            assert math.isfinite(d.target), info.name
    assert undecided == []


def test_operational_metrics_have_directions() -> None:
    reg = DirectionRegistry(use_metric_registry=False)
    for name in (
        "latency_p50",
        "latency_p95",
        "latency_p99",
        "error_rate",
        "missing_share",
        "drift_share",
        "latency_p95_seconds",
        "prediction_drift_score",
    ):
        assert reg.get(name).direction is Direction.LOWER, name
    for name in ("throughput_per_second", "prediction_count", "label_coverage_ratio"):
        d = reg.get(name)
        assert d.direction is Direction.UNKNOWN, name
        assert d.deliberate, name
        assert d.note, name
    assert reg.get("drift_score:income").direction is Direction.LOWER
    assert reg.get("drift_score:income").source == "builtin-pattern:drift_*"
    assert reg.get("missing_share:age").direction is Direction.LOWER
    assert reg.get("latency_p999").direction is Direction.LOWER
    # Every built-in entry is a deliberate decision with a note.
    for table in (OPERATIONAL, OPERATIONAL_PATTERNS):
        assert all(note for _, note in table.values())


def test_metric_registry_is_read_live_and_user_entries_win() -> None:
    metrics = MetricRegistry()
    reg = DirectionRegistry(metric_registry=metrics)
    assert reg.get("f1").direction is Direction.UNKNOWN
    assert not reg.get("f1").deliberate
    metrics.register(MetricInfo("f1", _noop, Direction.HIGHER, ("binary",)))
    metrics.register(MetricInfo("bias", _noop, Direction.TARGET, ("regression",), target=0.0))
    metrics.register(MetricInfo("odd", _noop, Direction.TARGET, ("regression",)))
    assert reg.get("f1").direction is Direction.HIGHER
    assert reg.get("f1").source == "metrics"
    assert (reg.get("bias").direction, reg.get("bias").target) == (Direction.TARGET, 0.0)
    # TARGET without a value cannot say which side is better.
    assert reg.get("odd").direction is Direction.UNKNOWN
    assert "target" in reg.get("odd").note
    reg.register("f1", "lower", note="for this test")
    assert reg.get("f1").direction is Direction.LOWER
    assert reg.get("f1").source == "user"
    reg.unregister("f1")
    assert reg.get("f1").direction is Direction.HIGHER
    assert "f1" in reg.names()
    assert "latency_p95_seconds" in reg.names()
    assert "f1" in reg
    assert "nothing" not in reg


def test_patterns_longest_first_user_before_builtin() -> None:
    reg = DirectionRegistry(use_metric_registry=False)
    reg.register("drift_*", "higher")
    reg.register("drift_score:*", "target", 0.5)
    assert reg.get("drift_share").direction is Direction.LOWER  # exact built-in beats patterns
    assert reg.get("drift_x").direction is Direction.HIGHER
    d = reg.get("drift_score:age")
    assert (d.direction, d.target, d.source) == (Direction.TARGET, 0.5, "pattern:drift_score:*")
    assert "drift_score:*" in reg.patterns()


def test_fresh_registry_without_builtins_knows_nothing() -> None:
    reg = DirectionRegistry(builtin=False, use_metric_registry=False)
    assert reg.get("latency_p95").direction is Direction.UNKNOWN
    assert reg.names() == []
    assert reg.patterns() == []


def test_register_validates_its_arguments() -> None:
    reg = DirectionRegistry(builtin=False, use_metric_registry=False)
    with pytest.raises(ParameterError, match="'direction' parameter"):
        reg.register("x", "up")
    with pytest.raises(ParameterError, match=r"'target' parameter.*finite"):
        reg.register("x", Direction.TARGET)
    with pytest.raises(ParameterError, match="only allowed with direction 'target'"):
        reg.register("x", "higher", 1.0)
    with pytest.raises(ParameterError, match="'name' parameter"):
        reg.register("", "higher")
    reg.register("x", Direction.UNKNOWN, note="volume, not quality")
    d = reg.get("x")
    assert d.deliberate
    assert d.to_dict() == {
        "metric": "x",
        "direction": "unknown",
        "target": None,
        "source": "user",
        "note": "volume, not quality",
    }


def test_every_derived_metric_the_evaluator_writes_has_a_deliberate_direction() -> None:
    from modelmon.vocabulary import Metric

    reg = DirectionRegistry(use_metric_registry=False)
    for name in Metric:
        assert reg.get(name).source == "builtin", name

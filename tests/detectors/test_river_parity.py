"""Same signals at the same positions as River 0.26.1, on seeded streams, side by side."""

from __future__ import annotations

from typing import Any

import pytest
from river import drift as river_drift
from river.drift import binary as river_binary
from river.drift.adwin import AdaptiveWindowing

from modelmon.detectors import (
    ADWIN,
    DDM,
    EDDM,
    HDDM_A,
    HDDM_W,
    KSWIN,
    PageHinkley,
)

BINARY_STREAMS = ["bernoulli_abrupt", "bernoulli_gradual", "bernoulli_multi", "bernoulli_decrease"]
REAL_STREAMS = ["normal_abrupt", "normal_gradual", "normal_multi", "integers"]
SEEDS = [0, 1, 2]

# (our class, River class, parameters given to both, streams)
CASES: list[tuple[type, Any, dict[str, Any], list[str]]] = [
    (DDM, river_binary.DDM, {}, BINARY_STREAMS),
    (DDM, river_binary.DDM, {"warm_start": 100, "warning_threshold": 1.5, "drift_threshold": 2.5}, BINARY_STREAMS),
    (EDDM, river_binary.EDDM, {}, BINARY_STREAMS),
    (EDDM, river_binary.EDDM, {"warm_start": 10, "alpha": 0.9, "beta": 0.8}, BINARY_STREAMS),
    (HDDM_A, river_binary.HDDMA, {}, BINARY_STREAMS),
    (HDDM_A, river_binary.HDDMA, {"two_sided_test": True}, BINARY_STREAMS),
    (HDDM_A, river_binary.HDDMA, {"drift_confidence": 0.01, "warning_confidence": 0.05}, BINARY_STREAMS),
    (HDDM_W, river_binary.HDDMW, {}, BINARY_STREAMS),
    (HDDM_W, river_binary.HDDMW, {"two_sided_test": True, "lambda_val": 0.1}, BINARY_STREAMS),
    (
        HDDM_W,
        river_binary.HDDMW,
        {"drift_confidence": 0.0001, "warning_confidence": 0.001, "lambda_val": 0.01},
        BINARY_STREAMS,
    ),
    (PageHinkley, river_drift.PageHinkley, {}, REAL_STREAMS),
    (PageHinkley, river_drift.PageHinkley, {"mode": "up", "threshold": 10.0, "delta": 0.01}, REAL_STREAMS),
    (
        PageHinkley,
        river_drift.PageHinkley,
        {"mode": "down", "alpha": 0.999, "min_instances": 10, "threshold": 20.0},
        REAL_STREAMS,
    ),
    (ADWIN, river_drift.ADWIN, {}, REAL_STREAMS + BINARY_STREAMS),
    (ADWIN, river_drift.ADWIN, {"delta": 0.05, "clock": 1}, REAL_STREAMS + BINARY_STREAMS[:2]),
    (
        ADWIN,
        river_drift.ADWIN,
        {"delta": 0.01, "clock": 8, "max_buckets": 3, "min_window_length": 10, "grace_period": 50},
        REAL_STREAMS + BINARY_STREAMS[:2],
    ),
]


def _params_id(params: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


PARAMETRISED = [
    pytest.param(ours, theirs, params, name, seed, id=f"{ours.__name__}-{_params_id(params)}-{name}-{seed}")
    for ours, theirs, params, names in CASES
    for name in names
    for seed in SEEDS
]


@pytest.mark.parametrize(("ours", "theirs", "params", "name", "seed"), PARAMETRISED)
def test_same_positions_as_river(ours, theirs, params, name, seed, stream, river_run):
    values = stream(name, seed)
    expected_drifts, expected_warnings = river_run(theirs(**params), values)
    result = ours(**params).update_many(values)
    assert result.drifts.tolist() == expected_drifts
    assert result.warnings.tolist() == expected_warnings
    if name.endswith("_multi"):  # several changes: detections, and the resets after them
        assert len(expected_drifts) >= 2


LONG = [
    (DDM, river_binary.DDM, "bernoulli_stationary_long"),
    (EDDM, river_binary.EDDM, "bernoulli_stationary_long"),
    (HDDM_A, river_binary.HDDMA, "bernoulli_stationary_long"),
    (HDDM_W, river_binary.HDDMW, "bernoulli_stationary_long"),
    (PageHinkley, river_drift.PageHinkley, "normal_stationary_long"),
    (ADWIN, river_drift.ADWIN, "normal_stationary_long"),
    (ADWIN, river_drift.ADWIN, "bernoulli_stationary_long"),
]


@pytest.mark.parametrize(("ours", "theirs", "name"), LONG, ids=lambda v: getattr(v, "__name__", v))
def test_long_stationary_stream_same_false_alarms(ours, theirs, name, stream, river_run):
    values = stream(name, 11)
    expected_drifts, expected_warnings = river_run(theirs(), values)
    result = ours().update_many(values)
    assert result.drifts.tolist() == expected_drifts
    assert result.warnings.tolist() == expected_warnings


@pytest.mark.parametrize("name", [*REAL_STREAMS, "bernoulli_multi"])
def test_adwin_window_statistics_bit_identical(name, stream):
    values = stream(name, 5)
    theirs = river_drift.ADWIN()
    ours = ADWIN()
    for x in values.tolist():
        theirs.update(x)
        ours.update(x)
        assert ours.drift_detected == theirs.drift_detected
    assert ours.width == theirs.width
    assert ours._state[2] == theirs.total
    assert ours._state[3] == theirs.variance  # River's "variance" is the sum of squares
    assert ours.estimation == theirs.estimation


@pytest.mark.parametrize("name", ["normal_multi", "bernoulli_multi"])
def test_adwin_without_reset_matches_river_adaptive_windowing(name, stream):
    # River's ADWIN discards its AdaptiveWindowing after a drift; the helper itself keeps the
    # shortened window, which is what reset_on_drift=False does.
    values = stream(name, 3)
    helper = AdaptiveWindowing(delta=0.002, clock=32, max_buckets=5, min_window_length=5, grace_period=10)
    expected = [i for i, x in enumerate(values.tolist()) if helper.update(x)]
    ours = ADWIN(reset_on_drift=False)
    result = ours.update_many(values)
    assert result.drifts.tolist() == expected
    assert len(expected) > 1
    assert ours.width == helper.get_width()
    assert ours._state[3] == helper.get_variance()


# KSWIN: River runs it at a few thousand values per second, so the streams are short.
KSWIN_CASES = [
    ({"seed": 42}, ["normal_abrupt", "integers", "normal_gradual"]),
    ({"seed": 7, "alpha": 0.01, "window_size": 400, "stat_size": 30}, ["normal_multi"]),  # set branch
    ({"seed": 3, "alpha": 0.05, "window_size": 60, "stat_size": 20}, ["integers", "normal_abrupt"]),
    ({"seed": 0, "alpha": 0.05, "window_size": 50, "stat_size": 5}, ["normal_abrupt"]),  # tiny sizes
]


@pytest.mark.parametrize(
    ("params", "name"),
    [(p, n) for p, names in KSWIN_CASES for n in names],
    ids=lambda v: v if isinstance(v, str) else _params_id(v),
)
def test_kswin_same_positions_and_p_value_as_river(params, name, stream, river_run):
    values = stream(name, 4)[1000:4000]  # 3,000 values around the change
    theirs = river_drift.KSWIN(**params)
    expected_drifts, _ = river_run(theirs, values)
    ours = KSWIN(**params)
    result = ours.update_many(values)
    assert result.drifts.tolist() == expected_drifts
    assert ours.p_value == theirs.p_value
    assert expected_drifts


def test_kswin_long_stationary_stream_same_false_alarms(stream, river_run):
    values = stream("normal_stationary_long", 2)[:4000]
    expected, _ = river_run(river_drift.KSWIN(seed=1), values)
    assert KSWIN(seed=1).update_many(values).drifts.tolist() == expected
    assert expected  # alpha=0.005 on every update: a few false alarms in 4,000 values


def test_kswin_initial_window_matches_river(stream, river_run):
    values = stream("normal_abrupt", 9)[1500:3500]
    start = stream("normal_abrupt", 10)[:150].tolist()
    expected, _ = river_run(river_drift.KSWIN(seed=5, window=start), values)
    assert KSWIN(seed=5, window=start).update_many(values).drifts.tolist() == expected

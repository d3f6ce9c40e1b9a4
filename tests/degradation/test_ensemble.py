"""The voting ensemble: detection on seeded series, false alarms, settings, results."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest

from modelmon.degradation import (
    METHODS,
    Baseline,
    DegradationDetector,
    DirectionRegistry,
    cusum_change_point,
    detect_degradation,
    linear_trend,
    mann_kendall_test,
    mann_whitney_u_test,
    welch_t_test,
    z_score,
)
from modelmon.exceptions import (
    DataQualityWarning,
    ModelmonWarning,
    ParameterError,
    ValidationError,
)

SD = 0.01


@pytest.fixture
def directions() -> DirectionRegistry:
    reg = DirectionRegistry(use_metric_registry=False)
    reg.register("accuracy", "higher")
    reg.register("bias", "target", 0.0)
    return reg


@pytest.fixture
def detector(directions: DirectionRegistry) -> DegradationDetector:
    return DegradationDetector(directions=directions)


def test_a_step_down_is_degraded_and_located(detector: DegradationDetector) -> None:
    located_pelt = located_cusum = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        base = rng.normal(0.86, SD, 60)
        cur = np.r_[rng.normal(0.86, SD, 8), rng.normal(0.83, SD, 16)]  # 3 sd step at 8
        r = detector.assess("accuracy", cur, base)
        assert r.verdict == "degraded", seed
        assert r.better_or_worse == "worse", seed
        assert r.significant
        assert r.votes_down > r.votes_needed
        located_pelt += any(abs(p - 8) <= 2 for p in r.change_points)
        located_cusum += r.cusum_position is not None and abs(r.cusum_position - 8) <= 2
    # Measured 20 and 15 of 20: PELT places a step more precisely than the single-change CUSUM.
    assert located_pelt >= 18
    assert located_cusum >= 14


def test_a_step_at_the_start_of_the_current_period(detector: DegradationDetector) -> None:
    rng = np.random.default_rng(100)
    r = detector.assess("accuracy", rng.normal(0.84, SD, 24), rng.normal(0.86, SD, 60))
    assert r.verdict == "degraded"
    assert 0 in r.change_points
    assert r.cusum_position == 0
    votes = {v.method: v.vote for v in r.votes}
    assert votes["welch"] == votes["mann_whitney"] == votes["zscore"] == "down"
    assert votes["linear_trend"] == "none"  # no trend within the current period


def test_a_gradual_decline_is_degraded_with_a_negative_trend(detector: DegradationDetector) -> None:
    hits = 0
    for seed in range(20):
        rng = np.random.default_rng(200 + seed)
        base = rng.normal(0.86, SD, 60)
        cur = 0.86 - 4 * SD * np.arange(24) / 23 + rng.normal(0, SD, 24)
        r = detector.assess("accuracy", cur, base)
        hits += r.verdict == "degraded"
        assert r.slope < 0
        assert r.sens_slope < 0
    assert hits >= 19


@pytest.mark.parametrize(("n_baseline", "n_current"), [(60, 24), (300, 100)])
def test_false_alarm_rate_on_stable_series_is_small(n_baseline: int, n_current: int) -> None:
    det = DegradationDetector(directions={"m": "higher"})
    alarms = 0
    for seed in range(200):
        rng = np.random.default_rng(10_000 + seed)
        r = det.assess("m", rng.normal(0.86, SD, n_current), rng.normal(0.86, SD, n_baseline))
        alarms += r.significant
    # Measured: 1 and 0 of 200 (each method alone fires in about 5 %).
    assert alarms / 200 <= 0.03


def test_votes_are_the_standalone_methods(detector: DegradationDetector) -> None:
    rng = np.random.default_rng(7)
    base, cur = rng.normal(0.86, SD, 40), rng.normal(0.85, SD, 15)
    r = detector.assess("accuracy", cur, base)
    assert r.welch_p_value == welch_t_test(cur, base).p_value
    assert r.mann_whitney_p_value == mann_whitney_u_test(cur, base).p_value
    assert r.z_p_value == z_score(cur, base).p_value
    assert r.z_score == z_score(cur, base).z
    lt, mk = linear_trend(cur), mann_kendall_test(cur)
    assert (r.slope, r.slope_p_value) == (lt.slope, lt.p_value)
    assert (r.mann_kendall_p_value, r.sens_slope) == (mk.p_value, mk.sens_slope)
    cs = cusum_change_point(np.r_[base, cur])
    by_method = {v.method: v for v in r.votes}
    assert by_method["cusum"].p_value == cs.p_value
    assert cs.position is not None
    assert r.cusum_position == cs.position - 40
    assert [v.method for v in r.votes] == list(METHODS)
    for v in r.votes:
        expected = "none" if v.p_value >= 0.05 else ("up" if v.statistic > 0 else "down")
        if v.method == "mann_whitney":
            expected = (
                "none" if v.p_value >= 0.05 else ("up" if v.statistic > 15 * 40 / 2 else "down")
            )
        if not (v.method == "pelt" and math.isnan(v.p_value)):
            assert v.vote == expected, v


def test_lower_is_better_and_unknown_directions() -> None:
    rng = np.random.default_rng(8)
    base = rng.normal(0.2, 0.01, 60)
    report = detect_degradation(
        {
            "latency_p95": rng.normal(0.26, 0.01, 24),
            "error_rate": rng.normal(0.15, 0.01, 24),
            "throughput": rng.normal(0.3, 0.01, 24),
        },
        {"latency_p95": base, "error_rate": base, "throughput": base},
    )
    assert report["latency_p95"].verdict == "degraded"
    assert report["error_rate"].verdict == "improved"
    assert report["error_rate"].better_or_worse == "better"
    thr = report["throughput"]
    assert (thr.verdict, thr.better_or_worse, thr.direction) == ("changed", "unknown", "unknown")
    assert report.verdict == "degraded"
    assert report.degraded == ("latency_p95",)
    assert report.metrics("changed") == ("throughput",)


def test_target_metrics_are_judged_by_distance_to_the_target(
    detector: DegradationDetector,
) -> None:
    rng = np.random.default_rng(9)
    base = rng.normal(0.0, 0.01, 60)
    away = detector.assess("bias", rng.normal(-0.05, 0.01, 24), base)
    assert (away.verdict, away.better_or_worse, away.target) == ("degraded", "worse", 0.0)
    assert away.difference < 0
    assert away.z_score > 0
    off = rng.normal(0.05, 0.01, 60)
    closer = detector.assess("bias", rng.normal(0.01, 0.01, 24), off)
    assert (closer.verdict, closer.better_or_worse) == ("improved", "better")
    # The practical-size gate also works on the distance to the target (the raw baseline mean
    # is about 0, so a raw relative change would be meaningless).
    gated = DegradationDetector(directions=detector.directions, min_relative_change=0.5)
    assert gated.assess("bias", rng.normal(-0.05, 0.01, 24), base).verdict == "degraded"


def test_insufficient_data(detector: DegradationDetector) -> None:
    r = detector.assess("accuracy", [], [0.8, 0.9])
    assert r.verdict == "insufficient_data"
    assert not r.significant
    assert r.reason == "accuracy: not enough data (0 current, 2 baseline values)"
    assert all(v.vote == "abstain" for v in r.votes)
    assert r.baseline_mean == pytest.approx(0.85)
    with pytest.warns(DataQualityWarning, match="current\\['accuracy'\\]"):
        r = detector.assess("accuracy", [np.nan, np.nan], [0.8, 0.9])
    assert r.verdict == "insufficient_data"
    assert detector.assess("accuracy", [0.8], []).verdict == "insufficient_data"


def test_a_single_current_value(detector: DegradationDetector) -> None:
    rng = np.random.default_rng(10)
    base = Baseline.from_values(rng.normal(0.86, SD, 100))
    r = detector.assess("accuracy", 0.80, base)
    votes = {v.method: v.vote for v in r.votes}
    assert votes["welch"] == votes["linear_trend"] == votes["mann_kendall"] == "abstain"
    assert r.verdict == "degraded"
    assert r.n_current == 1
    assert detector.assess("accuracy", 0.86, base).verdict == "stable"


def test_constant_series_abstain_quietly_and_still_decide(detector: DegradationDetector) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelmonWarning)
        r = detector.assess("accuracy", [0.9] * 24, [1.0] * 60)
    votes = {v.method: v for v in r.votes}
    assert votes["welch"].vote == "abstain"
    assert "zero variance" in votes["welch"].note
    assert votes["zscore"].vote == "abstain"
    assert "min_std=" in votes["zscore"].note
    assert votes["mann_whitney"].vote == "down"
    assert votes["pelt"].vote == "down"
    assert r.verdict == "degraded"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelmonWarning)
        same = detector.assess("accuracy", [1.0] * 24, [1.0] * 60)
    assert same.verdict == "stable"
    assert same.better_or_worse == "same"


def test_nan_values_are_dropped_and_positions_refer_to_the_input(
    detector: DegradationDetector,
) -> None:
    rng = np.random.default_rng(11)
    cur = np.r_[rng.normal(0.86, SD, 6), np.nan, rng.normal(0.80, SD, 12)]
    with pytest.warns(DataQualityWarning, match="1 NaN"):
        r = detector.assess("accuracy", cur, rng.normal(0.86, SD, 60))
    assert r.n_current == 18
    assert r.verdict == "degraded"
    assert 7 in r.change_points  # the first value after the step, counting the NaN
    with pytest.raises(ValidationError, match="contains NaN"):
        DegradationDetector(directions={"a": "higher"}, nan_policy="raise").assess(
            "a", cur, [1.0, 2.0]
        )


def test_change_inside_the_baseline_has_a_negative_position(detector: DegradationDetector) -> None:
    rng = np.random.default_rng(12)
    base = np.r_[rng.normal(0.86, SD, 50), rng.normal(0.80, SD, 10)]
    r = detector.assess("accuracy", rng.normal(0.80, SD, 24), base)
    assert any(-12 <= p <= -8 for p in r.change_points)
    assert r.cusum_position is not None
    assert -12 <= r.cusum_position <= -8


def test_methods_weights_and_min_votes(directions: DirectionRegistry) -> None:
    # A borderline drop that only some methods see (the first such seed of a fixed list).
    for seed in range(50):
        rng = np.random.default_rng(seed)
        base, cur = rng.normal(0.86, SD, 60), rng.normal(0.855, SD, 24)
        full = DegradationDetector(directions=directions).assess("accuracy", cur, base)
        down = [v.method for v in full.votes if v.vote == "down"]
        if 0 < len(down) < 4:
            break
    assert 0 < len(down) < 4
    assert full.verdict == "stable"
    only = DegradationDetector(directions=directions, methods=down[:1]).assess(
        "accuracy", cur, base
    )
    assert [v.method for v in only.votes] == down[:1]
    assert only.verdict == "degraded"
    weighted = DegradationDetector(directions=directions, weights=dict.fromkeys(down, 10.0))
    assert weighted.assess("accuracy", cur, base).verdict == "degraded"
    one_vote = DegradationDetector(directions=directions, min_votes=1)
    r = one_vote.assess("accuracy", cur, base)
    assert r.verdict == "degraded"
    assert r.votes_needed == 1.0
    gated = DegradationDetector(directions=directions, min_votes=1, min_relative_change=0.05)
    assert gated.assess("accuracy", cur, base).verdict == "stable"
    loose = DegradationDetector(directions=directions, min_votes=1, min_relative_change=0.001)
    assert loose.assess("accuracy", cur, base).verdict == "degraded"


def test_equal_weight_up_and_down_is_changed(directions: DirectionRegistry) -> None:
    # A current period that starts low and climbs above the baseline: the level is lower, the
    # trend is up. With one vote each way the verdict is "changed".
    cur = np.linspace(0.70, 0.90, 24)
    base = np.random.default_rng(14).normal(0.86, SD, 60)
    det = DegradationDetector(directions=directions, methods=["welch", "linear_trend"], min_votes=1)
    r = det.assess("accuracy", cur, base)
    assert {v.method: v.vote for v in r.votes} == {"welch": "down", "linear_trend": "up"}
    assert r.verdict == "changed"


def test_sample_sizes_weight_the_z_score(directions: DirectionRegistry) -> None:
    rng = np.random.default_rng(15)
    sizes_b = rng.integers(500, 2000, 60).astype(float)
    base = Baseline.from_values(rng.normal(0.86, 0.3 / np.sqrt(sizes_b)), sample_sizes=sizes_b)
    cur, sizes_c = np.array([0.80, 0.83]), np.array([20.0, 30.0])
    det = DegradationDetector(directions=directions)
    r = det.assess("accuracy", cur, base, sample_sizes=sizes_c)
    ref = z_score(cur, base, current_sample_sizes=sizes_c)
    assert ref.weighted
    assert r.z_score == ref.z
    assert r.z_p_value == ref.p_value
    # Few samples behind the current windows: not alarming on the z-score alone.
    assert {v.method: v.vote for v in r.votes}["zscore"] == "none"
    plain = det.assess("accuracy", cur, base)
    assert {v.method: v.vote for v in plain.votes}["zscore"] == "down"


def test_timestamps_shared_or_per_metric() -> None:
    rng = np.random.default_rng(16)
    hours = np.arange("2024-05-01T00", "2024-05-02T00", dtype="datetime64[h]")
    cur = 0.86 - 0.002 * np.arange(24) + rng.normal(0, 0.002, 24)
    base = {"error_rate": rng.normal(0.86, 0.002, 60)}
    shared = detect_degradation({"error_rate": cur}, base, timestamps=hours)
    per = detect_degradation({"error_rate": cur}, base, timestamps={"error_rate": hours})
    assert shared["error_rate"].slope == per["error_rate"].slope
    assert shared["error_rate"].slope == pytest.approx(-0.002 / 3600, rel=0.1)


def test_reason_line(detector: DegradationDetector) -> None:
    rng = np.random.default_rng(0)
    base = Baseline.from_values(rng.normal(0.86, 0.01, 60))
    r = detector.assess("accuracy", rng.normal(0.71, 0.01, 24), base)
    assert r.reason == (
        "accuracy 0.711 vs baseline 0.861 (−17.4 %), Welch p < 0.001; degraded (5 of 7 methods)"
    )
    stable = detector.assess("accuracy", rng.normal(0.86, 0.01, 24), base)
    assert stable.reason == "accuracy 0.86 vs baseline 0.861 (−0.1 %), Welch p = 0.76; stable"
    zero = detector.assess("accuracy", [0.1, 0.2], [0.0, 0.0, 0.0])
    assert math.isnan(zero.percent_change)
    assert "(n/a)" in zero.reason


def test_report_converts_to_dict_and_frame(detector: DegradationDetector) -> None:
    rng = np.random.default_rng(17)
    report = detector.detect(
        {"accuracy": rng.normal(0.80, SD, 24), "bias": rng.normal(0.0, SD, 24)},
        {"accuracy": rng.normal(0.86, SD, 60), "bias": Baseline.from_values(rng.normal(0, SD, 60))},
    )
    assert len(report) == 2
    assert report[0].metric == "accuracy"
    assert report["bias"].metric == "bias"
    with pytest.raises(KeyError):
        report["nope"]
    d = report.to_dict()
    json.dumps(d)  # plain values only
    assert d["results"][0]["verdict"] == "degraded"
    assert d["results"][0]["votes"][0]["method"] == "welch"
    frame = report.to_frame()
    assert list(frame["metric"]) == ["accuracy", "bias"]
    for col in (
        "current_mean",
        "baseline_mean",
        "z_score",
        "percent_change",
        "significant",
        "better_or_worse",
        "reason",
        "vote_pelt",
        "change_points",
    ):
        assert col in frame.columns, col
    assert report.reasons() == [report["accuracy"].reason]
    assert len(report.reasons(include_stable=True)) == 2


def test_invalid_settings_name_the_parameter(directions: DirectionRegistry) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"methods": ["welch", "magic"]}, "'methods' parameter"),
        ({"methods": "welch"}, "'methods' parameter"),
        ({"methods": []}, "'methods' parameter"),
        ({"methods": ["welch", "welch"]}, "'methods' parameter"),
        ({"alpha": 1.5}, "'alpha' parameter"),
        ({"min_votes": 0}, "'min_votes' parameter"),
        ({"weights": {"pelt": -1.0}}, "'weights\\[pelt\\]' parameter"),
        ({"weights": {"magic": 1.0}}, "'weights' parameter"),
        ({"pelt_cost": "poisson"}, "'pelt_cost' parameter"),
        ({"pelt_penalty": "aic"}, "'pelt_penalty' parameter"),
        ({"pelt_min_size": 1, "pelt_cost": "meanvar"}, "'pelt_min_size' parameter"),
        ({"min_relative_change": -0.1}, "'min_relative_change' parameter"),
        ({"nan_policy": "ignore"}, "'nan_policy' parameter"),
        ({"directions": ["accuracy"]}, "'directions' parameter"),
    ]
    for settings, message in cases:
        with pytest.raises(ParameterError, match=message):
            DegradationDetector(**settings).assess("accuracy", [0.8, 0.9], [0.8, 0.9])
    with pytest.raises(ParameterError, match="unexpected setting"):
        detect_degradation({}, {}, alhpa=0.1)
    with pytest.raises(ValidationError, match="No baseline for metric\\(s\\) 'accuracy'"):
        detect_degradation({"accuracy": [0.8]}, {"f1": [0.8]})


def test_meanvar_pelt_in_the_ensemble(directions: DirectionRegistry) -> None:
    rng = np.random.default_rng(18)
    det = DegradationDetector(directions=directions, pelt_cost="meanvar")
    r = det.assess("accuracy", rng.normal(0.82, SD, 24), rng.normal(0.86, SD, 60))
    assert r.verdict == "degraded"
    assert any(abs(p) <= 2 for p in r.change_points)

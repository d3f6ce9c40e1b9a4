"""Baseline bands of metrics: size adjustment, directions, and the false-alarm rate of the
prediction-interval limits on stable windows (nominal = what the rules promise)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from modelmon.judgement.bands import MIN_BAND_WINDOWS, MetricBand, limit_sigmas, persistence_sigmas
from modelmon.vocabulary import Direction


def test_band_needs_enough_windows_and_ignores_nan() -> None:
    assert MetricBand.fit("accuracy", [0.9] * (MIN_BAND_WINDOWS - 1), [100] * 3) is None
    band = MetricBand.fit("accuracy", [0.9, math.nan, 0.91, 0.92, 0.93, 0.9], [100] * 6)
    assert band is not None and band.windows == 5
    # never wrong in the baseline: one error is no finding, ten are
    flat = MetricBand.fit("accuracy", [1.0] * 6, [50] * 6, floor=0.01)
    assert flat is not None and flat.scale == "logit" and flat.center == pytest.approx(0.99)
    assert flat.sigmas(0.98, 50, Direction.HIGHER) < 2 < 3 < flat.sigmas(0.8, 50, Direction.HIGHER)


@pytest.mark.parametrize(("direction", "value", "sign"), [
    (Direction.HIGHER, 0.8, 1), (Direction.HIGHER, 1.0, -1), (Direction.LOWER, 1.0, 1),
    (Direction.LOWER, 0.8, -1), (Direction.TARGET, 0.8, 1), (Direction.UNKNOWN, 1.0, 1),
])
def test_sigmas_point_to_the_worse_side(direction: Direction, value: float, sign: int) -> None:
    band = MetricBand("m", 0.9, 0.01, 12, 100.0)  # linear scale
    assert band.sigmas(value, 100, direction) == pytest.approx(sign * 10.0)
    assert math.isnan(band.sigmas(math.nan, 100, direction))


def test_scales_follow_the_metric() -> None:
    assert MetricBand.fit("roc_auc", [0.9, 0.92, 0.91, 0.93], [100] * 4).scale == "logit"
    assert MetricBand.fit("log_loss", [0.3, 0.32, 0.31, 0.33], [100] * 4).scale == "log"
    assert MetricBand.fit("r2", [-0.1, 0.2, 0.3, 0.25], [100] * 4).scale == "linear"
    # a skewed worse side: 0.995 is further from 0.98 than 0.965 is, on the logit scale
    band = MetricBand.fit("roc_auc", [0.975, 0.98, 0.985, 0.98, 0.978], [500] * 5)
    assert band.sigmas(0.965, 500, Direction.HIGHER) < -band.sigmas(0.995, 500, Direction.HIGHER)
    lo, hi = band.limits(500, 3)
    assert lo < band.center < hi < 1


def test_smaller_windows_get_wider_bands_larger_ones_keep_the_baselines() -> None:
    band = MetricBand("m", 0.5, 0.02, 12, 400.0)
    assert band.spread(100) == pytest.approx(0.04)
    assert band.spread(400) == pytest.approx(0.02) == band.spread(40_000)
    assert band.spread(0) == math.inf
    lo, hi = band.limits(400, 3)
    assert (lo, hi) == pytest.approx((0.44, 0.56))


def test_limit_multipliers_are_students_prediction_intervals() -> None:
    for k in (5, 12, 50):
        for a in (0.01, 0.001):
            assert limit_sigmas(a, k) == pytest.approx(stats.t.ppf(1 - a, k - 1) * math.sqrt(1 + 1 / k))
    assert persistence_sigmas(0.001, 12) < limit_sigmas(0.001, 12)
    assert limit_sigmas(0.001, 10**6) == pytest.approx(stats.norm.ppf(0.999), rel=1e-3)


def test_false_alarm_rate_of_the_limits_on_stable_windows_is_nominal() -> None:
    """Binomial accuracy of 500-row windows; a band from 12 windows, redrawn 300 times, each
    judging 40 later windows: the share beyond the far limit is alpha, and two of three
    consecutive windows beyond the persistence limit happen at most at rate alpha."""
    rng = np.random.default_rng(11)
    alpha, p, n = 0.01, 0.9, 500
    far = persist = total = 0
    for _ in range(300):
        base = rng.binomial(n, p, 12) / n
        band = MetricBand.fit("accuracy", base, [n] * 12)
        assert band is not None
        later = rng.binomial(n, p, 40) / n
        z = np.array([band.sigmas(v, n, Direction.HIGHER) for v in later])
        far += int((z >= limit_sigmas(alpha, 12)).sum())
        k = persistence_sigmas(alpha, 12)
        hit = z >= k
        persist += sum(bool(hit[i] and (hit[i - 1] or hit[i - 2])) for i in range(2, 40))
        total += 38
    # binomial accuracy near 0.9 is skewed towards the worse side, so the far rate is a little
    # above alpha (1.3 % here): the bound allows half of alpha more, plus three standard errors
    slack = 3 * math.sqrt(alpha * (1 - alpha) / total)
    assert far / total <= 1.5 * alpha + slack
    assert persist / total <= 1.5 * alpha + slack
    assert far > 0 and persist > 0


@pytest.mark.parametrize(("metric", "values"), [
    ("mean_error", [0.0, 0.1, -0.1, 0.0, 0.05]),   # linear, centred on 0
    ("accuracy", [0.0, 0.0, 0.0, 0.0]),            # constant at a bound of [0, 1]
    ("accuracy", [1.0, 1.0, 1.0, 1.0]),
    ("mae", [2.0, 2.0, 2.0, 2.0]),                 # constant and positive
])
def test_degenerate_baselines_fit_without_errors(metric: str, values: list[float]) -> None:
    band = MetricBand.fit(metric, values, [100] * len(values), floor=0.005)
    assert band is not None and math.isfinite(band.mean) and band.std > 0
    for v in (values[0], 0.5, 3.0):
        z = band.sigmas(v, 100, Direction.HIGHER)
        assert not math.isnan(z)
    lo, hi = band.limits(100, 3)
    assert lo <= hi

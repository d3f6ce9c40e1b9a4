"""Change points: the CUSUM test against a direct reference, PELT against optimal partitioning."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from modelmon.degradation import cusum_change_point, pelt
from modelmon.degradation.pelt import VAR_FLOOR, mad_sigma, segmentation_cost
from modelmon.exceptions import DataQualityWarning, ParameterError, UndefinedMetricWarning

# -- CUSUM -----------------------------------------------------------------------------------


def cusum_reference(x: list[float], sigma: float) -> tuple[float, int]:
    """max_k |S_k| / (sigma sqrt n) with S_k = sum_{i<k} (x_i - mean), by a plain loop."""
    n = len(x)
    mean = sum(x) / n
    best, arg = -1.0, 0
    for k in range(1, n):
        s = abs(sum(v - mean for v in x[:k]))
        if s > best + 1e-12:
            best, arg = s, k
    return best / (sigma * math.sqrt(n)), arg


@given(st.lists(st.integers(-(10**4), 10**4).map(lambda i: i / 100.0), min_size=3, max_size=60))
def test_cusum_agrees_with_a_direct_computation(x: list[float]) -> None:
    if np.ptp(x) == 0:
        return
    d = np.diff(x)
    sigma = math.sqrt(float(np.dot(d, d)) / (2 * (len(x) - 1)))
    stat, pos = cusum_reference(x, sigma)
    res = cusum_change_point(x)
    assert res.sigma == pytest.approx(sigma, rel=1e-12)
    assert res.statistic == pytest.approx(stat, rel=1e-9)
    assert res.p_value == pytest.approx(float(stats.kstwobign.sf(stat)), rel=1e-9, abs=1e-300)
    # Ties of |S_k| at the maximum are rare; when there is one both must be maxima.
    cs = np.abs(np.cumsum(np.asarray(x) - np.mean(x))[:-1])
    assert res.position is not None
    assert cs[res.position - 1] == pytest.approx(cs[pos - 1], rel=1e-9)
    assert res.mean_before == pytest.approx(np.mean(x[: res.position]))
    assert res.mean_after == pytest.approx(np.mean(x[res.position :]))


def test_cusum_finds_a_step_and_its_position() -> None:
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(50):
        x = np.r_[rng.normal(0.86, 0.01, 70), rng.normal(0.845, 0.01, 30)]
        res = cusum_change_point(x)
        hits += res.position is not None and res.p_value < 0.05 and abs(res.position - 70) <= 5
    assert hits >= 40


def test_cusum_is_conservative_on_stable_series() -> None:
    rng = np.random.default_rng(1)
    p = np.array([cusum_change_point(rng.normal(size=200)).p_value for _ in range(400)])
    assert np.mean(p < 0.05) <= 0.06


def test_cusum_edge_cases() -> None:
    res = cusum_change_point([0.3] * 20)
    assert (res.statistic, res.p_value, res.position) == (0.0, 1.0, None)
    step = cusum_change_point([1.0] * 10 + [0.0] * 5)
    assert step.position == 10
    assert step.p_value < 1e-10
    with pytest.warns(UndefinedMetricWarning, match="at least 3"):
        res = cusum_change_point([1.0, 2.0])
    assert math.isnan(res.p_value)
    assert res.position is None
    with pytest.warns(DataQualityWarning):
        res = cusum_change_point([0.0, 0.0, np.nan, 0.0, 5.0, 5.0, 5.0])
    assert res.position == 4  # in the series as given, NaN included
    known = cusum_change_point([0.0, 1.0, 0.0, 3.0, 4.0, 3.0], sigma=0.5)
    assert known.sigma == 0.5
    with pytest.raises(ParameterError, match="'sigma' parameter of cusum_change_point"):
        cusum_change_point([1.0, 2.0, 3.0], sigma=0.0)


# -- PELT ------------------------------------------------------------------------------------


def _cost(z: np.ndarray, meanvar: bool) -> float:
    m = z.size
    rss = float(np.sum((z - z.mean()) ** 2))
    if not meanvar:
        return rss
    s = max(rss / m, VAR_FLOOR)
    return m * math.log(s) + rss / s


def optimal_partitioning(
    x: np.ndarray, penalty: float, min_size: int, meanvar: bool, sigma: float
) -> tuple[list[int], float]:
    """Exhaustive dynamic programming over every last change point (Jackson et al. 2005)."""
    z = x / sigma
    n = z.size
    f = [math.inf] * (n + 1)
    f[0] = -penalty
    last = [0] * (n + 1)
    for t in range(min_size, n + 1):
        for tau in range(t - min_size + 1):
            if 0 < tau < min_size:
                continue
            v = f[tau] + _cost(z[tau:t], meanvar) + penalty
            if v < f[t]:
                f[t], last[t] = v, tau
    cps, t = [], n
    while t > 0:
        t = last[t]
        if t > 0:
            cps.append(t)
    return cps[::-1], f[n]


@st.composite
def segmented(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(2, 45))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    levels = rng.normal(0, draw(st.sampled_from([0.0, 1.0, 3.0])), 4)
    scales = rng.uniform(0.3, 2.0, 4) if draw(st.booleans()) else np.ones(4)
    seg = rng.integers(0, 4, n)
    seg.sort()
    x = levels[seg] + scales[seg] * rng.normal(size=n)
    if draw(st.booleans()):
        x = np.round(x)  # ties and constant stretches
    return x


@given(
    segmented(),
    st.floats(0.0, 15.0),
    st.integers(1, 4),
    st.sampled_from(["mean", "meanvar"]),
)
def test_pelt_equals_exhaustive_optimal_partitioning(
    x: np.ndarray, penalty: float, min_size: int, cost: str
) -> None:
    meanvar = cost == "meanvar"
    min_size = max(min_size, 2) if meanvar else min_size  # explicit, so small sizes get tested
    res = pelt(x, cost=cost, penalty=penalty, min_size=min_size, sigma=1.0)
    if x.size < 2 * min_size or np.ptp(x) == 0:
        assert res.change_points == ()
        return
    cps, best = optimal_partitioning(x, penalty, min_size, meanvar, 1.0)
    assert res.penalised_cost == pytest.approx(best, rel=1e-9, abs=1e-9)
    ours = segmentation_cost(x, res.change_points, cost=cost, sigma=1.0)
    assert res.cost == pytest.approx(ours, rel=1e-9, abs=1e-9)
    assert ours + penalty * len(res.change_points) == pytest.approx(best, rel=1e-9, abs=1e-9)
    if not np.all(x == np.round(x)):
        # Continuous values: the optimum is unique, so the change points are the same. Integer
        # values can tie exactly between segmentations; then any optimum is right (above).
        assert list(res.change_points) == cps
    bounds = [0, *res.change_points, x.size]
    assert all(b - a >= min_size for a, b in itertools.pairwise(bounds))


def test_pelt_finds_known_steps_in_a_long_series() -> None:
    rng = np.random.default_rng(2)
    n = 10_000
    level = np.repeat([0.86, 0.85, 0.87, 0.84], n // 4)
    x = level + rng.normal(0, 0.01, n)
    res = pelt(x)
    assert len(res.change_points) == 3
    np.testing.assert_allclose(res.change_points, [2500, 5000, 7500], atol=15)
    np.testing.assert_allclose(res.segment_means, [0.86, 0.85, 0.87, 0.84], atol=0.002)
    assert res.sigma == pytest.approx(0.01, rel=0.05)


def test_pelt_meanvar_finds_a_change_in_variance() -> None:
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(0, 0.01, 200), rng.normal(0, 0.05, 200)]
    (cp,) = pelt(x, cost="meanvar").change_points
    assert abs(cp - 200) <= 10


def test_pelt_rarely_splits_stable_series() -> None:
    rng = np.random.default_rng(4)
    found = [len(pelt(rng.normal(size=300)).change_points) > 0 for _ in range(200)]
    assert np.mean(found) <= 0.08  # BIC with a robust noise scale: about 3 % measured


def test_pelt_default_penalty_and_sigma() -> None:
    x = np.r_[np.zeros(30), np.ones(30)] + np.random.default_rng(6).normal(0, 0.1, 60)
    res = pelt(x)
    assert res.penalty == pytest.approx(2 * math.log(60))
    assert res.sigma == pytest.approx(mad_sigma(x))
    assert pelt(x, cost="meanvar").penalty == pytest.approx(3 * math.log(60))
    assert res.change_points == (30,)


def test_pelt_edge_cases() -> None:
    empty = pelt([])
    assert empty.change_points == ()
    assert empty.segment_means == ()
    assert empty.n == 0
    assert pelt([1.0, 5.0, 1.0]).change_points == ()  # shorter than 2 * min_size
    const = pelt([0.7] * 50)
    assert const.change_points == ()
    assert const.segment_means == (0.7,)
    assert const.cost == 0.0
    with pytest.warns(DataQualityWarning):
        res = pelt([0.0, 0.1, 0.0, np.nan, 0.1, 5.0, 5.1, 5.0, 5.1], sigma=0.1)
    assert res.change_points == (5,)  # position in the series as given
    # Zero noise between steps: the step is still found (RMS-of-differences fallback scale).
    assert pelt([1.0] * 10 + [2.0] * 10).change_points == (10,)
    with pytest.raises(ParameterError, match="'min_size' parameter of pelt"):
        pelt([1.0, 2.0], cost="meanvar", min_size=1)
    with pytest.raises(ParameterError, match="'penalty' parameter of pelt"):
        pelt([1.0, 2.0], penalty="aic")
    with pytest.raises(ParameterError, match="'penalty' parameter of pelt"):
        pelt([1.0, 2.0], penalty=-1.0)
    with pytest.raises(ParameterError, match="'cost' parameter of pelt"):
        pelt([1.0, 2.0], cost="poisson")
    with pytest.raises(ParameterError, match="'sigma' parameter of pelt"):
        pelt([1.0, 2.0], sigma=-1.0)

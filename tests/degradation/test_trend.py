"""Trend tests: least-squares slope vs SciPy, Mann–Kendall and Sen's slope vs brute force."""

from __future__ import annotations

import math
import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from modelmon.degradation import _kernels, linear_trend, mann_kendall_test, sens_slope, trend
from modelmon.exceptions import DataQualityWarning, ParameterError, UndefinedMetricWarning

series = st.one_of(
    st.lists(st.integers(-3, 3).map(float), min_size=3, max_size=50),
    st.lists(st.integers(-(10**5), 10**5).map(lambda i: i / 100.0), min_size=3, max_size=50),
)


def _close(a: float, b: float, rtol: float = 1e-9) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= rtol * abs(b)


def mann_kendall_reference(x: list[float], continuity: bool) -> tuple[int, float, float, float]:
    """The textbook O(n^2) Mann–Kendall test (Kendall 1975, with tie correction)."""
    n = len(x)
    s = sum(int(np.sign(x[j] - x[i])) for i in range(n) for j in range(i + 1, n))
    var = n * (n - 1) * (2 * n + 5) / 18.0
    for t in Counter(x).values():
        var -= t * (t - 1) * (2 * t + 5) / 18.0
    if var == 0:
        return s, var, math.nan, math.nan
    num = s - np.sign(s) if continuity else s
    z = num / math.sqrt(var)
    return s, var, z, min(1.0, 2 * float(special.ndtr(-abs(z))))


@given(series)
def test_linear_trend_agrees_with_linregress(y: list[float]) -> None:
    x = np.arange(len(y), dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = stats.linregress(x, y)
        res = linear_trend(y)
    assert res.n == len(y)
    assert _close(res.slope, float(ref.slope)) or abs(res.slope - ref.slope) < 1e-12
    assert abs(res.intercept - ref.intercept) <= 1e-9 * max(1.0, abs(ref.intercept))
    if np.ptp(y) == 0:
        assert math.isnan(res.p_value)
        return
    assert res.r == pytest.approx(float(ref.rvalue), rel=1e-9, abs=1e-12)
    assert _close(res.p_value, float(ref.pvalue)) or abs(ref.rvalue) > 1 - 1e-12
    assert _close(res.stderr, float(ref.stderr), 1e-8) or abs(ref.rvalue) > 1 - 1e-12


@given(series, st.lists(st.floats(0.1, 10.0), min_size=50, max_size=50))
def test_linear_trend_with_timestamps_agrees_with_linregress(
    y: list[float], gaps: list[float]
) -> None:
    t = np.cumsum(gaps[: len(y)])
    if np.ptp(y) == 0:
        return
    ref = stats.linregress(t, y)
    res = linear_trend(y, timestamps=t)
    assert res.slope == pytest.approx(float(ref.slope), rel=1e-9, abs=1e-12)
    # On a perfect line SciPy's 1e-20 guard gives a tiny p instead of 0.
    assert _close(res.p_value, float(ref.pvalue), 1e-8) or abs(ref.rvalue) > 1 - 1e-12


@given(series, st.booleans())
def test_mann_kendall_agrees_with_brute_force(y: list[float], continuity: bool) -> None:
    s, var, z, p = mann_kendall_reference(y, continuity)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        res = mann_kendall_test(y, continuity=continuity)
    assert res.s == s
    assert res.var_s == pytest.approx(var, rel=1e-12, abs=1e-12)
    assert _close(res.z, z, 1e-12)
    assert _close(res.p_value, p)


@given(series)
def test_mann_kendall_agrees_with_kendalltau_against_time(y: list[float]) -> None:
    if np.ptp(y) == 0:
        return
    ref = stats.kendalltau(np.arange(len(y)), y, method="asymptotic")
    res = mann_kendall_test(y, continuity=False)
    assert _close(res.tau, float(ref.statistic), 1e-12)
    assert _close(res.p_value, float(ref.pvalue))


@given(series)
def test_sens_slope_agrees_with_theilslopes(y: list[float]) -> None:
    ref = stats.theilslopes(y).slope
    assert sens_slope(y) == pytest.approx(float(ref), rel=1e-12, abs=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # all-equal series
        assert mann_kendall_test(y).sens_slope == sens_slope(y)


def _all_slopes(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    i, j = np.triu_indices(x.size, 1)
    return (x[j] - x[i]) / (t[j] - t[i])


@pytest.mark.parametrize("ties", [False, True])
def test_exact_slope_selection_kernel_matches_sorting(ties: bool) -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(0, 4, 300).astype(float) if ties else rng.normal(size=300)
    t = np.cumsum(rng.uniform(0.5, 2.0, 300))
    slopes = np.sort(_all_slopes(x, t))
    for k in (0, 1, 17, slopes.size // 2, slopes.size - 1):
        # A tiny collection cap forces the range-narrowing passes.
        for cap in (4, 1 << 20):
            got = _kernels.pairwise_slope_order_stat(x, t, k, 16, cap)
            assert got == slopes[k], (k, cap)


@pytest.mark.parametrize(("direct", "sample"), [(10, 200_000), (10, 4)])
def test_sens_slope_selection_paths_match_the_plain_median(
    monkeypatch: pytest.MonkeyPatch, direct: int, sample: int
) -> None:
    # Small thresholds send short series through the sampled-bracket path and, with a tiny
    # sample, through its exact fallback.
    monkeypatch.setattr(trend, "_DIRECT_PAIRS", direct)
    monkeypatch.setattr(trend, "_SAMPLE_PAIRS", sample)
    rng = np.random.default_rng(5)
    for n in (5, 6, 40, 41):
        for x in (rng.normal(size=n), rng.integers(0, 3, n).astype(float)):
            t = np.arange(n, dtype=float)
            assert sens_slope(x) == np.median(_all_slopes(x, t))


def test_sens_slope_on_a_long_series_matches_the_plain_median() -> None:
    rng = np.random.default_rng(6)
    n = 1800  # 1.6 million pairs: the compiled selection, not the NumPy median
    x = 0.9 - 1e-5 * np.arange(n) + rng.normal(0, 0.01, n)
    assert n * (n - 1) // 2 > trend._DIRECT_PAIRS
    assert sens_slope(x) == np.median(_all_slopes(x, np.arange(n, dtype=float)))


def test_datetime_timestamps_give_slopes_per_second() -> None:
    days = np.arange("2024-01-01", "2024-01-31", dtype="datetime64[D]")
    y = 0.9 - 0.003 * np.arange(days.size)
    assert linear_trend(y, timestamps=days).slope == pytest.approx(-0.003 / 86400)
    assert sens_slope(y, timestamps=days) == pytest.approx(-0.003 / 86400)
    assert mann_kendall_test(y, timestamps=days).sens_slope == pytest.approx(-0.003 / 86400)


def test_nan_is_dropped_but_positions_keep_their_place() -> None:
    y = [1.0, 2.0, np.nan, 4.0, 5.0]
    with pytest.warns(DataQualityWarning):
        res = linear_trend(y)
    assert res.slope == pytest.approx(1.0)
    assert res.n == 4
    with pytest.warns(DataQualityWarning):
        assert sens_slope(y) == pytest.approx(1.0)


def test_trend_edge_cases() -> None:
    with pytest.warns(UndefinedMetricWarning, match="at least 3"):
        res = linear_trend([1.0, 2.0])
    assert res.slope == 1.0
    assert math.isnan(res.p_value)
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(linear_trend([1.0]).slope)
    with pytest.warns(UndefinedMetricWarning, match="constant series"):
        res = linear_trend([2.0] * 5)
    assert res.slope == 0.0
    assert math.isnan(res.p_value)
    with pytest.warns(UndefinedMetricWarning, match="all-equal"):
        mk = mann_kendall_test([0.5] * 10)
    assert mk.s == 0
    assert mk.var_s == 0
    assert math.isnan(mk.p_value)
    assert mk.sens_slope == 0.0
    with pytest.warns(UndefinedMetricWarning, match="at least 3"):
        mk = mann_kendall_test([1.0, 2.0])
    assert mk.s == 1
    assert math.isnan(mk.p_value)
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(sens_slope([1.0]))
    with pytest.raises(ParameterError, match="'continuity' parameter of mann_kendall_test"):
        mann_kendall_test([1, 2, 3], continuity="yes")  # type: ignore[arg-type]


def test_mann_kendall_on_ten_thousand_points() -> None:
    rng = np.random.default_rng(7)
    n = 10_000
    y = 0.9 - 2e-6 * np.arange(n) + rng.normal(0, 0.01, n)
    res = mann_kendall_test(y)
    assert res.s < 0
    assert res.p_value < 1e-6
    assert res.sens_slope == pytest.approx(-2e-6, rel=0.2)

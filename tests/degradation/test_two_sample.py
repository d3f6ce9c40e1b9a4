"""Welch's t-test, Mann–Whitney U and the z-score, against SciPy on random inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from modelmon.degradation import Baseline, mann_whitney_u_test, welch_t_test, z_score
from modelmon.degradation.two_sample import _u_counts
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError

# Values on a grid of 0.01 in a narrow or wide range: many ties in the narrow one.
sample = st.one_of(
    st.lists(st.integers(-5, 5).map(float), min_size=1, max_size=40),
    st.lists(st.integers(-(10**5), 10**5).map(lambda i: i / 100.0), min_size=1, max_size=40),
)
alternatives = st.sampled_from(["two-sided", "less", "greater"])


def _close(a: float, b: float, rtol: float = 1e-9) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= rtol * abs(b)


@given(sample, sample, alternatives)
def test_welch_agrees_with_scipy(c: list[float], b: list[float], alt: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = stats.ttest_ind(c, b, equal_var=False, alternative=alt)
        res = welch_t_test(c, b, alternative=alt)
    if len(c) < 2 or len(b) < 2 or (np.ptp(c) == 0 and np.ptp(b) == 0):
        # Defined as undefined here; SciPy gives NaN or an infinite t for these.
        assert math.isnan(res.statistic)
        assert math.isnan(res.p_value)
        return
    assert _close(res.statistic, float(ref.statistic))
    assert _close(res.p_value, float(ref.pvalue))
    assert res.df is not None
    assert _close(res.df, float(ref.df))
    assert res.n_current == len(c)
    assert res.n_baseline == len(b)


@given(
    sample, sample, alternatives, st.sampled_from(["auto", "exact", "asymptotic"]), st.booleans()
)
def test_mann_whitney_agrees_with_scipy(
    c: list[float], b: list[float], alt: str, method: str, continuity: bool
) -> None:
    ref = stats.mannwhitneyu(c, b, alternative=alt, method=method, use_continuity=continuity)
    res = mann_whitney_u_test(c, b, alternative=alt, method=method, use_continuity=continuity)
    assert res.statistic == pytest.approx(float(ref.statistic), rel=1e-12)
    if res.method == "asymptotic" and np.ptp(np.r_[c, b]) == 0:
        # All values tied: SciPy's z is 0/0 (NaN); no shift is measurable, p = 1 here.
        assert res.p_value == 1.0
        return
    assert _close(res.p_value, float(ref.pvalue)), (res.p_value, ref.pvalue)


@pytest.mark.parametrize(("m", "k"), [(1, 50), (8, 200), (8, 3000), (20, 25), (45, 60)])
def test_mann_whitney_exact_agrees_with_scipy_on_larger_samples(m: int, k: int) -> None:
    rng = np.random.default_rng(m * 1000 + k)
    for shift in (0.0, 0.5, 1.5):
        c, b = rng.normal(shift, 1, m), rng.normal(0, 1, k)
        for alt in ("two-sided", "less", "greater"):
            ref = stats.mannwhitneyu(c, b, alternative=alt, method="exact")
            res = mann_whitney_u_test(c, b, alternative=alt, method="exact")
            assert _close(res.p_value, float(ref.pvalue)), (m, k, shift, alt)


def test_exact_u_distribution_matches_enumeration() -> None:
    from itertools import combinations

    m, n = 3, 5
    counts = np.zeros(m * n + 1)
    for xs in combinations(range(m + n), m):
        ranks = np.array(xs) + 1
        counts[int(ranks.sum() - m * (m + 1) / 2)] += 1
    np.testing.assert_array_equal(_u_counts(m, n), counts)


def test_two_sample_tests_accept_a_baseline_object() -> None:
    rng = np.random.default_rng(3)
    b = rng.normal(0.86, 0.01, 60)
    c = rng.normal(0.84, 0.01, 24)
    base = Baseline.from_values(b)
    assert welch_t_test(c, base) == welch_t_test(c, b)
    assert mann_whitney_u_test(c, base) == mann_whitney_u_test(c, b)


def test_welch_undefined_cases_warn() -> None:
    with pytest.warns(UndefinedMetricWarning, match="at least 2 in each"):
        assert math.isnan(welch_t_test([1.0], [1.0, 2.0]).p_value)
    with pytest.warns(UndefinedMetricWarning, match="zero variance.*mann_whitney_u_test"):
        assert math.isnan(welch_t_test([1.0, 1.0], [2.0, 2.0]).p_value)
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(welch_t_test([], [1.0, 2.0]).statistic)


def test_mann_whitney_empty_and_constant() -> None:
    with pytest.warns(UndefinedMetricWarning, match="at least 1 in each"):
        assert math.isnan(mann_whitney_u_test([], [1.0]).p_value)
    res = mann_whitney_u_test([1.0] * 10, [1.0] * 20)
    assert res.p_value == 1.0
    assert res.statistic == 100.0
    # Two different constants are clearly separated.
    assert mann_whitney_u_test([0.9] * 24, [1.0] * 60).p_value < 1e-10


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ParameterError, match="'alternative' parameter of welch_t_test"):
        welch_t_test([1, 2], [1, 2], alternative="smaller")
    with pytest.raises(ParameterError, match="'method' parameter of mann_whitney_u_test"):
        mann_whitney_u_test([1, 2], [1, 2], method="permutation")
    with pytest.raises(ParameterError, match="'use_continuity'"):
        mann_whitney_u_test([1, 2], [1, 2], use_continuity=1)  # type: ignore[arg-type]


# -- z-score ---------------------------------------------------------------------------------


@given(
    st.integers(-(10**5), 10**5).map(lambda i: i / 100.0),
    st.lists(st.integers(-(10**5), 10**5).map(lambda i: i / 100.0), min_size=2, max_size=50),
)
def test_z_of_one_value_is_the_pooled_t_test_of_that_value(x: float, b: list[float]) -> None:
    # With one current value the pooled variance is the baseline's, so z and its p-value are
    # exactly Student's two-sample t-test (the prediction-interval test).
    if np.ptp(b) == 0:
        return
    res = z_score(x, b)
    ref = stats.ttest_ind([x], b, equal_var=True)
    assert _close(res.z, float(ref.statistic))
    assert _close(res.p_value, float(ref.pvalue))


@given(
    st.lists(st.integers(-1000, 1000).map(lambda i: i / 100.0), min_size=1, max_size=20),
    st.lists(st.integers(-1000, 1000).map(lambda i: i / 100.0), min_size=2, max_size=40),
    st.integers(1, 1000),
)
def test_z_with_equal_sample_sizes_equals_the_unweighted_z(
    c: list[float], b: list[float], size: int
) -> None:
    if np.ptp(b) == 0:
        return
    plain = z_score(c, b)
    weighted = z_score(
        c, b, current_sample_sizes=[size] * len(c), baseline_sample_sizes=[size] * len(b)
    )
    assert weighted.weighted
    assert not plain.weighted
    assert weighted.z == pytest.approx(plain.z, rel=1e-9, abs=1e-12)
    assert weighted.p_value == pytest.approx(plain.p_value, rel=1e-9, abs=1e-15)


def test_weighted_z_is_calibrated_when_window_noise_scales_with_sample_size() -> None:
    # Window metric ~ N(mu, sigma^2 / n_i) with very different n_i: the weighted z's p-values
    # are uniform under no change; the unweighted ones are not (small current windows look
    # extreme against a baseline of big ones).
    rng = np.random.default_rng(11)
    p_w, p_u = [], []
    for _ in range(2000):
        nb = rng.integers(500, 5000, 30).astype(float)
        nc = rng.integers(20, 60, 3).astype(float)
        b = rng.normal(0.8, 0.5 / np.sqrt(nb))
        c = rng.normal(0.8, 0.5 / np.sqrt(nc))
        p_w.append(z_score(c, b, current_sample_sizes=nc, baseline_sample_sizes=nb).p_value)
        p_u.append(z_score(c, b).p_value)
    assert stats.kstest(p_w, "uniform").pvalue > 0.01
    assert np.mean(np.asarray(p_w) < 0.05) == pytest.approx(0.05, abs=0.015)
    assert np.mean(np.asarray(p_u) < 0.05) > 0.3


def test_z_uses_baseline_sizes_from_the_baseline_object() -> None:
    base = Baseline.from_values([0.8, 0.82, 0.81, 0.79], sample_sizes=[100, 200, 100, 400])
    res = z_score([0.7], base, current_sample_sizes=[50])
    ref = z_score(
        [0.7], base.values, current_sample_sizes=[50], baseline_sample_sizes=[100, 200, 100, 400]
    )
    assert res == ref
    assert res.weighted
    with pytest.raises(ValidationError, match="give both or neither"):
        z_score([0.7], [0.8, 0.9], current_sample_sizes=[50])
    assert not z_score([0.7], base).weighted  # no current sizes: plain z


def test_z_edge_cases() -> None:
    with pytest.warns(UndefinedMetricWarning, match="min_std="):
        assert math.isnan(z_score(0.7, [0.8, 0.8, 0.8]).z)
    res = z_score(0.7, [0.8, 0.8, 0.8], min_std=0.05)
    assert res.z == pytest.approx(-0.1 / (0.05 * math.sqrt(1 + 1 / 3)))
    with pytest.warns(UndefinedMetricWarning, match="at least 1 current and 2 baseline"):
        assert math.isnan(z_score(0.7, [0.8]).z)
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(z_score([], [0.8, 0.9]).p_value)
    with pytest.raises(ParameterError, match="'min_std' parameter of z_score"):
        z_score(0.7, [0.8, 0.9], min_std=-1.0)

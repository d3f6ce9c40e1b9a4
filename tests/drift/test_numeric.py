"""Numeric two-sample tests against SciPy (Hypothesis, ties and small samples) and edge cases."""

from __future__ import annotations

import math
import statistics
import warnings

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays

from modelmon.drift import (
    NumericSummary,
    Reference,
    anderson_darling_test,
    cramer_von_mises_test,
    ks_test,
    mean_shift_z_test,
    summarize_numeric,
    variance_f_test,
)
from modelmon.exceptions import DataQualityWarning, ParameterError, UndefinedMetricWarning

RTOL = 1e-9
ATOL = 1e-12


def close(ours: float, ref: float) -> None:
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL)


def samples(min_size: int = 1, max_size: int = 40) -> hs.SearchStrategy[np.ndarray]:
    """Float samples; half of them drawn from a few integers so ties are common."""
    tied = arrays(
        np.float64,
        hs.integers(min_size, max_size),
        elements=hs.integers(-3, 3).map(float),
    )
    spread = arrays(
        np.float64,
        hs.integers(min_size, max_size),
        elements=hs.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64),
    )
    return hs.one_of(tied, spread)


# ----------------------------------------------------------------------- Kolmogorov–Smirnov


@given(samples(), samples())
def test_ks_matches_scipy(a: np.ndarray, b: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SciPy's own exact->asymp fallback
        ours = ks_test(a, b)
        ref = st.ks_2samp(a, b, method="auto")
    close(ours.statistic, ref.statistic)
    close(ours.p_value, ref.pvalue)


@given(samples(2), samples(2), hs.sampled_from(["exact", "asymp"]))
def test_ks_methods_match_scipy(a: np.ndarray, b: np.ndarray, method: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SciPy's own exact->asymp fallback
        ref = st.ks_2samp(a, b, method=method)
        ours = ks_test(a, b, method=method)
    close(ours.p_value, ref.pvalue)


@pytest.mark.parametrize(("n1", "n2", "ties"), [(12_000, 15_000, False), (9_000, 30_000, True)])
def test_ks_large_samples_asymptotic_and_exact_regimes(n1: int, n2: int, ties: bool) -> None:
    rng = np.random.default_rng(n1)
    a = rng.normal(size=n1)
    b = rng.normal(0.02, 1, size=n2)
    if ties:
        a, b = np.round(a, 1), np.round(b, 1)
    ours, ref = ks_test(a, b), st.ks_2samp(a, b)
    close(ours.statistic, ref.statistic)
    close(ours.p_value, ref.pvalue)


def test_ks_exact_from_a_fitted_reference_equals_raw() -> None:
    rng = np.random.default_rng(1)
    a, b = np.round(rng.normal(size=800), 1), np.round(rng.normal(0.1, 1, size=700), 1)
    fitted = Reference.fit({"x": a})["x"]
    assert fitted.counts is not None  # ties are stored once with a count
    assert ks_test(fitted, b) == ks_test(a, b)


def test_ks_exact_p_value_needs_exact_reference() -> None:
    rng = np.random.default_rng(2)
    sketch = summarize_numeric(rng.normal(size=20_000), max_exact=100, sketch_size=50)
    assert not sketch.exact
    with pytest.raises(ParameterError, match="max_exact="):
        ks_test(sketch, rng.normal(size=30), method="exact")
    # asymptotic p-values from a sketch are fine (and documented as approximate)
    assert 0 <= ks_test(sketch, rng.normal(size=30_000)).p_value <= 1


def test_ks_method_is_validated() -> None:
    with pytest.raises(ParameterError, match="'method' parameter of ks_test"):
        ks_test([1.0, 2.0], [1.0], method="fast")


# ----------------------------------------------------------------------- Cramér–von Mises


@given(samples(2), samples(2))
def test_cvm_matches_scipy(a: np.ndarray, b: np.ndarray) -> None:
    ours = cramer_von_mises_test(a, b)
    ref = st.cramervonmises_2samp(a, b, method="auto")
    close(ours.statistic, ref.statistic)
    close(ours.p_value, ref.pvalue)


@given(samples(2, 25), samples(2, 25))
def test_cvm_asymptotic_matches_scipy(a: np.ndarray, b: np.ndarray) -> None:
    ours = cramer_von_mises_test(a, b, method="asymptotic")
    ref = st.cramervonmises_2samp(a, b, method="asymptotic")
    close(ours.p_value, ref.pvalue)


def test_cvm_large_samples_with_ties() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.poisson(3, 20_000).astype(float), rng.poisson(3.05, 25_000).astype(float)
    ours, ref = cramer_von_mises_test(a, b), st.cramervonmises_2samp(a, b)
    close(ours.statistic, ref.statistic)
    close(ours.p_value, ref.pvalue)


def test_cvm_needs_two_values_per_sample() -> None:
    with pytest.warns(UndefinedMetricWarning, match="at least two"):
        r = cramer_von_mises_test([1.0], [1.0, 2.0, 3.0])
    assert math.isnan(r.statistic)
    assert math.isnan(r.p_value)


# ----------------------------------------------------------------------- Anderson–Darling


def _scipy_ad(a: np.ndarray, b: np.ndarray) -> tuple[float, float] | None:
    pooled = np.concatenate([a, b])
    if pooled.size < 4 or np.unique(pooled).size < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "p-value capped/floored"
        res = st.anderson_ksamp([a, b], variant="midrank")
    return float(res.statistic), float(res.pvalue)


@given(samples(), samples())
def test_anderson_darling_matches_scipy(a: np.ndarray, b: np.ndarray) -> None:
    ref = _scipy_ad(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ours = anderson_darling_test(a, b)
    if ref is None:
        assert math.isnan(ours.statistic)
        return
    close(ours.statistic, ref[0])
    close(ours.p_value, ref[1])


def test_anderson_darling_large_samples_interpolated_p_value() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=30_000), rng.normal(0.03, 1, size=20_000)
    ref = _scipy_ad(a, b)
    assert ref is not None
    assert 0.001 < ref[1] < 0.25  # the interpolated (not capped) range
    ours = anderson_darling_test(a, b)
    close(ours.statistic, ref[0])
    close(ours.p_value, ref[1])


def test_anderson_darling_p_value_is_capped() -> None:
    rng = np.random.default_rng(5)
    assert anderson_darling_test(rng.normal(size=200), rng.normal(size=200)).p_value <= 0.25
    assert anderson_darling_test(rng.normal(size=200), rng.normal(3, 1, size=200)).p_value == 0.001


@pytest.mark.parametrize(
    ("a", "b"), [([1.0, 1.0], [1.0, 1.0]), ([1.0], [2.0, 3.0]), ([], [1.0, 2.0])]
)
def test_anderson_darling_undefined_cases(a: list[float], b: list[float]) -> None:
    with pytest.warns(UndefinedMetricWarning, match="anderson_darling_test is undefined"):
        r = anderson_darling_test(a, b)
    assert math.isnan(r.statistic)


# ----------------------------------------------------------------------- z- and F-tests


def exact_var(x: np.ndarray) -> float:
    """Sample variance computed exactly (statistics uses fractions), then rounded."""
    return float(statistics.variance(x.tolist()))


@given(samples(2), samples(2))
def test_mean_shift_z_matches_hand_computation(a: np.ndarray, b: np.ndarray) -> None:
    r = mean_shift_z_test(a, b)
    se = math.sqrt(exact_var(a) / a.size + exact_var(b) / b.size)
    diff = statistics.fmean(b.tolist()) - statistics.fmean(a.tolist())
    if se == 0:
        assert r.statistic == (0.0 if diff == 0 else math.copysign(math.inf, diff))
        return
    z = diff / se
    np.testing.assert_allclose(r.statistic, z, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(r.p_value, 2 * st.norm.sf(abs(z)), rtol=1e-7, atol=1e-12)


@given(samples(2), samples(2))
def test_variance_f_matches_hand_computation(a: np.ndarray, b: np.ndarray) -> None:
    r = variance_f_test(a, b)
    va, vb = exact_var(a), exact_var(b)
    if va == 0:
        assert (r.statistic, r.p_value) == ((1.0, 1.0) if vb == 0 else (math.inf, 0.0))
        return
    f = vb / va
    dist = st.f(b.size - 1, a.size - 1)
    p = min(1.0, 2 * min(dist.cdf(f), dist.sf(f)))
    np.testing.assert_allclose(r.statistic, f, rtol=1e-9)
    np.testing.assert_allclose(r.p_value, p, rtol=1e-7, atol=1e-12)


def test_mean_z_and_f_need_two_values() -> None:
    for func in (mean_shift_z_test, variance_f_test):
        with pytest.warns(UndefinedMetricWarning, match="at least two"):
            assert math.isnan(func([1.0], [1.0, 2.0]).statistic)


# ----------------------------------------------------------------------- shared edge cases


@pytest.mark.parametrize("func", [ks_test, cramer_von_mises_test, anderson_darling_test])
def test_empty_current_sample_is_undefined(func) -> None:  # type: ignore[no-untyped-def]
    with pytest.warns(UndefinedMetricWarning):
        r = func([1.0, 2.0, 3.0], [])
    assert math.isnan(r.statistic)
    assert math.isnan(r.p_value)


def test_nan_is_missing_and_infinity_warns() -> None:
    a = np.array([1.0, 2.0, np.nan, 3.0, 4.0])
    b = np.array([2.0, np.inf, 5.0, -np.inf, 6.0])
    with pytest.warns(DataQualityWarning, match="2 infinite value"):
        r = ks_test(a, b)
    assert r == ks_test([1.0, 2.0, 3.0, 4.0], [2.0, 5.0, 6.0])


def test_constant_samples() -> None:
    same = ks_test(np.ones(50), np.ones(40))
    assert (same.statistic, same.p_value) == (0.0, 1.0)
    moved = ks_test(np.ones(50), np.full(40, 2.0))
    assert moved.statistic == 1.0
    assert moved.p_value < 1e-10


def test_strings_are_rejected_by_numeric_tests() -> None:
    with pytest.raises(ValueError, match="must be numeric"):
        ks_test(["a", "b"], [1.0, 2.0])


def test_summary_inputs_are_accepted() -> None:
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=300), rng.normal(size=200)
    sa, sb = summarize_numeric(a), summarize_numeric(b)
    assert isinstance(sa, NumericSummary)
    for func in (
        ks_test,
        cramer_von_mises_test,
        anderson_darling_test,
        mean_shift_z_test,
        variance_f_test,
    ):
        assert func(sa, sb) == func(a, b)

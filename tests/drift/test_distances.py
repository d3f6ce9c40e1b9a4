"""Distances against SciPy and hand-computed references; binning, smoothing and edge cases."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import jensenshannon

from modelmon.drift import (
    Reference,
    energy_distance,
    hellinger_distance,
    jensen_shannon_distance,
    kl_divergence,
    population_stability_index,
    summarize_categorical,
    summarize_numeric,
    total_variation_distance,
    wasserstein_distance,
)
from modelmon.drift.distances import binned_counts
from modelmon.exceptions import DataQualityWarning, ParameterError, UndefinedMetricWarning

RTOL = 1e-9
ATOL = 1e-12

floats = hs.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)


def samples(min_size: int = 1, max_size: int = 40) -> hs.SearchStrategy[np.ndarray]:
    tied = arrays(
        np.float64, hs.integers(min_size, max_size), elements=hs.integers(-3, 3).map(float)
    )
    spread = arrays(np.float64, hs.integers(min_size, max_size), elements=floats)
    return hs.one_of(tied, spread)


category_samples = hs.lists(hs.sampled_from(["a", "b", "c", "d", "é", ""]), min_size=1, max_size=40)


def brute_edges(x: np.ndarray, bins: int) -> np.ndarray:
    """Inverse-CDF quantile edges computed the slow, obvious way."""
    s = np.sort(x)
    n = s.size
    edges = []
    for k in range(1, bins):
        need = math.ceil(
            k * n / bins
        )  # smallest value whose count of values <= it reaches k n / bins
        edges.append(s[need - 1])
    out = sorted(set(edges))
    return np.array([e for e in out if e > s[0]])


def brute_hist(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in (-inf, e1), [e1, e2), ..., [ek, inf)."""
    bounds = [-np.inf, *edges.tolist(), np.inf]
    return np.array([np.sum((x >= lo) & (x < hi)) for lo, hi in itertools.pairwise(bounds)])


def proportions(a: np.ndarray, b: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    edges = brute_edges(a, bins)
    if edges.size == 0:
        edges = np.array([a.min(), np.nextafter(a.min(), np.inf)])
    ra, rb = brute_hist(a, edges), brute_hist(b, edges)
    return ra / ra.sum(), rb / rb.sum()


# ----------------------------------------------------------------------- Wasserstein, energy


@given(samples(), samples())
def test_wasserstein_matches_scipy(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(
        wasserstein_distance(a, b), st.wasserstein_distance(a, b), rtol=RTOL, atol=ATOL
    )


@given(samples(), samples())
def test_energy_matches_scipy(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(
        energy_distance(a, b), st.energy_distance(a, b), rtol=RTOL, atol=ATOL
    )


def test_large_samples_match_scipy() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.lognormal(0, 1, 200_000), np.round(rng.lognormal(0.05, 1, 150_000), 2)
    np.testing.assert_allclose(wasserstein_distance(a, b), st.wasserstein_distance(a, b), rtol=RTOL)
    np.testing.assert_allclose(energy_distance(a, b), st.energy_distance(a, b), rtol=RTOL)


@given(samples(2), samples())
def test_normalized_wasserstein_divides_by_reference_std(a: np.ndarray, b: np.ndarray) -> None:
    w = st.wasserstein_distance(a, b)
    sd = np.std(a)
    got = wasserstein_distance(a, b, normalize=True)
    if a.min() == a.max() or sd == 0:  # constant (or spread below float resolution)
        assert got == (0.0 if w == 0 else math.inf)
    else:
        np.testing.assert_allclose(got, w / sd, rtol=1e-9, atol=ATOL)


def test_wasserstein_empty_is_undefined() -> None:
    with pytest.warns(UndefinedMetricWarning, match="current sample has no non-missing values"):
        assert math.isnan(wasserstein_distance([1.0, 2.0], [np.nan]))


# ----------------------------------------------------------------------- binning


@given(samples(), hs.integers(2, 12))
def test_quantile_edges_and_histogram_match_brute_force(a: np.ndarray, bins: int) -> None:
    s = summarize_numeric(a, bins=bins)
    assert s.bin_edges is not None
    assert s.bin_counts is not None
    np.testing.assert_array_equal(s.bin_edges, brute_edges(a, bins))
    np.testing.assert_array_equal(s.bin_counts, brute_hist(a, s.bin_edges))
    assert (s.bin_counts > 0).all()  # every reference bin holds a value
    # the plain (current-style) summary bins the same way
    plain = summarize_numeric(a, bins=None)
    np.testing.assert_array_equal(plain.quantile_edges(bins), s.bin_edges)


@given(samples(), samples())
def test_binned_counts_match_brute_force(a: np.ndarray, b: np.ndarray) -> None:
    ra, rb = binned_counts(summarize_numeric(a), summarize_numeric(b), 10)
    pa, pb = proportions(a, b)
    np.testing.assert_allclose(ra / ra.sum(), pa)
    np.testing.assert_allclose(rb / rb.sum(), pb)


# ----------------------------------------------------------------------- histogram measures


def smoothed(p: np.ndarray, q: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    keep = (p > 0) | (q > 0)
    p, q = p[keep], q[keep]
    return np.where(p == 0, eps, p), np.where(q == 0, eps, q)


@given(samples(), samples())
def test_numeric_histogram_measures_match_references(a: np.ndarray, b: np.ndarray) -> None:
    p, q = proportions(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        psi = population_stability_index(a, b)
        kl = kl_divergence(a, b)
    ps, qs = smoothed(p, q, 1e-4)
    np.testing.assert_allclose(psi, np.sum((qs - ps) * np.log(qs / ps)), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(kl, st.entropy(ps, qs), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(
        jensen_shannon_distance(a, b), jensenshannon(p, q, base=2), rtol=RTOL, atol=ATOL
    )
    np.testing.assert_allclose(
        jensen_shannon_distance(a, b, base=math.e), jensenshannon(p, q), rtol=RTOL, atol=ATOL
    )
    np.testing.assert_allclose(
        hellinger_distance(a, b),
        np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2),
        rtol=RTOL,
        atol=ATOL,
    )
    np.testing.assert_allclose(
        total_variation_distance(a, b), 0.5 * np.abs(p - q).sum(), rtol=RTOL, atol=ATOL
    )


@given(category_samples, category_samples)
def test_categorical_measures_match_references(a: list[str], b: list[str]) -> None:
    cats = sorted(set(a) | set(b))
    p = np.array([a.count(c) for c in cats]) / len(a)
    q = np.array([b.count(c) for c in cats]) / len(b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        psi = population_stability_index(a, b, epsilon=1e-3)
        kl = kl_divergence(a, b, epsilon=1e-3)
    ps, qs = smoothed(p, q, 1e-3)
    np.testing.assert_allclose(psi, np.sum((qs - ps) * np.log(qs / ps)), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(kl, st.entropy(ps, qs), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(
        jensen_shannon_distance(a, b), jensenshannon(p, q, base=2), rtol=RTOL, atol=ATOL
    )
    np.testing.assert_allclose(
        total_variation_distance(a, b), 0.5 * np.abs(p - q).sum(), rtol=RTOL, atol=ATOL
    )
    np.testing.assert_allclose(
        hellinger_distance(a, b),
        np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2),
        rtol=RTOL,
        atol=ATOL,
    )


def test_psi_empty_bin_warns_and_names_epsilon() -> None:
    ref = ["a"] * 50 + ["b"] * 50
    cur = ["a"] * 50 + ["b"] * 40 + ["new"] * 10
    with pytest.warns(DataQualityWarning, match="epsilon=0.0001") as record:
        psi = population_stability_index(ref, cur)
    assert "reference: 1, current: 0" in str(record[0].message)
    assert psi > 0.5  # a new category with 10% of the mass is a large shift
    with pytest.warns(DataQualityWarning, match="epsilon=0.01"):
        assert population_stability_index(ref, cur, epsilon=0.01) < psi


def test_no_warning_without_empty_bins() -> None:
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        population_stability_index(rng.normal(size=1000), rng.normal(size=1000))


def test_constant_reference_still_sees_movement() -> None:
    ones = np.ones(100)
    assert jensen_shannon_distance(ones, ones) == 0.0
    assert jensen_shannon_distance(ones, np.full(100, 2.0)) == 1.0
    assert total_variation_distance(ones, np.r_[np.ones(50), np.zeros(50)]) == 0.5


def test_fitted_reference_bins_equal_raw_bins() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.gamma(2, 1, 5000), rng.gamma(2.2, 1, 4000)
    ref = Reference.fit({"x": a})["x"]
    for func in (
        population_stability_index,
        jensen_shannon_distance,
        hellinger_distance,
        total_variation_distance,
        kl_divergence,
    ):
        assert func(ref, b) == func(a, b)
        assert func(ref, b, bins=7) == func(a, b, bins=7)
    assert wasserstein_distance(ref, b) == wasserstein_distance(a, b)
    assert wasserstein_distance(ref, b, normalize=True) == wasserstein_distance(
        a, b, normalize=True
    )
    assert energy_distance(ref, b) == energy_distance(a, b)


def test_feature_type_override_bins_integers_as_categories() -> None:
    a, b = [1, 1, 2, 2, 3], [1, 2, 2, 3, 3]
    cat = total_variation_distance(a, b, feature_type="categorical")
    assert cat == pytest.approx(0.5 * (abs(0.4 - 0.2) + abs(0.4 - 0.4) + abs(0.2 - 0.4)))
    assert summarize_categorical(a).categories == (1, 2, 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bins": 1}, "'bins' parameter of population_stability_index must be an int in the range"),
        ({"epsilon": 0.0}, "'epsilon' parameter of population_stability_index"),
        ({"feature_type": "text"}, "'feature_type' parameter of population_stability_index"),
    ],
)
def test_parameters_are_validated(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        population_stability_index([1.0, 2.0], [1.0, 2.0], **kwargs)  # type: ignore[arg-type]


def test_js_base_is_validated() -> None:
    with pytest.raises(ParameterError, match="'base' parameter of jensen_shannon_distance"):
        jensen_shannon_distance([1.0], [1.0], base=1.0)


def test_empty_categorical_sample_is_undefined() -> None:
    with pytest.warns(UndefinedMetricWarning, match="reference sample has no non-missing"):
        assert math.isnan(jensen_shannon_distance([None, None], ["a"], feature_type="categorical"))

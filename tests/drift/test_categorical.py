"""Categorical tests against scipy.stats.chi2_contingency and hand-computed references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as hs

from modelmon.drift import Reference, chi_square_test, proportions_z_test, summarize_categorical
from modelmon.exceptions import UndefinedMetricWarning

RTOL = 1e-9
ATOL = 1e-12

labels = hs.sampled_from(["x", "y", "z", "w"])


def table(a: list[str], b: list[str]) -> np.ndarray:
    cats = sorted(set(a) | set(b))
    return np.array([[a.count(c) for c in cats], [b.count(c) for c in cats]])


@given(
    hs.lists(labels, min_size=1, max_size=60),
    hs.lists(labels, min_size=1, max_size=60),
    hs.booleans(),
)
def test_chi_square_matches_scipy(a: list[str], b: list[str], correction: bool) -> None:
    ref = st.chi2_contingency(table(a, b), correction=correction)
    ours = chi_square_test(a, b, correction=correction)
    np.testing.assert_allclose(ours.statistic, ref.statistic, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours.p_value, ref.pvalue, rtol=RTOL, atol=ATOL)


def test_yates_applies_only_to_two_categories() -> None:
    a, b = ["x"] * 30 + ["y"] * 20, ["x"] * 20 + ["y"] * 30
    assert chi_square_test(a, b).statistic < chi_square_test(a, b, correction=False).statistic
    a3, b3 = [*a, "z"], [*b, "z"]
    assert chi_square_test(a3, b3).statistic == chi_square_test(a3, b3, correction=False).statistic


def test_appearing_and_vanishing_categories() -> None:
    a = ["basic"] * 60 + ["plus"] * 30 + ["premium"] * 10
    b = ["basic"] * 50 + ["plus"] * 30 + ["enterprise"] * 20  # premium vanished, enterprise new
    ref = st.chi2_contingency([[60, 30, 10, 0], [50, 30, 0, 20]])
    ours = chi_square_test(a, b)
    np.testing.assert_allclose(ours.statistic, ref.statistic, rtol=RTOL)
    np.testing.assert_allclose(ours.p_value, ref.pvalue, rtol=RTOL)


def test_single_category_has_no_drift() -> None:
    assert chi_square_test(["a"] * 5, ["a"] * 9) == chi_square_test(["a"], ["a"])
    r = chi_square_test(["a"] * 5, ["a"] * 9)
    assert (r.statistic, r.p_value) == (0.0, 1.0)
    z = proportions_z_test(["a"] * 5, ["a"] * 9)
    assert (z.statistic, z.p_value) == (0.0, 1.0)


@given(
    hs.lists(hs.booleans(), min_size=1, max_size=80),
    hs.lists(hs.booleans(), min_size=1, max_size=80),
)
def test_proportions_z_squared_is_uncorrected_chi_square(a: list[bool], b: list[bool]) -> None:
    z = proportions_z_test(a, b)
    if len(set(a) | set(b)) == 1:
        assert (z.statistic, z.p_value) == (0.0, 1.0)
        return
    chi = st.chi2_contingency(table([str(v) for v in a], [str(v) for v in b]), correction=False)
    np.testing.assert_allclose(z.statistic**2, chi.statistic, rtol=1e-9, atol=ATOL)
    np.testing.assert_allclose(z.p_value, chi.pvalue, rtol=1e-7, atol=ATOL)
    # sign: positive when the first category (False) is more common in the current sample
    p_ref, p_cur = a.count(False) / len(a), b.count(False) / len(b)
    assert np.sign(z.statistic) == np.sign(p_cur - p_ref)


def test_proportions_z_hand_computed() -> None:
    r = proportions_z_test(["a"] * 70 + ["b"] * 30, ["a"] * 50 + ["b"] * 50)
    pooled = 120 / 200
    z = (0.5 - 0.7) / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    assert r.statistic == pytest.approx(z, rel=1e-12)
    assert r.p_value == pytest.approx(2 * st.norm.sf(abs(z)), rel=1e-12)


def test_proportions_z_on_more_than_two_categories_is_undefined() -> None:
    with pytest.warns(UndefinedMetricWarning, match="'chi_square'"):
        r = proportions_z_test(["a", "b"], ["a", "c"])
    assert math.isnan(r.statistic)


def test_missing_values_are_left_out() -> None:
    a = ["a", None, "b", float("nan"), "a"]
    b = ["a", "b", "b", None]
    s = summarize_categorical(a)
    assert (s.categories, s.counts.tolist(), s.n_missing) == (("a", "b"), [2, 1], 2)
    assert chi_square_test(a, b) == chi_square_test(["a", "b", "a"], ["a", "b", "b"])


def test_empty_sample_is_undefined() -> None:
    with pytest.warns(UndefinedMetricWarning, match="current sample has no non-missing values"):
        r = chi_square_test(["a", "b"], [None])
    assert math.isnan(r.statistic)
    assert math.isnan(r.p_value)


def test_fitted_reference_summary_equals_raw() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.choice(["u", "v", "w"], 500), rng.choice(["u", "v", "w", "new"], 400)
    fitted = Reference.fit({"c": a})["c"]
    assert chi_square_test(fitted, b) == chi_square_test(a, b)

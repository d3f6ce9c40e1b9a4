"""The fitted reference: exact storage, the sketch and its error bounds, serialisation."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays

from modelmon.drift import (
    CategoricalSummary,
    NumericSummary,
    Reference,
    compare,
    energy_distance,
    ks_test,
    summarize_numeric,
    wasserstein_distance,
)
from modelmon.drift.numeric import ks_statistic
from modelmon.exceptions import ParameterError, ValidationError


def frames(n: int, seed: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1, n)
    x[rng.random(n) < 0.05] = np.nan
    return {
        "x": x,
        "counts": rng.poisson(3 + shift, n).astype(float),
        "plan": rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
        "flag": rng.random(n) < 0.2,
    }


def same(a: object, b: object) -> bool:
    """Results equal, NaN equal to NaN (to_dict() keeps NaN)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# ----------------------------------------------------------------------- exact storage


@given(arrays(np.float64, hs.integers(1, 60), elements=hs.integers(-4, 4).map(float)))
def test_exact_summary_keeps_the_sample(x: np.ndarray) -> None:
    s = summarize_numeric(x)
    assert s.exact
    np.testing.assert_array_equal(s.to_array(), np.sort(x))
    assert s.n == x.size
    np.testing.assert_allclose([s.mean, s.variance], [x.mean(), x.var()], rtol=1e-12, atol=1e-12)
    assert (s.minimum, s.maximum) == (x.min(), x.max())


def test_compare_is_fit_then_compare() -> None:
    ref, cur = frames(3000, 0), frames(2000, 1, shift=0.3)
    direct = compare(ref, cur, correction="holm")
    fitted = Reference.fit(ref).compare(cur, correction="holm")
    assert direct == fitted


def test_many_windows_against_one_reference() -> None:
    ref = Reference.fit(frames(5000, 0))
    for seed in range(1, 4):
        window = frames(800, seed)
        assert ref.compare(window) == compare(frames(5000, 0), window)


@pytest.mark.parametrize("n", [3000, 250_000])
def test_serialised_reference_gives_identical_results(n: int) -> None:
    ref_frame = frames(n, 0)
    ref = Reference.fit(ref_frame, max_exact=10_000, sketch_size=500)
    cur = frames(2000, 1, shift=0.2)
    expected = ref.compare(cur, tests={"x": "ks", "counts": "cramer_von_mises"}).to_dict()
    via_json = Reference.from_dict(json.loads(json.dumps(ref.to_dict())))
    via_bytes = Reference.from_bytes(ref.to_bytes())
    for restored in (via_json, via_bytes):
        assert restored.feature_types == ref.feature_types
        got = restored.compare(cur, tests={"x": "ks", "counts": "cramer_von_mises"}).to_dict()
        assert same(got, expected)
        assert restored.compare(cur) == ref.compare(cur)
    assert len(ref.to_bytes()) < 200_000  # small, whatever the reference size


def test_stored_reference_validation() -> None:
    with pytest.raises(ValidationError, match="not a stored modelmon drift reference"):
        Reference.from_dict({"features": {}})
    good = Reference.fit(frames(100, 0)).to_dict()
    with pytest.raises(ValidationError, match="version"):
        Reference.from_dict({**good, "version": 99})
    bad = json.loads(json.dumps(good))
    bad["features"]["x"]["values"] = [3.0, 1.0]
    with pytest.raises(ValidationError, match="sorted finite values"):
        Reference.from_dict(bad)
    bad = json.loads(json.dumps(good))
    bad["features"]["plan"]["counts"] = [1, 0, 2]
    with pytest.raises(ValidationError, match="positive counts"):
        Reference.from_dict(bad)
    bad = json.loads(json.dumps(good))
    bad["features"]["plan"]["feature_type"] = "text"
    with pytest.raises(ValidationError, match="unknown feature_type"):
        Reference.from_dict(bad)
    with pytest.raises(ValidationError, match="Cannot read a stored reference"):
        Reference.from_bytes(b"not an archive")


def test_access_and_repr() -> None:
    ref = Reference.fit(pd.DataFrame(frames(200, 0)))
    assert ref.features == ["x", "counts", "plan", "flag"]
    assert isinstance(ref["x"], NumericSummary)
    assert isinstance(ref["plan"], CategoricalSummary)
    assert "plan" in ref
    assert list(ref) == ref.features
    assert len(ref) == 4
    assert "n_rows=200" in repr(ref)
    with pytest.raises(KeyError, match="no feature 'nope'"):
        ref["nope"]


# ----------------------------------------------------------------------- the sketch


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sketch_error_bounds_hold(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0, 1, 60_000)
    sketch = summarize_numeric(x, max_exact=10_000, sketch_size=1000)
    assert not sketch.exact
    assert sketch.values.size == 1000
    assert sketch.n == x.size
    assert sketch.mean == pytest.approx(x.mean(), rel=1e-12)
    assert sketch.variance == pytest.approx(x.var(), rel=1e-10)
    assert (sketch.minimum, sketch.maximum) == (x.min(), x.max())
    assert sketch.ks_error <= 1.0 / 1000 + 1e-12
    grid = np.union1d(x, sketch.values)
    cdf_x = np.searchsorted(np.sort(x), grid, side="right")
    assert sketch.counts is not None
    cdf_s = np.concatenate((np.zeros(1, np.int64), np.cumsum(sketch.counts)))[
        np.searchsorted(sketch.values, grid, side="right")
    ]
    assert sketch.ks_error == np.abs(cdf_x - cdf_s).max() / x.size
    assert sketch.energy_error == pytest.approx(
        math.sqrt(2 * sketch.ks_error * sketch.wasserstein_error)
    )
    assert sketch.wasserstein_error == pytest.approx(
        st.wasserstein_distance(x, sketch.values, None, sketch.counts)
    )
    for shift in (0.0, 0.05, 0.5):
        y = rng.lognormal(shift, 1, 20_000)
        exact_ks = st.ks_2samp(x, y).statistic
        assert abs(ks_test(sketch, y).statistic - exact_ks) <= sketch.ks_error + 1e-12
        assert abs(ks_statistic(sketch, summarize_numeric(y)) - exact_ks) <= sketch.ks_error + 1e-12
        w = st.wasserstein_distance(x, y)
        assert abs(wasserstein_distance(sketch, y) - w) <= sketch.wasserstein_error * (1 + 1e-9)
        e = st.energy_distance(x, y)
        assert abs(energy_distance(sketch, y) - e) <= sketch.energy_error * (1 + 1e-9) + 1e-12


def test_sketch_keeps_heavy_ties_exact() -> None:
    x = np.r_[np.zeros(40_000), np.arange(30_000, dtype=float)]
    s = summarize_numeric(x, max_exact=10_000, sketch_size=100)
    assert not s.exact
    assert s.values[0] == 0.0  # the tied block is kept at its exact value
    assert s.counts is not None
    assert s.counts[0] >= 40_000 // 100


def test_reference_bins_are_exact_even_for_a_sketch() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=50_000)
    s = Reference.fit({"x": x}, max_exact=10_000, sketch_size=200)["x"]
    assert isinstance(s, NumericSummary)
    assert s.bin_edges is not None
    exact = summarize_numeric(x)
    np.testing.assert_array_equal(s.bin_edges, exact.quantile_edges(10))
    np.testing.assert_array_equal(s.bin_counts, exact.histogram(s.bin_edges))


def test_fit_parameters_are_validated() -> None:
    with pytest.raises(ParameterError, match=r"'max_exact' parameter of Reference\.fit"):
        Reference.fit(frames(10, 0), max_exact=100)
    with pytest.raises(ParameterError, match="'bins' parameter"):
        Reference.fit(frames(10, 0), bins=1)
    with pytest.raises(ParameterError, match="'n_jobs' parameter"):
        Reference.fit(frames(10, 0), n_jobs=0)
    with pytest.raises(ParameterError, match="names 'zzz'"):
        Reference.fit(frames(10, 0), feature_types={"zzz": "numeric"})
    with pytest.raises(ParameterError, match="feature_types\\['x'\\]"):
        Reference.fit(frames(10, 0), feature_types={"x": "text"})
    with pytest.raises(ParameterError, match="must be a sequence of column names"):
        Reference.fit(frames(10, 0), columns="x")


def test_threads_give_identical_results() -> None:
    ref, cur = frames(4000, 0), frames(3000, 5, shift=0.1)
    one = compare(ref, cur, n_jobs=1)
    two = compare(ref, cur, n_jobs=2)
    assert one == two
    fitted_one = Reference.fit(ref, n_jobs=1).to_dict()
    fitted_two = Reference.fit(ref, n_jobs=2).to_dict()
    assert same(fitted_one, fitted_two)


def test_empty_reference_summaries() -> None:
    ref = Reference.fit({"x": np.array([], dtype=float), "c": np.array([], dtype=str)})
    x = ref["x"]
    assert isinstance(x, NumericSummary)
    assert x.n == 0
    assert math.isnan(x.mean)
    assert ref["c"].n == 0
    assert ref.n_rows == 0

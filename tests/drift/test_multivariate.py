"""Multivariate drift by PCA reconstruction error: sees joint changes per-feature tests miss."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from modelmon.drift import PCAReconstructionDrift, compare
from modelmon.exceptions import ParameterError, UndefinedMetricWarning


def correlated(rho: float, n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    cov = np.full((4, 4), rho)
    np.fill_diagonal(cov, 1.0)
    x = rng.multivariate_normal(np.zeros(4), cov, size=n)
    return {
        "a": x[:, 0] * 3 + 10,
        "b": x[:, 1],
        "c": x[:, 2],
        "d": x[:, 3] * 0.5,
        "label": rng.choice(["p", "q"], n),
    }


def flipped(n: int, seed: int) -> dict[str, np.ndarray]:
    """Same marginals as ``correlated(0.8, ...)``; the sign of a's correlation flips."""
    frame = correlated(0.8, n, seed)
    frame["a"] = 20 - frame["a"]  # mirror around the mean: N(10, 3) again, correlations negated
    return frame


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_correlation_flip_is_missed_per_feature_and_found_jointly(seed: int) -> None:
    ref = correlated(0.8, 20_000, 0)
    cur = flipped(10_000, seed)
    per_feature = compare(ref, cur)
    assert per_feature.n_drifted == 0  # every marginal is unchanged
    model = PCAReconstructionDrift.fit(ref)
    assert model.columns == ["a", "b", "c", "d"]  # the string column is left out
    res = model.compare(cur)
    assert res.drifted
    assert res.relative_change > 0.5
    assert res.z > 10


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_stable_data_is_not_flagged(seed: int) -> None:
    model = PCAReconstructionDrift.fit(correlated(0.8, 20_000, 0))
    for n in (500, 10_000, 200_000):
        res = model.compare(correlated(0.8, n, seed))
        assert not res.drifted
        assert abs(res.relative_change) < 0.05


def test_tiny_changes_on_huge_windows_are_not_drift() -> None:
    model = PCAReconstructionDrift.fit(correlated(0.8, 20_000, 0))
    res = model.compare(correlated(0.77, 300_000, 7))
    assert abs(res.z) > 3  # statistically detectable ...
    assert not res.drifted  # ... but below the 10% material change


def test_reconstruction_error_matches_a_direct_computation() -> None:
    ref = correlated(0.6, 3000, 0)
    model = PCAReconstructionDrift.fit(ref, columns=["a", "b", "c", "d"], variance_explained=0.9)
    x = np.column_stack([ref[k] for k in "abcd"])
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    share = np.cumsum(s**2) / np.sum(s**2)
    k = int(np.searchsorted(share, 0.9) + 1)
    assert model.components.shape[0] == k
    v = vt[:k]
    expected = np.linalg.norm(z - z @ v.T @ v, axis=1)
    np.testing.assert_allclose(model.reconstruction_error(ref), expected, rtol=1e-8, atol=1e-10)
    assert model.reference_mean == pytest.approx(expected.mean(), rel=1e-9)


def test_missing_values_are_imputed_with_the_reference_mean() -> None:
    ref = correlated(0.8, 5000, 0)
    model = PCAReconstructionDrift.fit(ref)
    cur = correlated(0.8, 1000, 1)
    cur["b"][:10] = np.nan
    errors = model.reconstruction_error(cur)
    assert np.isfinite(errors).all()
    assert not model.compare(cur).drifted


def test_round_trip_and_frames() -> None:
    ref = correlated(0.8, 5000, 0)
    model = PCAReconstructionDrift.fit(pd.DataFrame(ref))
    restored = PCAReconstructionDrift.from_dict(json.loads(json.dumps(model.to_dict())))
    cur = flipped(2000, 1)
    assert restored.compare(cur) == model.compare(cur)
    assert model.compare(pd.DataFrame(cur)) == model.compare(cur)


def test_edge_cases() -> None:
    model = PCAReconstructionDrift.fit(correlated(0.8, 1000, 0))
    with pytest.warns(UndefinedMetricWarning, match="no rows"):
        res = model.compare({k: v[:0] for k, v in correlated(0.8, 10, 1).items()})
    assert math.isnan(res.statistic)
    assert not res.drifted
    with pytest.raises(ParameterError, match="at least two numeric columns"):
        PCAReconstructionDrift.fit({"a": [1.0, 2.0, 3.0], "s": ["x", "y", "z"]})
    with pytest.raises(ParameterError, match="'variance_explained' parameter"):
        PCAReconstructionDrift.fit(correlated(0.8, 100, 0), variance_explained=0.0)
    constant = {"a": np.ones(100), "b": np.arange(100.0)}
    m = PCAReconstructionDrift.fit(constant)
    assert np.isfinite(m.reconstruction_error(constant)).all()
    assert m.compare({"a": np.full(50, 5.0), "b": np.arange(50.0)}).drifted

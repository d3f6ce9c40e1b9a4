"""Isotonic calibration and the calibration test against scikit-learn's pieces (NannyML's rule)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedShuffleSplit

from modelmon.estimation import IsotonicCalibrator, needs_calibration
from modelmon.estimation._calibration import (
    expected_calibration_error_equal_count,
    stratified_shuffle_splits,
)


@pytest.mark.parametrize(("n", "rate", "seed"), [(50, 0.5, 0), (1003, 0.13, 1), (20_000, 0.4, 2),
                                                 (999, 0.02, 3)])
def test_splits_are_scikit_learns(n: int, rate: float, seed: int) -> None:
    y = (np.random.default_rng(seed).random(n) < rate).astype(int)
    y[:2], y[-2:] = 1, 0  # two rows of each class at least
    ours = list(stratified_shuffle_splits(y, n_splits=10, test_size=0.1, random_state=42))
    theirs = list(StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=42).split(
        np.zeros(n), y))
    assert len(ours) == len(theirs) == 10
    for (a_train, a_test), (b_train, b_test) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


def test_isotonic_map_is_scikit_learns_with_ties() -> None:
    rng = np.random.default_rng(0)
    score = np.round(rng.random(3000), 2)  # many ties
    y = (rng.random(3000) < score ** 2).astype(int)
    ours = IsotonicCalibrator.fit(score, y)
    theirs = IsotonicRegression(out_of_bounds="clip").fit(score, y)
    probe = np.r_[-0.5, np.linspace(0, 1, 501), 1.5]
    np.testing.assert_allclose(ours.transform(probe), theirs.predict(probe), atol=1e-12)
    again = IsotonicCalibrator.from_dict(ours.to_dict())
    np.testing.assert_array_equal(again.transform(probe), ours.transform(probe))


def test_degenerate_maps() -> None:
    one = IsotonicCalibrator.fit(np.full(5, 0.3), np.array([0, 1, 1, 0, 1]))
    assert one.transform(np.array([0.1, 0.9])).tolist() == [0.6, 0.6]
    empty = IsotonicCalibrator.fit(np.empty(0), np.empty(0))
    assert empty.transform(np.array([0.2])).tolist() == [0.2]


def _sklearn_rule(y: np.ndarray, s: np.ndarray) -> bool:
    """NannyML 0.13's ``needs_calibration``, written with scikit-learn's pieces."""
    tests, raw, cal = [], [], []
    for train, test in StratifiedShuffleSplit(n_splits=10, test_size=0.1,
                                              random_state=42).split(s, y):
        iso = IsotonicRegression(out_of_bounds="clip").fit(s[train], y[train])
        tests.append(y[test])
        raw.append(s[test])
        cal.append(iso.predict(s[test]))
    t = np.concatenate(tests)
    return bool(expected_calibration_error_equal_count(t, np.concatenate(raw))
                > expected_calibration_error_equal_count(t, np.concatenate(cal)))


@pytest.mark.parametrize("power", [1.0, 1.05, 1.6, 0.5])
def test_calibration_decision_is_nannymls(power: float) -> None:
    rng = np.random.default_rng(int(power * 100))
    s = rng.random(4000)
    y = (rng.random(4000) < s ** power).astype(int)
    assert needs_calibration(y, s) == _sklearn_rule(y, s)


def test_ece_equal_count_bins() -> None:
    # 7 rows in 3 bins: widths 2, 2, 3 (the last takes the remainder)
    y = np.array([0, 0, 1, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 0.9])
    expected = 2 / 7 * 0.15 + 2 / 7 * abs(0.35 - 0.5) + 3 / 7 * abs(0.7666666 - 1.0)
    assert expected_calibration_error_equal_count(y, p, 3) == pytest.approx(expected, abs=1e-6)
    assert not needs_calibration(np.zeros(10, int), np.linspace(0, 1, 10))  # one class

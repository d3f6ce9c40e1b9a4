"""Isotonic calibration of scores, and the test of whether it helps (NannyML's rule).

Confidence-based estimation reads a model's scores as probabilities, so they must be calibrated:
among rows scored 0.8, 80 % must be positive. :class:`IsotonicCalibrator` learns the monotone
map from score to observed frequency on the reference (pool-adjacent-violators, with the
prediction interpolated linearly between the fitted points and clipped outside them, as
scikit-learn's ``IsotonicRegression(out_of_bounds="clip")`` does).

Calibrating scores that are already calibrated only adds noise, so :func:`needs_calibration`
applies NannyML's test: over ten stratified 90/10 splits of the reference, isotonic regression is
fitted on the 90 % and applied to the 10 %; the scores are calibrated when the pooled held-out
expected calibration error (ten equal-count bins) is lower after calibration than before. The
splits are drawn exactly as scikit-learn's ``StratifiedShuffleSplit(n_splits=10, test_size=0.1,
random_state=42)`` draws them (NumPy's legacy ``RandomState``), so the decision is the one
NannyML 0.13 takes on the same reference.

References
----------
Zadrozny, B. & Elkan, C. (2002). Transforming classifier scores into accurate multiclass
probability estimates. KDD. Naeini, M. P., Cooper, G. & Hauskrecht, M. (2015). Obtaining well
calibrated probabilities using Bayesian binning (expected calibration error). AAAI.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import isotonic_regression

from modelmon._results import Result

__all__ = [
    "IsotonicCalibrator",
    "expected_calibration_error_equal_count",
    "needs_calibration",
    "stratified_shuffle_splits",
]


@dataclass(frozen=True, eq=False)
class IsotonicCalibrator(Result):
    """A fitted monotone map from scores to probabilities.

    Attributes
    ----------
    x : ndarray
        Distinct reference scores, ascending.
    y : ndarray
        The calibrated probability at each of them (non-decreasing).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> score = rng.random(20_000)
    >>> y = (rng.random(20_000) < score ** 2).astype(int)   # scores overconfident
    >>> cal = IsotonicCalibrator.fit(score, y)
    >>> np.round(cal.transform(np.array([0.3, 0.5, 0.9])), 1)
    array([0.1, 0.2, 0.8])
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]

    @classmethod
    def fit(cls, scores: NDArray[np.float64], y_true: NDArray[Any]) -> IsotonicCalibrator:
        """Fit on reference ``scores`` and binary outcomes ``y_true`` (0/1).

        Tied scores are pooled first (their outcomes averaged, weighted by their count).
        """
        s = np.asarray(scores, dtype=np.float64)
        t = np.asarray(y_true, dtype=np.float64)
        order = np.argsort(s, kind="stable")
        return cls._fit_sorted(s[order], t[order])

    @classmethod
    def _fit_sorted(cls, s: NDArray[np.float64], t: NDArray[np.float64],
                    weights: NDArray[np.float64] | None = None) -> IsotonicCalibrator:
        """:meth:`fit` on scores already in ascending order (rows weighted by ``weights``)."""
        if s.size == 0:
            return cls(np.empty(0), np.empty(0))
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        if weights is None:
            counts = np.diff(np.r_[starts, s.size]).astype(np.float64)
            sums = np.add.reduceat(t, starts)
        else:
            counts = np.add.reduceat(weights, starts)
            sums = np.add.reduceat(weights * t, starts)
        x = s[starts]
        used = counts > 0
        x, counts, sums = x[used], counts[used], sums[used]
        fitted = isotonic_regression(sums / counts, weights=counts, increasing=True).x
        return cls._compressed(x, np.asarray(fitted, dtype=np.float64))

    @classmethod
    def bootstrap(cls, scores: NDArray[np.float64], y_true: NDArray[Any], replicates: int,
                  seed: int) -> list[IsotonicCalibrator]:
        """Maps fitted to bootstrap replicates of the reference (each row weighted by how often a
        draw of ``n`` rows with replacement picked it): how much the map itself varies with the
        reference drawn."""
        s = np.asarray(scores, dtype=np.float64)
        t = np.asarray(y_true, dtype=np.float64)
        if s.size == 0 or replicates == 0:
            return []
        order = np.argsort(s, kind="stable")
        s, t = s[order], t[order]
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        rng = np.random.default_rng(seed)
        n = s.size
        weights = np.stack([np.bincount(rng.integers(0, n, n), minlength=n)
                            for _ in range(replicates)]).astype(np.float64)
        counts = np.add.reduceat(weights, starts, axis=1)
        sums = np.add.reduceat(weights * t, starts, axis=1)
        x = s[starts]
        out = []
        for b in range(replicates):
            used = counts[b] > 0
            fitted = isotonic_regression(sums[b, used] / counts[b, used], weights=counts[b, used],
                                         increasing=True).x
            out.append(cls._compressed(x[used], np.asarray(fitted, dtype=np.float64)))
        return out

    @classmethod
    def _compressed(cls, x: NDArray[np.float64], fitted: NDArray[np.float64]) -> IsotonicCalibrator:
        """Only the ends of each flat run matter to the linear interpolation (as scikit-learn)."""
        keep = np.ones(fitted.size, dtype=bool)
        if fitted.size > 2:
            keep[1:-1] = (fitted[1:-1] != fitted[:-2]) | (fitted[1:-1] != fitted[2:])
        return cls(x[keep].copy(), fitted[keep].copy())

    def transform(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        """Calibrated probabilities of ``scores`` (linear between the fitted points, clipped
        beyond them)."""
        if self.x.size == 0:
            return np.asarray(scores, dtype=np.float64).copy()
        if self.x.size == 1:
            return np.full(np.shape(scores), float(self.y[0]))
        return np.interp(scores, self.x, self.y)

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IsotonicCalibrator:
        return cls(np.asarray(data["x"], dtype=np.float64), np.asarray(data["y"], dtype=np.float64))


def _approximate_mode(counts: NDArray[np.int64], draws: int,
                      rng: np.random.RandomState) -> NDArray[np.int64]:
    """scikit-learn's approximate mode of the multivariate hypergeometric (ties broken by
    ``rng``), line by line: the split must consume the generator exactly as it does."""
    continuous = counts / counts.sum() * draws
    floored = np.floor(continuous)
    need = int(draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add = min(len(inds), need)
            inds = rng.choice(inds, size=add, replace=False)
            floored[inds] += 1
            need -= add
            if need == 0:
                break
    return floored.astype(int)


def stratified_shuffle_splits(
    y: NDArray[Any], *, n_splits: int = 10, test_size: float = 0.1, random_state: int = 42
) -> Iterator[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """``(train, test)`` index arrays, identical to scikit-learn's
    ``StratifiedShuffleSplit(n_splits, test_size=test_size, random_state=random_state)``.

    Each class needs at least two rows (the caller checks).
    """
    n = len(y)
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    per_class = np.split(np.argsort(inverse, kind="stable"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(random_state)
    for _ in range(n_splits):
        n_i = _approximate_mode(counts, n_train, rng)
        t_i = _approximate_mode(counts - n_i, n_test, rng)
        train, test = [], []
        for i in range(len(classes)):
            perm = per_class[i].take(rng.permutation(counts[i]), mode="clip")
            train.append(perm[: n_i[i]])
            test.append(perm[n_i[i]: n_i[i] + t_i[i]])
        # permuting the concatenated arrays draws exactly what permuting scikit-learn's lists does
        train_idx, test_idx = np.concatenate(train), np.concatenate(test)
        yield rng.permutation(train_idx), rng.permutation(test_idx)


def expected_calibration_error_equal_count(y_true: NDArray[Any], prob: NDArray[np.float64],
                                           bins: int = 10) -> float:
    """Expected calibration error over ``bins`` bins of equal count (the last one takes the
    remainder), as NannyML's calibration test computes it.

    >>> expected_calibration_error_equal_count(np.array([0, 1, 0, 1]), np.array([.2, .4, .6, .8]), 2)
    0.2
    """
    n = len(prob)
    if n <= 2 * bins:
        bins = n // 2
    if bins < 1:
        return math.nan
    width = n // bins
    edges = np.arange(0, n + 1, width)
    edges[-1] = n
    order = np.argsort(prob)
    p = np.asarray(prob, dtype=np.float64)[order]
    t = np.asarray(y_true, dtype=np.float64)[order]
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        total += (hi - lo) / n * abs(float(p[lo:hi].mean()) - float(t[lo:hi].mean()))
    return float(total)


def needs_calibration(y_true: NDArray[Any], scores: NDArray[np.float64], *, bins: int = 10,
                      splits: int = 10) -> bool:
    """Whether isotonic calibration lowers the held-out expected calibration error of
    ``scores`` (see the module docstring).

    Scores of one class only, or that separate the classes almost perfectly (ROC AUC above
    0.999), are left as they are; so are classes with fewer than two rows (no stratified split).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> s = rng.random(5000)
    >>> needs_calibration((rng.random(5000) < s ** 3).astype(int), s)   # overconfident
    True
    >>> needs_calibration(np.r_[np.zeros(10), np.ones(10)], np.r_[np.zeros(10), np.ones(10)])
    False
    """
    from modelmon.metrics import roc_auc_score

    t = np.asarray(y_true).astype(np.int64)
    s = np.asarray(scores, dtype=np.float64)
    counts = np.bincount(t, minlength=2)
    if (counts > 0).sum() < 2 or counts.min() < 2:
        return False
    if roc_auc_score(t, s) > 0.999:
        return False
    order = np.argsort(s, kind="stable")
    s_sorted, t_sorted = s[order], t[order].astype(np.float64)
    tests, raw, calibrated = [], [], []
    for train, test in stratified_shuffle_splits(t, n_splits=splits):
        in_train = np.zeros(s.size, dtype=bool)
        in_train[train] = True
        keep = in_train[order]  # the training rows, still in ascending score order
        cal = IsotonicCalibrator._fit_sorted(s_sorted[keep], t_sorted[keep])
        tests.append(t[test])
        raw.append(s[test])
        calibrated.append(cal.transform(s[test]))
    truth = np.concatenate(tests)
    before = expected_calibration_error_equal_count(truth, np.concatenate(raw), bins)
    after = expected_calibration_error_equal_count(truth, np.concatenate(calibrated), bins)
    return bool(before > after)

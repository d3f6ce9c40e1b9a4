"""KSWIN's building blocks against what River uses: CPython's random and SciPy's ks_2samp."""

from __future__ import annotations

import collections
import itertools
import random
import warnings

import numpy as np
import pytest
from scipy import stats

from modelmon.detectors import KSWIN
from modelmon.detectors._kernels.kswin import _ks_gap
from modelmon.detectors._kernels.python_random import sample
from modelmon.detectors._ks_pvalue import prob_outside_square, pvalue_table
from modelmon.detectors.kswin import sample_uses_pool as uses_pool

# (n, k) pairs: River samples k = stat_size of n = window_size - stat_size positions.
SAMPLE_SIZES = [(70, 30), (277, 30), (278, 30), (370, 30), (40, 20), (45, 5), (1, 1), (10, 10), (1000, 3), (5000, 200)]


def _generator(seed: int) -> tuple[np.ndarray, int]:
    words = random.Random(seed).getstate()[1]
    return np.array(words[:-1], dtype=np.int64), words[-1]


@pytest.mark.parametrize(("n", "k"), SAMPLE_SIZES)
@pytest.mark.parametrize("seed", [0, 1, 42, -7, 2**70 + 3])
def test_sample_matches_cpython_draw_for_draw(n, k, seed):
    reference = random.Random(seed)
    mt, index = _generator(seed)
    out = np.empty(k, dtype=np.int64)
    pool = np.empty(n, dtype=np.int64)
    marks = np.zeros(n, dtype=np.uint8)
    for _ in range(40):  # consecutive samples: the generator state carries over
        expected = reference.sample(range(n), k)
        index = sample(mt, index, n, k, uses_pool(n, k), out, pool, marks)
        assert out.tolist() == expected
    state = reference.getstate()[1]
    assert mt.tolist() == list(state[:-1])
    assert index == state[-1]
    assert not marks.any()


def test_pool_branch_boundary_is_cpython_s():
    # For k = 30, CPython's set size is 21 + 4 ** 4 = 277: n = 277 uses the pool, 278 the set.
    assert uses_pool(277, 30)
    assert not uses_pool(278, 30)
    assert uses_pool(70, 30)
    assert uses_pool(21, 5)  # k <= 5: set size 21
    assert not uses_pool(22, 5)


STAT_SIZES = [*range(1, 61), 100, 150, 250]


@pytest.mark.parametrize("n", STAT_SIZES)
def test_pvalue_table_equals_ks_2samp_for_every_statistic(n):
    table = pvalue_table(n)
    base = np.arange(n, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SciPy's exact -> asymp fallback
        for h in range(n + 1):
            result = stats.ks_2samp(base, base + h, method="auto")
            assert result.statistic == h * 1.0 / n
            assert result.pvalue == table[h], (n, h)


def test_exact_formula_is_scipy_s():
    from scipy.stats._stats_py import _compute_prob_outside_square

    for n in (5, 30, 77, 200):
        for h in range(1, n + 1):
            assert prob_outside_square(n, h) == _compute_prob_outside_square(n, h)


def test_table_rejects_sizes_beyond_the_exact_range():
    with pytest.raises(ValueError, match="n must be"):
        pvalue_table(10001)


@pytest.mark.parametrize("size", [5, 20, 30, 100])
def test_ks_gap_is_scipy_s_statistic(size):
    rng = np.random.default_rng(size)
    for trial in range(200):
        if trial % 2:
            a, b = rng.integers(0, 6, size).astype(float), rng.integers(0, 6, size).astype(float)
        else:
            a, b = rng.normal(size=size), rng.normal(0.3, 1.0, size)
        gap = _ks_gap(np.sort(a), np.sort(b))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            assert gap * 1.0 / size == stats.ks_2samp(a, b).statistic


class _KswinWithoutReset:
    """River 0.26.1's KSWIN.update without its reset after a drift (Raab et al.'s KSWIN)."""

    def __init__(self, alpha: float, window_size: int, stat_size: int, seed: int) -> None:
        self.alpha, self.window_size, self.stat_size = alpha, window_size, stat_size
        self.window: collections.deque[float] = collections.deque(maxlen=window_size)
        self.rng = random.Random(seed)
        self.p_value = 0.0

    def update(self, x: float) -> bool:
        self.window.append(x)
        if len(self.window) < self.window_size:
            return False
        positions = self.rng.sample(range(self.window_size - self.stat_size), self.stat_size)
        reference = [self.window[r] for r in positions]
        recent = list(itertools.islice(self.window, self.window_size - self.stat_size, self.window_size))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            statistic, self.p_value = stats.ks_2samp(reference, recent, method="auto")
        if self.p_value <= self.alpha and statistic > 0.1:
            self.window = collections.deque(recent, maxlen=self.window_size)
            return True
        return False


def test_kswin_without_reset_keeps_the_recent_values():
    rng = np.random.default_rng(8)
    values = np.concatenate([rng.normal(0, 1, 600), rng.normal(1.5, 1, 600), rng.normal(-1, 1, 600)])
    reference = _KswinWithoutReset(alpha=0.01, window_size=80, stat_size=25, seed=9)
    expected = [i for i, x in enumerate(values.tolist()) if reference.update(x)]
    ours = KSWIN(alpha=0.01, window_size=80, stat_size=25, seed=9, reset_on_drift=False)
    assert ours.update_many(values).drifts.tolist() == expected
    assert len(expected) >= 2
    assert ours.p_value == reference.p_value


def test_unseeded_kswin_is_random_but_valid():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(0, 1, 500), rng.normal(3, 1, 500)])
    found = [KSWIN(alpha=0.0001).update_many(values).drifts for _ in range(3)]
    for drifts in found:
        assert drifts.size
        assert 500 <= drifts[0] < 560

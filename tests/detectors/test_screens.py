"""The kernels' shortcuts never change a decision River's exact arithmetic would take.

ADWIN, DDM and EDDM skip River's divisions, square roots or ``** 0.5`` when a cheaper bound
already decides the outcome. Each shortcut is checked here against River's exact expression on
random inputs and on inputs placed within a hair of the decision boundary.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from modelmon.detectors._kernels.adwin import may_be_significant, significant
from modelmon.detectors._kernels.ddm import quiet
from modelmon.detectors._kernels.eddm import needs_pow


@njit(cache=False)
def _check(u0, u1, n0, n1, vw, dp, lengths):
    exact = np.empty(u0.shape[0], dtype=np.bool_)
    screened = np.empty(u0.shape[0], dtype=np.bool_)
    for i in range(u0.shape[0]):
        exact[i] = significant(u0[i], u1[i], n0[i], n1[i], vw[i], dp[i], lengths[i])
        screened[i] = may_be_significant(u0[i], u1[i], n0[i], n1[i], vw[i], dp[i], lengths[i])
    return exact, screened


def _epsilon(n0, n1, vw, dp, length):
    m = 1.0 / (n0 - length + 1.0) + 1.0 / (n1 - length + 1.0)
    return np.sqrt(2.0 * m * vw * dp) + 2.0 / 3.0 * dp * m


def _inputs(rng: np.random.Generator, size: int, relative_offset: np.ndarray):
    lengths = rng.choice([1.0, 5.0, 10.0, 100.0], size)
    n0 = np.floor(10 ** rng.uniform(0, 7, size)) + lengths
    n1 = np.floor(10 ** rng.uniform(0, 7, size)) + lengths
    width = n0 + n1
    delta = 10 ** rng.uniform(-6, -0.3, size)
    dp = np.log(2.0 * np.log(width) / delta)
    vw = np.where(rng.random(size) < 0.1, 0.0, 10 ** rng.uniform(-12, 6, size))
    base = rng.normal(0, 1, size) * 10 ** rng.uniform(-3, 6, size)
    gap = _epsilon(n0, n1, vw, dp, lengths) * (1.0 + relative_offset) * rng.choice([-1, 1], size)
    u1 = n1 * base
    u0 = n0 * (base + gap)
    return u0, u1, n0, n1, vw, dp, lengths


def test_screen_keeps_every_significant_cut_near_the_boundary():
    rng = np.random.default_rng(0)
    size = 250_000
    offsets = rng.choice([-1, 1], size) * 10 ** rng.uniform(-17, -3, size)
    offsets[:1000] = 0.0
    exact, screened = _check(*_inputs(rng, size, offsets))
    assert exact.sum() > size // 10  # plenty of significant cuts, right at the boundary
    assert not (exact & ~screened).any()


def test_screen_keeps_every_significant_cut_far_from_the_boundary():
    rng = np.random.default_rng(1)
    size = 200_000
    offsets = rng.uniform(-1, 3, size)
    exact, screened = _check(*_inputs(rng, size, offsets))
    assert not (exact & ~screened).any()


def test_screen_discards_clearly_insignificant_cuts():
    rng = np.random.default_rng(2)
    size = 100_000
    exact, screened = _check(*_inputs(rng, size, np.full(size, -0.5)))
    assert not exact.any()
    assert screened.mean() < 0.01  # the screen does its job: no exact test for these


def test_screen_with_non_finite_or_extreme_values_keeps_the_cut():
    values = [math.inf, -math.inf, math.nan, 1e300, -1e300, 1e-300]
    for u0 in values:
        for vw in [0.0, 1.0, math.nan, 1e300]:
            args = (u0, 1.0, 50.0, 60.0, vw, 5.0, 5.0)
            if significant(*args):
                assert may_be_significant(*args)


# --- DDM: ``quiet`` must imply River's three comparisons with s = sqrt(q / n) ----------------


@njit(cache=False)
def _ddm_check(p, n, ps_min, warning_level, drift_level):
    claimed = np.empty(p.shape[0], dtype=np.bool_)
    exact = np.empty(p.shape[0], dtype=np.bool_)
    for i in range(p.shape[0]):
        q = p[i] * (1.0 - p[i])
        claimed[i] = quiet(p[i], q * (1.0 / n[i]), ps_min[i], warning_level[i], drift_level[i])
        s = math.sqrt(q / n[i])
        total = p[i] + s
        exact[i] = (not total <= ps_min[i]) and not (total > warning_level[i]) and not (
            total > drift_level[i]
        )
    return claimed, exact


def test_ddm_quiet_is_never_wrong():
    rng = np.random.default_rng(3)
    size = 600_000
    p = rng.random(size) ** rng.choice([1.0, 4.0], size)
    n = np.floor(10 ** rng.uniform(1, 7, size))
    s = np.sqrt(p * (1.0 - p) / n)

    def near(scale):  # a level right around p + s, or a random one
        offset = rng.choice([-1, 1], size) * 10 ** rng.uniform(-17, -2, size)
        level = p + s * (1.0 + offset)
        return np.where(rng.random(size) < 0.7, level, p + s * rng.uniform(0, scale, size))

    ps_min = np.where(rng.random(size) < 0.02, np.inf, near(2.0))
    warning_level = near(3.0)
    drift_level = np.maximum(warning_level, near(4.0))
    claimed, exact = _ddm_check(p, n, ps_min, warning_level, drift_level)
    assert claimed.sum() > size // 20
    assert exact.sum() > claimed.sum()  # some quiet cases are left to the exact path
    assert not (claimed & ~exact).any()


# --- EDDM: without ``needs_pow``, sqrt must give River's decisions with pow ------------------


def test_eddm_sqrt_shortcut_is_never_wrong():
    rng = np.random.default_rng(4)
    alpha, beta = 0.95, 0.9
    checked = shortcut = 0
    for _ in range(40_000):
        variance = float(10 ** rng.uniform(-3, 8))
        mean = float(10 ** rng.uniform(0, 5))
        exact = mean + 2.0 * variance**0.5
        cheap = mean + 2.0 * math.sqrt(variance)
        kind = rng.integers(4)
        if kind == 0:  # around the maximum
            p2s_max = exact * (1.0 + float(rng.choice([-1, 1]) * 10 ** rng.uniform(-17, -3)))
        elif kind in (1, 2):  # around beta or alpha
            level = beta if kind == 1 else alpha
            p2s_max = exact / level * (1.0 + float(rng.choice([-1, 1]) * 10 ** rng.uniform(-17, -3)))
        else:
            p2s_max = exact / float(rng.uniform(0.5, 1.5))
        checked += 1
        if needs_pow(cheap, p2s_max, alpha, beta):
            continue
        shortcut += 1
        assert not exact > p2s_max
        assert (exact / p2s_max < beta) == (cheap / p2s_max < beta)
        assert (exact / p2s_max < alpha) == (cheap / p2s_max < alpha)
    assert shortcut > checked // 2
    assert needs_pow(1.0, -1.0, alpha, beta)  # before the first maximum

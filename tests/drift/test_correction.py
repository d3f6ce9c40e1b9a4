"""Multiple-testing corrections against brute-force implementations of the procedures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from modelmon.drift import adjust_p_values
from modelmon.exceptions import ParameterError

p_lists = hs.lists(hs.floats(0.0, 1.0), min_size=1, max_size=25)
alphas = hs.sampled_from([0.01, 0.05, 0.1, 0.2])


def holm_rejections(p: list[float], alpha: float) -> set[int]:
    """Holm's step-down procedure, as written in Holm (1979)."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    m = len(p)
    rejected: set[int] = set()
    for step, i in enumerate(order):
        if p[i] < alpha / (m - step):
            rejected.add(i)
        else:
            break
    return rejected


def bh_rejections(p: list[float], alpha: float) -> set[int]:
    """Benjamini–Hochberg step-up: reject the k smallest, k the largest with p_(k) < k alpha / m."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    m = len(p)
    k = 0
    for rank, i in enumerate(order, start=1):
        if p[i] < rank * alpha / m:
            k = rank
    return set(order[:k])


def away_from_boundaries(p: list[float], alpha: float, factor: int) -> bool:
    """Skip inputs where a p-value sits exactly on a critical value (float ties decide there)."""
    m = len(p)
    crit = [alpha * j / m for j in range(1, m + 1)] + [alpha / j for j in range(1, m + 1)]
    return all(abs(x - c) > 1e-12 for x in p for c in crit) and factor > 0


@given(p_lists, alphas)
def test_holm_equals_the_step_down_procedure(p: list[float], alpha: float) -> None:
    if not away_from_boundaries(p, alpha, 1):
        return
    adj = adjust_p_values(p, "holm")
    assert {i for i, a in enumerate(adj) if a < alpha} == holm_rejections(p, alpha)


@given(p_lists, alphas)
def test_bh_equals_the_step_up_procedure(p: list[float], alpha: float) -> None:
    if not away_from_boundaries(p, alpha, 1):
        return
    adj = adjust_p_values(p, "bh")
    assert {i for i, a in enumerate(adj) if a < alpha} == bh_rejections(p, alpha)


@given(p_lists)
def test_adjusted_values_by_hand(p: list[float]) -> None:
    m = len(p)
    np.testing.assert_allclose(adjust_p_values(p, "bonferroni"), [min(1.0, m * x) for x in p])
    np.testing.assert_array_equal(adjust_p_values(p, "none"), p)
    order = sorted(range(m), key=lambda i: p[i])
    holm = [0.0] * m
    running = 0.0
    for step, i in enumerate(order):
        running = max(running, min(1.0, (m - step) * p[i]))
        holm[i] = running
    np.testing.assert_allclose(adjust_p_values(p, "holm"), holm)
    bh = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, min(1.0, m * p[i] / rank))
        bh[i] = running
    np.testing.assert_allclose(adjust_p_values(p, "bh"), bh)
    for method in ("bonferroni", "holm", "bh"):
        adj = adjust_p_values(p, method)
        assert all(a >= x - 1e-15 for a, x in zip(adj, p))
        assert all(a <= 1.0 for a in adj)


def test_nan_is_left_out_of_the_family() -> None:
    out = adjust_p_values([0.01, float("nan"), 0.02], "bonferroni")
    assert out[0] == pytest.approx(0.02)
    assert math.isnan(out[1])
    assert out[2] == pytest.approx(0.04)
    assert adjust_p_values([], "holm").size == 0


def test_method_is_validated() -> None:
    with pytest.raises(ParameterError, match="'method' parameter of adjust_p_values"):
        adjust_p_values([0.1], "sidak")

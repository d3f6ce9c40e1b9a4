"""ADWIN kernel: River 0.26.1's Rust ``AdaptiveWindowing``, operation for operation.

River's ``rust_src/adwin.rs`` (itself a port of ``river/drift/adwin_c.pyx``) keeps the window as
an exponential histogram: level ``i`` holds up to ``max_buckets + 1`` buckets, each summarising
``2**i`` values by their total and their variance sum. Here level ``i`` is row ``i`` of the
``totals`` / ``variances`` arrays and ``counts[i]`` its number of buckets. Every floating-point
operation that produces a stored value or a decision is River's, in River's order, so the
window statistics and the detections agree bit for bit; the control flow is reorganised for
speed in two places (the level-0 merge written out, and the cut-point tests in ``_detect``).

State: [drift, warning (unused), total, variance, width, tick, n_levels].
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import inline_kernel, kernel


@inline_kernel
def _drop_front(
    totals: NDArray[np.float64],
    variances: NDArray[np.float64],
    counts: NDArray[np.int64],
    level: int,
    k: int,
) -> None:
    # Remove the first (oldest) ``k`` buckets of a level, shifting the rest to the front.
    # Slots past ``counts[level]`` are never read, so they are left as they are.
    remaining = counts[level] - k
    for j in range(remaining):
        totals[level, j] = totals[level, j + k]
        variances[level, j] = variances[level, j + k]
    counts[level] = remaining


@inline_kernel
def _compress(
    totals: NDArray[np.float64],
    variances: NDArray[np.float64],
    counts: NDArray[np.int64],
    n_levels: int,
    max_buckets: int,
    level: int,
) -> int:
    # Merge the two oldest buckets of every overflowing level, from ``level`` up.
    while counts[level] == max_buckets + 1:
        n1 = float(1 << level)
        t0 = totals[level, 0]
        t1 = totals[level, 1]
        mu1 = t0 / n1
        mu2 = t1 / n1
        total12 = t0 + t1
        temp = n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2)
        v12 = variances[level, 0] + variances[level, 1] + temp
        if level + 1 >= n_levels:
            n_levels += 1
        c = counts[level + 1]
        totals[level + 1, c] = total12
        variances[level + 1, c] = v12
        counts[level + 1] = c + 1
        _drop_front(totals, variances, counts, level, 2)
        if counts[level + 1] <= max_buckets:
            break
        level += 1
    return n_levels


# Safety factors of the screening test in ``may_be_significant`` (see there).
_UP = 1.0 + 1e-12
_DOWN = 1.0 - 1e-12
_ROUNDING = 1e-13
_SMALLEST = 1e-140


@inline_kernel
def significant(
    u0: float,
    u1: float,
    n0: float,
    n1: float,
    variance_per_width: float,
    delta_prime: float,
    min_window_length: float,
) -> bool:
    """River's cut test (``evaluate_cut`` and the window-length condition), operation by operation."""
    delta_mean = (u0 / n0) - (u1 / n1)
    m_recip = 1.0 / (n0 - min_window_length + 1.0) + 1.0 / (n1 - min_window_length + 1.0)
    epsilon = (
        math.sqrt(2.0 * m_recip * variance_per_width * delta_prime)
        + 2.0 / 3.0 * delta_prime * m_recip
    )
    return (n1 >= min_window_length) and (n0 >= min_window_length) and abs(delta_mean) > epsilon


@inline_kernel
def may_be_significant(
    u0: float,
    u1: float,
    n0: float,
    n1: float,
    variance_per_width: float,
    delta_prime: float,
    min_window_length: float,
) -> bool:
    """False only where :func:`significant` is certainly False; cheap (no division, no sqrt).

    With ``p = n0 * n1``, ``a = n0 - l + 1`` and ``b = n1 - l + 1`` (``l`` the minimum window
    length), River's rounded ``|delta_mean|`` is at most ``gap / p`` below (the exact
    ``|u0 n1 - u1 n0|`` plus the rounding of both ways of computing it, inflated), and its
    rounded ``epsilon`` is at least both ``2/3 dp (a + b) / (a b)`` and
    ``sqrt(2 (a + b) / (a b) vw dp)`` up to a relative 1e-15, since each of its terms is
    non-negative when ``vw, dp >= 0``. If ``gap / p`` is below either bound (multiplied out,
    with relative margins of 1e-12, far above the few roundings involved), River's test is
    False. The bounds are only used where they are at least 1e-140, away from underflow; an
    overflow to inf or a NaN makes a comparison False, which keeps the cut point. A test
    compares this screen with :func:`significant` on random and near-boundary inputs.
    """
    if not (n1 >= min_window_length and n0 >= min_window_length):
        return False
    a = n0 - min_window_length + 1.0
    b = n1 - min_window_length + 1.0
    p = n0 * n1
    gap = (abs(u0 * n1 - u1 * n0) + _ROUNDING * (abs(u0) * n1 + abs(u1) * n0)) * _UP
    linear_bound = 2.0 / 3.0 * delta_prime * (a + b) * p * _DOWN
    if linear_bound >= _SMALLEST and gap * a * b < linear_bound:
        return False
    square_bound = 2.0 * (a + b) * variance_per_width * delta_prime * p * p * _DOWN
    return not (square_bound >= _SMALLEST and gap * gap * a * b < square_bound)


@kernel
def _detect(
    totals: NDArray[np.float64],
    variances: NDArray[np.float64],
    counts: NDArray[np.int64],
    n_levels: int,
    total: float,
    variance: float,
    width: float,
    delta: float,
    min_window_length: float,
    cut_n0: NDArray[np.float64],
    cut_u0: NDArray[np.float64],
    cut_u1: NDArray[np.float64],
    candidate: NDArray[np.bool_],
) -> tuple[bool, float, float, float, int]:
    # Check every cut point of the window, oldest first; drop the oldest bucket while some cut
    # shows a significant difference of means.
    #
    # River tests the cut points one after the other and stops at the first significant one.
    # Here the running sums are accumulated first, in River's order (so every value is
    # bit-identical); a cheap screen without division or square root (``may_be_significant``)
    # then marks the cut points that might pass; River's exact test runs on those, in order,
    # and the first that passes is the one River would stop at.
    change = False
    while True:
        n_cuts = 0
        n0 = 0.0
        u0 = 0.0
        u1 = total
        for level in range(n_levels - 1, -1, -1):
            bucket_size = float(1 << level)
            count = counts[level]
            for k in range(count):
                n0 += bucket_size
                t = totals[level, k]
                u0 += t
                u1 -= t
                if level == 0 and k == count - 1:
                    break  # the newest bucket is never a cut point
                cut_n0[n_cuts] = n0
                cut_u0[n_cuts] = u0
                cut_u1[n_cuts] = u1
                n_cuts += 1
        # width and variance change only when a bucket is dropped, which ends the pass:
        # River recomputes these for every cut point, with the same result.
        delta_prime = math.log(2.0 * math.log(width) / delta)
        variance_per_width = variance / width
        for j in range(n_cuts):
            # n1 = width - n0: integers below 2**53, exactly River's running difference
            candidate[j] = may_be_significant(
                cut_u0[j], cut_u1[j], cut_n0[j], width - cut_n0[j], variance_per_width,
                delta_prime, min_window_length,
            )  # fmt: skip
        first = -1
        for j in range(n_cuts):
            if candidate[j] and significant(
                cut_u0[j], cut_u1[j], cut_n0[j], width - cut_n0[j], variance_per_width,
                delta_prime, min_window_length,
            ):  # fmt: skip
                first = j
                break
        if first < 0 or not width > 0.0:
            return change, total, variance, width, n_levels
        change = True
        # drop the oldest bucket (River's delete_element) and test again
        last = n_levels - 1
        n = float(1 << last)
        u = totals[last, 0]
        v = variances[last, 0]
        mu = u / n
        width -= n
        total -= u
        mu_window = total / width
        variance -= v + n * width * (mu - mu_window) * (mu - mu_window) / (n + width)
        _drop_front(totals, variances, counts, last, 1)
        if counts[last] == 0:
            n_levels -= 1


@kernel
def run(
    values: NDArray[np.float64],
    state: NDArray[np.float64],
    totals: NDArray[np.float64],
    variances: NDArray[np.float64],
    counts: NDArray[np.int64],
    drifts: NDArray[np.int64],
    warnings: NDArray[np.int64],
    delta: float,
    clock: int,
    max_buckets: int,
    min_window_length: float,
    grace_period: float,
    reset_on_drift: bool,
    cut_n0: NDArray[np.float64],
    cut_u0: NDArray[np.float64],
    cut_u1: NDArray[np.float64],
    candidate: NDArray[np.bool_],
) -> tuple[int, int]:
    drift = state[0] != 0.0
    total, variance, width = state[2], state[3], state[4]
    tick = int(state[5])
    n_levels = int(state[6])
    phase = tick % clock  # tick % clock, kept incrementally: integer division is slow
    c0 = counts[0]  # level 0's count lives in a register; counts[0] is synced for _detect
    n_drifts = 0
    for i in range(values.shape[0]):
        x = values[i]
        if drift:
            drift = False
            if reset_on_drift:  # River replaces the whole window with a new one
                for level in range(n_levels):
                    counts[level] = 0
                c0 = 0
                total = variance = width = 0.0
                tick = 0
                phase = 0
                n_levels = 1
        # insert_element (level-0 variances are never written: single values have variance 0)
        totals[0, c0] = x
        c0 += 1
        width += 1.0
        incremental_variance = 0.0
        if width > 1.0:
            delta_v = x - total / (width - 1.0)
            incremental_variance = (width - 1.0) * delta_v * delta_v / width
        variance += incremental_variance
        total += x
        if c0 == max_buckets + 1:
            # Level 0 is full: merge its two oldest values into level 1. This is River's
            # general merge with n1 = 1 and zero variances, written out: the total is t0 + t1
            # and the variance 0.0 + 0.0 + 1.0 * 0.5 * (t0 - t1) * (t0 - t1), which is exactly
            # 0.5 * (t0 - t1) * (t0 - t1).
            t0 = totals[0, 0]
            t1 = totals[0, 1]
            if n_levels == 1:
                n_levels = 2
            c1 = counts[1]
            totals[1, c1] = t0 + t1
            variances[1, c1] = 0.5 * (t0 - t1) * (t0 - t1)
            counts[1] = c1 + 1
            c0 = max_buckets - 1
            for j in range(c0):
                totals[0, j] = totals[0, j + 2]
            if c1 == max_buckets:
                n_levels = _compress(totals, variances, counts, n_levels, max_buckets, 1)
        # detect_change, every ``clock`` updates
        tick += 1
        phase += 1
        if phase == clock:
            phase = 0
        if phase == 0 and width > grace_period:
            counts[0] = c0
            drift, total, variance, width, n_levels = _detect(
                totals, variances, counts, n_levels, total, variance, width, delta,
                min_window_length, cut_n0, cut_u0, cut_u1, candidate,
            )  # fmt: skip
            c0 = counts[0]
        if drift:
            drifts[n_drifts] = i
            n_drifts += 1
    counts[0] = c0
    state[0] = 1.0 if drift else 0.0
    state[2], state[3], state[4] = total, variance, width
    state[5] = float(tick)
    state[6] = float(n_levels)
    return n_drifts, 0

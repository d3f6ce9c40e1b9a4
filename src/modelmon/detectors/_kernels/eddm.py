"""EDDM kernel. Arithmetic mirrors River 0.26.1 ``drift/binary/eddm.py`` operation by operation.

State: [drift, warning, var_n, var_mean, var_s, p2s_max, n, last_error, n_errors].
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import inline_kernel, kernel
from modelmon.detectors._kernels._libm import libm_pow

# Relative distance within which a decision made with sqrt is re-checked with River's pow.
_MARGIN = 1e-12
# Values scanned for errors at a time.
_BLOCK = 4096


@inline_kernel
def needs_pow(p2s: float, p2s_max: float, alpha: float, beta: float) -> bool:
    """Whether River's outcome might differ if ``p2s`` were computed with pow instead of sqrt.

    sqrt and libm's pow(x, 0.5) differ by at most one ULP, so the two values of p2s differ by a
    few 1e-16 (relative). Below the maximum by a relative 1e-12, neither is a new maximum (the
    maximum is stored, so a new one must be River's exact value); with ``p2s / p2s_max`` that
    far from ``beta`` and ``alpha``, both fall on the same side of each. Before the first
    maximum (``p2s_max = -1``) the answer is always yes.
    """
    level = p2s / p2s_max
    return (
        p2s >= p2s_max * (1.0 - _MARGIN)
        or abs(level - beta) <= beta * _MARGIN
        or abs(level - alpha) <= alpha * _MARGIN
    )


@kernel
def run(
    values: NDArray[np.float64],
    state: NDArray[np.float64],
    initial: NDArray[np.float64],
    drifts: NDArray[np.int64],
    warnings: NDArray[np.int64],
    warm_start: int,
    alpha: float,
    beta: float,
    half: float,
) -> tuple[int, int]:
    # River's standard deviation is ``variance ** 0.5``: libm's pow (``half`` = 0.5), which
    # differs from sqrt in the last bit for about 1 value in 1000 and costs ten times more.
    # p2s is computed with sqrt, and recomputed with pow only when that could change River's
    # outcome (see needs_pow); River's code then runs as written.
    #
    # On a correct prediction River only counts it (after the reset that follows a drift) and
    # keeps its flags. So each block of values is first scanned, without branching, for the
    # positions of the errors; the runs of correct predictions between them are then handled
    # in one step each, and only errors go through River's update.
    drift = state[0] != 0.0
    warning = state[1] != 0.0
    var_n, var_mean, var_s, p2s_max = state[2], state[3], state[4], state[5]
    n, last_error, n_errors = state[6], state[7], state[8]
    n_drifts = 0
    n_warnings = 0
    size = values.shape[0]
    errors = np.empty(min(size, _BLOCK), dtype=np.int64)
    for start in range(0, size, _BLOCK):
        stop = min(start + _BLOCK, size)
        count = 0
        for i in range(start, stop):
            errors[count] = i
            count += values[i] == 1.0
        following = start  # first position of the block not processed yet
        for j in range(count + 1):
            error = errors[j] if j < count else stop
            if following < error:  # correct predictions at following .. error - 1
                if drift:
                    drift = warning = False
                    var_n, var_mean, var_s, p2s_max = (
                        initial[2], initial[3], initial[4], initial[5]
                    )  # fmt: skip
                    n, last_error, n_errors = initial[6], initial[7], initial[8]
                n += error - following
                if warning:
                    for t in range(following, error):
                        warnings[n_warnings] = t
                        n_warnings += 1
            if j == count:
                break
            if drift:
                drift = warning = False
                var_n, var_mean, var_s, p2s_max = initial[2], initial[3], initial[4], initial[5]
                n, last_error, n_errors = initial[6], initial[7], initial[8]
            n += 1.0
            n_errors += 1.0
            distance = n - last_error
            # river.stats.Var (Welford, ddof=1)
            mean_old = var_mean
            var_n += 1.0
            var_mean += (1.0 / var_n) * (distance - var_mean)
            var_s += (distance - mean_old) * (distance - var_mean)
            if n > warm_start:
                variance = var_s / (var_n - 1.0) if var_n > 1.0 else 0.0
                p2s = var_mean + 2.0 * math.sqrt(variance)
                if needs_pow(p2s, p2s_max, alpha, beta):
                    p2s = var_mean + 2.0 * libm_pow(variance, half)
                if p2s > p2s_max:
                    p2s_max = p2s
                elif n_errors > warm_start:
                    level = p2s / p2s_max
                    if level < beta:
                        drift = True
                    elif level < alpha:
                        warning = True
                    else:
                        warning = False
            last_error = n
            if drift:
                drifts[n_drifts] = error
                n_drifts += 1
            if warning:
                warnings[n_warnings] = error
                n_warnings += 1
            following = error + 1
    state[0] = 1.0 if drift else 0.0
    state[1] = 1.0 if warning else 0.0
    state[2], state[3], state[4], state[5] = var_n, var_mean, var_s, p2s_max
    state[6], state[7], state[8] = n, last_error, n_errors
    return n_drifts, n_warnings

"""Two-sided tabular CUSUM kernel.

State: [drift, warning (unused), n, mean, var_s, reference, sigma, frozen, sum_increase,
sum_decrease]. ``mode``: 0 = up, 1 = down, 2 = both. ``target`` / ``sigma_known`` are NaN
when they are to be estimated from the warm-up values.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import kernel
from modelmon.detectors._kernels._libm import libm_pow


@kernel
def run(
    values: NDArray[np.float64],
    state: NDArray[np.float64],
    initial: NDArray[np.float64],
    drifts: NDArray[np.int64],
    warnings: NDArray[np.int64],
    warm_up: int,
    slack: float,
    threshold: float,
    mode: int,
    target: float,
    sigma_known: float,
    half: float,
) -> tuple[int, int]:
    drift = state[0] != 0.0
    n, mean, var_s, reference, sigma, frozen, s_inc, s_dec = (
        state[2], state[3], state[4], state[5], state[6], state[7] != 0.0, state[8], state[9]
    )  # fmt: skip
    n_drifts = 0
    for i in range(values.shape[0]):
        x = values[i]
        if drift:
            drift = False
            n, mean, var_s, reference, sigma, frozen, s_inc, s_dec = (
                initial[2], initial[3], initial[4], initial[5], initial[6], initial[7] != 0.0,
                initial[8], initial[9],
            )  # fmt: skip
        # running mean and variance of the values (Welford, as river.stats.Var)
        n += 1.0
        mean_old = mean
        mean += (1.0 / n) * (x - mean)
        var_s += (x - mean_old) * (x - mean)
        if n >= warm_up:
            if not frozen:
                # The reference is frozen after the warm-up: a running mean would chase the
                # very shift to be detected.
                frozen = True
                reference = mean if math.isnan(target) else target
                if math.isnan(sigma_known):
                    variance = var_s / (n - 1.0) if n > 1.0 else 0.0
                    sigma = libm_pow(max(variance, 0.0), half)  # River's ``** 0.5``
                else:
                    sigma = sigma_known
            k = slack * sigma
            limit = threshold * sigma
            deviation = x - reference
            s_inc = s_inc + deviation - k
            s_inc = s_inc if s_inc > 0.0 else 0.0
            s_dec = s_dec - deviation - k
            s_dec = s_dec if s_dec > 0.0 else 0.0
            if mode == 0:
                drift = s_inc > limit
            elif mode == 1:
                drift = s_dec > limit
            else:
                drift = s_inc > limit or s_dec > limit
        if drift:
            drifts[n_drifts] = i
            n_drifts += 1
    state[0] = 1.0 if drift else 0.0
    state[2], state[3], state[4], state[5], state[6] = n, mean, var_s, reference, sigma
    state[7] = 1.0 if frozen else 0.0
    state[8], state[9] = s_inc, s_dec
    return n_drifts, 0

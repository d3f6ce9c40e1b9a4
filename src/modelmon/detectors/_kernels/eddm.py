"""EDDM kernel. Arithmetic mirrors River 0.26.1 ``drift/binary/eddm.py`` operation by operation.

State: [drift, warning, var_n, var_mean, var_s, p2s_max, n, last_error, n_errors].
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import kernel


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
    # ``half`` is 0.5 passed at run time: River takes the square root with ``** 0.5`` (libm's
    # pow), which differs from sqrt in the last bit for about 1 value in 1000. A constant
    # exponent would let LLVM turn pow into sqrt.
    drift = state[0] != 0.0
    warning = state[1] != 0.0
    var_n, var_mean, var_s, p2s_max = state[2], state[3], state[4], state[5]
    n, last_error, n_errors = state[6], state[7], state[8]
    n_drifts = 0
    n_warnings = 0
    for i in range(values.shape[0]):
        x = values[i]
        if drift:
            drift = warning = False
            var_n, var_mean, var_s, p2s_max = initial[2], initial[3], initial[4], initial[5]
            n, last_error, n_errors = initial[6], initial[7], initial[8]
        n += 1.0
        if x == 1.0:
            n_errors += 1.0
            distance = n - last_error
            # river.stats.Var (Welford, ddof=1)
            mean_old = var_mean
            var_n += 1.0
            var_mean += (1.0 / var_n) * (distance - var_mean)
            var_s += (distance - mean_old) * (distance - var_mean)
            if n > warm_start:
                variance = var_s / (var_n - 1.0) if var_n > 1.0 else 0.0
                p2s = var_mean + 2.0 * variance**half
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
            drifts[n_drifts] = i
            n_drifts += 1
        if warning:
            warnings[n_warnings] = i
            n_warnings += 1
    state[0] = 1.0 if drift else 0.0
    state[1] = 1.0 if warning else 0.0
    state[2], state[3], state[4], state[5] = var_n, var_mean, var_s, p2s_max
    state[6], state[7], state[8] = n, last_error, n_errors
    return n_drifts, n_warnings

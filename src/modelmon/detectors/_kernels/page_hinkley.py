"""Page-Hinkley kernel. Arithmetic mirrors River 0.26.1 ``drift/page_hinkley.py``.

State: [drift, warning (unused), n, mean, sum_increase, sum_decrease, min_increase,
max_decrease]. ``mode``: 0 = up, 1 = down, 2 = both.
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
    min_instances: int,
    delta: float,
    threshold: float,
    alpha: float,
    mode: int,
) -> tuple[int, int]:
    drift = state[0] != 0.0
    n, mean, sum_inc, sum_dec, min_inc, max_dec = (
        state[2], state[3], state[4], state[5], state[6], state[7]
    )
    n_drifts = 0
    for i in range(values.shape[0]):
        x = values[i]
        if drift:
            drift = False
            n, mean, sum_inc, sum_dec, min_inc, max_dec = (
                initial[2], initial[3], initial[4], initial[5], initial[6], initial[7]
            )
        n += 1.0
        mean += (1.0 / n) * (x - mean)
        dev = x - mean
        sum_inc = alpha * sum_inc + dev - delta
        sum_dec = alpha * sum_dec + dev + delta
        if sum_inc < min_inc:
            min_inc = sum_inc
        if sum_dec > max_dec:
            max_dec = sum_dec
        if n >= min_instances:
            up = sum_inc - min_inc > threshold
            down = max_dec - sum_dec > threshold
            if mode == 0:
                drift = up
            elif mode == 1:
                drift = down
            else:
                drift = up or down
        if drift:
            drifts[n_drifts] = i
            n_drifts += 1
    state[0] = 1.0 if drift else 0.0
    state[2], state[3], state[4], state[5], state[6], state[7] = (
        n, mean, sum_inc, sum_dec, min_inc, max_dec
    )
    return n_drifts, 0

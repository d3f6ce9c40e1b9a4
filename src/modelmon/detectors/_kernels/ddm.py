"""DDM kernel. Arithmetic mirrors River 0.26.1 ``drift/binary/ddm.py`` operation by operation.

State: [drift, warning, p, n, p_min, s_min, ps_min].
"""

from __future__ import annotations

import math

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
    warning_threshold: float,
    drift_threshold: float,
) -> tuple[int, int]:
    drift = state[0] != 0.0
    warning = state[1] != 0.0
    p, n, p_min, s_min, ps_min = state[2], state[3], state[4], state[5], state[6]
    n_drifts = 0
    n_warnings = 0
    for i in range(values.shape[0]):
        x = values[i]
        if drift:  # River resets at the start of the update after a detection
            drift = warning = False
            p, n, p_min, s_min, ps_min = initial[2], initial[3], initial[4], initial[5], initial[6]
        n += 1.0
        p += (1.0 / n) * (x - p)  # river.stats.Mean
        s = math.sqrt(p * (1.0 - p) / n)
        if n > warm_start:
            if p + s <= ps_min:
                p_min = p
                s_min = s
                ps_min = p_min + s_min
            warning = p + s > p_min + warning_threshold * s_min
            if p + s > p_min + drift_threshold * s_min:
                drift = True
                warning = False
        if drift:
            drifts[n_drifts] = i
            n_drifts += 1
        if warning:
            warnings[n_warnings] = i
            n_warnings += 1
    state[0] = 1.0 if drift else 0.0
    state[1] = 1.0 if warning else 0.0
    state[2], state[3], state[4], state[5], state[6] = p, n, p_min, s_min, ps_min
    return n_drifts, n_warnings

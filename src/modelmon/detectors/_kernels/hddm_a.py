"""HDDM_A kernel. Arithmetic mirrors River 0.26.1 ``drift/binary/hddm_a.py`` (after MOA).

State: [drift, warning, z_n, z_mean, min_n, min_mean, max_n, max_mean]: the global mean and the
two cut-point means (``river.stats.Mean`` as count and mean).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import kernel


@kernel
def _exceeds(n_cut: float, n: float, difference: float, log_term: float) -> bool:
    # Whether the mean moved away from the cut point's by at least the Hoeffding bound.
    if n_cut == n:
        return False
    m = (n - n_cut) / n_cut * (1.0 / n)
    return difference >= math.sqrt(m / 2.0 * log_term)


@kernel
def run(
    values: NDArray[np.float64],
    state: NDArray[np.float64],
    initial: NDArray[np.float64],
    drifts: NDArray[np.int64],
    warnings: NDArray[np.int64],
    two_sided: bool,
    log_drift: float,
    log2_drift: float,
    log2_warning: float,
) -> tuple[int, int]:
    # log_drift = log(1 / drift_confidence); log2_* = log(2 / confidence), computed in Python
    # exactly as River does on every update.
    drift = state[0] != 0.0
    warning = state[1] != 0.0
    z_n, z_mean, min_n, min_mean, max_n, max_mean = (
        state[2], state[3], state[4], state[5], state[6], state[7]
    )
    n_drifts = 0
    n_warnings = 0
    for i in range(values.shape[0]):
        x = values[i]
        if drift:
            drift = warning = False
            z_n, z_mean, min_n, min_mean, max_n, max_mean = (
                initial[2], initial[3], initial[4], initial[5], initial[6], initial[7]
            )
        z_n += 1.0
        z_mean += (1.0 / z_n) * (x - z_mean)
        if min_n == 0.0:
            min_n, min_mean = z_n, z_mean
        if max_n == 0.0:
            max_n, max_mean = z_n, z_mean
        eps_z = math.sqrt(1.0 / (2.0 * z_n) * log_drift)
        eps_x = math.sqrt(1.0 / (2.0 * min_n) * log_drift)
        if min_mean + eps_x >= z_mean + eps_z:
            min_n, min_mean = z_n, z_mean
        eps_x = math.sqrt(1.0 / (2.0 * max_n) * log_drift)
        if max_mean - eps_x <= z_mean - eps_z:
            max_n, max_mean = z_n, z_mean
        if _exceeds(min_n, z_n, z_mean - min_mean, log2_drift):
            warning = False
            drift = True
        elif _exceeds(min_n, z_n, z_mean - min_mean, log2_warning):
            warning = True
            drift = False
        else:
            warning = False
            drift = False
        if two_sided:
            if _exceeds(max_n, z_n, max_mean - z_mean, log2_drift):
                drift = True
            elif _exceeds(max_n, z_n, max_mean - z_mean, log2_warning):
                warning = True
        if drift:
            drifts[n_drifts] = i
            n_drifts += 1
        if warning:
            warnings[n_warnings] = i
            n_warnings += 1
    state[0] = 1.0 if drift else 0.0
    state[1] = 1.0 if warning else 0.0
    state[2], state[3], state[4], state[5], state[6], state[7] = (
        z_n, z_mean, min_n, min_mean, max_n, max_mean
    )
    return n_drifts, n_warnings

"""DDM kernel. Arithmetic mirrors River 0.26.1 ``drift/binary/ddm.py`` operation by operation.

State: [drift, warning, p, n, p_min, s_min, ps_min].
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import inline_kernel, kernel

# Relative margins of ``quiet`` (see there).
_GAP = 1e-4
_SQUARE = 1e-9


@inline_kernel
def quiet(
    p: float, s_squared: float, ps_min: float, warning_level: float, drift_level: float
) -> bool:
    """True only if River's update certainly changes no minimum and raises no signal.

    That is: River's rounded ``p + s`` (``s = sqrt(q / n)``) is above ``ps_min`` and below both
    levels. Decided without River's division and square root, from ``s_squared = q * (1 /
    n)``, within a relative 3e-16 of ``q / n`` (River's rounded ``s`` squared is within 5e-16).
    A comparison counts as certain when ``s_squared`` clears ``(level - p) ** 2`` by a relative
    1e-9, which keeps ``p + s`` at least ``5e-10 |level - p|`` from the level, and
    ``|level - p| > 1e-4 |level|``, which makes that gap dwarf the rounding of the sum
    (1e-16 relative). ``p > ps_min (1 + 1e-4)`` is above ``ps_min`` whatever ``s >= 0``.
    Infinite levels (before the first minimum) are never certain.
    """
    low = ps_min - p
    high = warning_level - p
    top = drift_level - p
    above_min = low < -_GAP * ps_min or (
        low > _GAP * ps_min and s_squared > low * low * (1.0 + _SQUARE)
    )
    below_warning = high > _GAP * warning_level and s_squared < high * high * (1.0 - _SQUARE)
    below_drift = top > _GAP * drift_level and s_squared < top * top * (1.0 - _SQUARE)
    return above_min and below_warning and below_drift


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
    # River computes these two sums at every update, always to the same values.
    warning_level = p_min + warning_threshold * s_min
    drift_level = p_min + drift_threshold * s_min
    n_drifts = 0
    n_warnings = 0
    for i in range(values.shape[0]):
        x = values[i]
        if drift:  # River resets at the start of the update after a detection
            drift = warning = False
            p, n, p_min, s_min, ps_min = initial[2], initial[3], initial[4], initial[5], initial[6]
            warning_level = p_min + warning_threshold * s_min
            drift_level = p_min + drift_threshold * s_min
        n += 1.0
        inverse_n = 1.0 / n
        p += inverse_n * (x - p)  # river.stats.Mean: p += (1 / n) * (x - p)
        if n > warm_start:
            q = p * (1.0 - p)
            # The common case needs neither River's division nor its square root.
            if quiet(p, q * inverse_n, ps_min, warning_level, drift_level):
                warning = False
            else:
                s = math.sqrt(q / n)
                if p + s <= ps_min:
                    p_min = p
                    s_min = s
                    ps_min = p_min + s_min
                    warning_level = p_min + warning_threshold * s_min
                    drift_level = p_min + drift_threshold * s_min
                warning = p + s > warning_level
                if p + s > drift_level:
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

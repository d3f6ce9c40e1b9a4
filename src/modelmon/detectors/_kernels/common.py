"""Kernels shared by every detector: input screening."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import kernel

_BLOCK = 1024


@kernel
def first_invalid(values: NDArray[np.float64], binary: bool) -> int:
    """Position of the first non-finite value (or, if ``binary``, of the first value not 0 or 1).

    Returns -1 when every value is acceptable. Blocks are screened with a branch-free (hence
    vectorised) loop; only a block that fails is searched value by value.
    """
    n = values.shape[0]
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        bad = False
        if binary:
            for i in range(start, stop):
                v = values[i]
                bad |= (v != 0.0) & (v != 1.0)
        else:
            for i in range(start, stop):
                v = values[i]
                bad |= (v - v) != 0.0  # NaN for NaN and infinities, 0 for finite values
        if bad:
            for i in range(start, stop):
                v = values[i]
                if (binary and v != 0.0 and v != 1.0) or (not binary and (v - v) != 0.0):
                    return i
    return -1


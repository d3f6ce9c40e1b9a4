"""Kernels shared by every detector: input screening."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import kernel


@kernel
def first_invalid(values: NDArray[np.float64], binary: bool) -> int:
    """Position of the first non-finite value (or, if ``binary``, of the first value not 0 or 1).

    Returns -1 when every value is acceptable. One pass, no temporaries.
    """
    for i in range(values.shape[0]):
        v = values[i]
        if binary:
            if v != 0.0 and v != 1.0:
                return i
        elif not math.isfinite(v):
            return i
    return -1

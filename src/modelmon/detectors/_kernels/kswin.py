"""KSWIN kernel: River 0.26.1's ``drift/kswin.py`` in a compiled loop.

The window is a ring buffer (``window``, oldest value at ``head``, ``count`` values). Each test
draws ``stat_size`` positions among the oldest ``window_size - stat_size`` with the port of
CPython's ``random.sample`` (same Mersenne Twister state as River's ``random.Random(seed)``),
computes the two-sample KS statistic ``h / stat_size`` against the newest ``stat_size`` values,
and looks the p-value and the decision up in tables built in Python with SciPy's arithmetic.

State: [drift, warning (unused), n, count, head, mt_index, p_value].
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import kernel
from modelmon.detectors._kernels.python_random import sample


@kernel
def _ks_gap(a: NDArray[np.float64], b: NDArray[np.float64]) -> int:
    # Largest |#{a <= t} - #{b <= t}| over the pooled values t; a and b sorted, equal sizes.
    size = a.shape[0]
    i = 0
    j = 0
    gap = 0
    while i < size and j < size:
        t = a[i] if a[i] < b[j] else b[j]
        while i < size and a[i] <= t:
            i += 1
        while j < size and b[j] <= t:
            j += 1
        if abs(i - j) > gap:
            gap = abs(i - j)
    return gap


@kernel
def run(
    values: NDArray[np.float64],
    state: NDArray[np.float64],
    window: NDArray[np.float64],
    mt: NDArray[np.int64],
    mt_initial: NDArray[np.int64],
    drifts: NDArray[np.int64],
    warnings: NDArray[np.int64],
    positions: NDArray[np.int64],
    pool: NDArray[np.int64],
    marks: NDArray[np.uint8],
    reference: NDArray[np.float64],
    recent: NDArray[np.float64],
    pvalues: NDArray[np.float64],
    reject: NDArray[np.bool_],
    stat_size: int,
    use_pool: bool,
    reseed: bool,
    reset_on_drift: bool,
    mt_initial_index: int,
) -> tuple[int, int]:
    window_size = window.shape[0]
    n_reference = window_size - stat_size
    drift = state[0] != 0.0
    n = int(state[2])
    count = int(state[3])
    head = int(state[4])
    mt_index = int(state[5])
    p_value = state[6]
    n_drifts = 0
    for i in range(values.shape[0]):
        if drift:
            drift = False
            if reset_on_drift:  # River: empty window, generator re-seeded, p-value 0
                n = 0
                count = 0
                head = 0
                p_value = 0.0
                if reseed:
                    mt[:] = mt_initial
                    mt_index = mt_initial_index
        n += 1
        if count < window_size:
            slot = head + count
            if slot >= window_size:
                slot -= window_size
            window[slot] = values[i]
            count += 1
        else:  # full: the newest value replaces the oldest
            window[head] = values[i]
            head += 1
            if head == window_size:
                head = 0
        if count >= window_size:
            mt_index = sample(mt, mt_index, n_reference, stat_size, use_pool, positions, pool, marks)
            for r in range(stat_size):
                slot = head + positions[r]
                if slot >= window_size:
                    slot -= window_size
                reference[r] = window[slot]
                slot = head + n_reference + r
                if slot >= window_size:
                    slot -= window_size
                recent[r] = window[slot]
            reference.sort()
            recent.sort()
            gap = _ks_gap(reference, recent)
            p_value = pvalues[gap]
            if reject[gap]:
                drift = True
                # River keeps the newest stat_size values as the new window (it only matters
                # when the window is not cleared on the next update).
                head += n_reference
                if head >= window_size:
                    head -= window_size
                count = stat_size
        if drift:
            drifts[n_drifts] = i
            n_drifts += 1
    state[0] = 1.0 if drift else 0.0
    state[2] = float(n)
    state[3] = float(count)
    state[4] = float(head)
    state[5] = float(mt_index)
    state[6] = p_value
    return n_drifts, 0

"""Compiled loops of direct loss estimation (numba): leaf values of a fixed tree ensemble.

Import lazily (inside the estimator's methods): importing numba and loading the compiled code
costs a fraction of a second the first time.

One tree ensemble gives the partition of the feature space; each loss gets its own leaf values,
fitted by L2 gradient boosting with the partition fixed (LightGBM's leaf output for squared
error, ``-lr * sum(F - y) / count``, tree after tree: what LightGBM's ``refit`` computes with a
decay rate of 0).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import kernel

__all__ = ["leaf_sums", "refit_leaves"]


@kernel
def refit_leaves(leaves: NDArray[np.int32], targets: NDArray[np.float64],
                 weights: NDArray[np.float64], init: NDArray[np.float64], rate: float,
                 n_leaves: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Leaf values ``(k, trees, n_leaves)`` for each of ``k`` targets ``(n, k)`` (rows weighted
    0/1 by ``weights``), and the fitted values ``(n, k)``. ``leaves`` is ``(trees, n)``: each
    tree's leaf of every row, contiguous."""
    trees, n = leaves.shape
    k = targets.shape[1]
    fitted = np.empty((n, k))
    for i in range(n):
        for c in range(k):
            fitted[i, c] = init[c]
    values = np.zeros((k, trees, n_leaves))
    sums = np.zeros((n_leaves, k))
    counts = np.zeros((n_leaves, k))
    for t in range(trees):
        sums[:, :] = 0.0
        counts[:, :] = 0.0
        row = leaves[t]
        for i in range(n):
            j = row[i]
            for c in range(k):
                w = weights[i, c]
                sums[j, c] += w * (targets[i, c] - fitted[i, c])
                counts[j, c] += w
        for j in range(n_leaves):
            for c in range(k):
                if counts[j, c] > 0:
                    values[c, t, j] = rate * sums[j, c] / counts[j, c]
        for i in range(n):
            j = row[i]
            for c in range(k):
                fitted[i, c] += values[c, t, j]
    return values, fitted


@kernel
def leaf_sums(leaves: NDArray[np.int32], values: NDArray[np.float64],
              init: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row's prediction ``(n, k)``: ``init`` plus its leaf's value in every tree."""
    n, trees = leaves.shape
    k = values.shape[0]
    out = np.empty((n, k))
    for i in range(n):
        for c in range(k):
            s = init[c]
            for t in range(trees):
                s += values[c, t, leaves[i, t]]
            out[i, c] = s
    return out

"""Compiled loops of direct loss estimation (numba): walking a tree ensemble, and leaf values of
a fixed one.

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

__all__ = ["refit_leaves", "tree_leaves", "tree_sums"]

# node flags (modelmon._gbm)
_DEFAULT_LEFT, _MISSING_ZERO, _MISSING_NAN, _CATEGORICAL = 1, 2, 4, 8
_ZERO = 1e-35


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
def _leaf(x: NDArray[np.float64], i: int, node: int, feature: NDArray[np.int32],
          threshold: NDArray[np.float64], left: NDArray[np.int32], right: NDArray[np.int32],
          flags: NDArray[np.int8], start: NDArray[np.int32], count: NDArray[np.int32],
          categories: NDArray[np.int32]) -> int:
    """The leaf row ``i`` reaches from ``node``, by LightGBM's decision rules."""
    while node >= 0:
        f = x[i, feature[node]]
        flag = flags[node]
        if flag & _CATEGORICAL:
            go_left = False
            if not np.isnan(f) and int(f) >= 0:
                v = int(f)
                for j in range(start[node], start[node] + count[node]):
                    if categories[j] == v:
                        go_left = True
                        break
        else:
            if np.isnan(f) and not flag & _MISSING_NAN:
                f = 0.0
            if (flag & _MISSING_ZERO and abs(f) <= _ZERO) or (flag & _MISSING_NAN
                                                             and np.isnan(f)):
                go_left = bool(flag & _DEFAULT_LEFT)
            else:
                go_left = f <= threshold[node]
        node = left[node] if go_left else right[node]
    return -node - 1


@kernel
def tree_leaves(x: NDArray[np.float64], root: NDArray[np.int32], feature: NDArray[np.int32],
                threshold: NDArray[np.float64], left: NDArray[np.int32],
                right: NDArray[np.int32], flags: NDArray[np.int8], start: NDArray[np.int32],
                count: NDArray[np.int32], categories: NDArray[np.int32]) -> NDArray[np.int32]:
    """The leaf of every row in every tree, ``(trees, n)``."""
    n = x.shape[0]
    trees = root.size
    out = np.empty((trees, n), dtype=np.int32)
    for i in range(n):
        for t in range(trees):
            out[t, i] = _leaf(x, i, root[t], feature, threshold, left, right, flags, start,
                              count, categories)
    return out


@kernel
def tree_sums(x: NDArray[np.float64], root: NDArray[np.int32], feature: NDArray[np.int32],
              threshold: NDArray[np.float64], left: NDArray[np.int32], right: NDArray[np.int32],
              flags: NDArray[np.int8], start: NDArray[np.int32], count: NDArray[np.int32],
              categories: NDArray[np.int32], values: NDArray[np.float64],
              init: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row's prediction ``(n, k)`` for each of ``k`` sets of leaf values, in one pass
    through the trees."""
    n = x.shape[0]
    trees = root.size
    k = values.shape[0]
    out = np.empty((n, k))
    for i in range(n):
        for c in range(k):
            out[i, c] = init[c]
        for t in range(trees):
            leaf = _leaf(x, i, root[t], feature, threshold, left, right, flags, start, count,
                         categories)
            for c in range(k):
                out[i, c] += values[c, t, leaf]
    return out

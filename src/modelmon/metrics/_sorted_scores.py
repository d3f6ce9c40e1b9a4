"""Sorted per-class scores and the ROC AUC / average precision read from them.

Shared by :mod:`modelmon.metrics.ranking` and :mod:`modelmon.metrics.report`; the algorithm is
described in the ranking module's docstring.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["SortedScores", "auc_ap_from_sorted", "sort_scores"]


class SortedScores(NamedTuple):
    """Scores of one class sorted ascending, with their weights and tail sums of the weights.

    ``tail[k]`` is the weight of ``values[k:]``. ``weights is None`` means unit weights: the
    tail is then ``len(values) - k`` exactly and is never materialised.
    """

    values: NDArray[np.float64]
    weights: NDArray[np.float64] | None
    tail: NDArray[np.float64] | None
    total: float

    def tail_at(self, k: NDArray[np.intp]) -> NDArray[Any]:
        """Weight of the scores from position ``k`` on (int64 counts without weights)."""
        if self.tail is None:
            return self.values.size - k
        return self.tail[k]


def sort_scores(scores: NDArray[np.float64], weight: NDArray[np.float64] | None) -> SortedScores:
    """Sort one class's scores (weights, when given, travel along)."""
    if weight is None:
        return SortedScores(np.sort(scores), None, None, float(scores.size))
    # Order among tied scores is irrelevant: only sums over tie groups are ever read.
    order = np.argsort(scores)
    values = scores[order]
    w = weight[order]
    tail = np.zeros(values.size + 1)
    tail[:-1] = np.cumsum(w[::-1])[::-1]
    return SortedScores(values, w, tail, float(tail[0]))


def auc_ap_from_sorted(
    pos: SortedScores, neg: SortedScores, *, auc: bool = True, ap: bool = True
) -> tuple[float, float]:
    """ROC AUC and average precision from sorted positive and negative scores.

    Returns NaN for a quantity that is undefined (no positives, or for AUC no negatives); the
    caller warns. Without weights every count is an exact integer and the AUC numerator is
    summed in int64, so the only rounding is the final division.
    """
    p_total, n_total = pos.total, neg.total
    auc_value = ap_value = math.nan
    if pos.values.size == 0 or p_total <= 0:
        return auc_value, ap_value
    pv, nv = pos.values, neg.values
    change = np.empty(pv.size, dtype=bool)
    change[0] = True
    np.not_equal(pv[1:], pv[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    del change
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1] = pv.size
    u = pv[starts]
    tp_at = pos.tail_at(starts)
    w_u = tp_at - pos.tail_at(ends)
    lo = np.searchsorted(nv, u, side="left")
    fp_at = neg.tail_at(lo)
    if auc and n_total > 0:
        # Negatives tied with a positive score: only where nv[lo] == u, so the second search
        # runs on the (usually few) tied values instead of all of them.
        hi = lo.copy()
        inside = lo < nv.size
        tied = np.zeros(u.size, dtype=bool)
        tied[inside] = nv[lo[inside]] == u[inside]
        if tied.any():
            hi[tied] = np.searchsorted(nv, u[tied], side="right")
        neg_eq = fp_at - neg.tail_at(hi)
        neg_below = (nv.size if neg.tail is None else n_total) - fp_at
        if neg.tail is None and pos.tail is None:
            twice = int(np.dot(w_u, 2 * neg_below + neg_eq))
            auc_value = twice / (2.0 * p_total * n_total)
        else:
            auc_value = float(np.dot(w_u, neg_below + 0.5 * neg_eq) / (p_total * n_total))
    if ap:
        ap_value = float(np.dot(w_u, tp_at / (tp_at + fp_at)) / p_total)
    return auc_value, ap_value

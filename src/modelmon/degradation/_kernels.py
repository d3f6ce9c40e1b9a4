"""Compiled loops of the degradation layer (numba).

Import this module lazily, inside the function that needs it: importing numba and compiling
costs time that ``import modelmon`` must not pay. Each kernel compiles at its first call and is
cached on disk (``cache=True``).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "mann_kendall_s",
    "pairwise_slope_order_stat",
    "pairwise_slopes_between",
    "pelt_search",
]


@nb.njit(cache=True)
def mann_kendall_s(x: NDArray[np.float64]) -> int:  # pragma: no cover - compiled
    """Kendall's S of a time-ordered series: sum over i < j of sign(x_j - x_i)."""
    n = x.shape[0]
    s = 0
    for i in range(n - 1):
        xi = x[i]
        for j in range(i + 1, n):
            d = x[j] - xi
            if d > 0:
                s += 1
            elif d < 0:
                s -= 1
    return s


@nb.njit(cache=True)
def _slope_range(
    x: NDArray[np.float64], t: NDArray[np.float64]
) -> tuple[float, float]:  # pragma: no cover
    lo = np.inf
    hi = -np.inf
    n = x.shape[0]
    for i in range(n - 1):
        for j in range(i + 1, n):
            s = (x[j] - x[i]) / (t[j] - t[i])
            lo = min(lo, s)
            hi = max(hi, s)
    return lo, hi


@nb.njit(cache=True)
def pairwise_slope_order_stat(
    x: NDArray[np.float64], t: NDArray[np.float64], k: int, nbins: int, cap: int
) -> float:  # pragma: no cover - compiled
    """The ``k``-th smallest (0-based) of the pairwise slopes ``(x_j-x_i)/(t_j-t_i)``, i < j.

    Exact selection in O(n^2) time and O(nbins + cap) memory: a histogram pass over the slopes
    in the current value range finds the bin holding the order statistic; when that bin holds at
    most ``cap`` slopes they are collected and sorted, otherwise the range shrinks to the bin's
    own minimum and maximum and the pass repeats. The bin index is a monotone function of the
    slope, so the bins are contiguous value ranges and the count below each is exact.
    """
    n = x.shape[0]
    lo, hi = _slope_range(x, t)
    below = 0  # number of slopes smaller than lo
    counts = np.zeros(nbins, np.int64)
    bmin = np.empty(nbins)
    bmax = np.empty(nbins)
    while True:
        if lo == hi:
            return lo
        counts[:] = 0
        bmin[:] = np.inf
        bmax[:] = -np.inf
        width = hi - lo
        for i in range(n - 1):
            for j in range(i + 1, n):
                s = (x[j] - x[i]) / (t[j] - t[i])
                if s >= lo and s <= hi:
                    b = int(((s - lo) / width) * nbins)
                    if b >= nbins:
                        b = nbins - 1
                    counts[b] += 1
                    if s < bmin[b]:
                        bmin[b] = s
                    if s > bmax[b]:
                        bmax[b] = s
        c = below
        b = 0
        for b in range(nbins):
            if c + counts[b] > k:
                break
            c += counts[b]
        new_lo = bmin[b]
        new_hi = bmax[b]
        below = c
        if new_lo == new_hi:
            return new_lo
        m = counts[b]
        if m <= cap:
            vals = np.empty(m)
            p = 0
            for i in range(n - 1):
                for j in range(i + 1, n):
                    s = (x[j] - x[i]) / (t[j] - t[i])
                    if s >= new_lo and s <= new_hi:
                        vals[p] = s
                        p += 1
            vals.sort()
            return vals[k - below]
        lo = new_lo
        hi = new_hi


@nb.njit(cache=True)
def pairwise_slopes_between(
    x: NDArray[np.float64], t: NDArray[np.float64], lo: float, hi: float, cap: int
) -> tuple[int, int, NDArray[np.float64]]:  # pragma: no cover - compiled
    """One pass over the pairwise slopes: how many are below ``lo``, how many lie in
    ``[lo, hi]``, and (when at most ``cap``) those in range, sorted."""
    n = x.shape[0]
    below = 0
    m = 0
    buf = np.empty(cap)
    for i in range(n - 1):
        for j in range(i + 1, n):
            s = (x[j] - x[i]) / (t[j] - t[i])
            if s < lo:
                below += 1
            elif s <= hi:
                if m < cap:
                    buf[m] = s
                m += 1
    out = buf[: min(m, cap)].copy()
    out.sort()
    return below, m, out


@nb.njit(cache=True)
def _segment_cost(
    s1: NDArray[np.float64],
    s2: NDArray[np.float64],
    a: int,
    b: int,
    meanvar: bool,
    var_floor: float,
) -> float:  # pragma: no cover - compiled
    m = b - a
    d1 = s1[b] - s1[a]
    rss = (s2[b] - s2[a]) - d1 * d1 / m
    if rss < 0.0:
        rss = 0.0
    if not meanvar:
        return rss
    v = rss / m
    s = v if v > var_floor else var_floor
    return m * math.log(s) + rss / s


@nb.njit(cache=True)
def pelt_search(
    s1: NDArray[np.float64],
    s2: NDArray[np.float64],
    penalty: float,
    min_size: int,
    meanvar: bool,
    var_floor: float,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:  # pragma: no cover - compiled
    """PELT (Killick, Fearnhead & Eckley 2012) on cumulative sums of a standardised series.

    ``F[t]`` is the optimal penalised cost of the first ``t`` values and ``last[t]`` the start
    of the last segment of that optimum. Segments have at least ``min_size`` values. A candidate
    ``tau`` with ``F[tau] + C(tau, t) > F[t]`` can never again be the best last change point, but
    only for ends ``T >= t + min_size`` (the segment ``[t, T)`` must be long enough), so it is
    dropped from that time on rather than at once. Ties keep the earliest candidate, like the
    exhaustive search.
    """
    n = s1.shape[0] - 1
    F = np.full(n + 1, np.inf)
    F[0] = -penalty
    last = np.zeros(n + 1, np.int64)
    cand = np.empty(n + 1, np.int64)
    vals = np.empty(n + 1)
    never = n + 2
    prune_at = np.full(n + 1, never, np.int64)
    ncand = 0
    for t in range(min_size, n + 1):
        tau_new = t - min_size
        if tau_new == 0 or tau_new >= min_size:
            cand[ncand] = tau_new
            ncand += 1
        best = np.inf
        arg = 0
        for c in range(ncand):
            tau = cand[c]
            v = F[tau] + _segment_cost(s1, s2, tau, t, meanvar, var_floor)
            vals[c] = v
            if v + penalty < best:
                best = v + penalty
                arg = tau
        F[t] = best
        last[t] = arg
        tol = 1e-10 * (1.0 + abs(best))
        keep = 0
        for c in range(ncand):
            tau = cand[c]
            if vals[c] > best + tol and t + min_size < prune_at[tau]:
                prune_at[tau] = t + min_size
            if prune_at[tau] > t + 1:
                cand[keep] = tau
                keep += 1
        ncand = keep
    return F, last

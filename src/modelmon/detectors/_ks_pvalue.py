"""Two-sample Kolmogorov-Smirnov p-values for two samples of equal size ``n``, as SciPy gives them.

KSWIN compares two samples of ``stat_size`` values with ``scipy.stats.ks_2samp(a, b,
method="auto")``. For equal sizes the statistic is ``h / n`` for an integer ``h`` (the largest
gap between the two counts of values <= t), so the whole test reduces to a table of ``n + 1``
p-values, built here once per size with SciPy's own arithmetic:

* ``n <= 10000`` ("auto" picks the exact method): ``_compute_prob_outside_square(n, h)`` of
  ``scipy/stats/_stats_py.py``, ported operation for operation (Python floats, same order);
* when that exact value falls outside [0, 1] (rounding: it happens for ``h = 1`` and a few other
  small ``h``), SciPy falls back to the asymptotic distribution, ``kstwo.sf(h / n, round(n/2))``;
  so do we, by calling SciPy (imported only then);
* the result is clipped to [0, 1] as SciPy does.

``tests/detectors/test_kswin_internals.py`` checks the table against ``ks_2samp`` for every ``h``
of every size used.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

#: Largest sample size for which ks_2samp(method="auto") uses the exact distribution.
MAX_EXACT_SIZE = 10000


def prob_outside_square(n: int, h: int) -> float:
    """SciPy's ``_compute_prob_outside_square``: Pr(D_{n,n} >= h/n), for 0 < h <= n."""
    # P = 2 * A0 * (1 - A1*(1 - A2*(1 - ...))), Horner-like; see SciPy for the derivation.
    p = 0.0
    k = n // h
    while k >= 0:
        p1 = 1.0
        for j in range(h):
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1)
        p = p1 * (1.0 - p)
        k -= 1
    return 2 * p


@functools.lru_cache(maxsize=16)
def _table(n: int) -> tuple[float, ...]:
    if not 1 <= n <= MAX_EXACT_SIZE:
        raise ValueError(f"n must be in [1, {MAX_EXACT_SIZE}], got {n}")
    values = [1.0]  # h = 0: SciPy returns exactly 1.0
    fallback = []
    for h in range(1, n + 1):
        p = prob_outside_square(n, h)
        if not 0 <= p <= 1:
            fallback.append(h)
        values.append(p)
    if fallback:
        from scipy.stats import distributions

        m = float(n)
        en = m * m / (m + m)
        for h in fallback:
            values[h] = float(distributions.kstwo.sf(h * 1.0 / n, np.round(en)))
    return tuple(min(max(v, 0.0), 1.0) for v in values)


def pvalue_table(n: int) -> NDArray[np.float64]:
    """P-values of ``ks_2samp`` for two samples of size ``n``, indexed by ``h = n * D``.

    >>> pvalue_table(3)
    array([1. , 1. , 0.6, 0.1])
    """
    return np.array(_table(n))

"""Multiple-testing corrections for the p-values of a data-set comparison.

Testing many features at level alpha flags about ``alpha * m`` of them by chance. The
corrections return adjusted p-values; a feature drifts when its adjusted p-value is below its
threshold, which is equivalent to running the named procedure at that level.

* ``"bonferroni"`` — ``min(1, m p)``; controls the family-wise error rate (Dunn 1961).
* ``"holm"`` — step-down: the i-th smallest gets ``max_{j <= i} min(1, (m - j + 1) p_(j))``;
  controls the family-wise error rate and is never less powerful than Bonferroni (Holm 1979).
* ``"bh"`` — Benjamini–Hochberg step-up: the i-th smallest gets
  ``min_{j >= i} min(1, m p_(j) / j)``; controls the false discovery rate for independent or
  positively dependent tests (Benjamini & Hochberg 1995).
* ``"none"`` — p-values unchanged.

NaN p-values (undefined tests) are left out of the family and stay NaN.

>>> adjust_p_values([0.01, 0.04, 0.03], "holm").round(2).tolist()
[0.03, 0.06, 0.06]
>>> adjust_p_values([0.01, 0.04, 0.03], "bh").round(2).tolist()
[0.03, 0.04, 0.04]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_option

__all__ = ["CORRECTIONS", "adjust_p_values"]

CORRECTIONS = ("none", "bonferroni", "holm", "bh")


def adjust_p_values(p_values: Any, method: str = "none") -> NDArray[np.float64]:
    """Adjusted p-values for a family of tests.

    Parameters
    ----------
    p_values : array-like of float
        Raw p-values in [0, 1]; NaN entries are ignored.
    method : {"none", "bonferroni", "holm", "bh"}, default "none"
        The correction.

    Returns
    -------
    ndarray of float64
        Adjusted p-values, same order; NaN where the input was NaN.

    References
    ----------
    Dunn, O. J. (1961). Multiple comparisons among means. JASA 56(293), 52–64.
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6(2), 65–70.
    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1),
    289–300.

    Examples
    --------
    >>> adjust_p_values([0.01, 0.02, float("nan")], "bonferroni").tolist()
    [0.02, 0.04, nan]
    """
    check_option(method, "method", "adjust_p_values", CORRECTIONS)
    p = np.array(p_values, dtype=np.float64, copy=True).reshape(-1)
    out = p.copy()
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if method == "none" or m == 0:
        return out
    if method == "bonferroni":
        out[ok] = np.minimum(1.0, q * m)
        return out
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    i = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - i + 1) * ranked))
    else:  # bh
        adj = np.minimum.accumulate(np.minimum(1.0, m * ranked / i)[::-1])[::-1]
    back = np.empty(m)
    back[order] = adj
    out[ok] = back
    return out

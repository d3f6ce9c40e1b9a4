"""Page-Hinkley test for a change in the mean (Page 1954; Mouss et al. 2004)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_int, check_option, check_real
from modelmon.detectors.base import DriftDetector, load_kernels

__all__ = ["PageHinkley"]

_MODES = {"up": 0, "down": 1, "both": 2}


class PageHinkley(DriftDetector):
    r"""Page-Hinkley test for an increase and/or decrease of the mean of a real-valued stream.

    With :math:`\bar x_t` the running mean, the test accumulates the deviations
    :math:`m_t = \alpha\, m_{t-1} + (x_t - \bar x_t) - \delta` and signals a drift when
    :math:`m_t - \min_{s \le t} m_s > \lambda` (increase); the mirrored statistic (with
    :math:`+\delta`, against its running maximum) watches for a decrease. :math:`\delta` is the
    magnitude of change tolerated, :math:`\lambda` the threshold and :math:`\alpha` a forgetting
    factor (1 gives the classical test).

    Parameters
    ----------
    min_instances : int, default=30
        Number of values before any signal.
    delta : float, default=0.005
        Tolerated magnitude of change, :math:`\delta \ge 0`.
    threshold : float, default=50.0
        Detection threshold :math:`\lambda > 0`.
    alpha : float, default=0.9999
        Forgetting factor of the cumulative sums, in (0, 1].
    mode : {"both", "up", "down"}, default="both"
        Watch for increases, decreases, or both.

    Notes
    -----
    Identical to River 0.26.1's ``drift.PageHinkley``: the statistics are cleared at the start
    of the update after a drift, the running mean includes the current value, and
    ``min_instances`` counts values since the last reset.

    References
    ----------
    .. [1] Page, E. S. (1954). Continuous Inspection Schemes. Biometrika, 41(1/2), 100-115.
    .. [2] Mouss, H., Mouss, D., Mouss, N., Sefouhi, L. (2004). Test of Page-Hinckley, an
       approach for fault detection in an agro-alimentary production system. 5th Asian Control
       Conference, vol. 2, pp. 815-818.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.detectors import PageHinkley
    >>> rng = np.random.default_rng(2)
    >>> x = np.concatenate([rng.normal(0.0, 1.0, 1000), rng.normal(2.0, 1.0, 1000)])
    >>> PageHinkley().update_many(x).drifts
    array([1010])
    """

    name = "page_hinkley"

    def __init__(
        self,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: str = "both",
    ) -> None:
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode
        self._reset()

    def _reset(self) -> None:
        owner = "PageHinkley"
        min_instances = check_int(self.min_instances, "min_instances", owner, low=0)
        delta = check_real(self.delta, "delta", owner, low=0.0)
        threshold = check_real(self.threshold, "threshold", owner, low=0.0, closed="neither")
        alpha = check_real(self.alpha, "alpha", owner, low=0.0, high=1.0, closed="right")
        mode = _MODES[check_option(self.mode, "mode", owner, _MODES)]
        self._params = (min_instances, delta, threshold, alpha, mode)
        # drift, warning, n, mean, sum_increase, sum_decrease, min_increase, max_decrease
        self._state = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.inf, -1.0])
        self._initial = self._state.copy()

    def _run(
        self,
        values: NDArray[np.float64],
        drifts: NDArray[np.int64],
        warnings: NDArray[np.int64],
    ) -> tuple[int, int]:
        return load_kernels("page_hinkley").run(
            values, self._state, self._initial, drifts, warnings, *self._params
        )

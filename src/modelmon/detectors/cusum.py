"""Two-sided tabular CUSUM (Page 1954)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_int, check_option, check_real
from modelmon.detectors.base import DriftDetector, load_kernels
from modelmon.exceptions import ParameterError

__all__ = ["CUSUM"]

_MODES = {"up": 0, "down": 1, "both": 2}


class CUSUM(DriftDetector):
    r"""Two-sided tabular CUSUM control chart for a shift of the mean.

    With reference mean :math:`\mu_0` and standard deviation :math:`\sigma`, the chart keeps

    .. math::

        S^+_t = \max(0,\; S^+_{t-1} + (x_t - \mu_0) - k\sigma), \qquad
        S^-_t = \max(0,\; S^-_{t-1} - (x_t - \mu_0) - k\sigma)

    and signals a drift when either sum exceeds :math:`h\sigma` (:math:`k` = ``slack``,
    :math:`h` = ``threshold``). The sums restart from zero, so it takes a run of values on the
    same side of the reference, not one outlier, to raise an alarm.

    Unless both are given, :math:`\mu_0` and :math:`\sigma` are estimated from the first
    ``min_instances`` values (mean and sample standard deviation) and then frozen; the
    ``min_instances``-th value is the first one charted.

    Parameters
    ----------
    min_instances : int, default=30
        Warm-up length used to estimate the reference (ignored when ``target`` and ``sigma``
        are both given: charting then starts at the first value).
    slack : float, default=0.5
        :math:`k`, the allowance, in standard deviations (half the shift to detect fastest).
    threshold : float, default=5.0
        :math:`h`, the decision interval, in standard deviations.
    mode : {"both", "up", "down"}, default="both"
        Signal increases, decreases or both.
    target : float or None, default=None
        Known in-control mean :math:`\mu_0`; estimated from the warm-up when None.
    sigma : float or None, default=None
        Known in-control standard deviation (> 0); estimated from the warm-up when None.

    Notes
    -----
    With ``slack=0.5`` and ``threshold=5`` on normal data (known :math:`\mu_0`,
    :math:`\sigma`) the two-sided chart raises a false alarm every 465 values on average and
    detects a one-sigma shift after about 10 values (Montgomery, Table 9.3). When the warm-up
    values are all equal the estimated :math:`\sigma` is 0, so any later value different from
    them is a drift. Like the other detectors, the state is cleared at the start of the update
    after a drift: the reference is then estimated again from the next ``min_instances``
    values. Parameter names and warm-up semantics follow the CUSUM of River's development tree
    (not part of River 0.26.1, which has no CUSUM).

    References
    ----------
    .. [1] Page, E. S. (1954). Continuous Inspection Schemes. Biometrika, 41(1/2), 100-115.
    .. [2] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.,
       chapter 9.1 (the tabular CUSUM). Wiley.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.detectors import CUSUM
    >>> rng = np.random.default_rng(2)
    >>> x = np.concatenate([rng.normal(0.0, 1.0, 300), rng.normal(1.5, 1.0, 300)])
    >>> CUSUM(threshold=8.0).update_many(x).drifts
    array([304])
    """

    name = "cusum"

    def __init__(
        self,
        min_instances: int = 30,
        slack: float = 0.5,
        threshold: float = 5.0,
        mode: str = "both",
        target: float | None = None,
        sigma: float | None = None,
    ) -> None:
        self.min_instances = min_instances
        self.slack = slack
        self.threshold = threshold
        self.mode = mode
        self.target = target
        self.sigma = sigma
        self._reset()

    def _reset(self) -> None:
        owner = "CUSUM"
        min_instances = check_int(self.min_instances, "min_instances", owner, low=1)
        slack = check_real(self.slack, "slack", owner, low=0.0)
        threshold = check_real(self.threshold, "threshold", owner, low=0.0, closed="neither")
        mode = _MODES[check_option(self.mode, "mode", owner, _MODES)]
        target = _optional_real(self.target, "target", None)
        sigma = _optional_real(self.sigma, "sigma", 0.0)
        warm_up = 1 if target is not None and sigma is not None else min_instances
        self._params = (
            warm_up,
            slack,
            threshold,
            mode,
            math.nan if target is None else target,
            math.nan if sigma is None else sigma,
            0.5,  # River's ``** 0.5`` (libm's pow), passed at run time so it stays pow
        )
        # drift, warning, n, mean, var_s, reference, sigma, frozen, sum_increase, sum_decrease
        self._state = np.zeros(10)
        self._initial = self._state.copy()

    def _run(
        self,
        values: NDArray[np.float64],
        drifts: NDArray[np.int64],
        warnings: NDArray[np.int64],
    ) -> tuple[int, int]:
        return load_kernels("cusum").run(
            values, self._state, self._initial, drifts, warnings, *self._params
        )


def _optional_real(value: Any, name: str, exclusive_low: float | None) -> float | None:
    if value is None:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        number = float(value)
        ok = math.isfinite(number) and (exclusive_low is None or number > exclusive_low)
    if not ok:
        domain = "a finite float" if exclusive_low is None else f"a float > {exclusive_low}"
        raise ParameterError(
            f"The {name!r} parameter of CUSUM must be {domain} or None. Got {value!r} instead.",
            loc=(name,),
        )
    return float(value)

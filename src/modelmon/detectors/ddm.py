"""DDM: the Drift Detection Method of Gama et al. (2004)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_int, check_real
from modelmon.detectors.base import BinaryDriftAndWarningDetector, load_kernels
from modelmon.exceptions import ParameterError

__all__ = ["DDM"]


class DDM(BinaryDriftAndWarningDetector):
    r"""Drift Detection Method (DDM) on a stream of prediction errors.

    DDM models the error count as binomial: after :math:`n` predictions with error rate
    :math:`p_n` the standard deviation is :math:`s_n = \sqrt{p_n(1 - p_n)/n}`. It remembers
    :math:`p_{min}` and :math:`s_{min}` at the point where :math:`p_n + s_n` was lowest, and
    signals

    * a warning when :math:`p_n + s_n > p_{min} + w \, s_{min}`,
    * a drift when :math:`p_n + s_n > p_{min} + d \, s_{min}`.

    Input: 1 for an error (wrong prediction), 0 for a correct one.

    Parameters
    ----------
    warm_start : int, default=30
        Number of values seen before any signal (the rate is unreliable before).
    warning_threshold : float, default=2.0
        :math:`w`, in standard deviations (about 95% confidence).
    drift_threshold : float, default=3.0
        :math:`d`, in standard deviations (about 99% confidence); at least
        ``warning_threshold``.

    Notes
    -----
    Identical to River 0.26.1's ``drift.binary.DDM`` (same signals at the same positions): the
    statistics are cleared at the start of the update that follows a drift, and the comparison
    with ``warm_start`` is strict (signals start at the ``warm_start + 1``-th value).

    References
    ----------
    .. [1] Gama, J., Medas, P., Castillo, G., Rodrigues, P. (2004). Learning with Drift
       Detection. In Advances in Artificial Intelligence, SBIA 2004, LNCS 3171, pp. 286-295.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.detectors import DDM
    >>> rng = np.random.default_rng(7)
    >>> errors = np.concatenate([rng.random(1000) < 0.1, rng.random(1000) < 0.3])
    >>> DDM().update_many(errors).drifts
    array([1039])

    The same, one value at a time:

    >>> detector = DDM()
    >>> for i, error in enumerate(errors):
    ...     if detector.update(error).drift_detected:
    ...         print(f"drift at {i}")
    drift at 1039
    """

    name = "ddm"

    def __init__(
        self, warm_start: int = 30, warning_threshold: float = 2.0, drift_threshold: float = 3.0
    ) -> None:
        self.warm_start = warm_start
        self.warning_threshold = warning_threshold
        self.drift_threshold = drift_threshold
        self._reset()

    def _reset(self) -> None:
        warm_start = check_int(self.warm_start, "warm_start", "DDM", low=0)
        warning = check_real(
            self.warning_threshold, "warning_threshold", "DDM", low=0.0, closed="neither"
        )
        drift = check_real(self.drift_threshold, "drift_threshold", "DDM", low=0.0, closed="neither")
        if drift < warning:
            raise ParameterError(
                "The 'drift_threshold' parameter of DDM must be a float >= warning_threshold "
                f"({self.warning_threshold!r}). Got {self.drift_threshold!r} instead.",
                loc=("drift_threshold",),
            )
        self._params = (warm_start, warning, drift)
        # drift, warning, p, n, p_min, s_min, ps_min
        self._state = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.inf])
        self._initial = self._state.copy()

    def _run(
        self,
        values: NDArray[np.float64],
        drifts: NDArray[np.int64],
        warnings: NDArray[np.int64],
    ) -> tuple[int, int]:
        return load_kernels("ddm").run(
            values, self._state, self._initial, drifts, warnings, *self._params
        )

"""HDDM_W: drift detection with McDiarmid's bound on weighted averages (Frías-Blanco et al. 2015)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_bool, check_probability, check_real
from modelmon.detectors.base import BinaryDriftAndWarningDetector, load_kernels
from modelmon.exceptions import ParameterError

__all__ = ["HDDM_W"]


class HDDM_W(BinaryDriftAndWarningDetector):
    r"""HDDM_W: McDiarmid-bound drift detection with the weighted-average (W-) test.

    Like :class:`HDDM_A`, but the estimator is an exponentially weighted moving average
    (weight ``lambda_val`` on the newest value), so recent values count more; the bound is
    McDiarmid's inequality for weighted sums. A drift is signalled when the weighted mean after
    the cut point exceeds the one at the cut point by more than the bound at confidence
    ``drift_confidence`` (a warning at ``warning_confidence``).

    Input: 1 for an error, 0 for a correct prediction.

    Parameters
    ----------
    drift_confidence : float, default=0.001
        Significance level of the drift test, in (0, 1).
    warning_confidence : float, default=0.005
        Significance level of the warning test, in (0, 1); at least ``drift_confidence``.
    lambda_val : float, default=0.05
        Weight of the newest value in the moving averages, in (0, 1].
    two_sided_test : bool, default=False
        Also signal decreases of the mean.

    Notes
    -----
    Identical to River 0.26.1's ``drift.binary.HDDMW`` (a port of MOA's ``HDDM_W_Test``),
    including the reset of the statistics at the start of the update after a drift.

    References
    ----------
    .. [1] Frías-Blanco, I., del Campo-Ávila, J., Ramos-Jiménez, G., Morales-Bueno, R.,
       Ortiz-Díaz, A., Caballero-Mota, Y. (2015). Online and Non-Parametric Drift Detection
       Methods Based on Hoeffding's Bounds. IEEE Transactions on Knowledge and Data
       Engineering, 27(3), 810-823.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.detectors import HDDM_W
    >>> rng = np.random.default_rng(7)
    >>> errors = np.concatenate([rng.random(1000) < 0.1, rng.random(1000) < 0.4])
    >>> HDDM_W().update_many(errors).drifts
    array([1037])
    """

    name = "hddm_w"

    def __init__(
        self,
        drift_confidence: float = 0.001,
        warning_confidence: float = 0.005,
        lambda_val: float = 0.05,
        two_sided_test: bool = False,
    ) -> None:
        self.drift_confidence = drift_confidence
        self.warning_confidence = warning_confidence
        self.lambda_val = lambda_val
        self.two_sided_test = two_sided_test
        self._reset()

    def _reset(self) -> None:
        drift = check_probability(self.drift_confidence, "drift_confidence", "HDDM_W")
        warning = check_probability(self.warning_confidence, "warning_confidence", "HDDM_W")
        if warning < drift:
            raise ParameterError(
                "The 'warning_confidence' parameter of HDDM_W must be a float >= "
                f"drift_confidence ({self.drift_confidence!r}). "
                f"Got {self.warning_confidence!r} instead.",
                loc=("warning_confidence",),
            )
        lam = check_real(self.lambda_val, "lambda_val", "HDDM_W", low=0.0, high=1.0, closed="right")
        two_sided = check_bool(self.two_sided_test, "two_sided_test", "HDDM_W")
        # Derived constants computed with River's own expressions (``** 2`` is libm's pow).
        self._params = (
            two_sided,
            math.log(1 / drift),
            math.log(1 / warning),
            lam,
            1.0 - lam,
            lam * lam,
            (1 - lam) ** 2,
        )
        fresh = [0.0, 0.0, 1.0]  # ewma, initialised, ibc
        self._state = np.array([0.0, 0.0, *fresh * 5, np.inf, -np.inf])
        self._initial = self._state.copy()

    def _run(
        self,
        values: NDArray[np.float64],
        drifts: NDArray[np.int64],
        warnings: NDArray[np.int64],
    ) -> tuple[int, int]:
        return load_kernels("hddm_w").run(
            values, self._state, self._initial, drifts, warnings, *self._params
        )

"""HDDM_A: drift detection with Hoeffding's bound on moving averages (Frías-Blanco et al. 2015)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_bool, check_probability
from modelmon.detectors.base import BinaryDriftAndWarningDetector, load_kernels
from modelmon.exceptions import ParameterError

__all__ = ["HDDM_A"]


class HDDM_A(BinaryDriftAndWarningDetector):
    r"""HDDM_A: Hoeffding-bound drift detection with the moving-average (A-) test.

    The detector keeps the mean of all values since the last reset and the mean up to a cut
    point, the moment where the mean plus its Hoeffding bound was lowest. It signals a drift
    when the overall mean exceeds the cut-point mean by more than the Hoeffding bound at
    confidence ``drift_confidence`` (a warning at ``warning_confidence``). With
    ``two_sided_test`` it also watches for decreases, against a second cut point.

    Input: 1 for an error, 0 for a correct prediction.

    Parameters
    ----------
    drift_confidence : float, default=0.001
        Significance level of the drift test, in (0, 1).
    warning_confidence : float, default=0.005
        Significance level of the warning test, in (0, 1); at least ``drift_confidence``.
    two_sided_test : bool, default=False
        Also signal decreases of the mean (by default only increases of the error rate).

    Notes
    -----
    Identical to River 0.26.1's ``drift.binary.HDDMA`` (itself a port of MOA's
    ``HDDM_A_Test``), including the reset of the statistics at the start of the update after a
    drift.

    References
    ----------
    .. [1] Frías-Blanco, I., del Campo-Ávila, J., Ramos-Jiménez, G., Morales-Bueno, R.,
       Ortiz-Díaz, A., Caballero-Mota, Y. (2015). Online and Non-Parametric Drift Detection
       Methods Based on Hoeffding's Bounds. IEEE Transactions on Knowledge and Data
       Engineering, 27(3), 810-823.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.detectors import HDDM_A
    >>> rng = np.random.default_rng(7)
    >>> errors = np.concatenate([rng.random(1000) < 0.1, rng.random(1000) < 0.3])
    >>> HDDM_A().update_many(errors).drifts
    array([1102])
    """

    name = "hddm_a"

    def __init__(
        self,
        drift_confidence: float = 0.001,
        warning_confidence: float = 0.005,
        two_sided_test: bool = False,
    ) -> None:
        self.drift_confidence = drift_confidence
        self.warning_confidence = warning_confidence
        self.two_sided_test = two_sided_test
        self._reset()

    def _reset(self) -> None:
        drift = check_probability(self.drift_confidence, "drift_confidence", "HDDM_A")
        warning = check_probability(self.warning_confidence, "warning_confidence", "HDDM_A")
        if warning < drift:
            raise ParameterError(
                "The 'warning_confidence' parameter of HDDM_A must be a float >= "
                f"drift_confidence ({self.drift_confidence!r}). "
                f"Got {self.warning_confidence!r} instead.",
                loc=("warning_confidence",),
            )
        two_sided = check_bool(self.two_sided_test, "two_sided_test", "HDDM_A")
        self._params = (
            two_sided,
            math.log(1.0 / drift),
            math.log(2.0 / drift),
            math.log(2.0 / warning),
        )
        # drift, warning, z_n, z_mean, min_n, min_mean, max_n, max_mean
        self._state = np.zeros(8)
        self._initial = self._state.copy()

    def _run(
        self,
        values: NDArray[np.float64],
        drifts: NDArray[np.int64],
        warnings: NDArray[np.int64],
    ) -> tuple[int, int]:
        return load_kernels("hddm_a").run(
            values, self._state, self._initial, drifts, warnings, *self._params
        )

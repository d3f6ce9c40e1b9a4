"""EDDM: the Early Drift Detection Method of Baena-García et al. (2006)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_int, check_real
from modelmon.detectors.base import BinaryDriftAndWarningDetector, load_kernels
from modelmon.exceptions import ParameterError

__all__ = ["EDDM"]


class EDDM(BinaryDriftAndWarningDetector):
    r"""Early Drift Detection Method (EDDM) on a stream of prediction errors.

    EDDM watches the distance (number of predictions) between consecutive errors rather than
    the error rate, which makes it react earlier than DDM to gradual change. With
    :math:`p'_i` and :math:`s'_i` the running mean and standard deviation of the distance, and
    :math:`p'_{max} + 2 s'_{max}` the largest value of :math:`p'_i + 2 s'_i` seen, it signals

    * a warning when :math:`(p'_i + 2 s'_i) / (p'_{max} + 2 s'_{max}) < \alpha`,
    * a drift when the same ratio falls below :math:`\beta`.

    Input: 1 for an error, 0 for a correct prediction.

    Parameters
    ----------
    warm_start : int, default=30
        Minimum number of values, and of errors, before any signal.
    alpha : float, default=0.95
        Warning level, in (0, 1]; at least ``beta``.
    beta : float, default=0.9
        Drift level, in (0, 1].

    Notes
    -----
    Identical to River 0.26.1's ``drift.binary.EDDM``, including two of its choices: the
    statistics are cleared at the start of the update after a drift, and the warning flag is
    only re-evaluated on errors past the warm start, so a warning stays raised through the
    correct predictions that follow it.

    References
    ----------
    .. [1] Baena-García, M., del Campo-Ávila, J., Fidalgo, R., Bifet, A., Gavaldà, R.,
       Morales-Bueno, R. (2006). Early Drift Detection Method. Fourth International Workshop on
       Knowledge Discovery from Data Streams, ECML PKDD 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.detectors import EDDM
    >>> rng = np.random.default_rng(7)
    >>> errors = np.concatenate([rng.random(1000) < 0.1, rng.random(1000) < 0.4])
    >>> EDDM().update_many(errors).drifts
    array([1007])
    """

    name = "eddm"

    def __init__(self, warm_start: int = 30, alpha: float = 0.95, beta: float = 0.9) -> None:
        self.warm_start = warm_start
        self.alpha = alpha
        self.beta = beta
        self._reset()

    def _reset(self) -> None:
        warm_start = check_int(self.warm_start, "warm_start", "EDDM", low=0)
        alpha = check_real(self.alpha, "alpha", "EDDM", low=0.0, high=1.0, closed="right")
        beta = check_real(self.beta, "beta", "EDDM", low=0.0, high=1.0, closed="right")
        if alpha < beta:
            raise ParameterError(
                f"The 'alpha' parameter of EDDM must be a float >= beta ({self.beta!r}). "
                f"Got {self.alpha!r} instead.",
                loc=("alpha",),
            )
        self._params = (warm_start, alpha, beta, 0.5)
        # drift, warning, var_n, var_mean, var_s, p2s_max, n, last_error, n_errors
        self._state = np.array([0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0])
        self._initial = self._state.copy()

    def _run(
        self,
        values: NDArray[np.float64],
        drifts: NDArray[np.int64],
        warnings: NDArray[np.int64],
    ) -> tuple[int, int]:
        return load_kernels("eddm").run(
            values, self._state, self._initial, drifts, warnings, *self._params
        )

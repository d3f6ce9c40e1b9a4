"""ADWIN: adaptive windowing (Bifet & Gavaldà 2007)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_bool, check_int, check_probability
from modelmon.detectors.base import DriftDetector, load_kernels

__all__ = ["ADWIN"]

# Level i of the exponential histogram holds buckets of 2**i values: 64 levels cover any stream.
_LEVELS = 64


class ADWIN(DriftDetector):
    r"""ADaptive WINdowing (ADWIN) change detector for real-valued streams.

    ADWIN keeps a window of recent values, as large as is consistent with "no change", in an
    exponential histogram (ADWIN2: ``max_buckets`` buckets per size). At every check it tries
    each split of the window into an older part :math:`W_0` and a newer part :math:`W_1`; if
    their means differ by more than

    .. math:: \epsilon = \sqrt{\tfrac{2}{m}\, \sigma^2_W \ln\tfrac{2\ln|W|}{\delta}}
              + \tfrac{2}{3m} \ln\tfrac{2\ln|W|}{\delta},
              \qquad \tfrac{1}{m} = \tfrac{1}{|W_0| - l + 1} + \tfrac{1}{|W_1| - l + 1}

    (:math:`l` = ``min_window_length``) it drops the oldest bucket, repeats, and signals a drift.

    Parameters
    ----------
    delta : float, default=0.002
        Confidence value :math:`\delta`, in (0, 1): smaller means fewer false alarms.
    clock : int, default=32
        Check for a change every ``clock`` updates (1 = after every value, as in the paper).
    max_buckets : int, default=5
        Buckets kept per bucket size before two are merged, at least 2.
    min_window_length : int, default=5
        Minimum length of each sub-window in a tested split, at least 1.
    grace_period : int, default=10
        No check until the window holds more than this many values.
    reset_on_drift : bool, default=True
        River's behaviour: at the update after a drift the whole window is discarded and
        ADWIN starts from scratch. ``False`` keeps the shortened window that ADWIN itself
        retained, which is the algorithm of the paper (and MOA).

    Attributes
    ----------
    width : int
        Number of values in the window.
    estimation : float
        Mean of the window (0.0 when empty).
    variance : float
        Population variance of the window (River's ``variance`` attribute is the
        unnormalised sum of squared deviations instead).

    Notes
    -----
    With the defaults, identical to River 0.26.1's ``drift.ADWIN`` (same drift positions, same
    window statistics): checks happen only every ``clock`` updates, and the window is cleared
    at the start of the update after a drift.

    References
    ----------
    .. [1] Bifet, A., Gavaldà, R. (2007). Learning from Time-Changing Data with Adaptive
       Windowing. Proceedings of the 2007 SIAM International Conference on Data Mining,
       pp. 443-448.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.detectors import ADWIN
    >>> rng = np.random.default_rng(2)
    >>> x = np.concatenate([rng.normal(0.0, 1.0, 1000), rng.normal(2.0, 1.0, 1000)])
    >>> detector = ADWIN()
    >>> detector.update_many(x).drifts
    array([1023])
    >>> detector.width, round(detector.estimation, 2)
    (976, 1.91)
    """

    name = "adwin"

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
        reset_on_drift: bool = True,
    ) -> None:
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        self.reset_on_drift = reset_on_drift
        self._reset()

    def _reset(self) -> None:
        delta = check_probability(self.delta, "delta", "ADWIN")
        clock = check_int(self.clock, "clock", "ADWIN", low=1)
        max_buckets = check_int(self.max_buckets, "max_buckets", "ADWIN", low=2)
        min_window_length = check_int(self.min_window_length, "min_window_length", "ADWIN", low=1)
        grace_period = check_int(self.grace_period, "grace_period", "ADWIN", low=0)
        reset_on_drift = check_bool(self.reset_on_drift, "reset_on_drift", "ADWIN")
        self._params = (
            delta,
            clock,
            max_buckets,
            float(min_window_length),
            float(grace_period),
            reset_on_drift,
        )
        # drift, warning, total, variance, width, tick, n_levels
        self._state = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
        self._totals = np.zeros((_LEVELS, max_buckets + 1))
        self._variances = np.zeros((_LEVELS, max_buckets + 1))
        self._counts = np.zeros(_LEVELS, dtype=np.int64)
        # scratch for the cut-point tests (not state): one slot per bucket
        n_slots = _LEVELS * (max_buckets + 1)
        self._cuts = (
            np.empty(n_slots),
            np.empty(n_slots),
            np.empty(n_slots),
            np.empty(n_slots, dtype=np.bool_),
        )

    @property
    def width(self) -> int:
        """Number of values in the window."""
        return int(self._state[4])

    @property
    def estimation(self) -> float:
        """Mean of the values in the window (0.0 when the window is empty)."""
        width = self._state[4]
        return float(self._state[2] / width) if width > 0 else 0.0

    @property
    def variance(self) -> float:
        """Population variance of the values in the window (0.0 when empty)."""
        width = self._state[4]
        return float(self._state[3] / width) if width > 0 else 0.0

    def _run(
        self,
        values: NDArray[np.float64],
        drifts: NDArray[np.int64],
        warnings: NDArray[np.int64],
    ) -> tuple[int, int]:
        return load_kernels("adwin").run(
            values,
            self._state,
            self._totals,
            self._variances,
            self._counts,
            drifts,
            warnings,
            *self._params,
            *self._cuts,
        )

"""The result of feeding a whole array to a detector: where it fired."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from modelmon._results import Result

__all__ = ["DetectionResult"]


@dataclass(frozen=True, eq=False)
class DetectionResult(Result):
    """Positions at which a detector signalled, from one ``update_many`` call.

    Positions are 0-based indices into the array passed to that call: position ``i`` is listed
    in ``drifts`` when ``drift_detected`` would have been true right after ``update(values[i])``,
    and likewise for ``warnings``.

    Attributes
    ----------
    detector : str
        Registry name of the detector (``"adwin"``, ``"ddm"``, ...).
    n : int
        Number of values processed.
    drifts : ndarray of int64
        Positions of drift signals, increasing.
    warnings : ndarray of int64
        Positions of warning signals, increasing (always empty for detectors without a
        warning zone).

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.detectors import DetectionResult
    >>> r = DetectionResult("ddm", 5, np.array([3]), np.array([1, 2]))
    >>> r.n_drifts, r.n_warnings
    (1, 2)
    >>> r.to_dict()
    {'detector': 'ddm', 'n': 5, 'drifts': [3], 'warnings': [1, 2]}
    """

    detector: str
    n: int
    drifts: NDArray[np.int64]
    warnings: NDArray[np.int64]

    @property
    def n_drifts(self) -> int:
        """Number of drift signals."""
        return int(self.drifts.shape[0])

    @property
    def n_warnings(self) -> int:
        """Number of warning signals."""
        return int(self.warnings.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DetectionResult):
            return NotImplemented
        return (
            self.detector == other.detector
            and self.n == other.n
            and np.array_equal(self.drifts, other.drifts)
            and np.array_equal(self.warnings, other.warnings)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable array fields: not hashable

"""KSWIN: Kolmogorov-Smirnov windowing (Raab et al. 2020)."""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import as_1d_float, check_bool, check_int, check_probability
from modelmon.detectors._ks_pvalue import MAX_EXACT_SIZE, pvalue_table
from modelmon.detectors.base import DriftDetector, load_kernels
from modelmon.exceptions import ParameterError, ValidationError

__all__ = ["KSWIN"]


def sample_uses_pool(n: int, k: int) -> bool:
    """Whether CPython's ``random.sample`` of ``k`` from ``n`` items takes its pool branch.

    CPython 3.11's own expression (``Lib/random.py``): a list of ``n`` is used when it is
    smaller than a set of ``k``, i.e. when ``n <= 21 + 4 ** ceil(log(3k, 4))`` (21 for
    ``k <= 5``); otherwise drawn indices are kept in a set.

    >>> sample_uses_pool(70, 30), sample_uses_pool(370, 30)
    (True, False)
    """
    setsize = 21
    if k > 5:
        setsize += 4 ** math.ceil(math.log(k * 3, 4))
    return n <= setsize


class KSWIN(DriftDetector):
    r"""Kolmogorov-Smirnov WINdowing (KSWIN) change detector for real-valued streams.

    KSWIN keeps a sliding window of the last ``window_size`` values. Once it is full, every
    update compares the newest ``stat_size`` values with ``stat_size`` values drawn at random
    (without replacement) from the older part of the window, using the two-sample
    Kolmogorov-Smirnov test, and signals a drift when the p-value is at most ``alpha`` and
    the KS statistic exceeds 0.1.

    Parameters
    ----------
    alpha : float, default=0.005
        Significance level of the KS test, in (0, 1). The test runs at every update, so keep it
        small.
    window_size : int, default=100
        Size of the sliding window; at least ``2 * stat_size``.
    stat_size : int, default=30
        Size of the two samples compared, in [1, 10000].
    seed : int or None, default=None
        Seed of the random draws (Python's ``random.Random(seed)``, as River). ``None`` seeds
        from the operating system's entropy.
    window : array-like or None, default=None
        Values to start the window with (the last ``window_size`` are kept), to avoid a cold
        start. Like River, they are not restored when the window is cleared after a drift
        (``reset()`` does restore them).
    reset_on_drift : bool, default=True
        River's behaviour: at the update after a drift the window is emptied, and a seeded
        generator starts its sequence again. ``False`` keeps the newest ``stat_size`` values as
        the new window and lets the generator run on, as described by Raab et al.

    Attributes
    ----------
    p_value : float
        P-value of the last test (0.0 before the first one, as in River).

    Notes
    -----
    With an integer ``seed``, identical to River 0.26.1's ``drift.KSWIN`` with the same seed:
    the random positions are drawn with a port of CPython's Mersenne Twister and
    ``random.sample``, and the p-values are SciPy's ``ks_2samp(method="auto")`` values for
    samples of size ``stat_size`` (a table built once; see ``_ks_pvalue``). With
    ``seed=None`` River draws fresh entropy after each drift, while here the generator simply
    runs on: both are unseeded random draws.

    References
    ----------
    .. [1] Raab, C., Heusinger, M., Schleif, F.-M. (2020). Reactive Soft Prototype Computing
       for Concept Drift Streams. Neurocomputing, 416, 340-351.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.detectors import KSWIN
    >>> rng = np.random.default_rng(2)
    >>> x = np.concatenate([rng.normal(0.0, 1.0, 1000), rng.normal(2.0, 1.0, 1000)])
    >>> KSWIN(alpha=0.0001, seed=42).update_many(x).drifts
    array([1022])
    """

    name = "kswin"

    def __init__(
        self,
        alpha: float = 0.005,
        window_size: int = 100,
        stat_size: int = 30,
        seed: int | None = None,
        window: Iterable[float] | None = None,
        reset_on_drift: bool = True,
    ) -> None:
        self.alpha = alpha
        self.window_size = window_size
        self.stat_size = stat_size
        self.seed = seed
        self.window = window
        self.reset_on_drift = reset_on_drift
        self._reset()

    def _reset(self) -> None:
        owner = "KSWIN"
        alpha = check_probability(self.alpha, "alpha", owner)
        stat_size = check_int(self.stat_size, "stat_size", owner, low=1, high=MAX_EXACT_SIZE)
        window_size = check_int(self.window_size, "window_size", owner, low=2)
        if window_size < 2 * stat_size:
            raise ParameterError(
                f"The 'window_size' parameter of KSWIN must be an int >= 2 * stat_size "
                f"({2 * stat_size}). Got {self.window_size!r} instead.",
                loc=("window_size",),
            )
        seed = self.seed
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
            raise ParameterError(
                f"The 'seed' parameter of KSWIN must be an int or None. Got {seed!r} instead.",
                loc=("seed",),
            )
        reset_on_drift = check_bool(self.reset_on_drift, "reset_on_drift", owner)
        initial_values = self._initial_window(window_size)

        pvalues = pvalue_table(stat_size)
        statistic = np.arange(stat_size + 1) * 1.0 / stat_size
        n_reference = window_size - stat_size
        words = random.Random(None if seed is None else int(seed)).getstate()[1]
        self._mt_initial = np.array(words[:-1], dtype=np.int64)
        self._mt = self._mt_initial.copy()
        self._window = np.zeros(window_size)
        self._window[: initial_values.shape[0]] = initial_values
        # drift, warning, n, count, head, mt_index, p_value
        self._state = np.array([0.0, 0.0, 0.0, float(initial_values.shape[0]), 0.0, words[-1], 0.0])
        self._tables = (pvalues, (pvalues <= alpha) & (statistic > 0.1))
        self._scratch = (
            np.empty(stat_size, dtype=np.int64),
            np.empty(n_reference, dtype=np.int64),
            np.zeros(n_reference, dtype=np.uint8),
            np.empty(stat_size),
            np.empty(stat_size),
        )
        self._params = (
            stat_size,
            sample_uses_pool(n_reference, stat_size),
            seed is not None,
            reset_on_drift,
            int(words[-1]),
        )

    def _initial_window(self, window_size: int) -> NDArray[np.float64]:
        if self.window is None:
            return np.empty(0)
        try:
            values = as_1d_float(list(self.window), "window", "KSWIN", allow_nan=True, allow_inf=True)
            valid = bool(np.isfinite(values).all())
        except (TypeError, ValidationError):
            valid = False
        if not valid:
            raise ParameterError(
                "The 'window' parameter of KSWIN must be an iterable of finite numbers or None. "
                f"Got {self.window!r} instead.",
                loc=("window",),
            )
        return values[-window_size:]

    @property
    def p_value(self) -> float:
        """P-value of the last Kolmogorov-Smirnov test (0.0 before the first one)."""
        return float(self._state[6])

    def _run(
        self,
        values: NDArray[np.float64],
        drifts: NDArray[np.int64],
        warnings: NDArray[np.int64],
    ) -> tuple[int, int]:
        return load_kernels("kswin").run(
            values,
            self._state,
            self._window,
            self._mt,
            self._mt_initial,
            drifts,
            warnings,
            *self._scratch,
            *self._tables,
            *self._params,
        )

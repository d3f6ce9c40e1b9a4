"""Result objects of the drift layer: small frozen dataclasses with ``to_dict()``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from modelmon._results import Result, to_frame

__all__ = ["DatasetDriftResult", "FeatureDriftResult", "TestResult"]


@dataclass(frozen=True)
class TestResult(Result):
    """Outcome of one two-sample test with a p-value.

    Attributes
    ----------
    test : str
        Registry name of the test (``"ks"``, ``"chi_square"`` ...).
    statistic : float
        The test statistic (NaN when undefined).
    p_value : float
        The p-value (NaN when undefined).

    Examples
    --------
    >>> TestResult("ks", 0.25, 0.01).to_dict()
    {'test': 'ks', 'statistic': 0.25, 'p_value': 0.01}
    """

    __test__ = False  # not a pytest test class

    test: str
    statistic: float
    p_value: float


@dataclass(frozen=True)
class FeatureDriftResult(Result):
    """Drift verdict for one feature.

    Attributes
    ----------
    feature : str
        Column name.
    feature_type : str
        ``"numeric"`` or ``"categorical"``.
    test : str
        Registry name of the test used.
    statistic : float
        Test statistic or distance (NaN when undefined, e.g. no current values).
    p_value : float or None
        Raw p-value; None for distance measures, NaN when undefined.
    threshold : float
        Significance level (p-value tests: drift when ``p_value_adjusted < threshold``) or
        distance threshold (drift when ``statistic >= threshold``).
    drifted : bool
        The verdict. Always False when the statistic is undefined.
    n_reference, n_current : int
        Non-missing values used from each frame.
    missing_share_reference, missing_share_current : float
        Share of missing values (NaN, None, null, ±inf) in each frame (NaN for an empty frame).
    p_value_adjusted : float or None
        p-value after the multiple-testing correction (equal to ``p_value`` without one).
    """

    feature: str
    feature_type: str
    test: str
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    n_reference: int
    n_current: int
    missing_share_reference: float
    missing_share_current: float
    p_value_adjusted: float | None = None

    @property
    def defined(self) -> bool:
        """False when the statistic could not be computed."""
        return not math.isnan(self.statistic)


@dataclass(frozen=True)
class DatasetDriftResult(Result):
    """Drift verdict for a data set: per-feature results and the share that drifted.

    Attributes
    ----------
    features : tuple of FeatureDriftResult
        One result per compared feature, in column order.
    n_features : int
        Number of features compared.
    n_drifted : int
        Features whose verdict is drift.
    share_drifted : float
        ``n_drifted / n_features`` (0 when no features).
    drift_share : float
        The share at or above which the data set counts as drifted.
    drifted : bool
        ``n_features > 0 and share_drifted >= drift_share``.
    correction : str
        Multiple-testing correction applied to the p-value tests.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.drift import compare
    >>> rng = np.random.default_rng(0)
    >>> ref = {"a": rng.normal(size=500), "b": rng.normal(size=500)}
    >>> cur = {"a": rng.normal(1, 1, size=500), "b": rng.normal(size=500)}
    >>> res = compare(ref, cur)
    >>> res.n_drifted, res.share_drifted, res.drifted, res["a"].drifted
    (1, 0.5, True, True)
    """

    features: tuple[FeatureDriftResult, ...]
    n_features: int
    n_drifted: int
    share_drifted: float
    drift_share: float
    drifted: bool
    correction: str

    def __getitem__(self, feature: str) -> FeatureDriftResult:
        for r in self.features:
            if r.feature == feature:
                return r
        raise KeyError(feature)

    def __iter__(self) -> Iterator[FeatureDriftResult]:
        return iter(self.features)

    def __len__(self) -> int:
        return len(self.features)

    @property
    def drifted_features(self) -> list[str]:
        """Names of the features whose verdict is drift."""
        return [r.feature for r in self.features if r.drifted]

    def to_frame(self) -> Any:
        """Per-feature results as a pandas DataFrame (needs pandas)."""
        return to_frame(self.features)

"""Multivariate drift by a domain classifier: can a model tell the current rows from the reference?

A gradient-boosted classifier (LightGBM, :mod:`modelmon._gbm`) is trained to separate a sample
of the reference (label 0) from the current rows (label 1); its ROC AUC over out-of-fold
predictions (stratified ``folds``-fold cross-validation) is the statistic: about 0.5 when the
two are alike, towards 1 as they part. Unlike the PCA reconstruction error it sees any change a
tree model can find (non-linear relations, categorical features, changes confined to a region).
It costs a few model fits per comparison, so it is an option, not a default.

The reference sample (at most ``max_reference_rows`` rows, encoded as numbers, categories as
codes) is kept with the fitted object and serialises with it.

References
----------
NannyML (2024). Domain classifier. https://nannyml.readthedocs.io (multivariate drift
detection). Rabanser, S., Günnemann, S. & Lipton, Z. (2019). Failing loudly: an empirical study
of methods for detecting dataset shift. NeurIPS.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from modelmon._results import Result
from modelmon._validation import check_int, undefined
from modelmon.exceptions import ValidationError

if TYPE_CHECKING:  # imported where used: modelmon._features reads the drift package's frames
    from modelmon._features import FeatureEncoder

__all__ = ["DomainClassifierDrift", "DomainClassifierResult"]

_OWNER = "DomainClassifierDrift"


@dataclass(frozen=True)
class DomainClassifierResult(Result):
    """Outcome of a domain-classifier check.

    Attributes
    ----------
    method : str
        ``"domain_classifier"``.
    statistic : float
        Cross-validated ROC AUC of telling current rows from reference rows.
    n_reference, n_current : int
        Rows compared.
    """

    method: str
    statistic: float
    n_reference: int
    n_current: int


def _auc(y: NDArray[np.int64], score: NDArray[np.float64]) -> float:
    from modelmon.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


class DomainClassifierDrift:
    """Fitted reference sample for the domain-classifier test (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> def frame(rho, n):
    ...     x = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    ...     return {"a": x[:, 0], "b": x[:, 1]}
    >>> test = DomainClassifierDrift.fit(frame(0.9, 3000))
    >>> round(test.compare(frame(0.9, 1000)).statistic, 1), test.compare(frame(-0.9, 1000)).statistic > 0.9
    (0.5, True)
    """

    def __init__(self, *, encoder: FeatureEncoder, sample: NDArray[np.float64], folds: int = 3,
                 n_estimators: int = 40, random_state: int = 0) -> None:
        self.encoder = encoder
        self.sample = np.asarray(sample, dtype=np.float64)
        self.folds = int(folds)
        self.n_estimators = int(n_estimators)
        self.random_state = int(random_state)

    @classmethod
    def fit(cls, frame: Any, *, max_reference_rows: int = 5000, folds: int = 3,
            n_estimators: int = 40, feature_types: Mapping[str, str] | None = None,
            random_state: int = 0) -> DomainClassifierDrift:
        """Keep an encoded sample of the reference (pandas/polars frame, Arrow table or dict of
        arrays; every column is a feature).

        Parameters
        ----------
        max_reference_rows : int, default=5000
            Reference rows kept (drawn at random) and compared with each current frame.
        folds : int, default=3
            Cross-validation folds.
        n_estimators : int, default=40
            Boosting rounds of each classifier.
        feature_types : mapping of str to {"numeric", "categorical"}, optional
        random_state : int, default=0
        """
        check_int(max_reference_rows, "max_reference_rows", _OWNER, low=20)
        check_int(folds, "folds", _OWNER, low=2, high=10)
        check_int(n_estimators, "n_estimators", _OWNER, low=1)
        from modelmon._features import FeatureEncoder

        encoder, x = FeatureEncoder.fit(frame, _OWNER, feature_types)
        if x.shape[0] < 2 * folds:
            raise ValidationError(f"{_OWNER}.fit needs at least {2 * folds} reference rows. "
                                  f"Got {x.shape[0]}.", code="empty_input", loc=("reference",))
        if x.shape[0] > max_reference_rows:
            keep = np.random.default_rng(random_state).choice(x.shape[0], max_reference_rows,
                                                              replace=False)
            x = x[np.sort(keep)]
        return cls(encoder=encoder, sample=x, folds=folds, n_estimators=n_estimators,
                   random_state=random_state)

    def compare(self, current: Any) -> DomainClassifierResult:
        """The cross-validated ROC AUC of telling ``current`` from the reference sample (NaN
        with an :class:`~modelmon.exceptions.UndefinedMetricWarning` when ``current`` has fewer
        rows than folds)."""
        from modelmon._gbm import classifier_scores

        x = self.encoder.transform(current, _OWNER)
        m = x.shape[0]
        if m < self.folds:
            return DomainClassifierResult(
                "domain_classifier", undefined(f"{_OWNER} needs at least {self.folds} current "
                                               f"rows. Got {m}."), self.sample.shape[0], m)
        both = np.vstack([self.sample, x])
        y = np.r_[np.zeros(self.sample.shape[0], np.int64), np.ones(m, np.int64)]
        params = {"learning_rate": 0.1, "num_leaves": 15, "min_data_in_leaf": 20,
                  "num_threads": 1, "seed": self.random_state, "deterministic": True,
                  "force_row_wise": True}
        scores = classifier_scores(both, y, folds=self.folds,
                                   categorical=self.encoder.categorical_indices, params=params,
                                   rounds=self.n_estimators, seed=self.random_state)
        auc = _auc(y, scores)
        return DomainClassifierResult("domain_classifier", auc if math.isfinite(auc) else math.nan,
                                      self.sample.shape[0], m)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (the encoded reference sample included)."""
        return {"method": "domain_classifier", "encoder": self.encoder.to_dict(),
                "sample": self.sample.tolist(), "folds": self.folds,
                "n_estimators": self.n_estimators, "random_state": self.random_state}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DomainClassifierDrift:
        """Rebuild from :meth:`to_dict` output."""
        from modelmon._features import FeatureEncoder

        try:
            return cls(encoder=FeatureEncoder.from_dict(data["encoder"]),
                       sample=np.asarray(data["sample"], dtype=np.float64).reshape(
                           -1, len(data["encoder"]["names"])),
                       folds=int(data["folds"]), n_estimators=int(data["n_estimators"]),
                       random_state=int(data["random_state"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"Cannot read a domain classifier: {exc}.") from None

    @property
    def columns(self) -> Sequence[str]:
        return self.encoder.names

"""Confidence-based performance estimation (CBPE): quality of a classifier without labels.

A classifier whose scores are calibrated tells how often it is right: of the rows it scores
0.8, 80 % are positive. Summed over a window, the calibrated probabilities give the *expected*
confusion matrix, and from it every metric the realized confusion matrix would give
(:mod:`modelmon.estimation._expected`). The estimator is fitted once on a reference with labels
(is calibration needed? if so, the isotonic map), then estimates any number of windows from
their scores and predicted labels alone.

Assumptions (``docs/estimation.md`` says when the estimate cannot be trusted):

1. the calibrated scores are calibrated on the windows too: the probability of the outcome
   given the score is the same as in the reference (**no concept drift**). Covariate shift,
   a change of which scores occur, is what the method is for; a change of what a score means
   is invisible to it, which is why realized and estimated values are compared once labels
   arrive;
2. the reference is large enough, and covers the scores the windows hold, for the calibration
   map to be accurate (it is constant beyond the reference's lowest and highest scores).

Multiclass models are estimated class against rest: each class's probability is calibrated on
its own when that helps, rows renormalised to sum to one, and the metrics macro-averaged;
accuracy is the mean probability of the predicted class.

References
----------
NannyML (2022). Confidence-based performance estimation (CBPE).
https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import (
    as_1d,
    check_consistent_length,
    check_int,
    check_option,
    check_probability,
    undefined,
)
from modelmon.estimation._calibration import IsotonicCalibrator, needs_calibration
from modelmon.estimation._expected import (
    BINARY_METRICS,
    binary_estimates,
    binary_estimates_batch,
    binary_sampling_errors,
    multiclass_estimates,
    multiclass_estimates_batch,
    multiclass_sampling_errors,
)
from modelmon.estimation.result import EstimatedMetric, PerformanceEstimate
from modelmon.exceptions import ValidationError

__all__ = ["ConfidenceBasedEstimator"]

_OWNER = "ConfidenceBasedEstimator"
_FORMAT = "modelmon.ConfidenceBasedEstimator/1"


def _not_fitted() -> ValidationError:
    return ValidationError(
        f"This {_OWNER} instance is not fitted yet. Call 'fit' with reference data first.")


def _scores(y_score: ArrayLike, name: str) -> NDArray[np.float64]:
    s = np.asarray(y_score, dtype=np.float64) if not isinstance(y_score, np.ndarray) \
        else y_score.astype(np.float64, copy=False)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s.ravel()
    if s.ndim not in (1, 2):
        raise ValidationError(
            f"The {name!r} argument of {_OWNER} must be 1-dimensional (binary: the positive "
            f"class's score) or 2-dimensional (multiclass: one column per class). Got an array "
            f"of shape {s.shape} instead.", code="invalid_shape", loc=(name,))
    if s.size and not np.isfinite(s).all():
        raise ValidationError(
            f"The {name!r} argument of {_OWNER} contains NaN or infinity. Drop those rows "
            "first.", loc=(name,))
    if s.size and (s.min() < 0 or s.max() > 1):
        raise ValidationError(
            f"The {name!r} argument of {_OWNER} must hold probabilities in [0, 1]. Got values "
            f"in [{s.min():.4g}, {s.max():.4g}] instead.", loc=(name,))
    return s


def _spread(values: NDArray[np.float64]) -> float:
    v = values[np.isfinite(values)]
    return float(v.std(ddof=1)) if v.size >= 2 else 0.0


def _labels(y: ArrayLike, name: str, k: int) -> NDArray[np.intp]:
    arr = as_1d(y, name, _OWNER)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.intp)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or np.any(arr != np.round(arr)):
            raise ValidationError(
                f"The {name!r} argument of {_OWNER} must hold class indices 0..{k - 1}. Got "
                "non-integer values instead.", loc=(name,))
        arr = arr.astype(np.intp)
    elif arr.dtype.kind not in "iu":
        raise ValidationError(
            f"The {name!r} argument of {_OWNER} must hold class indices 0..{k - 1} (binary: 0 "
            f"or 1). Got dtype {arr.dtype} instead.", code="invalid_type", loc=(name,))
    if arr.size and (arr.min() < 0 or arr.max() >= k):
        raise ValidationError(
            f"The {name!r} argument of {_OWNER} must hold class indices 0..{k - 1}. Got values "
            f"in [{arr.min()}, {arr.max()}] instead.", loc=(name,))
    return arr.astype(np.intp, copy=False)


class ConfidenceBasedEstimator:
    """Estimates a classifier's quality from its scores alone (CBPE; see the module docstring).

    Parameters
    ----------
    metrics : sequence of str, optional
        Any of ``accuracy, precision, recall, specificity, f1, roc_auc, average_precision``
        (default: all). Multiclass metrics are macro averages over classes.
    calibration : {"auto", "isotonic", "none"}, default="auto"
        ``"auto"``: isotonic calibration fitted on the reference when it lowers the held-out
        calibration error there (NannyML's rule); ``"isotonic"``: always; ``"none"``: the
        scores are taken as calibrated.
    threshold : float, default=0.5
        Binary models: the predicted label when none is given is ``score >= threshold``.
    draws : int, default=48
        Label draws behind the sampling errors of metrics without a closed form.
    bootstrap : int, default=12
        Calibration maps fitted to bootstrap replicates of the reference; the spread of a
        window's estimate over them is its reference error (0 to skip; scores used as they are
        have none).
    error_rows : int, default=1500
        The sampling and reference errors of a larger window are read from this many of its
        rows, drawn at random (the sampling error then scaled by ``sqrt(error_rows / n)``;
        accuracy's closed form always reads every row): a window's cost stops growing with
        its size.
    random_state : int, default=0
        Seed of those draws (the same window always gets the same errors).

    Attributes
    ----------
    classes_ : int
        Number of classes (2 for binary models).
    calibrators_ : list of IsotonicCalibrator or None
        Per class (binary: one, for the positive class), None where not calibrated.
    bootstraps_ : list of list of IsotonicCalibrator
        Per class, the maps of the bootstrap replicates (empty where not calibrated).
    n_reference_ : int
        Reference rows fitted on.

    Examples
    --------
    A calibrated binary classifier whose inputs shift towards uncertain scores, estimated
    without labels:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> def rows(n, shift):
    ...     logit = rng.normal(shift, 2.0, n)
    ...     score = 1 / (1 + np.exp(-logit))
    ...     return score, (rng.random(n) < score).astype(int)
    >>> score_ref, y_ref = rows(20_000, 2.0)
    >>> cbpe = ConfidenceBasedEstimator(metrics=["accuracy", "roc_auc"]).fit(y_ref, score_ref)
    >>> score, y = rows(5_000, 0.0)                 # shifted window, labels unknown
    >>> est = cbpe.estimate(score)
    >>> round(est["accuracy"].value, 3), round(est["accuracy"].sampling_error, 4)
    (0.78, 0.0055)
    >>> realized = float(np.mean((score >= 0.5) == y))
    >>> est["accuracy"].covers(realized)
    True

    Fitted once, it serialises to JSON-able data and back:

    >>> again = ConfidenceBasedEstimator.from_dict(cbpe.to_dict())
    >>> again.estimate(score)["roc_auc"].value == est["roc_auc"].value
    True
    """

    method = "cbpe"

    def __init__(self, metrics: Sequence[str] | None = None, *, calibration: str = "auto",
                 threshold: float = 0.5, draws: int = 48, bootstrap: int = 12,
                 error_rows: int = 1500, random_state: int = 0) -> None:
        self.metrics = metrics
        self.calibration = calibration
        self.threshold = threshold
        self.draws = draws
        self.bootstrap = bootstrap
        self.error_rows = error_rows
        self.random_state = random_state
        self.classes_: int = 0
        self.calibrators_: list[IsotonicCalibrator | None] = []
        self.bootstraps_: list[list[IsotonicCalibrator]] = []
        self.n_reference_: int = 0
        self._multiclass = False

    # --- parameters ------------------------------------------------------------------------------
    def _metric_names(self) -> list[str]:
        names = list(BINARY_METRICS if self.metrics is None else self.metrics)
        for m in names:
            check_option(m, "metrics", _OWNER, BINARY_METRICS)
        if not names:
            raise ValidationError(f"The 'metrics' parameter of {_OWNER} must not be empty.",
                                  code="invalid_parameter", loc=("metrics",))
        return list(dict.fromkeys(names))

    def _check_params(self) -> None:
        self._metric_names()
        check_option(self.calibration, "calibration", _OWNER, ("auto", "isotonic", "none"))
        check_probability(self.threshold, "threshold", _OWNER)
        check_int(self.draws, "draws", _OWNER, low=2)
        check_int(self.bootstrap, "bootstrap", _OWNER, low=0)
        check_int(self.error_rows, "error_rows", _OWNER, low=100)
        check_int(self.random_state, "random_state", _OWNER, low=0)

    # --- fitting ---------------------------------------------------------------------------------
    def fit(self, y_true: ArrayLike, y_score: ArrayLike,
            y_pred: ArrayLike | None = None) -> ConfidenceBasedEstimator:
        """Fit on a reference with labels.

        Parameters
        ----------
        y_true : array-like of shape (n,)
            True classes: 0/1 (binary) or class indices ``0 .. k-1`` (multiclass).
        y_score : array-like of shape (n,) or (n, k)
            Binary: probability of class 1; multiclass: one probability column per class.
        y_pred : array-like of shape (n,), optional
            Predicted classes (unused in fitting; checked for consistency).

        Returns
        -------
        self
        """
        self._check_params()
        s = _scores(y_score, "y_score")
        k = 2 if s.ndim == 1 else s.shape[1]
        if k < 2:
            raise ValidationError(f"The 'y_score' argument of {_OWNER} needs at least two "
                                  "class columns.", code="invalid_shape", loc=("y_score",))
        t = _labels(y_true, "y_true", k)
        yp = None if y_pred is None else _labels(y_pred, "y_pred", k)
        n = check_consistent_length([t, s, yp], ["y_true", "y_score", "y_pred"], _OWNER)
        if n == 0:
            raise ValidationError(f"{_OWNER}.fit needs reference rows. Got none.",
                                  code="empty_input", loc=("y_true",))
        columns = [s] if s.ndim == 1 else [s[:, c] for c in range(k)]
        targets = [t] if s.ndim == 1 else [(t == c).astype(np.intp) for c in range(k)]
        calibrators: list[IsotonicCalibrator | None] = []
        bootstraps: list[list[IsotonicCalibrator]] = []
        for c, (col, target) in enumerate(zip(columns, targets, strict=True)):
            wanted = self.calibration == "isotonic" or (
                self.calibration == "auto" and needs_calibration(target, col))
            calibrators.append(IsotonicCalibrator.fit(col, target) if wanted else None)
            bootstraps.append(IsotonicCalibrator.bootstrap(
                col, target, self.bootstrap, self.random_state + 1 + c) if wanted else [])
        self.classes_ = k if s.ndim == 2 else 2
        self.calibrators_ = calibrators
        self.bootstraps_ = bootstraps
        self.n_reference_ = n
        self._multiclass = s.ndim == 2
        return self

    @property
    def is_fitted(self) -> bool:
        return self.classes_ > 0

    @property
    def calibrated(self) -> bool:
        """Whether any score is calibrated (else the scores are used as they are)."""
        return any(c is not None for c in self.calibrators_)

    # --- estimating ------------------------------------------------------------------------------
    def calibrate(self, y_score: ArrayLike) -> NDArray[np.float64]:
        """The calibrated probabilities of ``y_score`` (multiclass rows sum to one)."""
        if not self.is_fitted:
            raise _not_fitted()
        return self._apply(self._checked(y_score), self.calibrators_)

    def _checked(self, y_score: ArrayLike) -> NDArray[np.float64]:
        s = _scores(y_score, "y_score")
        if not self._multiclass:
            if s.ndim != 1:
                raise ValidationError(f"{_OWNER} was fitted on a binary model: 'y_score' must "
                                      "be 1-dimensional.", code="invalid_shape", loc=("y_score",))
        elif s.ndim != 2 or s.shape[1] != self.classes_:
            raise ValidationError(
                f"{_OWNER} was fitted on {self.classes_} classes: 'y_score' must have shape "
                f"(n, {self.classes_}). Got {s.shape} instead.", code="invalid_shape",
                loc=("y_score",))
        return s

    def _apply(self, s: NDArray[np.float64],
               maps: Sequence[IsotonicCalibrator | None]) -> NDArray[np.float64]:
        if not self._multiclass:
            return maps[0].transform(s) if maps[0] is not None else s
        if s.shape[0] == 0:
            return s.copy()
        out = np.column_stack([cal.transform(s[:, c]) if cal is not None else s[:, c]
                               for c, cal in enumerate(maps)])
        total = out.sum(axis=1, keepdims=True)
        uniform = np.full_like(out, 1.0 / self.classes_)
        return np.divide(out, total, out=uniform, where=total != 0)

    def _replicates(self, s: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """The window's probabilities under each bootstrap calibration, ``(b, n[, k])``."""
        b = max((len(x) for x in self.bootstraps_), default=0)
        if b == 0:
            return None
        maps = [[boots[r] if boots else cal for boots, cal in zip(self.bootstraps_,
                                                                  self.calibrators_, strict=True)]
                for r in range(b)]
        return np.stack([self._apply(s, m) for m in maps])

    def estimate(self, y_score: ArrayLike, y_pred: ArrayLike | None = None) -> PerformanceEstimate:
        """Estimate the metrics of one window from its scores (and predicted labels).

        Parameters
        ----------
        y_score : array-like of shape (n,) or (n, k)
            The window's scores, as in :meth:`fit`.
        y_pred : array-like of shape (n,), optional
            Predicted classes; default ``score >= threshold`` (binary) or the class of the
            highest score (multiclass).

        Returns
        -------
        PerformanceEstimate
            Each metric with its sampling error (NaN with an
            :class:`~modelmon.exceptions.UndefinedMetricWarning` for an empty window).
        """
        names = self._metric_names()
        if not self.is_fitted:
            raise _not_fitted()
        raw = self._checked(y_score)
        prob = self._apply(raw, self.calibrators_)
        n = raw.shape[0]
        if y_pred is None:
            pred = (raw >= self.threshold).astype(np.intp) if raw.ndim == 1 \
                else np.argmax(raw, axis=1).astype(np.intp)
        else:
            pred = _labels(y_pred, "y_pred", self.classes_)
            check_consistent_length([raw, pred], ["y_score", "y_pred"], _OWNER)
        if n == 0:
            undefined(f"{_OWNER}.estimate got no rows: every estimate is NaN.")
            return PerformanceEstimate(self.method, 0, tuple(
                EstimatedMetric.make(m, math.nan, math.nan, 0) for m in names))
        seed = self.random_state
        # the errors are read from a random subset of a large window: the sampling error
        # shrinks as 1/sqrt(rows), the reference error does not depend on the rows' number
        sub = np.arange(n)
        if n > self.error_rows:
            sub = np.sort(np.random.default_rng(seed).choice(n, self.error_rows, replace=False))
        scale = math.sqrt(sub.size / n)
        raw_s, prob_s, pred_s = raw[sub], prob[sub], pred[sub]
        replicates = self._replicates(raw_s)
        spread: dict[str, float] = {m: 0.0 for m in names}
        if self._multiclass:
            values = multiclass_estimates(prob, raw, pred, names)
            errors = multiclass_sampling_errors(prob_s, raw_s, pred_s, names, draws=self.draws,
                                                seed=seed)
            exact = multiclass_sampling_errors(prob, raw, pred, ["accuracy"], draws=2, seed=seed) \
                if "accuracy" in names else {}
            if replicates is not None:
                batch = multiclass_estimates_batch(replicates, raw_s, pred_s, names)
                spread = {m: _spread(v) for m, v in batch.items()}
        else:
            values = binary_estimates(prob, pred == 1, raw, names)
            errors = binary_sampling_errors(prob_s, pred_s == 1, raw_s, names, draws=self.draws,
                                            seed=seed)
            exact = binary_sampling_errors(prob, pred == 1, raw, ["accuracy"], draws=2, seed=seed) \
                if "accuracy" in names else {}
            if replicates is not None:
                batch = binary_estimates_batch(replicates, pred_s == 1, raw_s, names)
                spread = {m: _spread(v) for m, v in batch.items()}
        errors = {m: exact.get(m, e * scale) for m, e in errors.items()}
        return PerformanceEstimate(self.method, n, tuple(
            EstimatedMetric.make(m, values[m], errors[m], n, spread[m]) for m in names))

    # --- serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (parameters and the fitted calibration maps)."""
        if not self.is_fitted:
            raise _not_fitted()
        return {"format": _FORMAT, "metrics": self._metric_names(),
                "calibration": self.calibration, "threshold": self.threshold,
                "draws": self.draws, "bootstrap": self.bootstrap,
                "error_rows": self.error_rows,
                "random_state": self.random_state,
                "classes": self.classes_, "multiclass": self._multiclass,
                "n_reference": self.n_reference_,
                "calibrators": [None if c is None else c.to_dict() for c in self.calibrators_],
                "bootstraps": [[c.to_dict() for c in boots] for boots in self.bootstraps_]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfidenceBasedEstimator:
        """Rebuild a fitted estimator from :meth:`to_dict`."""
        if data.get("format") != _FORMAT:
            raise ValidationError(f"Not a stored {_OWNER} (format {data.get('format')!r}).")
        est = cls(data["metrics"], calibration=data["calibration"],
                  threshold=float(data["threshold"]), draws=int(data["draws"]),
                  bootstrap=int(data.get("bootstrap", 0)),
                  error_rows=int(data.get("error_rows", 1500)),
                  random_state=int(data["random_state"]))
        est.classes_ = int(data["classes"])
        est._multiclass = bool(data["multiclass"])
        est.n_reference_ = int(data["n_reference"])
        est.calibrators_ = [None if c is None else IsotonicCalibrator.from_dict(c)
                            for c in data["calibrators"]]
        est.bootstraps_ = [[IsotonicCalibrator.from_dict(c) for c in boots]
                           for boots in data.get("bootstraps") or [[] for _ in est.calibrators_]]
        return est

    def __repr__(self) -> str:
        state = f", fitted on {self.n_reference_} rows" if self.is_fitted else ""
        return (f"{_OWNER}(metrics={self._metric_names()}, calibration={self.calibration!r}"
                f"{state})")

"""Direct loss estimation (DLE): a regression model's error without ground truth.

On the reference, where the truth is known, each row's loss (absolute error, squared error,
absolute percentage error) is computed, and a gradient-boosted model learns it from the row's
features and the model's prediction: how large the error tends to be *for rows like this one*.
A window's estimated MAE is then the mean predicted absolute error over its rows, its MSE the
mean predicted squared error, RMSE the square root of that, MAPE the mean predicted absolute
percentage error. When the inputs shift towards regions where the model errs more, the
estimate rises with them.

The loss model is one LightGBM tree ensemble (:mod:`modelmon._gbm` says why) grown
on the absolute error, with its leaf values fitted again for each loss (absolute, squared,
percentage) on the reference rows by the same L2 boosting (:mod:`modelmon.estimation._kernels`):
each loss gets the conditional *mean* of that loss over the same partition of the inputs, and a
window is read with one pass through the trees for all its metrics. NannyML fits one model per
metric (100 trees of 31 leaves each); one shared partition of 40 trees is about ten times cheaper
to fit and three times cheaper to apply, and ``docs/estimation.md`` compares the two on the
same data. Predictions below zero are clipped.

Sampling error: the realized MAE of a window is the mean of its rows' absolute errors, which
scatter around the model's prediction for each row. Their spread is taken to scale with the
predicted loss (a location-scale assumption: rows with twice the expected error have twice the
spread): ``var(loss_i) = c * pred_i^2``, with ``c = sum((loss - pred)^2) / sum(pred^2)``
measured on a fifth of the reference (at most 10,000 rows) held out from the model (measured on
the rows it learned from, ``c`` is far too small: trees chase the largest losses). The sampling
error is ``sqrt(c * sum(pred_i^2)) / n``; RMSE's follows from MSE's by the delta method.

Assumptions: the relation between inputs and the model's error is the one in the reference
(**no concept drift**), and the windows' inputs lie where the reference has rows (a tree model
predicts a constant beyond the reference's range, so errors that keep growing outside it are
underestimated).

References
----------
NannyML (2023). Direct loss estimation (DLE).
https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html
Ke, G. et al. (2017). LightGBM: a highly efficient gradient boosting decision tree. NeurIPS.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._features import FeatureEncoder
from modelmon._gbm import TreeArrays, grow_trees, tree_arrays
from modelmon._validation import (
    as_1d_float,
    check_consistent_length,
    check_int,
    check_option,
    check_real,
    undefined,
)
from modelmon.estimation.result import EstimatedMetric, PerformanceEstimate
from modelmon.exceptions import ValidationError
from modelmon.vocabulary import ESTIMATED, Task

__all__ = ["REGRESSION_METRICS", "DirectLossEstimator"]

_OWNER = "DirectLossEstimator"
_FORMAT = "modelmon.DirectLossEstimator/1"
#: Metrics a direct loss estimate gives, in report order (the shared vocabulary's).
REGRESSION_METRICS = ESTIMATED[Task.REGRESSION]
#: The per-row loss each metric is the mean of (RMSE is the square root of MSE's).
_LOSS = {"mae": "absolute", "mse": "squared", "rmse": "squared", "mape": "percentage"}


#: Reference rows held out to measure the losses' spread (at most), and histogram bins per
#: feature (losses are noisy: 63 bins lose nothing measurable and bin faster than 255).
_HELD_OUT, _MAX_BIN = 10_000, 63
_TREE_TYPES = {"root": np.int32, "feature": np.int32, "threshold": np.float64, "left": np.int32,
               "right": np.int32, "flags": np.int8, "start": np.int32, "count": np.int32,
               "categories": np.int32}


def _not_fitted() -> ValidationError:
    return ValidationError(
        f"This {_OWNER} instance is not fitted yet. Call 'fit' with reference data first.")


class DirectLossEstimator:
    """Estimates a regression model's MAE, MSE, RMSE and MAPE without labels (DLE; see the
    module docstring).

    Parameters
    ----------
    metrics : sequence of str, optional
        Any of ``mae, mse, rmse, mape`` (default: all).
    n_estimators : int, default=40
        Trees of the loss model.
    learning_rate : float, default=0.2
    num_leaves : int, default=31
    min_child_samples : int, default=20
        Fewest reference rows in a leaf.
    max_train_rows : int, default=20_000
        The model learns from at most this many reference rows (drawn at random); a fifth of
        the reference (at most 10,000 rows) is held out to measure the losses' spread.
    feature_types : mapping of str to {"numeric", "categorical"}, optional
        Overrides the inferred type of a feature (strings, categoricals and Booleans are
        categorical, everything else numeric).
    n_jobs : int, default=1
        Threads LightGBM uses.
    random_state : int, default=0

    Attributes
    ----------
    features_ : tuple of str
        The features the loss models read (besides the prediction).
    n_reference_ : int

    Examples
    --------
    A model whose error grows with ``x``; the window drifts towards large ``x``:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> def rows(n, centre):
    ...     x = rng.normal(centre, 1.0, n)
    ...     y_pred = 2 * x
    ...     return {"x": x}, y_pred, y_pred + rng.normal(0, 0.5 + 0.25 * np.abs(x), n)
    >>> features, y_pred, y_true = rows(20_000, 0.0)
    >>> dle = DirectLossEstimator(metrics=["mae", "rmse"]).fit(features, y_pred, y_true)
    >>> features, y_pred, y_true = rows(5_000, 1.5)
    >>> est = dle.estimate(features, y_pred)
    >>> realized = float(np.mean(np.abs(y_true - y_pred)))
    >>> round(est["mae"].value, 2), round(realized, 2), est["mae"].covers(realized)
    (0.71, 0.71, True)
    """

    method = "dle"

    def __init__(self, metrics: Sequence[str] | None = None, *, n_estimators: int = 40,
                 learning_rate: float = 0.2, num_leaves: int = 31, min_child_samples: int = 20,
                 max_train_rows: int = 20_000, feature_types: Mapping[str, str] | None = None,
                 n_jobs: int = 1, random_state: int = 0) -> None:
        self.metrics = metrics
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_train_rows = max_train_rows
        self.feature_types = feature_types
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.features_: tuple[str, ...] = ()
        self.n_reference_ = 0
        self._encoder: FeatureEncoder | None = None
        self._trees: TreeArrays = {}
        self._losses: tuple[str, ...] = ()
        self._init: NDArray[np.float64] = np.empty(0)
        self._values: NDArray[np.float64] = np.empty((0, 0, 0))
        self._spread: dict[str, float] = {}

    # --- parameters ------------------------------------------------------------------------------
    def _metric_names(self) -> list[str]:
        names = list(REGRESSION_METRICS if self.metrics is None else self.metrics)
        for m in names:
            check_option(m, "metrics", _OWNER, REGRESSION_METRICS)
        if not names:
            raise ValidationError(f"The 'metrics' parameter of {_OWNER} must not be empty.",
                                  code="invalid_parameter", loc=("metrics",))
        return list(dict.fromkeys(names))

    def _params(self) -> dict[str, Any]:
        check_int(self.n_estimators, "n_estimators", _OWNER, low=1)
        check_real(self.learning_rate, "learning_rate", _OWNER, low=0.0, closed="neither")
        check_int(self.num_leaves, "num_leaves", _OWNER, low=2)
        check_int(self.min_child_samples, "min_child_samples", _OWNER, low=1)
        check_int(self.max_train_rows, "max_train_rows", _OWNER, low=2)
        check_int(self.n_jobs, "n_jobs", _OWNER, low=1)
        check_int(self.random_state, "random_state", _OWNER, low=0)
        return {"objective": "regression", "learning_rate": float(self.learning_rate),
                "num_leaves": int(self.num_leaves), "min_data_in_leaf": int(self.min_child_samples),
                "num_threads": int(self.n_jobs), "seed": int(self.random_state),
                "deterministic": True, "force_row_wise": True, "verbose": -1}

    # --- fitting ---------------------------------------------------------------------------------
    def fit(self, features: Any, y_pred: ArrayLike, y_true: ArrayLike) -> DirectLossEstimator:
        """Fit the loss models on a reference with the truth.

        Parameters
        ----------
        features : pandas/polars DataFrame, pyarrow Table or dict of arrays
            The model's input features (every column is used).
        y_pred : array-like of shape (n,)
            The model's predictions.
        y_true : array-like of shape (n,)
            The true values.

        Returns
        -------
        self
        """
        names = self._metric_names()
        params = self._params()
        pred = as_1d_float(y_pred, "y_pred", _OWNER)
        true = as_1d_float(y_true, "y_true", _OWNER)
        encoder, x = FeatureEncoder.fit(features, _OWNER, self.feature_types)
        n = check_consistent_length([x, pred, true], ["features", "y_pred", "y_true"], _OWNER)
        if n < 5 * self.min_child_samples:
            raise ValidationError(
                f"{_OWNER}.fit needs at least {5 * self.min_child_samples} reference rows "
                f"(five times min_child_samples). Got {n}.", code="empty_input",
                loc=("y_true",))
        matrix = np.column_stack([x, pred])
        error = true - pred
        wanted = {_LOSS[m] for m in names}
        losses = tuple(loss for loss in ("absolute", "squared", "percentage") if loss in wanted)
        targets = np.zeros((n, len(losses)))
        weights = np.ones((n, len(losses)))
        for c, loss in enumerate(losses):
            if loss == "absolute":
                targets[:, c] = np.abs(error)
            elif loss == "squared":
                targets[:, c] = error * error
            else:  # as the realized MAPE: rows with a true value of 0 are left out
                nonzero = true != 0
                if nonzero.sum() < 2 * self.min_child_samples:
                    raise ValidationError(f"{_OWNER} cannot learn MAPE: almost every true "
                                          "value is 0.", loc=("y_true",))
                targets[nonzero, c] = np.abs(error[nonzero]) / np.abs(true[nonzero])
                weights[:, c] = nonzero
        # a fifth of the rows (at most 10,000) is held out: the losses' spread around the
        # model is measured on rows it did not learn from (in-sample it is far too small: the
        # trees chase the largest losses)
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(n)
        held = order[: min(n // 5, _HELD_OUT)]
        learn = order[held.size:]
        if learn.size > self.max_train_rows:
            learn = learn[: self.max_train_rows]
        learn = np.sort(learn)
        grow_on = np.abs(error) if "absolute" in losses else targets[:, 0]
        booster = grow_trees(matrix[learn], grow_on[learn],
                             categorical=encoder.categorical_indices, params=params,
                             rounds=int(self.n_estimators), max_bin=_MAX_BIN)
        from modelmon.estimation._kernels import refit_leaves, tree_leaves, tree_sums

        trees = tree_arrays(booster)

        w_learn = weights[learn]
        init = (targets[learn] * w_learn).sum(axis=0) / w_learn.sum(axis=0)
        values, _ = refit_leaves(
            tree_leaves(np.ascontiguousarray(matrix[learn]), **trees),
            targets[learn], w_learn, init, float(self.learning_rate), int(self.num_leaves))
        predicted = np.maximum(
            tree_sums(np.ascontiguousarray(matrix[held]), **trees, values=values, init=init), 0.0)
        spread: dict[str, float] = {}
        for c, loss in enumerate(losses):
            keep = weights[held, c] > 0
            fitted, actual = predicted[keep, c], targets[held][keep, c]
            denom = float(np.sum(fitted * fitted))
            spread[loss] = float(np.sum((actual - fitted) ** 2) / denom) if denom > 0 \
                else math.nan
        self._encoder = encoder
        self.features_ = encoder.names
        self._trees = trees
        self._losses = losses
        self._init = init
        self._values = values
        self._spread = spread
        self.n_reference_ = n
        return self

    @property
    def is_fitted(self) -> bool:
        return self._encoder is not None

    # --- estimating ------------------------------------------------------------------------------
    def row_losses(self, features: Any, y_pred: ArrayLike) -> dict[str, NDArray[np.float64]]:
        """Each row's predicted loss: ``{"absolute" | "squared" | "percentage": array}``."""
        if self._encoder is None:
            raise _not_fitted()
        pred = as_1d_float(y_pred, "y_pred", _OWNER)
        x = self._encoder.transform(features, _OWNER)
        check_consistent_length([x, pred], ["features", "y_pred"], _OWNER)
        from modelmon.estimation._kernels import tree_sums

        sums = np.maximum(tree_sums(np.column_stack([x, pred]), **self._trees,
                                    values=self._values, init=self._init), 0.0)
        return {loss: sums[:, c] for c, loss in enumerate(self._losses)}

    def estimate(self, features: Any, y_pred: ArrayLike) -> PerformanceEstimate:
        """Estimate the metrics of one window from its features and predictions.

        Returns
        -------
        PerformanceEstimate
            Each metric with its sampling error (NaN with an
            :class:`~modelmon.exceptions.UndefinedMetricWarning` for an empty window).
        """
        names = self._metric_names()
        rows = self.row_losses(features, y_pred)
        n = next(iter(rows.values())).size if rows else 0
        if n == 0:
            undefined(f"{_OWNER}.estimate got no rows: every estimate is NaN.")
            return PerformanceEstimate(self.method, 0, tuple(
                EstimatedMetric.make(m, math.nan, math.nan, 0) for m in names))
        out = []
        for m in names:
            loss = rows[_LOSS[m]]
            mean = float(loss.mean())
            se = math.sqrt(self._spread[_LOSS[m]] * float(np.sum(loss * loss))) / n
            if m == "rmse":
                value = math.sqrt(mean)
                se = se / (2 * value) if value > 0 else math.nan
            else:
                value = mean
            out.append(EstimatedMetric.make(m, value, se, n))
        return PerformanceEstimate(self.method, n, tuple(out))

    # --- serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able state: parameters, the feature encoding, the trees (as arrays: reading them
        needs no LightGBM) and each loss's leaf values."""
        if self._encoder is None:
            raise _not_fitted()
        return {"format": _FORMAT, "metrics": self._metric_names(),
                "params": {"n_estimators": self.n_estimators, "learning_rate": self.learning_rate,
                           "num_leaves": self.num_leaves,
                           "min_child_samples": self.min_child_samples,
                           "max_train_rows": self.max_train_rows, "n_jobs": self.n_jobs,
                           "random_state": self.random_state},
                "feature_types": dict(self.feature_types or {}),
                "encoder": self._encoder.to_dict(), "n_reference": self.n_reference_,
                "losses": list(self._losses), "init": self._init.tolist(),
                "values": self._values.tolist(), "spread": dict(self._spread),
                "trees": {k: v.tolist() for k, v in self._trees.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DirectLossEstimator:
        """Rebuild a fitted estimator from :meth:`to_dict`."""
        if data.get("format") != _FORMAT:
            raise ValidationError(f"Not a stored {_OWNER} (format {data.get('format')!r}).")
        est = cls(data["metrics"], feature_types=data.get("feature_types") or None,
                  **data["params"])
        est._encoder = FeatureEncoder.from_dict(data["encoder"])
        est.features_ = est._encoder.names
        est.n_reference_ = int(data["n_reference"])
        est._losses = tuple(data["losses"])
        est._init = np.asarray(data["init"], dtype=np.float64)
        est._values = np.ascontiguousarray(data["values"], dtype=np.float64)
        est._spread = {k: float(v) for k, v in data["spread"].items()}
        est._trees = {k: np.asarray(v, dtype=_TREE_TYPES[k])
                      for k, v in data["trees"].items()}
        return est

    def __repr__(self) -> str:
        state = f", fitted on {self.n_reference_} rows" if self.is_fitted else ""
        return f"{_OWNER}(metrics={self._metric_names()}{state})"

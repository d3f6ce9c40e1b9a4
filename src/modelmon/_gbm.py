"""The gradient-boosting library behind direct loss estimation (and the optional domain-classifier
drift test): LightGBM, imported lazily.

Why LightGBM (see ``docs/estimation.md``): it is what NannyML's DLE uses, so the two are
comparable tree for tree; it is maintained by Microsoft with wheels for every platform and
depends only on NumPy and SciPy; it handles missing values and categorical codes natively, grows
histogram trees fast, and reads a window's leaf indices in one call; and a fitted model
serialises to LightGBM's own text format (no pickle), which is what the reference profile
stores. Only :class:`~modelmon.estimation.DirectLossEstimator` and
:class:`~modelmon.drift.DomainClassifierDrift` use it, and only when they fit or load a model:
``import modelmon`` and the rest of the numerical core never load it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["classifier_scores", "grow_trees", "leaf_indices", "lightgbm", "load_booster"]


def lightgbm() -> Any:
    """The ``lightgbm`` module (a clear error when it is not installed)."""
    try:
        import lightgbm as lgb
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise ImportError("direct loss estimation needs LightGBM: pip install lightgbm") from exc
    return lgb


def grow_trees(x: NDArray[np.float64], y: NDArray[np.float64], *, categorical: Sequence[int],
               params: Mapping[str, Any], rounds: int) -> Any:
    """A LightGBM regression ensemble of ``rounds`` trees fitted to ``y``."""
    lgb = lightgbm()
    data = lgb.Dataset(x, label=y, categorical_feature=list(categorical),
                       params={"verbose": -1, "feature_pre_filter": False})
    return lgb.train(dict(params), data, num_boost_round=rounds)


def leaf_indices(booster: Any, x: NDArray[np.float64], threads: int) -> NDArray[np.int32]:
    """The leaf each row reaches in every tree, ``(n, trees)``."""
    if x.shape[0] == 0:
        return np.empty((0, booster.num_trees()), dtype=np.int32)
    leaves = booster.predict(x, pred_leaf=True, num_threads=threads)
    return np.ascontiguousarray(leaves, dtype=np.int32)


def load_booster(text: str) -> Any:
    """A booster from LightGBM's text model format."""
    return lightgbm().Booster(model_str=text)


def classifier_scores(x: NDArray[np.float64], y: NDArray[np.int64], *, folds: int,
                      categorical: Sequence[int], params: Mapping[str, Any], rounds: int,
                      seed: int) -> NDArray[np.float64]:
    """Out-of-fold scores of a LightGBM binary classifier (stratified folds, seeded)."""
    lgb = lightgbm()
    rng = np.random.default_rng(seed)
    fold = np.empty(y.size, dtype=np.int64)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        fold[rng.permutation(idx)] = np.arange(idx.size) % folds
    scores = np.empty(y.size)
    full = {"objective": "binary", "verbose": -1, **params}
    for k in range(folds):
        test = fold == k
        data = lgb.Dataset(x[~test], label=y[~test], categorical_feature=list(categorical),
                           params={"verbose": -1, "feature_pre_filter": False})
        booster = lgb.train(full, data, num_boost_round=rounds)
        scores[test] = booster.predict(x[test], num_threads=int(params.get("num_threads", 1)))
    return scores

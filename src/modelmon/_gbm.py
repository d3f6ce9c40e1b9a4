"""The gradient-boosting library behind direct loss estimation (and the optional domain-classifier
drift test): LightGBM, imported lazily.

Why LightGBM (see ``docs/estimation.md``): it is what NannyML's DLE uses, so the two are
comparable tree for tree; it is maintained by Microsoft with wheels for every platform and
depends only on NumPy and SciPy; it handles missing values and categorical codes natively and
grows histogram trees fast. Its trees are read out into flat arrays (:func:`tree_arrays`): the
reference profile stores those (JSON, no pickle) and a compiled kernel walks them by LightGBM's
own decision rules, so applying a fitted model needs no LightGBM at all. Only :class:`~modelmon.estimation.DirectLossEstimator` and
:class:`~modelmon.drift.DomainClassifierDrift` use it, and only when they fit or load a model:
``import modelmon`` and the rest of the numerical core never load it, nor does reading a stored
estimator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["TreeArrays", "classifier_scores", "grow_trees", "leaf_indices", "lightgbm",
           "tree_arrays"]


def lightgbm() -> Any:
    """The ``lightgbm`` module (a clear error when it is not installed)."""
    try:
        import lightgbm as lgb
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise ImportError("direct loss estimation needs LightGBM: pip install lightgbm") from exc
    return lgb


def grow_trees(x: NDArray[np.float64], y: NDArray[np.float64], *, categorical: Sequence[int],
               params: Mapping[str, Any], rounds: int, max_bin: int = 255) -> Any:
    """A LightGBM regression ensemble of ``rounds`` trees fitted to ``y`` (each feature binned
    into at most ``max_bin`` histogram bins)."""
    lgb = lightgbm()
    data = lgb.Dataset(x, label=y, categorical_feature=list(categorical),
                       params={"verbose": -1, "feature_pre_filter": False, "max_bin": max_bin})
    return lgb.train(dict(params), data, num_boost_round=rounds)


def leaf_indices(booster: Any, x: NDArray[np.float64], threads: int) -> NDArray[np.int32]:
    """The leaf each row reaches in every tree, ``(n, trees)``."""
    if x.shape[0] == 0:
        return np.empty((0, booster.num_trees()), dtype=np.int32)
    leaves = booster.predict(x, pred_leaf=True, num_threads=threads)
    return np.ascontiguousarray(leaves, dtype=np.int32)


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


#: Node flags of :class:`TreeArrays`.
DEFAULT_LEFT, MISSING_ZERO, MISSING_NAN, CATEGORICAL = 1, 2, 4, 8

TreeArrays = dict[str, NDArray[Any]]


def tree_arrays(booster: Any) -> TreeArrays:
    """A fitted LightGBM ensemble as flat arrays (read by :mod:`modelmon.estimation._kernels`
    without LightGBM, and stored as JSON lists), read from LightGBM's text model format.

    ``root[t]``: the first node of tree ``t`` (or ``-(leaf + 1)`` for a tree of one leaf); per
    node: ``feature``, ``threshold``, ``left``/``right`` (a node, or ``-(leaf + 1)``),
    ``flags`` (default-left, missing type, categorical) and, for categorical splits, the
    categories sent left: ``categories[start[node]:start[node] + count[node]]``. LightGBM's own
    decision rules (``tree.h``: ``NumericalDecision``, ``CategoricalDecision``) apply; a test
    checks every row's leaves against ``predict(pred_leaf=True)``.
    """
    trees: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in booster.model_to_string().splitlines():
        if line.startswith("Tree="):
            current = {}
            trees.append(current)
        elif current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key] = value
        elif line.startswith("end of trees"):
            break
    parts: dict[str, list[NDArray[Any]]] = {k: [] for k in (
        "feature", "threshold", "left", "right", "flags", "start", "count")}
    categories: list[int] = []
    root: list[int] = []
    offset = 0
    for tree in trees:
        if int(tree["num_leaves"]) < 2:
            root.append(-1)
            continue
        feature = np.array(tree["split_feature"].split(), dtype=np.int32)
        threshold = np.array(tree["threshold"].split(), dtype=np.float64)
        decision = np.array(tree["decision_type"].split(), dtype=np.int64)
        left = np.array(tree["left_child"].split(), dtype=np.int32)
        right = np.array(tree["right_child"].split(), dtype=np.int32)
        left = np.where(left >= 0, left + offset, left).astype(np.int32)
        right = np.where(right >= 0, right + offset, right).astype(np.int32)
        categorical = (decision & 1) != 0
        missing = (decision >> 2) & 3  # 0: none, 1: zero, 2: NaN
        flags = (np.where((decision & 2) != 0, DEFAULT_LEFT, 0)
                 | np.where(missing == 1, MISSING_ZERO, 0)
                 | np.where(missing == 2, MISSING_NAN, 0)
                 | np.where(categorical, CATEGORICAL, 0)).astype(np.int8)
        start = np.zeros(feature.size, dtype=np.int32)
        count = np.zeros(feature.size, dtype=np.int32)
        if categorical.any():
            bounds = np.array(tree["cat_boundaries"].split(), dtype=np.int64)
            words = np.array(tree["cat_threshold"].split(), dtype=np.uint64)
            for node in np.flatnonzero(categorical):
                k = int(threshold[node])
                chunk = words[bounds[k]:bounds[k + 1]]
                bits = [32 * w + b for w, word in enumerate(chunk.tolist()) for b in range(32)
                        if word >> b & 1]
                start[node], count[node] = len(categories), len(bits)
                categories.extend(bits)
                threshold[node] = 0.0
        for key, values in (("feature", feature), ("threshold", threshold), ("left", left),
                            ("right", right), ("flags", flags), ("start", start),
                            ("count", count)):
            parts[key].append(values)
        root.append(offset)
        offset += feature.size
    types = {"feature": np.int32, "threshold": np.float64, "left": np.int32, "right": np.int32,
             "flags": np.int8, "start": np.int32, "count": np.int32}
    out: TreeArrays = {"root": np.asarray(root, np.int32)}
    for key, kind in types.items():
        out[key] = np.concatenate(parts[key]).astype(kind) if parts[key] else np.empty(0, kind)
    out["categories"] = np.asarray(categories, np.int32)
    return out

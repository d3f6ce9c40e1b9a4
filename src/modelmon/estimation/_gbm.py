"""The gradient-boosting library behind direct loss estimation: LightGBM, imported lazily.

Why LightGBM (see ``docs/estimation.md``): it is what NannyML's DLE uses, so the two are
comparable tree for tree; it is maintained by Microsoft with wheels for every platform and
depends only on NumPy and SciPy; it handles missing values and categorical codes natively, grows
histogram trees fast, and reads a window's leaf indices in one call; and a fitted model
serialises to LightGBM's own text format (no pickle), which is what the reference profile
stores. Nothing else in modelmon imports it, and only when a loss model is fitted or loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["grow_trees", "leaf_indices", "lightgbm", "load_booster"]


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

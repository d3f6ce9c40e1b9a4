"""Generated data with known drift, shared by the drift benchmarks and the peer-library runners.

25 features: 20 numeric (``num_00`` .. ``num_19``, several distribution shapes, one with heavy
ties) and 5 categorical (``cat_0`` .. ``cat_4``, strings). The current frame drifts in a known
subset, listed by :data:`DRIFTING`; every other feature is drawn from the same distribution as in
the reference (a different random draw, so sampling noise is real).
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
FEATURES = NUMERIC + CATEGORICAL

#: Features whose distribution differs between reference and current, with the kind of change.
DRIFTING: dict[str, str] = {
    "num_00": "mean shift of 0.5 standard deviations",
    "num_03": "scale x1.6",
    "num_07": "lognormal tail heavier (sigma 0.5 -> 0.8)",
    "num_12": "mixture weights change (bimodal 0.8/0.2 -> 0.5/0.5)",
    "num_17": "Poisson rate 3 -> 4 (integer values, heavy ties)",
    "cat_1": "category proportions shift",
    "cat_3": "a new category appears in 20% of rows",
}
STABLE = [f for f in FEATURES if f not in DRIFTING]

_CAT_LEVELS = {
    "cat_0": (["red", "green", "blue"], [0.5, 0.3, 0.2]),
    "cat_1": (["web", "ios", "android", "api"], [0.4, 0.3, 0.2, 0.1]),
    "cat_2": ([f"region_{i}" for i in range(12)], None),
    "cat_3": (["basic", "plus", "premium"], [0.6, 0.3, 0.1]),
    "cat_4": (["yes", "no"], [0.7, 0.3]),
}


def _numeric(name: str, n: int, rng: np.random.Generator, drifted: bool) -> np.ndarray:
    i = int(name[-2:])
    kind = i % 5
    if name == "num_00":
        return rng.normal(0.5 if drifted else 0.0, 1.0, n)
    if name == "num_03":
        return rng.normal(10.0, 3.2 if drifted else 2.0, n)
    if name == "num_07":
        return rng.lognormal(1.0, 0.8 if drifted else 0.5, n)
    if name == "num_12":
        w = 0.5 if drifted else 0.8
        comp = rng.random(n) < w
        return np.where(comp, rng.normal(0, 1, n), rng.normal(4, 1, n))
    if name == "num_17":
        return rng.poisson(4.0 if drifted else 3.0, n).astype(np.float64)
    if kind == 0:
        return rng.normal(i, 1 + i / 10, n)
    if kind == 1:
        return rng.exponential(1 + i / 5, n)
    if kind == 2:
        return rng.uniform(-i, i + 1, n)
    if kind == 3:
        return rng.gamma(2.0, 1 + i / 10, n)
    return rng.poisson(5, n).astype(np.float64)


def _categorical(name: str, n: int, rng: np.random.Generator, drifted: bool) -> np.ndarray:
    levels, p = _CAT_LEVELS[name]
    levels = list(levels)
    if drifted and name == "cat_1":
        p = [0.25, 0.25, 0.3, 0.2]
    if drifted and name == "cat_3":
        levels = [*levels, "enterprise"]
        p = [0.48, 0.24, 0.08, 0.2]
    return np.asarray(levels)[rng.choice(len(levels), size=n, p=p)]


def make_frames(n: int, *, seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Return ``(reference, current)`` as dicts of NumPy arrays with ``n`` rows each."""
    rng = np.random.default_rng(seed)
    ref: dict[str, np.ndarray] = {}
    cur: dict[str, np.ndarray] = {}
    for name in NUMERIC:
        ref[name] = _numeric(name, n, rng, False)
        cur[name] = _numeric(name, n, rng, name in DRIFTING)
    for name in CATEGORICAL:
        ref[name] = _categorical(name, n, rng, False)
        cur[name] = _categorical(name, n, rng, name in DRIFTING)
    return ref, cur


def to_pandas(frame: dict[str, np.ndarray]) -> Any:
    """The same frame as a pandas DataFrame (strings as pandas' default string dtype)."""
    import pandas as pd

    return pd.DataFrame(frame)


def input_nbytes(frame: dict[str, np.ndarray]) -> int:
    """Bytes of the NumPy arrays of a frame (the 'input size' for memory targets)."""
    return int(sum(a.nbytes for a in frame.values()))

"""Hypothesis strategies shared by the metric tests: labels, tied scores, weights."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

TOL = {"rtol": 1e-9, "atol": 1e-9}

# Weights with zeros, fractions and repeats: exercise weighting without extreme ranges.
WEIGHT_VALUES = [0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 7.25]


def close(a: float, b: float) -> bool:
    """Equal to 1e-9 (relative or absolute), NaN equal to NaN."""
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float | np.floating) and math.isnan(b)
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


@st.composite
def label_pairs(
    draw: st.DrawFn, *, n_classes: int = 3, min_size: int = 1, max_size: int = 40
) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(min_size, max_size))
    k = draw(st.integers(1, n_classes))
    elems = st.integers(0, k - 1)
    y_true = np.array(draw(st.lists(elems, min_size=n, max_size=n)), dtype=np.int64)
    y_pred = np.array(draw(st.lists(elems, min_size=n, max_size=n)), dtype=np.int64)
    return y_true, y_pred


@st.composite
def weights(draw: st.DrawFn, n: int, *, allow_none: bool = True) -> np.ndarray | None:
    """None or weights with at least one positive entry (scikit-learn rejects all-zero ones)."""
    if allow_none and draw(st.booleans()):
        return None
    w = np.array(draw(st.lists(st.sampled_from(WEIGHT_VALUES), min_size=n, max_size=n)))
    if n and not w.any():
        w[draw(st.integers(0, n - 1))] = 1.0
    return w


@st.composite
def scores(draw: st.DrawFn, n: int, *, probability: bool = True) -> np.ndarray:
    """Scores with many ties (a coarse grid) or continuous values."""
    if draw(st.booleans()):
        grid = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
        return np.array(draw(st.lists(grid, min_size=n, max_size=n)))
    lo, hi = (0.0, 1.0) if probability else (-50.0, 50.0)
    values = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    return np.array(draw(st.lists(values, min_size=n, max_size=n)))


@st.composite
def binary_scored(
    draw: st.DrawFn, *, min_size: int = 2, max_size: int = 50, both_classes: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    n = draw(st.integers(min_size, max_size))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int64)
    if both_classes:
        y[0], y[-1] = 0, 1
    s = draw(scores(n))
    w = draw(weights(n))
    if w is not None and both_classes:
        w[0], w[-1] = 1.0, 1.0
    return y, s, w


@st.composite
def probability_matrix(draw: st.DrawFn, n: int, k: int) -> np.ndarray:
    raw = np.array(
        draw(
            st.lists(
                st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 5.0]), min_size=n * k, max_size=n * k
            )
        )
    ).reshape(n, k)
    raw[:, 0] += 0.5  # no all-zero rows
    return raw / raw.sum(axis=1, keepdims=True)


@st.composite
def regression_pairs(
    draw: st.DrawFn, *, min_size: int = 1, max_size: int = 40
) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(min_size, max_size))
    values = st.one_of(
        st.integers(-20, 20).map(float),
        st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
    )
    y_true = np.array(draw(st.lists(values, min_size=n, max_size=n)))
    y_pred = np.array(draw(st.lists(values, min_size=n, max_size=n)))
    return y_true, y_pred


def any_warning(record: list[Any], category: type[Warning]) -> bool:
    return any(issubclass(w.category, category) for w in record)

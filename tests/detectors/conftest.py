"""Seeded streams shared by the detector tests, and helpers to run River side by side."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from modelmon.detectors import DriftDetector


def _segments(rng: np.random.Generator, draw: Callable[..., Any], params: list[Any], size: int):
    return np.concatenate([draw(p, size) for p in params])


def make_stream(name: str, seed: int) -> np.ndarray:
    """A seeded stream; binary streams are 0/1 floats (1 = error)."""
    rng = np.random.default_rng(seed)

    def bernoulli(p: Any, size: int) -> np.ndarray:
        return (rng.random(size) < p).astype(np.float64)

    def normal(mean: Any, size: int) -> np.ndarray:
        return rng.normal(mean, 1.0, size)

    if name == "bernoulli_abrupt":
        return _segments(rng, bernoulli, [0.1, 0.4], 2000)
    if name == "bernoulli_gradual":
        p = np.concatenate([np.full(2000, 0.1), np.linspace(0.1, 0.5, 2000), np.full(2000, 0.5)])
        return bernoulli(p, 6000)
    if name == "bernoulli_multi":  # several changes: exercises the reset after each detection
        return _segments(rng, bernoulli, [0.05, 0.3, 0.1, 0.5, 0.2, 0.02], 1500)
    if name == "bernoulli_decrease":
        return _segments(rng, bernoulli, [0.4, 0.1], 2500)
    if name == "bernoulli_stationary_long":
        return bernoulli(0.2, 100_000)
    if name == "normal_abrupt":
        return _segments(rng, normal, [0.0, 1.0], 2000)
    if name == "normal_gradual":
        mean = np.concatenate([np.zeros(2000), np.linspace(0.0, 2.0, 2000), np.full(2000, 2.0)])
        return normal(mean, 6000)
    if name == "normal_multi":
        return np.concatenate(
            [
                _segments(rng, normal, [0.0, 2.0, -1.0, 1.0, 3.0], 1000),
                rng.normal(3.0, 4.0, 1000),  # variance change
            ]
        )
    if name == "integers":  # heavy ties (matters for KSWIN)
        return np.concatenate([rng.integers(0, 5, 1500), rng.integers(1, 7, 1500)]).astype(float)
    if name == "normal_stationary_long":
        return normal(0.0, 100_000)
    raise KeyError(name)


@pytest.fixture(scope="session")
def stream() -> Callable[[str, int], np.ndarray]:
    """``stream(name, seed)``: see :func:`make_stream`."""
    return make_stream


def river_positions(detector: Any, values: np.ndarray) -> tuple[list[int], list[int]]:
    """Drift and warning positions of a River detector fed ``values`` one at a time."""
    has_warning = hasattr(detector, "warning_detected")
    drifts: list[int] = []
    warnings: list[int] = []
    for i, x in enumerate(values.tolist()):
        detector.update(x)
        if detector.drift_detected:
            drifts.append(i)
        if has_warning and detector.warning_detected:
            warnings.append(i)
    return drifts, warnings


@pytest.fixture(scope="session")
def river_run() -> Callable[[Any, np.ndarray], tuple[list[int], list[int]]]:
    """``river_run(detector, values)``: see :func:`river_positions`."""
    return river_positions


def state_arrays(detector: DriftDetector) -> dict[str, np.ndarray]:
    """Every state array of a detector (scratch buffers excluded), by attribute name."""
    scratch = {"_cuts", "_scratch", "_one_value"}
    out: dict[str, np.ndarray] = {}
    for name, value in vars(detector).items():
        if name in scratch:
            continue
        if isinstance(value, np.ndarray):
            out[name] = value
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, np.ndarray):
                    out[f"{name}[{i}]"] = item
    return out


@pytest.fixture(scope="session")
def states() -> Callable[[DriftDetector], dict[str, np.ndarray]]:
    """``states(detector)``: see :func:`state_arrays`."""
    return state_arrays

"""Simulated models for performance estimation: covariate shift with and without concept drift.

Each simulator returns a reference and a list of windows (plain NumPy columns) from a model
whose inputs drift window after window. The inputs are a mixture of two populations: ``A``,
where the model is good, and ``B`` (low ``x1``, high ``x2``, mostly category ``c``), where it is
worse. The reference holds 15 % of ``B``; the windows' share of ``B`` ramps up to ``shift``
(85 % by default): a covariate shift that stays inside the reference's range, the case the
estimators are made for. ``beyond`` moves ``x1`` of every window further down by that many
standard deviations *past* the reference's range on top of it: trees predict a constant there,
so this measures how the estimates fail when the windows leave the reference (``docs/estimation.md``).

Without concept drift the outcome depends on the inputs exactly as in the reference, so a
correct estimator's band must cover the realized metric; with ``concept_at=k`` the relation
changes from window ``k`` on, which estimation alone cannot see (the realized-vs-estimated gap
must show it).

- :func:`binary`: a logistic model whose scores are *not* calibrated (the outcome's probability
  is ``score ** 1.6``), so the estimator must calibrate. Concept drift: the outcome's dependence
  on ``x1`` weakens.
- :func:`multiclass`: three classes, softmax scores (calibrated). Concept drift: classes 1 and 2
  swap for the rows of category ``c``.
- :func:`regression`: a model whose error grows with ``|x1|`` and with category ``b``, and that
  misses a curvature in ``x2``. Concept drift: the noise doubles.

Used by ``benchmarks/bench_estimation.py`` (coverage, equality with NannyML, speed) and by
``tests/estimation``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["REFERENCE_SHARE", "Simulated", "Window", "binary", "multiclass", "regression", "shift_schedule"]


@dataclass
class Window:
    """One window's columns: ``features`` (name -> array), the model's outputs and the truth."""

    features: dict[str, NDArray[Any]]
    y_true: NDArray[Any]
    y_pred: NDArray[Any]
    score: NDArray[np.float64] | None = None
    shift: float = 0.0
    concept: bool = False


@dataclass
class Simulated:
    """A reference and its windows."""

    name: str
    task: str
    reference: Window
    windows: list[Window] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)


#: Share of population ``B`` in the reference (and in the first windows).
REFERENCE_SHARE = 0.15


def shift_schedule(windows: int, top: float) -> NDArray[np.float64]:
    """Share of ``B`` per window: the reference's for the first fifth, then a ramp to ``top``,
    kept to the end."""
    steady = max(1, windows // 5)
    ramp = np.linspace(REFERENCE_SHARE, top, max(windows - 2 * steady, 1))
    rest = max(windows - steady - ramp.size, 0)
    return np.r_[np.full(steady, REFERENCE_SHARE), ramp, np.full(rest, top)][:windows]


def _inputs(rng: np.random.Generator, n: int, share: float, beyond: float = 0.0
            ) -> dict[str, NDArray[Any]]:
    b = rng.random(n) < share
    x1 = np.where(b, rng.normal(-1.5, 0.8, n), rng.normal(0.5, 1.0, n)) - beyond
    x2 = np.where(b, rng.normal(1.0, 1.2, n), rng.normal(0.0, 1.0, n))
    x3 = rng.normal(0.0, 1.0, n)
    u = rng.random(n)
    c = np.where(b, np.where(u < 0.2, "a", np.where(u < 0.5, "b", "c")),
                 np.where(u < 0.6, "a", np.where(u < 0.9, "b", "c")))
    return {"x1": x1, "x2": x2, "x3": x3, "c": c}


def binary(*, n_reference: int = 30_000, windows: int = 40, rows: int = 2_000, shift: float = 0.85,
           beyond: float = 0.0, concept_at: int | None = None, seed: int = 0) -> Simulated:
    """A binary classifier (see the module docstring)."""
    rng = np.random.default_rng(seed)

    def window(n: int, s: float, concept: bool, past: float = 0.0) -> Window:
        f = _inputs(rng, n, s, past)
        logit = 1.4 * f["x1"] - 0.9 * f["x2"] + 0.5 * f["x3"] + 0.8 * (f["c"] == "c") + 0.3
        score = 1.0 / (1.0 + np.exp(-logit))
        prob = score ** 1.6
        if concept:  # the outcome no longer follows x1 as the model thinks
            true_logit = 0.4 * f["x1"] - 0.9 * f["x2"] + 0.5 * f["x3"] + 0.8 * (f["c"] == "c") + 0.3
            prob = (1.0 / (1.0 + np.exp(-true_logit))) ** 1.6
        y = (rng.random(n) < prob).astype(np.int64)
        return Window(f, y, (score >= 0.5).astype(np.int64), score, s, concept)

    out = Simulated("binary", "binary_classification", window(n_reference, REFERENCE_SHARE, False),
                    classes=["0", "1"])
    for k, s in enumerate(shift_schedule(windows, shift)):
        out.windows.append(window(rows, float(s), concept_at is not None and k >= concept_at,
                                  beyond))
    return out


def multiclass(*, n_reference: int = 30_000, windows: int = 40, rows: int = 2_000,
               shift: float = 0.85, beyond: float = 0.0, concept_at: int | None = None,
               seed: int = 0) -> Simulated:
    """A three-class classifier (see the module docstring)."""
    rng = np.random.default_rng(seed)
    weights = np.array([[1.2, -0.4, 0.3], [-0.6, 1.0, -0.2], [-0.6, -0.6, 0.5]])

    def window(n: int, s: float, concept: bool, past: float = 0.0) -> Window:
        f = _inputs(rng, n, s, past)
        x = np.column_stack([f["x1"], f["x2"], f["x3"]])
        logits = x @ weights.T + 0.7 * (f["c"] == "c")[:, None] * np.array([0.0, 0.0, 1.0])
        prob = np.exp(logits - logits.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        cum = np.cumsum(prob, axis=1)
        y = (rng.random(n)[:, None] >= cum[:, :-1]).sum(axis=1)
        if concept:  # classes 1 and 2 trade places for the rows of category "c"
            swap = f["c"] == "c"
            y = np.where(swap & (y == 1), 2, np.where(swap & (y == 2), 1, y))
        return Window(f, y.astype(np.int64), np.argmax(prob, axis=1).astype(np.int64), prob, s,
                      concept)

    out = Simulated("multiclass", "multiclass_classification", window(n_reference, REFERENCE_SHARE, False),
                    classes=["0", "1", "2"])
    for k, s in enumerate(shift_schedule(windows, shift)):
        out.windows.append(window(rows, float(s), concept_at is not None and k >= concept_at,
                                  beyond))
    return out


def regression(*, n_reference: int = 30_000, windows: int = 40, rows: int = 2_000,
               shift: float = 0.85, beyond: float = 0.0, concept_at: int | None = None,
               seed: int = 0) -> Simulated:
    """A regression model (see the module docstring)."""
    rng = np.random.default_rng(seed)

    def window(n: int, s: float, concept: bool, past: float = 0.0) -> Window:
        f = _inputs(rng, n, s, past)
        mean = 30.0 + 3.0 * f["x1"] + 2.0 * f["x2"] + 0.8 * f["x2"] ** 2 - 1.0 * f["x3"] \
            + 2.0 * (f["c"] == "c")
        noise = 0.6 + 0.5 * np.abs(f["x1"]) + 0.6 * (f["c"] == "b")
        if concept:
            noise = 2.0 * noise
        y = mean + rng.normal(0.0, 1.0, n) * noise
        pred = 30.8 + 3.0 * f["x1"] + 2.0 * f["x2"] - 1.0 * f["x3"] + 2.0 * (f["c"] == "c")
        return Window(f, y, pred, None, s, concept)

    out = Simulated("regression", "regression", window(n_reference, REFERENCE_SHARE, False))
    for k, s in enumerate(shift_schedule(windows, shift)):
        out.windows.append(window(rows, float(s), concept_at is not None and k >= concept_at,
                                  beyond))
    return out

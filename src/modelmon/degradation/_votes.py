"""The methods of the degradation ensemble and how each turns its result into a vote.

Each runner takes the evidence (current and baseline values on the tested scale) and the
ensemble's settings, runs one method of :mod:`modelmon.degradation`, and returns its vote with
the numbers reported beside it. Warnings of a method become the vote's note.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from modelmon.degradation.cusum import cusum_change_point
from modelmon.degradation.directions import DirectionRegistry
from modelmon.degradation.pelt import pelt
from modelmon.degradation.trend import linear_trend, mann_kendall_test
from modelmon.degradation.two_sample import mann_whitney_u_test, welch_t_test
from modelmon.degradation.zscore import ZScoreResult, z_score
from modelmon.exceptions import ModelmonWarning

__all__ = ["LABELS", "METHODS", "RUNNERS", "Evidence", "Settings", "Vote", "quiet", "z_of"]

#: Methods the ensemble can run, in the order they are reported.
METHODS = ("welch", "mann_whitney", "zscore", "linear_trend", "mann_kendall", "cusum", "pelt")

LABELS = {
    "welch": "Welch",
    "mann_whitney": "Mann–Whitney",
    "zscore": "z-test",
    "linear_trend": "trend",
    "mann_kendall": "Mann–Kendall",
    "cusum": "CUSUM",
    "pelt": "PELT",
}


@dataclass(frozen=True)
class Settings:
    """The ensemble's settings after checking (see ``DegradationDetector``)."""

    methods: tuple[str, ...]
    alpha: float
    min_votes: float | None
    weights: dict[str, float]
    directions: DirectionRegistry
    min_relative_change: float
    pelt_cost: str
    pelt_penalty: str | float
    pelt_min_size: int
    nan_policy: str


@dataclass(frozen=True)
class Evidence:
    """Both samples on the tested scale, and the current series' time axis and sizes."""

    current: NDArray[np.float64]
    baseline: NDArray[np.float64]
    axis: NDArray[np.float64]
    current_positions: NDArray[np.float64]
    current_sizes: NDArray[np.float64] | None
    baseline_sizes: NDArray[np.float64] | None


@dataclass(frozen=True)
class Vote:
    """One method's vote, before its weight is attached."""

    vote: str
    p_value: float
    statistic: float
    note: str = ""


def quiet(fn: Callable[[], Any]) -> tuple[Any, str]:
    """Run ``fn`` turning modelmon's warnings into a note; any other warning passes on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelmonWarning)
        out = fn()
    ours = [w for w in caught if issubclass(w.category, ModelmonWarning)]
    for w in caught:
        if not issubclass(w.category, ModelmonWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out, "; ".join(str(w.message) for w in ours)


def decide(p: float, sign: float, alpha: float, note: str = "") -> Vote:
    """Vote by significance at ``alpha`` and the sign of the effect; no p-value abstains."""
    if not math.isfinite(p):
        return Vote("abstain", math.nan, math.nan if not math.isfinite(sign) else sign, note)
    if p < alpha and sign != 0:
        return Vote("up" if sign > 0 else "down", p, sign, note)
    return Vote("none", p, sign, note)


def z_of(ev: Evidence) -> ZScoreResult:
    """The z-score of the evidence, weighted when both sides have sample sizes."""
    weighted = ev.current_sizes is not None and ev.baseline_sizes is not None
    return z_score(
        ev.current,
        ev.baseline,
        current_sample_sizes=ev.current_sizes if weighted else None,
        baseline_sample_sizes=ev.baseline_sizes if weighted else None,
    )


Runner = Callable[[Evidence, Settings, ZScoreResult, str], tuple[Vote, dict[str, Any]]]


def _run_welch(ev: Evidence, st: Settings, z: ZScoreResult, zn: str) -> tuple[Vote, dict[str, Any]]:
    r, note = quiet(lambda: welch_t_test(ev.current, ev.baseline))
    return decide(r.p_value, r.statistic, st.alpha, note), {"welch_p_value": r.p_value}


def _run_mann_whitney(
    ev: Evidence, st: Settings, z: ZScoreResult, zn: str
) -> tuple[Vote, dict[str, Any]]:
    r, note = quiet(lambda: mann_whitney_u_test(ev.current, ev.baseline))
    shift = r.statistic - r.n_current * r.n_baseline / 2.0
    v = decide(r.p_value, float(np.sign(shift)), st.alpha, note)
    return Vote(v.vote, v.p_value, r.statistic, v.note), {"mann_whitney_p_value": r.p_value}


def _run_zscore(
    ev: Evidence, st: Settings, z: ZScoreResult, zn: str
) -> tuple[Vote, dict[str, Any]]:
    return decide(z.p_value, z.z, st.alpha, zn), {}


def _run_linear_trend(
    ev: Evidence, st: Settings, z: ZScoreResult, zn: str
) -> tuple[Vote, dict[str, Any]]:
    r, note = quiet(lambda: linear_trend(ev.current, timestamps=ev.axis))
    v = decide(r.p_value, r.slope, st.alpha, note)
    return v, {"slope": r.slope, "slope_p_value": r.p_value}


def _run_mann_kendall(
    ev: Evidence, st: Settings, z: ZScoreResult, zn: str
) -> tuple[Vote, dict[str, Any]]:
    r, note = quiet(lambda: mann_kendall_test(ev.current, timestamps=ev.axis))
    v = decide(r.p_value, float(r.s), st.alpha, note)
    return v, {"mann_kendall_p_value": r.p_value, "sens_slope": r.sens_slope}


def _relative(ev: Evidence, position: int) -> int:
    """Position in baseline+current -> index relative to the first current value as given."""
    k = ev.baseline.size
    if position < k:
        return position - k
    return int(ev.current_positions[position - k])


def _run_cusum(ev: Evidence, st: Settings, z: ZScoreResult, zn: str) -> tuple[Vote, dict[str, Any]]:
    r, note = quiet(lambda: cusum_change_point(np.concatenate((ev.baseline, ev.current))))
    v = decide(r.p_value, r.mean_after - r.mean_before, st.alpha, note)
    pos = None if r.position is None else _relative(ev, r.position)
    return Vote(v.vote, v.p_value, r.statistic, v.note), {"cusum_position": pos}


def _run_pelt(ev: Evidence, st: Settings, z: ZScoreResult, zn: str) -> tuple[Vote, dict[str, Any]]:
    combined = np.concatenate((ev.baseline, ev.current))
    if combined.size < 2 * st.pelt_min_size:
        note = f"{combined.size} values cannot hold a segment change (pelt_min_size)"
        return Vote("abstain", math.nan, math.nan, note), {"change_points": ()}
    r = pelt(
        combined,
        cost=st.pelt_cost,
        penalty=st.pelt_penalty,
        min_size=st.pelt_min_size,
    )
    cps = tuple(_relative(ev, p) for p in r.change_points)
    if not r.change_points:
        return Vote("none", math.nan, 0.0, "no change point"), {"change_points": cps}
    last = combined[r.change_points[-1] :]
    k = ev.baseline.size
    se = r.sigma * math.sqrt(1.0 / last.size + 1.0 / k)
    stat = (float(last.mean()) - float(ev.baseline.mean())) / se
    p = float(min(1.0, 2.0 * special.ndtr(-abs(stat))))
    return decide(p, stat, st.alpha), {"change_points": cps}


RUNNERS: dict[str, Runner] = {
    "welch": _run_welch,
    "mann_whitney": _run_mann_whitney,
    "zscore": _run_zscore,
    "linear_trend": _run_linear_trend,
    "mann_kendall": _run_mann_kendall,
    "cusum": _run_cusum,
    "pelt": _run_pelt,
}

"""From votes to a verdict, and the one-line reason people read."""

from __future__ import annotations

import math
from typing import Any

from modelmon.degradation._format import fmt_p, fmt_percent, fmt_value
from modelmon.degradation._series import Series
from modelmon.degradation._votes import LABELS, Evidence, Settings
from modelmon.degradation.baseline import Baseline
from modelmon.degradation.directions import Direction, MetricDirection
from modelmon.degradation.result import MethodVote, MetricDegradation
from modelmon.degradation.zscore import ZScoreResult

__all__ = ["conclude", "insufficient"]


def _better_or_worse(direction: Direction, diff: float) -> str:
    if direction is Direction.UNKNOWN or not math.isfinite(diff):
        return "unknown"
    if diff == 0:
        return "same"
    up_is_better = direction is Direction.HIGHER
    return "better" if (diff > 0) == up_is_better else "worse"


def insufficient(
    metric: str,
    direction: MetricDirection,
    c: Series,
    baseline: Baseline | None,
    methods: tuple[str, ...],
) -> MetricDegradation:
    """The result when no method can run: no current value, or no baseline value."""
    nan = math.nan
    n_baseline = 0 if baseline is None else baseline.n
    votes = tuple(MethodVote(m, "abstain", nan, nan, 0.0, "not enough data") for m in methods)
    return MetricDegradation(
        metric=metric,
        verdict="insufficient_data",
        direction=direction.direction.value,
        target=direction.target,
        current_mean=float(c.values.mean()) if c.n else nan,
        baseline_mean=nan if baseline is None else baseline.mean,
        difference=nan,
        percent_change=nan,
        z_score=nan,
        z_p_value=nan,
        significant=False,
        better_or_worse="unknown",
        n_current=c.n,
        n_baseline=n_baseline,
        welch_p_value=nan,
        mann_whitney_p_value=nan,
        slope=nan,
        slope_p_value=nan,
        mann_kendall_p_value=nan,
        sens_slope=nan,
        cusum_position=None,
        change_points=(),
        votes=votes,
        votes_up=0.0,
        votes_down=0.0,
        votes_cast=0.0,
        votes_needed=nan,
        reason=(f"{metric}: not enough data ({c.n} current, {n_baseline} baseline values)"),
    )


def conclude(
    st: Settings,
    metric: str,
    direction: MetricDirection,
    c: Series,
    baseline: Baseline,
    ev: Evidence,
    z: ZScoreResult,
    votes: list[MethodVote],
    extra: dict[str, Any],
) -> MetricDegradation:
    """Tally the votes into a verdict and assemble the result with its evidence."""
    up = sum(v.weight for v in votes if v.vote == "up")
    down = sum(v.weight for v in votes if v.vote == "down")
    cast = sum(v.weight for v in votes if v.vote != "abstain")

    def wins(w: float) -> bool:
        if st.min_votes is not None:
            return w >= st.min_votes
        return w > cast / 2.0

    d = direction.direction
    # Tested scale: the values themselves, or the distance to the target (up = further away).
    up_is_worse = d in (Direction.LOWER, Direction.TARGET)
    verdict = "stable"
    if cast == 0:
        verdict = "insufficient_data"
    elif wins(up) or wins(down):
        if d is Direction.UNKNOWN or up == down:
            verdict = "changed"
        else:
            worse = (up > down) == up_is_worse
            verdict = "degraded" if worse else "improved"
    cur_mean = float(c.values.mean())
    base_mean = baseline.mean
    diff = cur_mean - base_mean
    pct = 100.0 * diff / abs(base_mean) if base_mean != 0 else math.nan
    tested_base = float(ev.baseline.mean())
    tested_diff = float(ev.current.mean()) - tested_base
    if verdict in ("degraded", "improved", "changed") and st.min_relative_change > 0:
        # Relative to the baseline level on the tested scale (the distance to the target for
        # target metrics); a zero baseline level cannot be judged relatively, so never gates.
        relative = abs(tested_diff) / abs(tested_base) if tested_base != 0 else math.inf
        if relative < st.min_relative_change:
            verdict = "stable"
    if d is Direction.TARGET:
        bow = _better_or_worse(Direction.LOWER, tested_diff)
    else:
        bow = _better_or_worse(d, tested_diff)
    needed = st.min_votes if st.min_votes is not None else cast / 2.0
    reason = _reason(metric, verdict, cur_mean, base_mean, pct, votes, up, down)
    nan = math.nan
    return MetricDegradation(
        metric=metric,
        verdict=verdict,
        direction=d.value,
        target=direction.target if d is Direction.TARGET else None,
        current_mean=cur_mean,
        baseline_mean=base_mean,
        difference=diff,
        percent_change=pct,
        z_score=z.z,
        z_p_value=z.p_value,
        significant=verdict in ("degraded", "improved", "changed"),
        better_or_worse=bow,
        n_current=c.n,
        n_baseline=baseline.n,
        welch_p_value=extra.get("welch_p_value", nan),
        mann_whitney_p_value=extra.get("mann_whitney_p_value", nan),
        slope=extra.get("slope", nan),
        slope_p_value=extra.get("slope_p_value", nan),
        mann_kendall_p_value=extra.get("mann_kendall_p_value", nan),
        sens_slope=extra.get("sens_slope", nan),
        cusum_position=extra.get("cusum_position"),
        change_points=extra.get("change_points", ()),
        votes=tuple(votes),
        votes_up=up,
        votes_down=down,
        votes_cast=cast,
        votes_needed=needed,
        reason=reason,
    )


def _reason(
    metric: str,
    verdict: str,
    cur: float,
    base: float,
    pct: float,
    votes: list[MethodVote],
    up: float,
    down: float,
) -> str:
    head = f"{metric} {fmt_value(cur)} vs baseline {fmt_value(base)} ({fmt_percent(pct)})"
    if verdict in ("degraded", "improved", "changed"):
        side = "up" if up >= down else "down"
        pool = [v for v in votes if v.vote == side and math.isfinite(v.p_value)]
    else:
        pool = [v for v in votes if v.vote != "abstain" and math.isfinite(v.p_value)]
    shown = next((v for v in pool if v.method == "welch"), None)
    if shown is None and pool:
        shown = min(pool, key=lambda v: v.p_value)
    if shown is not None:
        head += f", {LABELS[shown.method]} {fmt_p(shown.p_value)}"
    if verdict in ("degraded", "improved", "changed"):
        side = "up" if up >= down else "down"
        agree = sum(1 for v in votes if v.vote == side)
        cast = sum(1 for v in votes if v.vote != "abstain")
        return f"{head}; {verdict} ({agree} of {cast} methods)"
    return f"{head}; {verdict}"

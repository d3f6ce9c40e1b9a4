"""Judging metric values against their baseline bands: at once when far outside, or when two of
three consecutive windows lie outside a narrower limit (see :mod:`modelmon.judgement.bands`).

Shared by the quality, operations and fairness rules; each decides which metrics, with what
severity and under which reason kind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modelmon.degradation.directions import default_directions
from modelmon.judgement.bands import MetricBand, limit_sigmas, persistence_sigmas
from modelmon.judgement.facts import JudgementSettings
from modelmon.judgement.reasons import Reason
from modelmon.judgement.text import fmt_metric, fmt_percent, fmt_sigmas
from modelmon.vocabulary import Direction, ReasonKind, Severity

__all__ = ["BandCheck", "band_decision", "band_findings", "band_limit", "history_of",
           "judged_metrics", "side_word"]


@dataclass(frozen=True)
class BandCheck:
    """One metric to judge: where its band and values come from and what a finding is."""

    metric: str
    band: MetricBand
    current: tuple[float, int]
    previous: Sequence[tuple[float, int]]  # the two windows before, oldest first
    kind: ReasonKind
    far: Severity          # severity of a value far outside the band
    persistent: Severity   # severity of a value outside in two of three windows
    min_n: int = 1
    label: str = ""        # how the metric is named in the message (default: its name)
    direction: Direction | None = None  # default: the metric's (UNKNOWN: both sides)

    def worse(self) -> Direction:
        """Which side of the band is a finding."""
        return self.direction or default_directions.get(self.metric).direction


def judged_metrics(names: Sequence[str], bands: Mapping[str, MetricBand]) -> list[str]:
    """The metrics among ``names`` that have a band and a direction to judge by."""
    out = []
    for name in names:
        if name in bands and default_directions.get(name).direction is not Direction.UNKNOWN:
            out.append(name)
    return out


def _word(direction: Direction, above: bool | None = None) -> str:
    """Where a finding lies from its band: ``above`` says which side for two-sided checks."""
    if direction is Direction.HIGHER:
        return "below"
    if direction is Direction.LOWER:
        return "above"
    if above is not None:
        return "above" if above else "below"
    return "away from"


def _beyond(c: BandCheck, d: Direction, value: float, n: int, k: float, min_change: float,
            strong: float) -> bool:
    """``value`` lies ``k`` or more sd on the worse side of ``c``'s band, by a practical change."""
    if n < c.min_n or not math.isfinite(value):
        return False
    z = c.band.sigmas(value, n, d)
    rel = c.band.relative_change(value)
    practical = (math.isfinite(rel) and abs(rel) >= min_change) or z >= strong
    return z >= k and practical


def band_findings(checks: Sequence[BandCheck], settings: JudgementSettings,
                  alpha: float) -> list[Reason]:
    """Reasons for the checks whose value lies on the worse side of its band.

    ``alpha`` (the chance of a false finding in a stable window) is split evenly between the
    checks. A value beyond the prediction-interval limit is a finding at once (``far``); one
    beyond the narrower two-of-three limit is one when one of the two windows before it was
    beyond it too (``persistent``). Changes smaller than the metric's minimum practical change
    are no finding unless they lie beyond ``settings.strong_sigmas``.
    """
    if not checks:
        return []
    share = alpha / len(checks)
    reasons: list[Reason] = []
    for c in checks:
        found = band_decision(c, settings, share)
        if found is None:
            continue
        severity, k, persistent = found
        value, n = c.current
        d = c.worse()
        band = c.band
        z = band.sigmas(value, n, d)
        how = " in two of the last three windows" if persistent else ""
        limit = band_limit(c, k)
        name = c.label or c.metric
        rel = band.relative_change(value)
        change = f" ({fmt_percent(rel * 100)})" if math.isfinite(rel) else ""
        message = (f"{name} {fmt_metric(value, c.metric)} vs baseline "
                   f"{fmt_metric(band.center, c.metric)}{change}: {fmt_sigmas(z)} "
                   f"{_word(d, value > band.center)} its band{how} (limit {fmt_metric(limit, c.metric)}, "
                   f"n = {n})")
        reasons.append(Reason(
            c.kind, severity, message, metric=c.metric, value=value, threshold=limit,
            baseline=band.center,
            evidence={"sigmas": z, "limit_sigmas": k, "n": n, "scale": band.scale,
                      "baseline_spread": band.spread(n), "baseline_windows": band.windows,
                      "baseline_source": band.source, "relative_change": rel,
                      "persistent": persistent},
        ))
    return reasons


def side_word(c: BandCheck) -> str:
    """``"below"`` / ``"above"``: the side of its band ``c``'s value lies on."""
    return _word(c.worse(), c.current[0] > c.band.center)


def band_decision(c: BandCheck, settings: JudgementSettings,
                  share: float) -> tuple[Severity, float, bool] | None:
    """Whether ``c``'s value is a finding with a false-alarm chance of ``share``: ``(severity,
    limit in sd, persistent)``, or None. The one decision :func:`band_findings` and the
    estimation rule share."""
    value, n = c.current
    if n < c.min_n or not math.isfinite(value):
        return None
    d = c.worse()
    band = c.band
    k_far = limit_sigmas(share, band.windows, band.df_for(n))
    k_persist = persistence_sigmas(share, band.windows, band.df_for(n))
    min_change = settings.min_change_of(c.metric)

    def beyond(v: float, size: int, k: float) -> bool:
        return _beyond(c, d, v, size, k, min_change, settings.strong_sigmas)

    if beyond(value, n, k_far):
        return c.far, k_far, False
    if beyond(value, n, k_persist) and any(beyond(v, m, k_persist) for v, m in c.previous[-2:]):
        return c.persistent, k_persist, True
    return None


def band_limit(c: BandCheck, k: float) -> float:
    """The edge of ``c``'s band (at ``k`` sd, at the window's size) its value crossed."""
    value, n = c.current
    d = c.worse()
    lo, hi = c.band.limits(n, k)
    two_sided = d in (Direction.TARGET, Direction.UNKNOWN)
    return lo if (d is Direction.HIGHER or (two_sided and value < c.band.center)) else hi


def history_of(history: Sequence[Mapping[str, tuple[float, int]]],
               key: str) -> list[tuple[float, int]]:
    """The values one metric had in the windows before (missing ones as NaN)."""
    out = []
    for h in history:
        got = h.get(key)
        out.append((math.nan, 0) if got is None else (float(got[0]), int(got[1] or 0)))
    return out

"""Quality without labels: estimated metrics against their band, and realized against estimated.

- :func:`estimated_quality_rule`: while a window has too few labels for its realized quality to
  be judged well (fewer than ``min_labelled`` labelled rows, or fewer than half its rows), each
  estimated quality metric is judged against the realized metric's band, with the same
  prediction-interval limits as the quality rule. An estimate varies less than the realized
  value it estimates, so a stable window rarely crosses them. A finding is ``high`` when far
  outside (the model very probably got worse, but no label confirms it yet), ``warning`` when
  outside a narrower limit in two of three windows.
- :func:`estimation_gap_rule`: once labels arrive, the realized metric is compared with its
  estimate on the same labelled rows (beyond ``strong_sigmas`` standard errors at once, beyond the
  ``quality_alpha`` limit when one of the two windows before was too: an estimator's own error
  has heavier tails than its standard error says). Their difference is sampling noise (and the reference's
  own uncertainty) while the estimator's assumptions hold, and the estimate's standard error says
  how much; a gap of many standard errors
  means the outcome no longer follows the model's scores (or inputs) as it did in the reference:
  concept drift, which estimation cannot see, and the estimates of unlabelled windows are no
  longer to be trusted. One ``warning`` per window, naming the metric with the largest gap.
"""

from __future__ import annotations

import math

from scipy import stats

from modelmon.degradation.directions import default_directions
from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.judgement.rules._bands import (
    BandCheck,
    band_decision,
    band_limit,
    history_of,
    side_word,
)
from modelmon.judgement.text import fmt_metric, fmt_sigmas
from modelmon.vocabulary import (
    ESTIMATED,
    Metric,
    ReasonKind,
    Severity,
    estimated_metric,
    estimation_gap_metric,
    standard_error_metric,
)

__all__ = ["ENOUGH_LABELS", "estimated_quality_rule", "estimation_gap_rule"]

#: A window whose labelled share is below this is judged on its estimates.
ENOUGH_LABELS = 0.5


def _labels_text(labelled: int, n: int) -> str:
    if labelled == 0:
        return "no labels yet"
    return f"{labelled:,} of {n:,} rows labelled"


def estimated_quality_rule(f: WindowFacts) -> list[Reason]:
    """Estimated quality metrics outside their band in a window with too few labels."""
    count = f.value(Metric.LABELLED_COUNT)[0]
    labelled = int(count) if math.isfinite(count) else 0
    if labelled >= f.settings.min_labelled and labelled >= ENOUGH_LABELS * f.n:
        return []
    names = [m for m in f.quality if m in ESTIMATED[f.task] and m in f.bands
             and estimated_metric(m) in f.metrics]
    checks = []
    for m in names:
        series = estimated_metric(m)
        checks.append(BandCheck(
            m, f.bands[m], f.value(series), history_of(f.history, series),
            ReasonKind.ESTIMATED_QUALITY, Severity.HIGH, Severity.WARNING,
            min_n=f.settings.min_labelled))
    if not checks:
        return []
    share = f.settings.quality_alpha / len(checks)
    reasons = []
    for c in checks:
        found = band_decision(c, f.settings, share)
        if found is None:
            continue
        severity, k, persistent = found
        value, n = c.current
        se, _ = f.value(standard_error_metric(estimated_metric(c.metric)))
        lo, hi = c.band.limits(n, k)
        limit = band_limit(c, k)
        z = c.band.sigmas(value, n, default_directions.get(c.metric).direction)
        plus = f" (± {fmt_metric(se, c.metric)})" if math.isfinite(se) else ""
        how = " in two of the last three windows" if persistent else ""
        reasons.append(Reason(
            ReasonKind.ESTIMATED_QUALITY, severity,
            f"estimated {c.metric} {fmt_metric(value, c.metric)}{plus}, reference band "
            f"{fmt_metric(lo, c.metric)}–{fmt_metric(hi, c.metric)}{how}: {fmt_sigmas(z)} "
            f"{side_word(c)} it, {_labels_text(labelled, f.n)}",
            metric=estimated_metric(c.metric), value=value, threshold=limit,
            baseline=c.band.center,
            evidence={"sigmas": z, "limit_sigmas": k, "n": n, "labelled": labelled,
                      "standard_error": se, "band_low": lo, "band_high": hi,
                      "estimates": c.metric, "persistent": persistent}))
    reasons.sort(key=lambda r: (r.evidence["estimates"] != f.headline, -r.severity.rank))
    return reasons


def estimation_gap_rule(f: WindowFacts) -> list[Reason]:
    """A ``warning`` when realized and estimated quality of the same labelled rows lie further
    apart than chance explains (two-sided, ``quality_alpha`` split between the metrics)."""
    gaps = []
    for m in f.quality:
        if m not in f.bands:  # a metric quality leaves unjudged (or not yet banded) is left alone
            continue
        gap, n = f.value(estimation_gap_metric(m))
        se, _ = f.value(standard_error_metric(estimation_gap_metric(m)))
        if n < f.settings.min_labelled or not math.isfinite(gap) or not se > 0:
            continue
        estimate = f.value(m)[0] - gap
        gaps.append((m, gap, se, n, estimate))
    if not gaps:
        return []
    limit = float(stats.norm.isf(f.settings.quality_alpha / len(gaps) / 2))
    strong = max(limit, f.settings.strong_sigmas)

    def beyond(gap: float, se: float, estimate: float, m: str) -> bool:
        rel = abs(gap) / abs(estimate) if estimate else math.inf
        practical = rel >= f.settings.min_change_of(m) or abs(gap) / se >= strong
        return practical and abs(gap) / se >= limit

    found = []
    for m, gap, se, n, estimate in gaps:
        z = gap / se
        if not beyond(gap, se, estimate, m):
            continue
        earlier = []
        for h in f.history[-2:]:
            g, _ = h.get(estimation_gap_metric(m), (math.nan, 0))
            s_, _ = h.get(standard_error_metric(estimation_gap_metric(m)), (math.nan, 0))
            r, _ = h.get(m, (math.nan, 0))
            earlier.append(g is not None and s_ is not None and r is not None and
                           math.isfinite(g) and s_ > 0 and beyond(g, s_, r - g, m))
        if abs(z) >= strong or any(earlier):
            found.append((abs(z), m, gap, se, n, estimate, z, abs(z) < strong))
    if not found:
        return []
    found.sort(reverse=True)
    _, m, gap, se, n, estimate, z, persistent = found[0]
    realized = estimate + gap
    others = [x[1] for x in found[1:]]
    also = f"; also {', '.join(others)}" if others else ""
    return [Reason(
        ReasonKind.ESTIMATION_GAP, Severity.WARNING,
        f"realized {m} {fmt_metric(realized, m)} vs estimated {fmt_metric(estimate, m)} on the "
        f"same {n:,} labelled rows: {fmt_sigmas(abs(z))} apart (limit {limit:.1f}"
        f"{', in two of the last three windows' if persistent else ''}){also}. The "
        "outcome no longer follows the model's outputs as in the reference (concept drift?): "
        "estimates of unlabelled windows are not reliable until the reference is refitted",
        metric=estimation_gap_metric(m), value=gap, threshold=limit * se, baseline=0.0,
        evidence={"sigmas": z, "limit_sigmas": limit, "persistent": persistent, "n": n,
                  "realized": realized,
                  "estimated": estimate, "standard_error": se, "metrics": [x[1] for x in found]})]

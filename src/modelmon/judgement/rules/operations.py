"""Serving health: failing predictions above their limit or band, latency above its band."""

from __future__ import annotations

import math

from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.judgement.rules._bands import BandCheck, band_findings, history_of
from modelmon.judgement.text import fmt_value
from modelmon.vocabulary import Metric, ReasonKind, Severity

__all__ = ["operations_rule"]

#: Operational metrics judged against their bands, with the reason kind and severities.
_WATCHED = (
    (Metric.ERROR_RATE, ReasonKind.ERRORS, Severity.HIGH, Severity.HIGH),
    (Metric.LATENCY_P95, ReasonKind.LATENCY, Severity.WARNING, Severity.WARNING),
)


def operations_rule(f: WindowFacts) -> list[Reason]:
    """More failing predictions than ``settings.error_rate`` (``critical``); error rate or p95
    latency outside its band (``high`` / ``warning``)."""
    reasons: list[Reason] = []
    rate, n = f.value(Metric.ERROR_RATE)
    limit = f.settings.error_rate
    if n and math.isfinite(rate) and rate > limit:
        reasons.append(Reason(
            ReasonKind.ERRORS, Severity.CRITICAL,
            f"{fmt_value(rate * 100)} % of predictions failed (limit "
            f"{limit * 100:g} %, n = {n})",
            metric=Metric.ERROR_RATE, value=rate, threshold=limit, evidence={"n": n}))
    checks = [
        BandCheck(str(m), f.bands[m], f.value(m), history_of(f.history, m),
                  kind, far, persistent)
        for m, kind, far, persistent in _WATCHED if m in f.bands
    ]
    found = band_findings(checks, f.settings, f.settings.quality_alpha)
    if reasons:  # the fixed limit already said it
        found = [r for r in found if r.metric != Metric.ERROR_RATE]
    return reasons + found

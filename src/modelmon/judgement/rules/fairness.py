"""Fairness across segments: a fairness metric of a segment column outside its band."""

from __future__ import annotations

from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.judgement.rules._bands import BandCheck, band_findings, history_of, judged_metrics
from modelmon.vocabulary import ReasonKind, Severity

__all__ = ["fairness_key", "fairness_rule"]


def fairness_key(segment: str, metric: str) -> str:
    """How a fairness metric of a segment column is keyed in a window's history."""
    return f"{segment}:{metric}"


def fairness_rule(f: WindowFacts) -> list[Reason]:
    """A ``warning`` when a gap between a segment column's groups (demographic parity,
    equalised odds ...) lies on the worse side of its band."""
    checks = []
    for (segment, metric), band in sorted(f.fairness_bands.items()):
        current = f.fairness.get(segment, {}).get(metric)
        if current is None or not judged_metrics([metric], {metric: band}):
            continue
        checks.append(BandCheck(
            metric, band, current, history_of(f.history, fairness_key(segment, metric)),
            ReasonKind.FAIRNESS, Severity.WARNING, Severity.WARNING,
            min_n=f.settings.min_labelled, label=f"{metric} across {segment}"))
    return band_findings(checks, f.settings, f.settings.quality_alpha)

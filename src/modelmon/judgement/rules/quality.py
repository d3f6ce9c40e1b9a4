"""Quality against the baseline: each quality metric of the window against its band."""

from __future__ import annotations

from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.judgement.rules._bands import BandCheck, band_findings, history_of, judged_metrics
from modelmon.vocabulary import ReasonKind, Severity

__all__ = ["quality_rule"]


def quality_rule(f: WindowFacts) -> list[Reason]:
    """A quality metric far outside its band (``critical`` for the headline metric, ``high``
    otherwise), or outside a narrower limit in two of three windows (``high``).

    Windows with fewer than ``min_labelled`` labelled rows are not judged on quality.
    """
    names = judged_metrics(f.quality, f.bands)
    checks = [
        BandCheck(m, f.bands[m], f.value(m), history_of(f.history, m),
                  ReasonKind.QUALITY,
                  Severity.CRITICAL if m == f.headline else Severity.HIGH, Severity.HIGH,
                  min_n=f.settings.min_labelled)
        for m in names
    ]
    reasons = band_findings(checks, f.settings, f.settings.quality_alpha)
    reasons.sort(key=lambda r: (r.metric != f.headline, -r.severity.rank))
    return reasons

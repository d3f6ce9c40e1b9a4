"""Multivariate drift: the inputs' joint distribution moved beyond the reference's noise."""

from __future__ import annotations

from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.judgement.rules._bands import BandCheck, band_findings, history_of
from modelmon.vocabulary import Direction, Metric, ReasonKind, Severity, contribution_feature

__all__ = ["contributors", "multivariate_rule"]

_LABELS = {Metric.RECONSTRUCTION_ERROR: "multivariate drift: PCA reconstruction error",
           Metric.DOMAIN_CLASSIFIER_AUC: "multivariate drift: domain classifier ROC AUC"}


def contributors(f: WindowFacts, top: int = 3) -> list[tuple[str, float]]:
    """The features whose residuals rose most in the window, with their share of the rise."""
    found = []
    for key, (value, _) in f.metrics.items():
        feature = contribution_feature(key)
        if feature is not None and value is not None and value > 0:
            found.append((feature, float(value)))
    found.sort(key=lambda x: -x[1])
    return found[:top]


def multivariate_rule(f: WindowFacts) -> list[Reason]:
    """A ``warning`` when the PCA reconstruction error lies outside its reference band (either
    side: a fall means the inputs became more alike than in the reference, as NannyML also
    alerts), or the domain classifier's ROC AUC above its band; naming the features that
    contribute most."""
    sides = {Metric.RECONSTRUCTION_ERROR: Direction.UNKNOWN,
             Metric.DOMAIN_CLASSIFIER_AUC: Direction.LOWER}
    checks = [BandCheck(str(m), f.bands[m], f.value(m), history_of(f.history, m),
                        ReasonKind.MULTIVARIATE_DRIFT, Severity.WARNING, Severity.WARNING,
                        label=_LABELS[m], direction=side)
              for m, side in sides.items() if m in f.bands]
    reasons = band_findings(checks, f.settings, f.settings.drift_alpha)
    out = []
    for r in reasons:
        if r.metric == Metric.RECONSTRUCTION_ERROR and r.value is not None and \
                r.baseline is not None and r.value > r.baseline:
            top = contributors(f)
            if top:
                named = ", ".join(f"{name} ({share * 100:.0f} %)"
                                  for name, share in top)
                r = Reason(r.kind, r.severity, f"{r.message}; features contributing most: {named}",
                           metric=r.metric, feature=top[0][0], value=r.value,
                           threshold=r.threshold, baseline=r.baseline,
                           evidence={**r.evidence, "features": [n for n, _ in top],
                                     "shares": [s for _, s in top]})
        out.append(r)
    return out

"""Input and output drift: the features whose distribution moved beyond their threshold."""

from __future__ import annotations

import math

from modelmon.judgement.facts import FeatureFacts, WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.judgement.text import fmt_p, fmt_sigmas, fmt_value, test_label
from modelmon.vocabulary import OUTPUT_FEATURE, ReasonKind, Severity

__all__ = ["drift_evidence", "drift_rule", "drift_share"]


def drift_share(features: list[FeatureFacts] | tuple[FeatureFacts, ...]) -> float:
    """Share of the tested *input* features that drifted (NaN when none was tested).

    The one implementation of the drift share: the evaluator's ``drift_share`` metric, the drift
    API's summary and the judgement all use it.

    >>> f = [FeatureFacts("a", "numeric", "ks", 0.3, 0.05, True, 100),
    ...      FeatureFacts("b", "numeric", "ks", 0.01, 0.05, False, 100),
    ...      FeatureFacts("prediction", "prediction", "ks", 0.4, 0.05, True, 100)]
    >>> drift_share(f)
    0.5
    """
    tested = [x for x in features if x.feature != OUTPUT_FEATURE and x.statistic is not None
              and math.isfinite(x.statistic)]
    return sum(x.drifted for x in tested) / len(tested) if tested else math.nan


def drift_evidence(x: FeatureFacts) -> str:
    """``'Wasserstein (normalised) 0.34, 8.2 sd above the reference's noise (limit 0.08)'``."""
    label = test_label(x.test)
    if x.statistic is None or not math.isfinite(x.statistic):
        return label
    text = f"{label} {fmt_value(x.statistic)}"
    if x.p_value is not None and math.isfinite(x.p_value):
        return f"{text}, {fmt_p(x.p_value)}"
    if x.banded and math.isfinite(x.sigmas):
        text += f", {fmt_sigmas(x.sigmas)} above the reference's noise"
    if x.threshold is not None and math.isfinite(x.threshold):
        text += f" (limit {fmt_value(x.threshold)})"
    return text


def drift_rule(f: WindowFacts) -> list[Reason]:
    """A ``warning`` for each drifted input feature (largest departure first), one for drifted
    model output, and one more when the share of drifted features reaches the model's
    ``drift_share``."""
    drifted = [x for x in f.features if x.drifted]
    inputs = [x for x in drifted if x.feature != OUTPUT_FEATURE]
    inputs.sort(key=lambda x: -(x.sigmas if math.isfinite(x.sigmas) else (x.statistic or 0.0)))
    reasons = []
    for x in inputs:
        reasons.append(Reason(
            ReasonKind.DRIFT, Severity.WARNING, f"feature {x.feature} drifted: {drift_evidence(x)}",
            feature=x.feature, value=x.statistic, threshold=x.threshold,
            evidence={"test": x.test, "sigmas": x.sigmas, "p_value": x.p_value, "n": x.n}))
    for x in drifted:
        if x.feature == OUTPUT_FEATURE:
            reasons.append(Reason(
                ReasonKind.PREDICTION_DRIFT, Severity.WARNING,
                f"the model's output drifted: {drift_evidence(x)}", feature=x.feature,
                value=x.statistic, threshold=x.threshold,
                evidence={"test": x.test, "sigmas": x.sigmas, "p_value": x.p_value, "n": x.n}))
    share = drift_share(list(f.features))
    tested = sum(1 for x in f.features if x.feature != OUTPUT_FEATURE and x.statistic is not None
                 and math.isfinite(x.statistic))
    if inputs and math.isfinite(share) and share >= f.drift_share_limit:
        reasons.append(Reason(
            ReasonKind.DRIFT, Severity.WARNING,
            f"{len(inputs)} of {tested} input features drifted ({share * 100:.0f} %, limit "
            f"{f.drift_share_limit * 100:.0f} %)", value=share, threshold=f.drift_share_limit,
            evidence={"drifted": len(inputs), "tested": tested}))
    return reasons

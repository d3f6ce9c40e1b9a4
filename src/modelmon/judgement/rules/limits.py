"""Fixed limits set per model: ``accuracy`` below 0.8, ``latency_p95_seconds`` above 0.1."""

from __future__ import annotations

from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.judgement.text import fmt_metric
from modelmon.vocabulary import ReasonKind

__all__ = ["limits_rule"]


def limits_rule(f: WindowFacts) -> list[Reason]:
    """A metric beyond one of the model's fixed limits, with the limit's severity."""
    reasons = []
    for limit in f.settings.limits:
        value, n = f.value(limit.metric)
        crossed = limit.crossed(value) if n else None
        if crossed is None:
            continue
        side = "below" if limit.min is not None and crossed == limit.min and value < crossed \
            else "above"
        reasons.append(Reason(
            ReasonKind.LIMIT, limit.severity,
            f"{limit.metric} {fmt_metric(value, limit.metric)} is {side} its limit "
            f"{fmt_metric(crossed, limit.metric)} (n = {n})",
            metric=limit.metric, value=value, threshold=crossed, evidence={"n": n}))
    return reasons

"""Concept drift: a streaming detector fired on the model's error stream in the window."""

from __future__ import annotations

import math

from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.judgement.text import fmt_time, fmt_value
from modelmon.vocabulary import ReasonKind, Severity

__all__ = ["concept_rule"]


def concept_rule(f: WindowFacts) -> list[Reason]:
    """A ``warning`` per version whose detector signalled drift in the window (the first one)."""
    reasons = []
    seen: set[str] = set()
    for e in sorted(f.detector_events, key=lambda e: e.at):
        if e.kind != "drift" or e.version in seen:
            continue
        seen.add(e.version)
        near = (f"; error rate near it {fmt_value(e.recent_error)}"
                if e.recent_error is not None and math.isfinite(e.recent_error) else "")
        reasons.append(Reason(
            ReasonKind.CONCEPT_DRIFT, Severity.WARNING,
            f"concept drift: {e.detector.upper()} detected a change in the error stream at "
            f"{fmt_time(e.at)} (version {e.version}{near})",
            value=e.recent_error,
            evidence={"detector": e.detector, "at": e.at, "version": e.version}))
    return reasons

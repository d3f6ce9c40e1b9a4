"""What could not be judged yet: quality without a baseline, importance shifts."""

from __future__ import annotations

from modelmon.judgement.bands import MIN_BAND_WINDOWS
from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.judgement.rules._bands import judged_metrics
from modelmon.vocabulary import ReasonKind, Severity

__all__ = ["baseline_rule", "importance_rule"]


def baseline_rule(f: WindowFacts) -> list[Reason]:
    """An ``info`` reason when the window's quality could not be judged: no baseline band yet
    (the baseline period is still forming, or it had no labelled predictions)."""
    if not f.quality or judged_metrics(f.quality, f.bands):
        return []
    if f.baseline_windows < f.baseline_needed:
        text = (f"quality not judged yet: the baseline holds {f.baseline_windows} of the "
                f"{f.baseline_needed} windows it needs")
    else:
        text = (f"quality not judged: fewer than {MIN_BAND_WINDOWS} baseline windows hold "
                f"{f.settings.min_labelled} labelled predictions (send actuals, or give the "
                "reference file a target column)")
    return [Reason(ReasonKind.BASELINE, Severity.INFO, text,
                   evidence={"baseline_windows": f.baseline_windows,
                             "needed": f.baseline_needed})]


def importance_rule(f: WindowFacts) -> list[Reason]:
    """A ``warning`` for each feature-importance shift logged in the window."""
    return [Reason(ReasonKind.IMPORTANCE, Severity.WARNING, text) for text in f.importance]

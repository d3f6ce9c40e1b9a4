"""Data quality: missing values beyond the reference's, unseen categories, out-of-range values,
and schema changes."""

from __future__ import annotations

from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.vocabulary import OUTPUT_FEATURE, ReasonKind, Severity

__all__ = ["data_quality_rule", "schema_rule"]


def data_quality_rule(f: WindowFacts) -> list[Reason]:
    """``warning`` for a feature missing more often than in the reference by
    ``settings.missing_share``, with more unseen categories than ``settings.unseen_share``, or
    more values outside the reference's range than ``settings.out_of_range_share``.

    An optional feature the reference never had either is not a finding (it is just absent);
    one the reference had but the window lacks is only ``info`` (declared optional, it may be
    left out).
    """
    s = f.settings
    reasons = []
    for x in f.features:
        if x.feature == OUTPUT_FEATURE or (x.n == 0 and x.missing_share is None):
            continue
        before = x.missing_share_reference or 0.0
        if x.missing_share is not None and x.missing_share - before > s.missing_share:
            reasons.append(Reason(
                ReasonKind.DATA_QUALITY, Severity.INFO if x.optional else Severity.WARNING,
                f"{'optional ' if x.optional else ''}feature {x.feature} is missing in "
                f"{x.missing_share * 100:.0f} % of rows (reference {before * 100:.0f} %)",
                feature=x.feature, value=x.missing_share,
                threshold=before + s.missing_share, baseline=before,
                evidence={"issue": "missing"}))
        if x.unseen_share is not None and x.unseen_share > s.unseen_share:
            reasons.append(Reason(
                ReasonKind.DATA_QUALITY, Severity.WARNING,
                f"feature {x.feature}: {x.unseen_share * 100:.0f} % of values are categories the "
                "reference never saw", feature=x.feature, value=x.unseen_share,
                threshold=s.unseen_share, evidence={"issue": "unseen_categories"}))
        if x.out_of_range_share is not None and x.out_of_range_share > s.out_of_range_share:
            reasons.append(Reason(
                ReasonKind.DATA_QUALITY, Severity.WARNING,
                f"feature {x.feature}: {x.out_of_range_share * 100:.0f} % of values lie outside "
                "the reference's range", feature=x.feature, value=x.out_of_range_share,
                threshold=s.out_of_range_share, evidence={"issue": "out_of_range"}))
    return reasons


def schema_rule(f: WindowFacts) -> list[Reason]:
    """A ``warning`` for each schema change recorded in the window."""
    return [Reason(ReasonKind.SCHEMA_CHANGE, Severity.WARNING, f"schema changed: {text}")
            for text in f.schema_changes]

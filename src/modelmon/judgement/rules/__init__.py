"""The judgement's rules, one concern each: ``rule(facts) -> list[Reason]``.

Order matters only for how reasons are listed among equals (most severe first overall).
"""

from __future__ import annotations

from collections.abc import Callable

from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason
from modelmon.judgement.rules.baseline import baseline_rule, importance_rule
from modelmon.judgement.rules.concept import concept_rule
from modelmon.judgement.rules.data_quality import data_quality_rule, schema_rule
from modelmon.judgement.rules.drift import drift_rule
from modelmon.judgement.rules.estimation import estimated_quality_rule, estimation_gap_rule
from modelmon.judgement.rules.fairness import fairness_rule
from modelmon.judgement.rules.limits import limits_rule
from modelmon.judgement.rules.multivariate import multivariate_rule
from modelmon.judgement.rules.operations import operations_rule
from modelmon.judgement.rules.quality import quality_rule

__all__ = ["RULES", "Rule"]

Rule = Callable[[WindowFacts], list[Reason]]

#: Every rule, by name (tests and users may judge with a subset or their own).
RULES: dict[str, Rule] = {
    "quality": quality_rule,
    "estimated_quality": estimated_quality_rule,
    "estimation_gap": estimation_gap_rule,
    "limits": limits_rule,
    "operations": operations_rule,
    "drift": drift_rule,
    "multivariate_drift": multivariate_rule,
    "data_quality": data_quality_rule,
    "schema": schema_rule,
    "concept_drift": concept_rule,
    "fairness": fairness_rule,
    "importance": importance_rule,
    "baseline": baseline_rule,
}

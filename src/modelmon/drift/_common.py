"""Pieces shared by the test modules: the internal outcome type and input coercion."""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

from modelmon.drift.results import TestResult
from modelmon.drift.summaries import (
    CategoricalSummary,
    Note,
    NumericSummary,
    summarize_numeric,
)
from modelmon.exceptions import UndefinedMetricWarning, ValidationError

Summary = NumericSummary | CategoricalSummary


class Outcome(NamedTuple):
    """What a test computes: statistic, p-value (None for distances) and warnings as data.

    Warnings travel as data so that :func:`~modelmon.drift.compare` can compute features in
    threads and emit them once, from the calling thread.
    """

    statistic: float
    p_value: float | None = None
    notes: tuple[Note, ...] = ()


def undefined_outcome(message: str, *, p_value: bool) -> Outcome:
    """NaN statistic (and NaN p-value for p-value tests) with an UndefinedMetricWarning note."""
    return Outcome(math.nan, math.nan if p_value else None, ((UndefinedMetricWarning, message),))


def emit(notes: tuple[Note, ...] | list[Note], stacklevel: int = 3) -> None:
    """Emit notes as warnings."""
    for category, message in notes:
        warnings.warn(message, category, stacklevel=stacklevel)


def finish(outcome: Outcome, stacklevel: int = 4) -> Outcome:
    """Emit an outcome's notes from a public function."""
    emit(outcome.notes, stacklevel=stacklevel)
    return outcome


def numeric(x: Any, which: str, owner: str, notes: list[Note]) -> NumericSummary:
    """Accept an array-like or a NumericSummary; arrays are summarised exactly."""
    if isinstance(x, NumericSummary):
        return x
    if isinstance(x, CategoricalSummary):
        raise ValidationError(
            f"The {which!r} argument of {owner} must be numeric. Got a categorical summary.",
            code="invalid_type",
            loc=(which,),
        )
    from modelmon.drift._frames import column_from_array

    col = column_from_array(x, f"The {which!r} argument of {owner}")
    if col.kind == "string":
        raise ValidationError(
            f"The {which!r} argument of {owner} must be numeric. Got strings instead.",
            code="invalid_type",
            loc=(which,),
        )
    return summarize_numeric(
        col.floats(), label=f"The {which!r} argument of {owner}", _notes=notes, _plain=True
    )


def categorical(x: Any, which: str, owner: str) -> CategoricalSummary:
    """Accept an array-like or a CategoricalSummary."""
    if isinstance(x, CategoricalSummary):
        return x
    if isinstance(x, NumericSummary):
        raise ValidationError(
            f"The {which!r} argument of {owner} must be categorical. Got a numeric summary.",
            code="invalid_type",
            loc=(which,),
        )
    from modelmon.drift._frames import column_from_array

    return column_from_array(x, f"The {which!r} argument of {owner}").category_summary()


def is_categorical_input(x: Any, feature_type: str | None) -> bool:
    """Decide numeric vs categorical for functions accepting both."""
    if feature_type is not None:
        return feature_type == "categorical"
    if isinstance(x, CategoricalSummary):
        return True
    if isinstance(x, NumericSummary):
        return False
    from modelmon.drift._frames import column_from_array

    kind = column_from_array(x, "input").kind
    return kind not in ("float", "int", "null")


def pair_numeric(
    reference: Any, current: Any, owner: str
) -> tuple[NumericSummary, NumericSummary, list[Note]]:
    """Summaries of both samples plus any notes raised while summarising."""
    notes: list[Note] = []
    ref = numeric(reference, "reference", owner, notes)
    cur = numeric(current, "current", owner, notes)
    return ref, cur, notes


def empty_sample_message(owner: str, ref_n: int, cur_n: int) -> str | None:
    """Message for an empty sample, or None when both have data."""
    if ref_n and cur_n:
        return None
    which = (
        "reference and current samples have"
        if not (ref_n or cur_n)
        else ("reference sample has" if not ref_n else "current sample has")
    )
    return f"{owner} is undefined: the {which} no non-missing values."


def with_notes(outcome: Outcome, notes: list[Note]) -> Outcome:
    """Prepend notes gathered while summarising."""
    if not notes:
        return outcome
    return outcome._replace(notes=(*notes, *outcome.notes))


def to_test_result(name: str, outcome: Outcome) -> TestResult:
    """The public result of a p-value test (a missing p-value becomes NaN)."""
    p = math.nan if outcome.p_value is None else float(outcome.p_value)
    return TestResult(name, float(outcome.statistic), p)

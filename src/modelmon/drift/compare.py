"""Data-set drift: compare a current frame with a reference, feature by feature.

:func:`compare` is ``Reference.fit(reference, ...).compare(current, ...)``; this module holds
the per-feature engine both use.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from modelmon._validation import check_option, check_real
from modelmon.drift._common import Outcome, emit
from modelmon.drift._frames import Column, frame_columns
from modelmon.drift.correction import CORRECTIONS, adjust_p_values
from modelmon.drift.reference import (
    DEFAULT_MAX_INT_CATEGORIES,
    Reference,
    check_drift_share,
    resolve_n_jobs,
    run_tasks,
    select_columns,
)
from modelmon.drift.registry import DriftTest, default_registry
from modelmon.drift.results import DatasetDriftResult, FeatureDriftResult
from modelmon.drift.selection import choose_test
from modelmon.drift.summaries import (
    DEFAULT_BINS,
    DEFAULT_MAX_EXACT,
    DEFAULT_SKETCH_SIZE,
    CategoricalSummary,
    Note,
    NumericSummary,
    summarize_numeric,
)
from modelmon.exceptions import ParameterError, SchemaError, UndefinedMetricWarning

__all__ = ["compare"]

Summary = NumericSummary | CategoricalSummary


def compare(
    reference: Any,
    current: Any,
    *,
    feature_types: Mapping[str, str] | None = None,
    tests: str | DriftTest | Mapping[str, Any] | None = None,
    thresholds: Mapping[str, float] | None = None,
    correction: str = "none",
    drift_share: float = 0.5,
    columns: Sequence[str] | None = None,
    bins: int = DEFAULT_BINS,
    max_exact: int = DEFAULT_MAX_EXACT,
    sketch_size: int = DEFAULT_SKETCH_SIZE,
    max_int_categories: int = DEFAULT_MAX_INT_CATEGORIES,
    n_jobs: int | None = None,
) -> DatasetDriftResult:
    """Compare current data with reference data, feature by feature.

    Equivalent to ``Reference.fit(reference, ...).compare(current, ...)`` (a fitted
    :class:`~modelmon.drift.Reference` may be passed directly).

    Parameters
    ----------
    reference : pandas/polars DataFrame, pyarrow Table, dict of arrays, or Reference
        The reference data (or its fitted summary).
    current : pandas/polars DataFrame, pyarrow Table or dict of arrays
        The data to check. It must contain every compared column; extra columns are ignored.
    feature_types : mapping of str to {"numeric", "categorical"}, optional
        Override inferred types (see :meth:`Reference.fit` for the inference rule). Not allowed
        with a fitted Reference, whose types are fixed.
    tests : str or mapping of str to (str or DriftTest), optional
        One test name for every feature, or per-feature tests. Features without one get the
        default choice (:func:`~modelmon.drift.choose_test`): below 1000 values a KS test
        (numeric) or chi-square / two-proportion z-test (categorical) at p < 0.05; above, the
        normalised Wasserstein distance (>= 0.1) or the Jensen–Shannon distance (>= 0.1).
    thresholds : mapping of str to float, optional
        Per-feature thresholds: a significance level for p-value tests, a distance for
        distance tests. Default: the test's default threshold.
    correction : {"none", "bonferroni", "holm", "bh"}, default "none"
        Multiple-testing correction applied to the p-values of the p-value tests
        (:func:`~modelmon.drift.adjust_p_values`); distance tests are unaffected.
    drift_share : float, default 0.5
        The data set drifts when at least this share of the features drift.
    columns : sequence of str, optional
        Features to compare (default: every reference column).
    bins, max_exact, sketch_size, max_int_categories
        Passed to :meth:`Reference.fit`.
    n_jobs : int, optional
        Threads (default: one for small data, one per CPU for large data).

    Returns
    -------
    DatasetDriftResult
        Per-feature :class:`FeatureDriftResult` and the data-set verdict.

    Notes
    -----
    Missing values (None, NaN, nulls, ±inf) are left out of every test and reported as
    ``missing_share_*``. A feature with no non-missing values on one side (e.g. an entirely
    missing current column, or an empty current frame) gets a NaN statistic, ``drifted=False``
    and one :class:`~modelmon.exceptions.UndefinedMetricWarning` listing such features; it still
    counts in ``n_features``. Constant columns, categories that appear or vanish, and
    single-category features are handled by each test as documented there.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.drift import compare
    >>> rng = np.random.default_rng(0)
    >>> ref = {"age": rng.normal(40, 10, 5000), "plan": rng.choice(["a", "b"], 5000)}
    >>> cur = {"age": rng.normal(45, 10, 5000), "plan": rng.choice(["a", "b"], 5000)}
    >>> res = compare(ref, cur)
    >>> [(r.feature, r.test, round(r.statistic, 2), r.drifted) for r in res]
    [('age', 'normalized_wasserstein', 0.52, True), ('plan', 'jensen_shannon', 0.0, False)]
    >>> res.share_drifted, res.drifted
    (0.5, True)
    """
    if isinstance(reference, Reference):
        if feature_types is not None:
            given = dict(feature_types)
            fixed = {k: v for k, v in reference.feature_types.items() if k in given}
            if given != fixed:
                raise ParameterError(
                    "The 'feature_types' parameter of compare cannot change the types of a "
                    "fitted Reference; pass feature_types= to Reference.fit instead.",
                    loc=("feature_types",),
                )
        ref = reference
    else:
        ref = Reference.fit(
            reference,
            feature_types=feature_types,
            columns=columns,
            bins=bins,
            max_exact=max_exact,
            sketch_size=sketch_size,
            max_int_categories=max_int_categories,
            n_jobs=n_jobs,
        )
    return ref.compare(
        current,
        tests=tests,
        thresholds=thresholds,
        correction=correction,
        drift_share=drift_share,
        columns=columns,
        n_jobs=n_jobs,
    )


def _resolve_tests(
    tests: str | DriftTest | Mapping[str, Any] | None,
    names: Sequence[str],
    reference: Reference,
    owner: str,
) -> dict[str, DriftTest]:
    if tests is None:
        return {}
    if isinstance(tests, str | DriftTest):
        spec: dict[str, Any] = dict.fromkeys(names, tests)
    elif isinstance(tests, Mapping):
        spec = dict(tests)
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ParameterError(
                f"The 'tests' parameter of {owner} names {unknown[0]!r}, which is not a compared "
                "feature.",
                loc=("tests", str(unknown[0])),
            )
    else:
        raise ParameterError(
            f"The 'tests' parameter of {owner} must be a test name or a mapping of feature name "
            f"to test. Got {type(tests).__name__} instead.",
            loc=("tests",),
        )
    out: dict[str, DriftTest] = {}
    for feature, value in spec.items():
        test = value if isinstance(value, DriftTest) else default_registry.get(value)
        ftype = reference[feature].feature_type
        if ftype not in test.feature_types:
            raise ParameterError(
                f"Test {test.name!r} does not accept the {ftype} feature {feature!r}. Tests for "
                f"{ftype} features: {', '.join(default_registry.names(ftype))}.",
                loc=("tests", feature),
            )
        out[feature] = test
    return out


def _resolve_thresholds(
    thresholds: Mapping[str, float] | None, names: Sequence[str], owner: str
) -> dict[str, float]:
    if thresholds is None:
        return {}
    if not isinstance(thresholds, Mapping):
        raise ParameterError(
            f"The 'thresholds' parameter of {owner} must be a mapping of feature name to "
            f"threshold. Got {type(thresholds).__name__} instead.",
            loc=("thresholds",),
        )
    out: dict[str, float] = {}
    for feature, value in thresholds.items():
        if feature not in names:
            raise ParameterError(
                f"The 'thresholds' parameter of {owner} names {feature!r}, which is not a "
                "compared feature.",
                loc=("thresholds", str(feature)),
            )
        out[feature] = check_real(value, f"thresholds[{feature!r}]", owner, low=0.0)
    return out


def _summarize_current(col: Column, ftype: str, notes: list[Note]) -> Summary:
    if ftype == "numeric":
        return summarize_numeric(col.floats(), label=col.label, _notes=notes, _plain=True)
    return col.category_summary()


def _missing_share(n: int, n_missing: int) -> float:
    total = n + n_missing
    return n_missing / total if total else math.nan


def compare_to_reference(
    reference: Reference,
    current: Any,
    *,
    tests: str | DriftTest | Mapping[str, Any] | None,
    thresholds: Mapping[str, float] | None,
    correction: str,
    drift_share: float,
    columns: Sequence[str] | None,
    n_jobs: int | None,
) -> DatasetDriftResult:
    """The engine behind :meth:`Reference.compare` (see :func:`compare`)."""
    owner = "compare"
    check_option(correction, "correction", owner, CORRECTIONS)
    drift_share = check_drift_share(drift_share, owner)
    names = select_columns(reference._summaries, columns, "reference", owner)
    chosen = _resolve_tests(tests, names, reference, owner)
    limits = _resolve_thresholds(thresholds, names, owner)
    for feature, test in chosen.items():
        if test.default_threshold is None and feature not in limits:
            raise ParameterError(
                f"Test {test.name!r} has no default threshold (its values are in the data's "
                f"units); give one for feature {feature!r} with thresholds=.",
                loc=("thresholds", feature),
            )
    getters, n_rows = frame_columns(current, "current", owner)
    absent = [n for n in names if n not in getters]
    if absent:
        raise SchemaError(
            f"The current data of {owner} has no column(s) {absent}.",
            code="missing_feature",
            loc=("current", absent[0]),
        )
    cols = [getters[n]() for n in names]
    jobs = resolve_n_jobs(n_jobs, n_rows * len(names), len(names), owner)

    # a task keeps only the current sample's counts: its sorted copy is freed as soon as the
    # feature is done, so peak memory holds one column per thread, not the whole frame
    def task(name: str, col: Column) -> tuple[DriftTest, Outcome, tuple[int, int], list[Note]]:
        ref = reference[name]
        notes: list[Note] = []
        cur = _summarize_current(col, ref.feature_type, notes)
        test = chosen.get(name)
        if test is None:
            n_cats = None
            if isinstance(ref, CategoricalSummary) and isinstance(cur, CategoricalSummary):
                n_cats = len(ref.categories) + sum(1 for c in cur.categories if c not in ref.index)
            test = default_registry.get(
                choose_test(ref.feature_type, ref.n, cur.n, n_categories=n_cats)
            )
        return test, test.run(ref, cur), (cur.n, cur.n_missing), notes

    done = run_tasks([functools.partial(task, n, c) for n, c in zip(names, cols)], jobs)

    raw_p = np.array(
        [
            (out.p_value if test.kind == "p_value" and out.p_value is not None else math.nan)
            for test, out, _, _ in done
        ],
        dtype=np.float64,
    )
    adjusted = adjust_p_values(raw_p, correction)
    results: list[FeatureDriftResult] = []
    data_notes: list[Note] = []
    undefined: dict[str, list[str]] = {}
    test_notes: list[Note] = []
    for i, (name, (test, out, (n_cur, n_cur_missing), notes)) in enumerate(zip(names, done)):
        ref = reference[name]
        threshold = limits.get(name, test.default_threshold)
        assert threshold is not None
        p_adj = None if test.kind != "p_value" else float(adjusted[i])
        p_value = out.p_value if test.kind == "p_value" else None
        drifted = test.is_drift(out.statistic, p_adj, threshold)
        results.append(
            FeatureDriftResult(
                feature=name,
                feature_type=ref.feature_type,
                test=test.name,
                statistic=float(out.statistic),
                p_value=None if p_value is None else float(p_value),
                threshold=float(threshold),
                drifted=bool(drifted),
                n_reference=ref.n,
                n_current=n_cur,
                missing_share_reference=_missing_share(ref.n, ref.n_missing),
                missing_share_current=_missing_share(n_cur, n_cur_missing),
                p_value_adjusted=p_adj,
            )
        )
        data_notes.extend(notes)
        for category, message in out.notes:
            if category is UndefinedMetricWarning:
                undefined.setdefault(message, []).append(name)
            else:
                test_notes.append((category, f"Feature {name!r}: {message}"))
    emit(data_notes, stacklevel=4)
    emit(test_notes, stacklevel=4)
    emit(
        [
            (
                UndefinedMetricWarning,
                f"Feature(s) {features}: {message} Their drift is reported as "
                "NaN and not counted as drifted; leave them out with columns= to silence this.",
            )
            for message, features in undefined.items()
        ],
        stacklevel=4,
    )
    n_drifted = sum(r.drifted for r in results)
    n = len(results)
    share = n_drifted / n if n else 0.0
    return DatasetDriftResult(
        features=tuple(results),
        n_features=n,
        n_drifted=n_drifted,
        share_drifted=share,
        drift_share=drift_share,
        drifted=bool(n and share >= drift_share),
        correction=correction,
    )

"""Estimated quality and multivariate drift through the service path (store, backfill,
verdicts): windows without labels get estimated metrics and verdicts from them; once labels
arrive, a planted concept drift shows as a realized-vs-estimated gap in the first window after
the change; the estimator and the multivariate models are stored with the reference profile."""

from __future__ import annotations

import math

import numpy as np
import pytest
from benchmarks.detection import run_table, simulation_tables

from benchmarks import estimation_data
from modelmon.evaluation.references import ReferenceProfile
from modelmon.vocabulary import (
    Metric,
    ReasonKind,
    contribution_feature,
    estimated_metric,
    estimation_gap_metric,
    standard_error_metric,
)

pytestmark = pytest.mark.slow

ROWS = 1000


def _points(keep: dict) -> dict:
    by_window: dict = {}
    for r in keep["metrics"].to_pylist():
        by_window.setdefault(r["window_start"], {})[r["metric"]] = (r["value"], r["n"])
    return by_window


def test_windows_without_labels_are_estimated_and_judged() -> None:
    sim = estimation_data.binary(n_reference=10_000, windows=15, rows=ROWS, seed=2)
    reference, analysis, roles = simulation_tables(sim)
    labelled = np.zeros(analysis.num_rows, dtype=bool)
    labelled[: 3 * ROWS] = True  # the first three windows get their labels, the rest never
    keep: dict = {}
    run_table("binary", reference=reference, analysis=analysis, window=f"{ROWS}rows",
              labelled=labelled, keep=keep, **roles)
    points = _points(keep)
    verdicts = keep["verdicts"]
    assert len(verdicts) == 15
    for i, v in enumerate(verdicts):
        p = points[v.window_start]
        # every window, labelled or not, has its estimates and their sampling errors
        for m in ("accuracy", "f1", "roc_auc"):
            value, n = p[estimated_metric(m)]
            assert 0 < value < 1 and n == ROWS
            assert 0 < p[standard_error_metric(estimated_metric(m))][0] < 0.05
        assert Metric.RECONSTRUCTION_ERROR in p
        # gaps exist exactly where labels do
        assert (estimation_gap_metric("accuracy") in p) == (i < 3)
    # the shift ends in population B, where the model is worse: judged without a single label
    late = [v for v in verdicts[-3:]]
    for v in late:
        kinds = {r["kind"] for r in v.reasons}
        assert ReasonKind.ESTIMATED_QUALITY in kinds, v.reasons
        found = next(r for r in v.reasons if r["kind"] == ReasonKind.ESTIMATED_QUALITY)
        assert "no labels yet" in found["message"]
        assert found["message"].startswith("estimated ")
    assert not any(r["kind"] in (ReasonKind.ESTIMATED_QUALITY, ReasonKind.ESTIMATION_GAP)
                   for v in verdicts[:4] for r in v.reasons)
    profile = ReferenceProfile.from_bytes(keep["profile"][2])
    assert profile.estimator is not None and profile.estimator_model().calibrated
    assert "pca_reconstruction" in profile.multivariate


@pytest.mark.parametrize("kind", ["regression", "multiclass"])
def test_concept_drift_shows_as_a_gap_in_the_first_window_after_it(kind: str) -> None:
    sim = getattr(estimation_data, kind)(n_reference=10_000, windows=14, rows=ROWS,
                                         concept_at=9, seed=3)
    reference, analysis, roles = simulation_tables(sim)
    keep: dict = {}
    run_table(kind, reference=reference, analysis=analysis, window=f"{ROWS}rows", keep=keep,
              **roles)
    gaps = [i for i, v in enumerate(keep["verdicts"])
            if any(r["kind"] == ReasonKind.ESTIMATION_GAP for r in v.reasons)]
    assert gaps and gaps[0] == 9, gaps
    assert len(gaps) >= 4
    multivariate = [r for v in keep["verdicts"] for r in v.reasons
                    if r["kind"] == ReasonKind.MULTIVARIATE_DRIFT]
    for r in multivariate:  # the shift moves x1, x2 and c: they are the ones named
        assert r["feature"] in {"x1", "x2", "c"}
    p = _points(keep)[keep["verdicts"][-1].window_start]
    named = [contribution_feature(k) for k in p if contribution_feature(k)]
    assert 1 <= len(named) <= 5
    assert all(math.isfinite(v) for v, _ in p.values() if v is not None)


def test_reports_recommend_confirming_estimates_and_retraining_on_a_gap() -> None:
    from modelmon.config import ModelSpec
    from modelmon.evaluation.report import recommendations
    from modelmon.judgement import Reason
    from modelmon.vocabulary import Severity

    spec = ModelSpec.model_validate({"name": "m", "task": "binary_classification"})
    low = Reason(ReasonKind.ESTIMATED_QUALITY, Severity.HIGH, "estimated accuracy 0.9 ...",
                 metric=estimated_metric("accuracy"), evidence={"estimates": "accuracy"})
    gap = Reason(ReasonKind.ESTIMATION_GAP, Severity.WARNING, "realized accuracy ...",
                 metric=estimation_gap_metric("accuracy"))
    recs = recommendations(spec, [low, gap], None)
    assert recs[0].startswith("Estimated accuracy fell below the reference's band")
    assert "concept drift" in recs[1] and "Retrain" in recs[1]

"""The estimation and multivariate-drift rules on hand-made windows."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from modelmon.judgement import RULES, MetricBand, Reason, WindowFacts, judge_window
from modelmon.vocabulary import (
    Metric,
    ReasonKind,
    Severity,
    Status,
    Task,
    contribution_metric,
    estimated_metric,
    estimation_gap_metric,
    standard_error_metric,
)

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ACC = MetricBand("accuracy", 2.197, 0.08, 12, 1000.0, source="reference", scale="logit")  # 0.90
F1 = MetricBand("f1", 1.386, 0.05, 12, 1000.0, source="reference", scale="logit")  # 0.80
REC = MetricBand(Metric.RECONSTRUCTION_ERROR, math.log(1.1), 0.004, 10, 1000.0,
                 source="reference", scale="log")
EST_ACC, EST_F1 = estimated_metric("accuracy"), estimated_metric("f1")


def facts(metrics: dict[str, tuple[float, int]], *, history: list | None = None,
          n: int = 1000, task: Task = Task.BINARY) -> WindowFacts:
    return WindowFacts(model="m", task=task, window="1000rows", start=T0,
                       end=T0 + timedelta(hours=1), n=n, metrics=metrics,
                       history=history or [], quality=["accuracy", "f1"],
                       bands={"accuracy": ACC, "f1": F1, Metric.RECONSTRUCTION_ERROR: REC},
                       baseline_windows=12, baseline_needed=12)


def estimated(acc: float, f1: float = 0.80, labelled: int = 0) -> dict[str, tuple[float, int]]:
    return {EST_ACC: (acc, 1000), standard_error_metric(EST_ACC): (0.009, 1000),
            EST_F1: (f1, 1000), standard_error_metric(EST_F1): (0.012, 1000),
            Metric.LABELLED_COUNT: (float(labelled), 1000)}


def run(rule: str, f: WindowFacts) -> list[Reason]:
    return RULES[rule](f)


@pytest.mark.parametrize(("acc", "labelled", "expected"), [
    (0.90, 0, []),                                   # at the band's centre
    (0.89, 0, []),                                   # 1.9 sd: noise
    (0.85, 0, [(Severity.HIGH, EST_ACC)]),           # far below, no labels
    (0.85, 400, [(Severity.HIGH, EST_ACC)]),         # 40 % labelled: still judged on estimates
    (0.85, 600, []),                                 # most rows labelled: the quality rule judges
    (0.95, 0, []),                                   # better is never a finding
])
def test_estimated_quality_outside_its_band(acc: float, labelled: int, expected: list) -> None:
    reasons = run("estimated_quality", facts(estimated(acc, labelled=labelled)))
    assert [(r.severity, r.metric) for r in reasons] == expected
    for r in reasons:
        assert r.kind is ReasonKind.ESTIMATED_QUALITY
        assert r.message.startswith("estimated accuracy 0.85 (± 0.009), reference band ")
        assert "below it" in r.message and r.evidence["estimates"] == "accuracy"
        assert r.threshold is not None and r.threshold > 0.85


def test_estimated_quality_persistent_and_status() -> None:
    near = estimated(0.878)  # beyond the two-of-three limit, inside the far one
    assert run("estimated_quality", facts(near)) == []
    reasons = run("estimated_quality", facts(near, history=[estimated(0.877), estimated(0.9)]))
    assert [(r.severity, r.evidence["persistent"]) for r in reasons] == [(Severity.WARNING, True)]
    verdict = judge_window(facts(estimated(0.80)))
    assert verdict.status is Status.DEGRADED
    assert "no labels yet" in verdict.reasons[0].message


def gap(acc_gap: float, se: float = 0.01, n: int = 800, realized: float = 0.88
        ) -> dict[str, tuple[float, int]]:
    return {"accuracy": (realized, n), "f1": (0.80, n), Metric.LABELLED_COUNT: (float(n), 1000),
            estimation_gap_metric("accuracy"): (acc_gap, n),
            standard_error_metric(estimation_gap_metric("accuracy")): (se, n),
            estimation_gap_metric("f1"): (0.0, n),
            standard_error_metric(estimation_gap_metric("f1")): (0.012, n)}


@pytest.mark.parametrize(("value", "found"), [(0.0, False), (0.02, False), (-0.02, False),
                                               (-0.06, True), (0.06, True)])
def test_estimation_gap(value: float, found: bool) -> None:
    reasons = run("estimation_gap", facts(gap(value)))
    assert bool(reasons) is found
    if found:
        (r,) = reasons
        assert (r.kind, r.severity, r.metric) == (ReasonKind.ESTIMATION_GAP, Severity.WARNING,
                                                  estimation_gap_metric("accuracy"))
        assert r.message.startswith("realized accuracy 0.88 vs estimated ")
        assert "on the same 800 labelled rows: 6.0 sd apart" in r.message
        assert "concept drift" in r.message


def test_estimation_gap_needs_labels_and_a_practical_size() -> None:
    assert run("estimation_gap", facts(gap(-0.06, n=20))) == []  # fewer than min_labelled
    # 5 sd but a 0.6 % change: below the practical minimum (2 %), not beyond strong_sigmas (6)
    assert run("estimation_gap", facts(gap(-0.005, se=0.001))) == []
    assert run("estimation_gap", facts(gap(-0.007, se=0.001)))  # 7 sd: strong


def test_multivariate_drift_names_the_contributing_features() -> None:
    metrics = {Metric.RECONSTRUCTION_ERROR: (1.25, 1000), contribution_metric("age"): (0.7, 1000),
               contribution_metric("income"): (0.25, 1000), contribution_metric("x"): (0.05, 1000)}
    (r,) = run("multivariate_drift", facts(metrics))
    assert (r.kind, r.severity, r.feature) == (ReasonKind.MULTIVARIATE_DRIFT, Severity.WARNING,
                                               "age")
    assert r.message.startswith("multivariate drift: PCA reconstruction error 1.25 vs baseline 1.1")
    assert "above its band" in r.message
    assert r.message.endswith("features contributing most: age (70 %), income (25 %), x (5 %)")
    (low,) = run("multivariate_drift", facts({Metric.RECONSTRUCTION_ERROR: (0.95, 1000)}))
    assert "below its band" in low.message and "contributing" not in low.message
    assert run("multivariate_drift", facts({Metric.RECONSTRUCTION_ERROR: (1.102, 1000)})) == []


def test_a_moderate_gap_needs_a_second_window() -> None:
    moderate = gap(-0.04)  # 4 sd, 4.5 %: beyond the limit (3.1), not beyond strong_sigmas (6)
    assert run("estimation_gap", facts(moderate)) == []
    assert run("estimation_gap", facts(moderate, history=[gap(0.0), gap(0.0)])) == []
    (r,) = run("estimation_gap", facts(moderate, history=[gap(-0.035), gap(0.0)]))
    assert r.evidence["persistent"] and "in two of the last three windows" in r.message

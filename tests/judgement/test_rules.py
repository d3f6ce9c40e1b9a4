"""Each judgement rule on hand-made windows: what it finds, with which kind and severity, and
what it leaves alone."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from modelmon.judgement import (
    RULES,
    DetectorEvent,
    FeatureFacts,
    JudgementSettings,
    Limit,
    MetricBand,
    Reason,
    WindowFacts,
    judge_window,
    status_of,
)
from modelmon.judgement.rules.fairness import fairness_key
from modelmon.vocabulary import Metric, ReasonKind, Severity, Status, Task

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ACC = MetricBand("accuracy", 0.90, 0.005, 12, 1000.0)
F1 = MetricBand("f1", 0.80, 0.01, 12, 1000.0)
LAT = MetricBand(Metric.LATENCY_P95, 0.050, 0.002, 12, 1000.0)
ERR = MetricBand(Metric.ERROR_RATE, 0.01, 0.002, 12, 1000.0)


def facts(**kw: object) -> WindowFacts:
    base: dict[str, object] = dict(
        model="fraud", task=Task.BINARY, window="1h", start=T0, end=T0 + timedelta(hours=1),
        n=1000, metrics={"accuracy": (0.90, 1000), "f1": (0.80, 1000),
                         Metric.LATENCY_P95: (0.050, 1000), Metric.ERROR_RATE: (0.01, 1000)},
        quality=["accuracy", "f1"],
        bands={"accuracy": ACC, "f1": F1, Metric.LATENCY_P95: LAT, Metric.ERROR_RATE: ERR},
        baseline_windows=12, baseline_needed=12)
    base.update(kw)
    return WindowFacts(**base)  # type: ignore[arg-type]


def kinds(reasons: list[Reason]) -> list[tuple[str, str, str | None]]:
    return [(str(r.kind), str(r.severity), r.metric or r.feature) for r in reasons]


# --- quality -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("accuracy", "expected"), [
    (0.90, []),                                             # at the mean
    (0.893, []),                                            # 1.4 sd: noise
    (0.88, [("quality", "critical", "accuracy")]),          # 4 sd, 2.2 %: the headline, far out
    (0.75, [("quality", "critical", "accuracy")]),          # 30 sd
    (0.93, []),                                             # better is never a finding
])
def test_quality_far_outside_the_band_is_a_finding_at_once(accuracy: float, expected: list) -> None:
    f = facts(metrics={"accuracy": (accuracy, 1000), "f1": (0.80, 1000)})
    assert kinds(RULES["quality"](f)) == expected


def test_a_non_headline_metric_far_out_is_high_and_the_headline_leads() -> None:
    f = facts(metrics={"accuracy": (0.85, 1000), "f1": (0.70, 1000)})
    found = RULES["quality"](f)
    assert kinds(found) == [("quality", "critical", "accuracy"), ("quality", "high", "f1")]
    msg = found[0].message
    assert "accuracy 0.85 vs baseline 0.9 (−5.6 %)" in msg and "sd below its band" in msg
    assert found[0].evidence["sigmas"] == pytest.approx(10.0)
    assert found[0].threshold < 0.9 and found[0].baseline == 0.9


def test_two_of_three_windows_beyond_the_narrower_limit_persist() -> None:
    # 3 sd below (2.7 %): not beyond the far limit (3.2 sd for 2 metrics at 1 %, 12 baseline
    # windows), beyond the two-of-three limit (2.0 sd).
    wide = MetricBand("accuracy", 0.90, 0.008, 12, 1000.0)
    low = (0.90 - 3.0 * 0.008, 1000)
    once = facts(metrics={"accuracy": low, "f1": (0.80, 1000)}, bands={"accuracy": wide, "f1": F1})
    assert RULES["quality"](once) == []
    twice = replace(once, history=[{"accuracy": (0.90, 1000)}, {"accuracy": low}])
    found = RULES["quality"](twice)
    assert kinds(found) == [("quality", "high", "accuracy")]
    assert "two of the last three windows" in found[0].message
    gap = replace(once, history=[{"accuracy": low}, {"accuracy": (0.90, 1000)}])
    assert kinds(RULES["quality"](gap)) == [("quality", "high", "accuracy")]
    old = replace(once, history=[{"accuracy": low}, {"accuracy": (0.9, 1000)},
                                 {"accuracy": (0.9, 1000)}])
    assert RULES["quality"](old) == []  # only the last two windows count


def test_the_minimum_practical_change_never_hides_a_change_many_sd_large() -> None:
    tight = MetricBand("accuracy", 0.90, 0.0005, 12, 1000.0)
    small = facts(bands={"accuracy": tight}, quality=["accuracy"],
                  metrics={"accuracy": (0.8985, 1000)})  # 3 sd, 0.17 %: below 2 %, not strong
    assert RULES["quality"](small) == []
    strong = replace(small, metrics={"accuracy": (0.896, 1000)})  # 8 sd, 0.4 %
    assert kinds(RULES["quality"](strong)) == [("quality", "critical", "accuracy")]
    own = replace(small, settings=JudgementSettings(min_change={"accuracy": 0.0}))
    assert kinds(RULES["quality"](own)) == [("quality", "critical", "accuracy")]  # 3 > 2.8 sd


def test_small_windows_have_wider_bands_and_too_few_labels_are_not_judged() -> None:
    f = facts(metrics={"accuracy": (0.88, 100), "f1": (0.8, 100)})  # 4 sd at 1000 rows
    assert RULES["quality"](f) == []                                 # 1.3 sd at 100 rows
    f = facts(metrics={"accuracy": (0.5, 20), "f1": (0.8, 20)})     # 20 labels < 30
    assert RULES["quality"](f) == []


def test_no_band_means_not_judged_and_says_why() -> None:
    f = facts(bands={}, baseline_windows=3, baseline_needed=12,
              metrics={"accuracy": (0.2, 1000)})
    assert RULES["quality"](f) == []
    info = RULES["baseline"](f)
    assert kinds(info) == [("baseline", "info", None)]
    assert "3 of the 12 windows" in info[0].message
    done = replace(f, baseline_windows=12)
    assert "fewer than 4 baseline windows hold 30 labelled" in RULES["baseline"](done)[0].message
    assert RULES["baseline"](facts()) == []


# --- operations and limits -----------------------------------------------------------------------

def test_error_rate_above_its_limit_is_critical_and_latency_outside_its_band_warns() -> None:
    f = facts(metrics={Metric.ERROR_RATE: (0.12, 1000), Metric.LATENCY_P95: (0.30, 1000)})
    found = RULES["operations"](f)
    assert kinds(found) == [("errors", "critical", "error_rate"),
                            ("latency", "warning", "latency_p95_seconds")]
    assert "12 % of predictions failed (limit 5 %" in found[0].message
    assert "latency_p95_seconds 300 ms vs baseline 50 ms" in found[1].message
    calm = facts()
    assert RULES["operations"](calm) == []


@pytest.mark.parametrize(("limit", "value", "found"), [
    (Limit("accuracy", min=0.8), 0.79, True), (Limit("accuracy", min=0.8), 0.8, False),
    (Limit(Metric.LATENCY_P95, max=0.1, severity=Severity.WARNING), 0.2, True),
    (Limit(Metric.LATENCY_P95, max=0.1), 0.05, False),
    (Limit("accuracy", min=0.8), math.nan, False),
])
def test_fixed_limits(limit: Limit, value: float, found: bool) -> None:
    f = facts(metrics={limit.metric: (value, 100)}, settings=JudgementSettings(limits=[limit]))
    reasons = RULES["limits"](f)
    assert bool(reasons) is found
    if found:
        assert reasons[0].kind is ReasonKind.LIMIT and reasons[0].severity is limit.severity
        assert reasons[0].threshold in (limit.min, limit.max)


# --- drift, data quality, schema -----------------------------------------------------------------

def feat(name: str, drifted: bool, **kw: object) -> FeatureFacts:
    base: dict[str, object] = dict(feature=name, feature_type="numeric",
                                   test="normalized_wasserstein", statistic=0.3 if drifted else 0.02,
                                   threshold=0.08, drifted=drifted, n=1000, sigmas=8.0 if drifted else 0.1,
                                   banded=True)
    base.update(kw)
    return FeatureFacts(**base)  # type: ignore[arg-type]


def test_drifted_features_are_named_largest_first_with_their_evidence() -> None:
    f = facts(features=[feat("age", True, sigmas=5.0), feat("income", True, sigmas=12.0),
                        feat("tenure", False), feat("prediction", True, feature_type="prediction")],
              drift_share_limit=0.9)
    found = RULES["drift"](f)
    assert kinds(found) == [("drift", "warning", "income"), ("drift", "warning", "age"),
                            ("prediction_drift", "warning", "prediction")]
    assert found[0].message == ("feature income drifted: Wasserstein (normalised) 0.3, 12.0 sd "
                                "above the reference's noise (limit 0.08)")


def test_a_drift_share_at_the_limit_adds_a_summary_and_p_value_tests_show_p() -> None:
    f = facts(features=[feat("a", True), feat("b", True), feat("c", False)],
              drift_share_limit=0.5)
    found = RULES["drift"](f)
    assert found[-1].message.startswith("2 of 3 input features drifted (67 %")
    ks = FeatureFacts("a", "numeric", "ks", 0.21, 0.05, True, 500, p_value=1e-6)
    assert "KS 0.21, p < 0.001" in RULES["drift"](facts(features=[ks]))[0].message


def test_data_quality_compares_with_the_reference() -> None:
    f = facts(features=[
        feat("a", False, missing_share=0.35, missing_share_reference=0.05),   # +30 pp
        feat("b", False, missing_share=1.0, missing_share_reference=1.0),     # never sent
        feat("c", False, unseen_share=0.04, feature_type="categorical"),
        feat("d", False, out_of_range_share=0.2),
        feat("e", False, missing_share=0.1, missing_share_reference=0.0, unseen_share=0.0),
    ], schema_changes=["added: x"])
    found = RULES["data_quality"](f)
    assert [(r.feature, r.evidence["issue"]) for r in found] == [
        ("a", "missing"), ("c", "unseen_categories"), ("d", "out_of_range")]
    # a declared optional feature that stops coming is said, but changes no status
    optional = facts(features=[feat("a", False, missing_share=1.0, missing_share_reference=0.0,
                                    optional=True)])
    [r] = RULES["data_quality"](optional)
    assert r.severity is Severity.INFO and r.message.startswith("optional feature a is missing")
    assert kinds(RULES["schema"](f)) == [("schema_change", "warning", None)]


# --- concept drift, fairness, importance ---------------------------------------------------------

def test_concept_drift_names_the_date_and_time() -> None:
    at = T0 + timedelta(minutes=5, seconds=31)
    f = facts(detector_events=[DetectorEvent("adwin", "warning", at, "v3"),
                               DetectorEvent("adwin", "drift", at, "v3", 0.31),
                               DetectorEvent("adwin", "drift", at + timedelta(minutes=1), "v3")])
    found = RULES["concept_drift"](f)
    assert len(found) == 1 and found[0].kind is ReasonKind.CONCEPT_DRIFT
    assert "ADWIN detected a change in the error stream at 2026-03-02 14:05 UTC" in \
        found[0].message and "version v3" in found[0].message


def test_fairness_gap_outside_its_band_warns() -> None:
    band = MetricBand("demographic_parity_difference", 0.05, 0.01, 12, 1000.0)
    f = facts(fairness={"country": {"demographic_parity_difference": (0.25, 1000)}},
              fairness_bands={("country", "demographic_parity_difference"): band})
    found = RULES["fairness"](f)
    assert kinds(found) == [("fairness", "warning", "demographic_parity_difference")]
    assert found[0].message.startswith("demographic_parity_difference across country 0.25")
    assert fairness_key("country", "x") == "country:x"
    calm = replace(f, fairness={"country": {"demographic_parity_difference": (0.05, 1000)}})
    assert RULES["fairness"](calm) == []


def test_importance_shift_warns() -> None:
    assert kinds(RULES["importance"](facts(importance=["shifted"]))) == [
        ("importance", "warning", None)]


# --- the verdict ---------------------------------------------------------------------------------

def test_status_from_reasons_is_the_worst_severity() -> None:
    def r(sev: Severity) -> Reason:
        return Reason(ReasonKind.DRIFT, sev, "x")
    assert status_of([r(Severity.INFO)]) is Status.HEALTHY
    assert status_of([r(Severity.INFO), r(Severity.WARNING)]) is Status.WARNING
    assert status_of([r(Severity.WARNING), r(Severity.HIGH)]) is Status.DEGRADED
    assert status_of([r(Severity.CRITICAL)]) is Status.DEGRADED


def test_judge_window_orders_reasons_and_round_trips() -> None:
    f = facts(metrics={"accuracy": (0.80, 1000), "f1": (0.8, 1000)},
              features=[feat("age", True), feat("tenure", False)], drift_share_limit=0.9)
    v = judge_window(f)
    assert v.status is Status.DEGRADED
    assert [r.severity for r in v.reasons] == [Severity.CRITICAL, Severity.WARNING]
    assert type(v).from_dict(v.to_dict()) == v
    empty = judge_window(replace(f, n=0))
    assert empty.status is Status.NO_DATA and empty.reasons[0].kind is ReasonKind.NO_DATA
    assert judge_window(facts()).status is Status.HEALTHY

"""The alert engine on hand-made windows: every condition kind, for and keep_firing_for, tiers,
minimum samples, silences, acknowledgements, restart persistence, preset rules, history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from modelmon.alerts.builtin import builtin_rules, service_rules
from modelmon.alerts.conditions import ModelContext, ServiceContext, evaluate_condition
from modelmon.alerts.engine import AlertEngine
from modelmon.alerts.matchers import Matcher
from modelmon.alerts.rules import AlertRule
from modelmon.alerts.silences import Silence
from modelmon.config import ModelSpec
from modelmon.judgement import DetectorEvent, FeatureFacts, MetricBand, Reason, WindowFacts
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.vocabulary import Health, Metric, ReasonKind, Severity, Status, Task

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
SPEC = ModelSpec.model_validate({
    "name": "fraud", "task": "binary_classification", "owner": "risk-ml",
    "labels": {"team": "risk"}, "prediction": {"classes": [0, 1], "score": True}})


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    s = DuckDBStore(":memory:")
    s.open()
    yield s
    s.close()


def rule(**kw: Any) -> AlertRule:
    return AlertRule.model_validate({"name": "R", **kw})


def ctx(h: int = 0, *, status: Status = Status.HEALTHY, metrics: dict[str, Any] | None = None,
        features: list[FeatureFacts] | None = None, reasons: list[Reason] | None = None,
        events: list[DetectorEvent] | None = None, bands: dict[str, MetricBand] | None = None,
        **kw: Any) -> ModelContext:
    facts = WindowFacts("fraud", Task.BINARY, "1h", T0 + h * HOUR, T0 + (h + 1) * HOUR, 1000,
                        metrics=metrics or {}, features=features or [],
                        detector_events=events or [], bands=bands or {})
    return ModelContext("fraud", {"model": "fraud", "team": "risk"}, T0 + (h + 1) * HOUR, "1h",
                        status, facts, reasons or [], **kw)


def feat(name: str, drifted: bool, stat: float = 0.1, **kw: Any) -> FeatureFacts:
    return FeatureFacts(name, "numeric", "normalized_wasserstein", stat, 0.05, drifted, 1000, **kw)


# --- conditions ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cond", "context", "active", "severity"), [
    ({"kind": "metric", "metric": "accuracy", "op": "<", "value": 0.8},
     {"metrics": {"accuracy": (0.75, 500)}}, True, Severity.WARNING),  # the rule's severity
    ({"kind": "metric", "metric": "accuracy", "op": "<", "value": 0.8},
     {"metrics": {"accuracy": (0.85, 500)}}, False, None),
    ({"kind": "metric", "metric": str(Metric.LATENCY_P95), "op": ">", "warning": 0.1,
      "critical": 1.0}, {"metrics": {str(Metric.LATENCY_P95): (0.3, 500)}}, True,
     Severity.WARNING),
    ({"kind": "metric", "metric": str(Metric.LATENCY_P95), "op": ">", "warning": 0.1,
      "critical": 1.0}, {"metrics": {str(Metric.LATENCY_P95): (1.5, 500)}}, True,
     Severity.CRITICAL),
    ({"kind": "change", "metric": "accuracy", "warning": 0.05, "critical": 0.10},
     {"metrics": {"accuracy": (0.80, 500)},
      "bands": {"accuracy": MetricBand("accuracy", 0.9, 0.01, 12, 500.0)}}, True,
     Severity.CRITICAL),
    ({"kind": "change", "metric": "accuracy", "warning": 0.05, "critical": 0.10},
     {"metrics": {"accuracy": (0.93, 500)},
      "bands": {"accuracy": MetricBand("accuracy", 0.9, 0.01, 12, 500.0)}}, False, None),
    # 6.7 % worse but only 1.2 sd of a noisy band: noise, not a change (unless min_sigmas: 0)
    ({"kind": "change", "metric": "accuracy", "warning": 0.05, "critical": 0.10},
     {"metrics": {"accuracy": (0.84, 500)},
      "bands": {"accuracy": MetricBand("accuracy", 0.9, 0.05, 12, 500.0)}}, False, None),
    ({"kind": "change", "metric": "accuracy", "warning": 0.05, "critical": 0.10,
      "min_sigmas": 0}, {"metrics": {"accuracy": (0.84, 500)},
                         "bands": {"accuracy": MetricBand("accuracy", 0.9, 0.05, 12, 500.0)}},
     True, Severity.WARNING),
    # the same change on a window of a quarter of the rows is twice as noisy
    ({"kind": "change", "metric": "accuracy", "warning": 0.05, "critical": 0.10},
     {"metrics": {"accuracy": (0.84, 125)},
      "bands": {"accuracy": MetricBand("accuracy", 0.9, 0.015, 12, 500.0)}}, False, None),
    ({"kind": "change", "metric": "accuracy", "warning": 0.05, "critical": 0.10},
     {"metrics": {"accuracy": (0.84, 500)},
      "bands": {"accuracy": MetricBand("accuracy", 0.9, 0.015, 12, 500.0)}}, True,
     Severity.WARNING),
    ({"kind": "drift_share", "op": ">=", "value": 0.5},
     {"features": [feat("a", True), feat("b", False)]}, True, None),
    ({"kind": "verdict"}, {"status": Status.DEGRADED, "reasons": [
        Reason(ReasonKind.QUALITY, Severity.CRITICAL, "x")]}, True, Severity.CRITICAL),
    ({"kind": "verdict"}, {"status": Status.WARNING}, False, None),
    ({"kind": "verdict", "status": ["warning", "degraded"], "reason": ["drift"]},
     {"status": Status.WARNING, "reasons": [Reason(ReasonKind.DRIFT, Severity.WARNING, "d")]},
     True, Severity.WARNING),
    ({"kind": "verdict", "status": ["warning"], "reason": ["latency"]},
     {"status": Status.WARNING, "reasons": [Reason(ReasonKind.DRIFT, Severity.WARNING, "d")]},
     False, None),
    ({"kind": "detector"}, {"events": [DetectorEvent("adwin", "drift", T0, "v1", 0.3)]}, True,
     None),
    ({"kind": "detector"}, {"events": [DetectorEvent("adwin", "warning", T0, "v1")]}, False,
     None),
    ({"kind": "no_data", "for": "30m"}, {"last_prediction": T0 - 10 * HOUR}, True, None),
    ({"kind": "no_data", "for": "30m"}, {"last_prediction": T0 + HOUR - timedelta(minutes=5)},
     False, None),
    ({"kind": "training_staleness", "max_age": "7d"}, {"last_training": T0 - timedelta(days=8)},
     True, None),
])
def test_single_series_conditions(cond: dict[str, Any], context: dict[str, Any], active: bool,
                                  severity: Severity | None) -> None:
    [sample] = evaluate_condition(rule(condition=cond), ctx(**context))
    assert sample.active is active
    assert sample.severity == severity


def test_drift_and_data_quality_give_one_series_per_feature() -> None:
    c = ctx(features=[feat("a", True, 0.3), feat("b", False, 0.01, missing_share=0.5),
                      feat("prediction", True)])
    drift = evaluate_condition(rule(condition={"kind": "drift"}), c)
    assert [(s.labels["feature"], s.active) for s in drift] == [("a", True), ("b", False)]
    fixed = evaluate_condition(rule(condition={"kind": "drift", "feature": "b", "op": ">",
                                               "value": 0.005}), c)
    assert [(s.labels["feature"], s.active, s.threshold) for s in fixed] == [("b", True, 0.005)]
    output = evaluate_condition(rule(condition={"kind": "drift", "feature": "prediction"}), c)
    assert [s.active for s in output] == [True]
    dq = evaluate_condition(rule(condition={"kind": "data_quality", "value": 0.2}), c)
    assert [(s.labels["feature"], s.active) for s in dq] == [("a", False), ("b", True)]


def test_a_limit_on_a_named_statistic_reads_only_the_features_tested_with_it(
        store: DuckDBStore) -> None:
    psi = FeatureFacts("amount", "numeric", "psi", 0.31, 0.2, True, 1000)
    c = ctx(features=[psi, feat("country", False, 0.4)])  # 0.4: a Wasserstein distance
    r = rule(name="PsiHigh", condition={"kind": "drift", "test": "psi", "op": ">", "value": 0.2})
    assert [(s.labels["feature"], s.active) for s in evaluate_condition(r, c)] == [("amount", True)]
    # no feature tested with PSI: the rule says so in its status instead of staying silent
    e = engine(store, r)
    assert e.evaluate_model(SPEC, ctx(features=[feat("country", True, 0.4)])) == []
    st = {x.rule.name: x for x in e.rules()}["PsiHigh"].stats
    assert st.last_error is not None and "tested with 'psi'" in st.last_error
    assert [a.rule for a in e.evaluate_model(SPEC, ctx(1, features=[psi]))] == ["PsiHigh"]
    assert e.stats("PsiHigh").last_error is None


def test_minimum_samples_and_service_conditions() -> None:
    r = rule(condition={"kind": "metric", "metric": "accuracy", "op": "<", "value": 0.8},
             min_samples=600)
    [s] = evaluate_condition(r, ctx(metrics={"accuracy": (0.5, 500)}))
    assert not s.active
    service = ServiceContext(T0, {"store": Health.UNHEALTHY}, {"disk": 0.95})
    by_name = {r.name: r for r in service_rules()}
    assert evaluate_condition(by_name["ServiceUnhealthy"], service)[0].active
    assert evaluate_condition(by_name["DiskAlmostFull"], service)[0].active
    assert not evaluate_condition(by_name["WriterStopped"], service)[0].active
    assert not evaluate_condition(by_name["AuthFailureBurst"], service)[0].active  # no count
    burst = ServiceContext(T0, {}, {"auth_failures": 51.0})
    [sample] = evaluate_condition(by_name["AuthFailureBurst"], burst)
    assert sample.active and sample.value == 51.0
    assert not evaluate_condition(by_name["AuthFailureBurst"],
                                  ServiceContext(T0, {}, {"auth_failures": 50.0}))[0].active
    assert evaluate_condition(by_name["ServiceUnhealthy"], ctx()) == []  # a model context


# --- lifecycle -------------------------------------------------------------------------------------

def engine(store: DuckDBStore, *rules: AlertRule) -> AlertEngine:
    return AlertEngine(store.alerts, [(r, "config") for r in rules])


def low(h: int, acc: float) -> ModelContext:
    return ctx(h, metrics={"accuracy": (acc, 500)})


ACC = {"kind": "metric", "metric": "accuracy", "op": "<", "value": 0.8}


def test_for_n_evaluations_then_firing_then_resolved_one_incident(store: DuckDBStore) -> None:
    e = engine(store, rule(name="AccuracyLow", condition=ACC, **{"for": 2}))
    [a] = e.evaluate_model(SPEC, low(0, 0.7))
    assert a.state == "pending" and a.labels == {
        "alertname": "AccuracyLow", "severity": "warning", "model": "fraud", "owner": "risk-ml",
        "team": "risk", "metric": "accuracy"}
    [a] = e.evaluate_model(SPEC, low(1, 0.7))
    assert a.state == "firing" and a.fired_at == T0 + 2 * HOUR and a.value == 0.7
    [a2] = e.evaluate_model(SPEC, low(2, 0.6))
    assert a2.alert_id == a.alert_id and a2.evaluations == 3  # the same incident
    [r] = e.evaluate_model(SPEC, low(3, 0.9))
    assert r.state == "resolved" and r.resolved_at == T0 + 4 * HOUR
    assert e.active() == []
    history = store.alerts.alert_events(a.alert_id)
    assert [h["event"] for h in history] == ["pending", "firing", "evaluated", "resolved"]
    # the condition again: a new incident
    [b] = e.evaluate_model(SPEC, low(4, 0.7))
    assert b.alert_id != a.alert_id and b.state == "pending"
    # a pending alert whose condition stops holding is dropped, not resolved
    e.evaluate_model(SPEC, low(5, 0.9))
    assert e.active() == []
    assert [a.state for a in store.alerts.list_alerts(state=["cancelled"])] == ["cancelled"]


def test_for_as_a_duration_and_keep_firing_for(store: DuckDBStore) -> None:
    e = engine(store, rule(name="A", condition=ACC, **{"for": "90m"}, keep_firing_for="90m"))
    assert e.evaluate_model(SPEC, low(0, 0.7))[0].state == "pending"
    assert e.evaluate_model(SPEC, low(1, 0.7))[0].state == "pending"   # 60 min
    assert e.evaluate_model(SPEC, low(2, 0.7))[0].state == "firing"    # 120 min
    # as Prometheus: kept from the first evaluation without the condition
    assert e.evaluate_model(SPEC, low(3, 0.9))[0].state == "firing"    # 0 min
    assert e.evaluate_model(SPEC, low(4, 0.9))[0].state == "firing"    # 60 min < 90 min
    assert e.evaluate_model(SPEC, low(5, 0.9))[0].state == "resolved"  # 120 min


def test_crossing_tiers_escalates_the_same_incident(store: DuckDBStore) -> None:
    e = engine(store, rule(name="Lat", condition={
        "kind": "metric", "metric": str(Metric.LATENCY_P95), "op": ">", "warning": 0.1,
        "critical": 1.0}))
    [w] = e.evaluate_model(SPEC, ctx(0, metrics={str(Metric.LATENCY_P95): (0.3, 100)}))
    [c] = e.evaluate_model(SPEC, ctx(1, metrics={str(Metric.LATENCY_P95): (2.0, 100)}))
    assert (c.alert_id, c.fingerprint, c.state) == (w.alert_id, w.fingerprint, "firing")
    assert c.severity is Severity.CRITICAL and c.labels["severity"] == "critical"
    [d] = e.evaluate_model(SPEC, ctx(2, metrics={str(Metric.LATENCY_P95): (0.5, 100)}))
    assert d.alert_id == w.alert_id and d.severity is Severity.WARNING
    [r] = e.evaluate_model(SPEC, ctx(3, metrics={str(Metric.LATENCY_P95): (0.05, 100)}))
    assert r.alert_id == w.alert_id and r.state == "resolved"
    events = [(x["event"], x["note"]) for x in store.alerts.alert_events(w.alert_id)
              if x["event"] != "evaluated"]
    assert events == [("firing", None), ("escalated", "warning -> critical"),
                      ("deescalated", "critical -> warning"), ("resolved", None)]


def test_silences_mark_alerts_and_acknowledgements_record_who(store: DuckDBStore) -> None:
    e = engine(store, rule(name="A", condition=ACC))
    [a] = e.evaluate_model(SPEC, low(0, 0.7))
    assert not a.silenced
    s = e.add_silence(Silence.create([Matcher.parse("team=risk"), Matcher.parse("alertname=A")],
                                     T0, T0 + 3 * HOUR, "alice", "known issue", T0))
    [a] = e.evaluate_model(SPEC, low(1, 0.7))
    assert a.silenced and [x.fingerprint for x in e.matching(s.matchers)] == [a.fingerprint]
    e.expire_silence(s.silence_id, T0 + 2 * HOUR)
    [a] = e.evaluate_model(SPEC, low(2, 0.7))
    assert not a.silenced
    assert e.silences()[0].state(T0 + 2 * HOUR) == "expired"
    acked = e.acknowledge(a.fingerprint, "bob", "looking", T0 + 3 * HOUR)
    assert (acked.acked_by, acked.ack_note) == ("bob", "looking")
    with pytest.raises(LookupError):
        e.acknowledge("0" * 16, "bob", "", T0)


def test_alert_state_survives_a_restart(store: DuckDBStore) -> None:
    r = rule(name="A", condition=ACC, **{"for": 2})
    e = engine(store, r)
    e.evaluate_model(SPEC, low(0, 0.7))
    [firing] = e.evaluate_model(SPEC, low(1, 0.7))
    again = engine(store, r)  # a new process: state is read back from the store
    [same] = again.evaluate_model(SPEC, low(2, 0.7))
    assert same.alert_id == firing.alert_id and same.state == "firing"
    assert same.evaluations == 3
    events = [h["event"] for h in store.alerts.alert_events(firing.alert_id)]
    assert events.count("firing") == 1  # not fired again as new


def test_a_broken_rule_never_stops_the_others(store: DuckDBStore) -> None:
    seen: list[tuple[str, bool]] = []
    good = rule(name="Good", condition=ACC)
    bad = rule(name="Bad", condition=ACC, annotations={"summary": "{{ value.nope() }}"})
    e = AlertEngine(store.alerts, [(bad, "config"), (good, "config")],
                    observe=lambda name, s, failed: seen.append((name, failed)))
    alerts = e.evaluate_model(SPEC, low(0, 0.7))
    assert {a.rule for a in alerts} == {"Good", "Bad"}  # a broken template says so, in place
    assert "annotation error" in next(a for a in alerts if a.rule == "Bad").annotations["summary"]
    assert ("Good", False) in seen


def test_preset_rules_and_a_configured_rule_of_the_same_name(store: DuckDBStore) -> None:
    names = [r.name for r in builtin_rules(SPEC)]
    assert {"ModelDegraded", "AccuracyDrop", "LatencyP95High", "FeatureDrift"} <= set(names)
    basic = ModelSpec.model_validate({**SPEC.model_dump(), "preset": "basic"})
    assert "FeatureDrift" not in [r.name for r in builtin_rules(basic)]
    mine = rule(name="LatencyP95High", condition={"kind": "metric", "metric": str(
        Metric.LATENCY_P95), "op": ">", "value": 0.5}, match=["team=risk"])
    e = AlertEngine(store.alerts, [(mine, "config")], builtin=builtin_rules)
    applied = dict((r.name, (r, s)) for r, s in e.rules_for(SPEC))
    assert applied["LatencyP95High"] == (mine, "config")
    assert applied["ModelDegraded"][1] == "preset:standard"
    other = SPEC.model_copy(update={"name": "other", "labels": {"team": "ops"}})
    assert "LatencyP95High" not in dict((r.name, r) for r, _ in e.rules_for(other))
    [a] = [x for x in e.evaluate_model(SPEC, ctx(0, status=Status.DEGRADED, reasons=[
        Reason(ReasonKind.QUALITY, Severity.CRITICAL, "accuracy 0.7 vs baseline 0.9")]))
           if x.rule == "ModelDegraded"]
    assert a.severity is Severity.CRITICAL and a.state == "firing"
    assert a.annotations["summary"] == "fraud is degraded"
    assert a.annotations["description"] == "accuracy 0.7 vs baseline 0.9"


def test_backfilled_alerts_are_history_until_marked_live(store: DuckDBStore) -> None:
    e = engine(store, rule(name="A", condition=ACC))
    [a] = e.evaluate_model(SPEC, low(0, 0.7), backfilled=True)
    assert a.backfilled
    e.mark_live("fraud", HOUR, T0 + 100 * HOUR)   # long ago: stays history
    assert e.active()[0].backfilled
    e.mark_live("fraud", HOUR, T0 + 2 * HOUR)     # recent: current
    assert not e.active()[0].backfilled


def test_history_query_pages_and_filters(store: DuckDBStore) -> None:
    e = engine(store, rule(name="A", condition=ACC))
    for h in range(0, 20, 2):
        e.evaluate_model(SPEC, low(h, 0.7))
        e.evaluate_model(SPEC, low(h + 1, 0.9))
    rows = store.alerts.list_alerts(model="fraud", state=["resolved"], limit=100)
    assert len(rows) == 10 and rows[0].started_at > rows[-1].started_at
    page = store.alerts.list_alerts(limit=3)
    nxt = store.alerts.list_alerts(limit=3, before=page[-1].started_at)
    assert {a.alert_id for a in page}.isdisjoint({a.alert_id for a in nxt})
    assert store.alerts.get_alert(rows[0].fingerprint).alert_id == rows[0].alert_id  # newest


def test_deferred_writes_reach_the_store_at_the_end_with_the_newest_state(
        store: DuckDBStore) -> None:
    e = engine(store, rule(name="A", condition=ACC))
    with e.deferred():
        [a] = e.evaluate_model(SPEC, low(0, 0.7))
        assert [x.fingerprint for x in e.active()] == [a.fingerprint]  # at once in memory
        assert store.alerts.list_alerts() == []                        # not yet in the store
        e.acknowledge(a.fingerprint, "bob", "looking", T0 + HOUR)      # written at once
        e.evaluate_model(SPEC, low(1, 0.7))
    [stored] = store.alerts.list_alerts()
    assert stored.acked_by == "bob" and stored.evaluations == 2  # the ack was not overwritten
    events = [x["event"] for x in store.alerts.alert_events(a.alert_id)]
    assert events.count("firing") == 1 and "acknowledged" in events and "evaluated" in events


def test_listeners_hear_each_change_after_it_is_stored(store: DuckDBStore) -> None:
    e = engine(store, rule(name="A", condition=ACC, **{"for": 2}))
    heard: list[tuple[str, str, int]] = []

    def listener(changes: Any) -> None:
        for c in changes:  # stored before the listener is told
            heard.append((c.event, c.alert.state, len(store.alerts.alert_events(c.alert.alert_id))))

    def broken(changes: Any) -> None:
        raise RuntimeError("a listener's bug")

    e.listeners += [broken, listener]
    e.evaluate_model(SPEC, low(0, 0.7))
    with e.deferred():
        [a] = e.evaluate_model(SPEC, low(1, 0.7))
        assert [h[0] for h in heard] == ["pending"]  # the firing is told when the block ends
    e.acknowledge(a.fingerprint, "bob", "", T0 + 2 * HOUR)
    e.evaluate_model(SPEC, low(2, 0.9))
    assert [(h[0], h[1]) for h in heard] == [("pending", "pending"), ("firing", "firing"),
                                             ("acknowledged", "firing"),
                                             ("resolved", "resolved")]
    assert all(n >= 1 for _, _, n in heard)  # "evaluated" lines are stored, not told

"""Alerts raised from outside rule evaluation (``AlertEngine.raise_alert``, used by a failed
action): they fire, escalate, are told to listeners, silenced, kept across a restart, left alone
by rule evaluation, and resolved by ``resolve_alert``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from modelmon.alerts.conditions import ModelContext
from modelmon.alerts.engine import AlertChange, AlertEngine
from modelmon.alerts.matchers import Matcher
from modelmon.alerts.rules import AlertRule
from modelmon.alerts.silences import Silence
from modelmon.config import ModelSpec
from modelmon.judgement import WindowFacts
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.vocabulary import Severity, Status, Task

T0 = datetime(2026, 3, 2, tzinfo=UTC)
SPEC = ModelSpec.model_validate({"name": "fraud", "task": "binary_classification"})
RULE = AlertRule.model_validate({"name": "AccuracyLow", "condition": {
    "kind": "metric", "metric": "accuracy", "op": "<", "value": 0.8}})


def _evaluate(engine: AlertEngine, at: datetime) -> None:
    facts = WindowFacts("fraud", Task.BINARY, "1h", at - timedelta(hours=1), at, 1000,
                        metrics={"accuracy": (0.9, 1000)})
    engine.evaluate_model(SPEC, ModelContext("fraud", {"model": "fraud"}, at, "1h",
                                             Status.HEALTHY, facts, []))


def test_a_raised_alert_lives_like_any_other_until_resolved(tmp_path: Path) -> None:
    store = DuckDBStore(str(tmp_path / "db"))
    store.open()
    heard: list[AlertChange] = []
    engine = AlertEngine(store.alerts, [(RULE, "config")])
    engine.listeners.append(heard.extend)
    labels = {"action": "rollback"}
    first = engine.raise_alert("ActionFailed", labels, severity=Severity.HIGH, model="fraud",
                               annotations={"summary": "rollback failed"}, now=T0)
    assert first.state == "firing" and first.fired_at == T0
    assert first.labels == {"alertname": "ActionFailed", "severity": "high", "model": "fraud",
                            "action": "rollback"}
    again = engine.raise_alert("ActionFailed", labels, severity=Severity.CRITICAL,
                               model="fraud", annotations={"summary": "failed again"},
                               now=T0 + timedelta(minutes=5))
    assert again.alert_id == first.alert_id and again.evaluations == 2  # the same incident
    assert [(c.event, c.alert.severity) for c in heard] == [("firing", "high"),
                                                             ("escalated", "critical")]
    _evaluate(engine, T0 + timedelta(hours=1))  # the model's rules leave it alone
    assert [a.rule for a in engine.active()] == ["ActionFailed"]
    engine.add_silence(Silence.create([Matcher.parse("alertname=ActionFailed")], T0,
                                      T0 + timedelta(days=1), "ops", "", T0))
    silenced = engine.raise_alert("ActionFailed", labels, severity=Severity.CRITICAL,
                                  model="fraud", annotations={}, now=T0 + timedelta(hours=2))
    assert silenced.silenced
    store.close()

    store = DuckDBStore(str(tmp_path / "db"))  # a restart: still the same firing incident
    store.open()
    engine = AlertEngine(store.alerts, [(RULE, "config")])
    [kept] = engine.active()
    assert kept.alert_id == first.alert_id and kept.annotations == {}
    assert engine.resolve_alert("ActionFailed", {"action": "other"}, model="fraud",
                                now=T0) is None
    done = engine.resolve_alert("ActionFailed", labels, model="fraud",
                                now=T0 + timedelta(hours=3))
    assert done is not None and done.state == "resolved"
    assert engine.active() == []
    events = [e["event"] for e in store.alerts.alert_events(first.alert_id)]
    assert events == ["firing", "escalated", "evaluated", "resolved"]
    fresh = engine.raise_alert("ActionFailed", labels, severity=Severity.HIGH, model="fraud",
                               annotations={}, now=T0 + timedelta(hours=4))
    assert fresh.alert_id != first.alert_id  # a new incident
    store.close()

"""A real DuckDB store, a real alert engine and an action runner, driven window by window with
a clock the test sets: what the service wires, without HTTP in front."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelmon.actions.record import ActionRecord
from modelmon.actions.runner import ActionRunner
from modelmon.actions.spec import ActionSettings
from modelmon.alerts.conditions import ModelContext
from modelmon.alerts.engine import AlertEngine, model_labels
from modelmon.alerts.rules import AlertRule
from modelmon.config import ModelSpec
from modelmon.judgement import WindowFacts
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.vocabulary import Status, Task

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
SPEC = ModelSpec.model_validate({
    "name": "fraud", "task": "binary_classification", "owner": "risk-ml",
    "labels": {"team": "risk"}, "prediction": {"classes": [0, 1], "score": True}})


def accuracy_rule(actions: list[Any]) -> AlertRule:
    """Accuracy below 0.85 is a warning, below 0.80 critical; fires at once."""
    return AlertRule.model_validate({
        "name": "AccuracyLow", "actions": actions,
        "condition": {"kind": "metric", "metric": "accuracy", "op": "<", "warning": 0.85,
                      "critical": 0.80}})


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Harness:
    store: DuckDBStore
    engine: AlertEngine
    runner: ActionRunner
    clock: Clock
    hour: int = 0
    versions: list[str] = field(default_factory=list)

    def window(self, accuracy: float, *, at: datetime | None = None,
               backfilled: bool = False) -> None:
        """One evaluated window of ``fraud`` with this accuracy (the clock moves to its end);
        then wait until the runner has done what it decided."""
        self.hour += 1
        end = at or T0 + self.hour * HOUR
        self.clock.now = end
        facts = WindowFacts("fraud", Task.BINARY, "1h", end - HOUR, end, 1000,
                            metrics={"accuracy": (accuracy, 1000)})
        ctx = ModelContext("fraud", model_labels(SPEC), end, "1h", Status.HEALTHY, facts, [])
        self.engine.evaluate_model(SPEC, ctx, backfilled=backfilled)
        assert self.runner.drain(30)

    def records(self, **filters: Any) -> list[ActionRecord]:
        """Every record, oldest first."""
        return list(reversed(self.store.actions.list_actions(limit=1000, **filters)))

    def stages(self) -> dict[str, str]:
        return {v.version: v.stage for v in self.store.list_versions("fraud")}

    def close(self) -> None:
        self.runner.stop()
        self.store.close()


def harness(path: Path | str, definitions: list[dict[str, Any]], rule_actions: list[Any], *,
            dry_run: bool = False, versions: tuple[str, ...] = ("v1", "v2"),
            start: bool = True, rules: list[AlertRule] | None = None,
            clock: Clock | None = None) -> Harness:
    """A harness over the store at ``path`` (created with the model and its versions, one day
    apart, when new)."""
    clock = clock or Clock()
    store = DuckDBStore(str(path), clock=clock)
    store.open()
    if "fraud" not in {m.name for m in store.list_models()}:
        store.save_model(SPEC)
        for i, version in enumerate(versions):
            clock.now = T0 - (len(versions) - i) * timedelta(days=1)
            store.register_version("fraud", version)
        clock.now = T0
    engine = AlertEngine(store.alerts, [(r, "config") for r in
                                        (rules or [accuracy_rule(rule_actions)])],
                         dashboard_url="https://modelmon.example")
    settings = ActionSettings.model_validate({"dry_run": dry_run, "definitions": definitions})
    runner = ActionRunner(settings, store.actions, store, alerts=engine, clock=clock,
                          expire_every=0.05)
    engine.listeners.append(runner.listen)
    if start:
        runner.start()
    return Harness(store, engine, runner, clock, versions=list(versions))

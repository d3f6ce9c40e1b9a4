"""Table tests of alert rules (``modelmon rules test FILE``), like ``promtool test rules``.

A test file names the rules (inline, or ``rule_files``), the model they watch, and tests: each
a series of windows (what the judgement saw in each: metric values, baselines, the verdict's
status and reasons, features, detector signals) and what should be firing after given windows::

    rules:
      - {name: AccuracyLow, condition: {kind: metric, metric: accuracy, op: "<", value: 0.8},
         for: 2}
    model: {name: fraud, task: binary_classification, labels: {team: risk}}
    interval: 1h
    tests:
      - name: two low windows fire it, a good one resolves it
        windows:
          - {metrics: {accuracy: 0.9}}
          - {metrics: {accuracy: 0.7}}
          - {metrics: {accuracy: 0.7}}
          - {metrics: {accuracy: 0.9}}
        expect:
          - {after: 2, firing: [{alertname: AccuracyLow, severity: warning}]}
          - {after: 3, pending: [], firing: []}

``after: k`` checks the alerts after the first ``k`` windows; each expected alert lists the
labels it must have (others may be there too).

What a window may hold: ``metrics`` (``name: value`` or ``name: [value, n]``; n defaults to
1,000), ``baseline`` (``name: centre`` or ``name: [centre, sd]``, the band a ``change``
condition measures against; sd is the window's noise, default tiny), ``status`` and
``reasons`` (``{kind, severity, message}``), ``features`` (``{name, test, statistic,
threshold, drifted, missing_share ...}``), ``concept_drift: true``, and for service rules
``service: {components: {store: unhealthy}, usage: {cpu: 0.85}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from modelmon._durations import parse_duration
from modelmon.alerts.conditions import ModelContext, ServiceContext
from modelmon.alerts.engine import AlertEngine, model_labels
from modelmon.alerts.rules import AlertRule
from modelmon.config.models import ModelSpec
from modelmon.judgement import DetectorEvent, FeatureFacts, MetricBand, Reason, WindowFacts
from modelmon.vocabulary import ReasonKind, Severity, Status

__all__ = ["TestOutcome", "load_rules", "run_rule_tests"]

_T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class TestOutcome:
    """One test's result: its name and what did not match."""

    __test__ = False  # not a pytest test class

    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_rules(path: str | Path) -> list[AlertRule]:
    """The rules of a YAML file: a list, a ``rules:`` list, or a deployment's ``alerts.rules``
    (``ValueError`` naming the rule, field and problem otherwise)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and "alerts" in data:
        data = (data.get("alerts") or {}).get("rules", [])
    elif isinstance(data, dict):
        data = data.get("rules", [])
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of rules (or 'rules:')")
    rules = []
    for i, item in enumerate(data):
        name = item.get("name", f"#{i}") if isinstance(item, dict) else f"#{i}"
        try:
            rules.append(AlertRule.model_validate(item))
        except ValueError as exc:
            raise ValueError(f"rule {name!r}: {exc}") from None
    return rules


def _facts(spec: ModelSpec, i: int, size: Any, w: dict[str, Any]) -> tuple[WindowFacts, Status,
                                                                            list[Reason]]:
    metrics = {}
    for name, v in (w.get("metrics") or {}).items():
        value, n = (v[0], v[1]) if isinstance(v, list) else (v, 1000)
        metrics[name] = (float(value), int(n))
    bands = {}
    for name, b in (w.get("baseline") or {}).items():
        centre, sd = (b[0], b[1]) if isinstance(b, list) else (b, 1e-9)
        bands[name] = MetricBand(name, float(centre), float(sd), 12, 1000.0)
    features = [FeatureFacts(f["name"], f.get("type", "numeric"), f.get("test"),
                             f.get("statistic"), f.get("threshold"), bool(f.get("drifted")),
                             int(f.get("n", 1000)), missing_share=f.get("missing_share"),
                             out_of_range_share=f.get("out_of_range_share"),
                             unseen_share=f.get("unseen_share"))
                for f in w.get("features") or []]
    start = _T0 + i * size
    events = [DetectorEvent("adwin", "drift", start, "*")] if w.get("concept_drift") else []
    reasons = [Reason(ReasonKind(r["kind"]), Severity(r["severity"]), r.get("message", ""))
               for r in w.get("reasons") or []]
    facts = WindowFacts(spec.name, spec.task, "test", start, start + size, 1000, metrics=metrics,
                        bands=bands, features=features, detector_events=events)
    return facts, Status(w.get("status", "healthy")), reasons


def run_rule_tests(path: str | Path) -> list[TestOutcome]:
    """Run a test file (see the module docstring)."""
    from modelmon.store.duckdb_store import DuckDBStore

    path = Path(path)
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = [AlertRule.model_validate(r) for r in doc.get("rules") or []]
    for extra in doc.get("rule_files") or []:
        rules += load_rules(path.parent / extra)
    spec = ModelSpec.model_validate({"task": "binary_classification", "name": "model",
                                     **(doc.get("model") or {})})
    size = parse_duration(str(doc.get("interval", "1h")))
    outcomes = []
    for t_i, test in enumerate(doc.get("tests") or []):
        outcome = TestOutcome(str(test.get("name", f"test {t_i + 1}")))
        store = DuckDBStore(":memory:")
        store.open()
        try:
            engine = AlertEngine(store.alerts, [(r, "test") for r in rules])
            windows = test.get("windows") or []
            expects = {int(e["after"]): e for e in test.get("expect") or []}
            for i, w in enumerate(windows):
                facts, status, reasons = _facts(spec, i, size, w or {})
                if "service" in (w or {}):
                    svc = w["service"] or {}
                    engine.evaluate_service(
                        ServiceContext(facts.end, svc.get("components") or {},
                                       {k: float(v) for k, v in (svc.get("usage") or {}).items()}),
                        [(r, "test") for r in rules])
                else:
                    ctx = ModelContext(spec.name, model_labels(spec), facts.end, "test", status,
                                       facts, reasons)
                    engine.evaluate_model(spec, ctx)
                expect = expects.get(i + 1)
                if expect is not None:
                    outcome.failures += _check(engine, expect, i + 1)
            for after in sorted(k for k in expects if k > len(windows) or k < 1):
                outcome.failures.append(f"after {after}: the test has {len(windows)} windows")
        finally:
            store.close()
        outcomes.append(outcome)
    return outcomes


def _check(engine: AlertEngine, expect: dict[str, Any], after: int) -> list[str]:
    failures = []
    active = engine.active()
    for state in ("pending", "firing"):
        if state not in expect:
            continue
        got = [a.labels for a in active if a.state == state]
        wanted = expect[state] or []
        for labels in wanted:
            if not any(all(g.get(k) == str(v) for k, v in labels.items()) for g in got):
                failures.append(f"after {after}: expected {state} {labels}; {state}: {got}")
        if len(got) > len(wanted):
            extra = [g for g in got if not any(all(g.get(k) == str(v) for k, v in w.items())
                                               for w in wanted)]
            if extra:
                failures.append(f"after {after}: unexpected {state} {extra}")
    return failures

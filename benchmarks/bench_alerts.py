"""Alerting: one evaluation cycle of 100 models x 50 rules, and the alert history query.

Targets (issue 12): 5,000 rule evaluations per cycle in <= 100 ms on this machine, including
the alerts they fire and their history written to DuckDB; the alert history over 30 days in
< 50 ms.

The cycle: each of 100 models has a window of facts (20 metrics with bands, 12 features, a
verdict with reasons) and 50 rules apply to it (metric limits and tiers, changes against the
baseline, drift per feature and by statistic, drift share, data quality, verdicts, detectors,
with label matchers), about one in ten of them breaking their rule, so a few hundred alerts are
active and each cycle writes an ``evaluated`` event for each of them. Reported: the median and
the slowest of 20 cycles after a warm-up.

The history: 30 days of incidents of 100 models (one every 20 minutes on average, ~2,160 per
model... 216,000 in all, with their events), queried as ``GET /v1/alerts/history`` does: the
first page of 100 over 30 days, one model's, the resolved ones of one severity, and a page
deep in the past by the paging cursor.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import print_table
from modelmon.alerts.conditions import ModelContext
from modelmon.alerts.engine import AlertEngine
from modelmon.alerts.rules import AlertRule
from modelmon.alerts.state import AlertInstance, AlertState
from modelmon.config.models import ModelSpec
from modelmon.judgement import DetectorEvent, FeatureFacts, MetricBand, Reason, WindowFacts
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.vocabulary import ReasonKind, Severity, Status, Task

T0 = datetime(2026, 3, 1, tzinfo=UTC)
METRICS = ["accuracy", "f1", "precision", "recall", "roc_auc", "log_loss", "brier",
           "balanced_accuracy", "average_precision", "mcc", "error_rate",
           "latency_p50_seconds", "latency_p95_seconds", "latency_p99_seconds",
           "throughput_per_second", "prediction_count", "expected_revenue", "approval_rate",
           "false_positive_rate", "specificity"]
FEATURES = [f"f{i}" for i in range(12)]


def _rules() -> list[AlertRule]:
    """50 rules of every model-condition kind."""
    raw: list[dict[str, Any]] = []
    for i, m in enumerate(METRICS):  # 20 metric limits, half of them tiered
        higher_bad = m.startswith(("latency", "error", "log_loss", "brier", "false_pos"))
        op = ">" if higher_bad else "<"
        cond: dict[str, Any] = {"kind": "metric", "metric": m, "op": op}
        if i % 2:
            cond.update(warning=0.5, critical=0.8) if higher_bad else cond.update(warning=0.8,
                                                                                  critical=0.7)
        else:
            cond["value"] = 0.5 if higher_bad else 0.75
        raw.append({"name": f"Limit_{m}", "condition": cond, "for": i % 3})
    for m in METRICS[:10]:  # 10 changes against the baseline
        raw.append({"name": f"Change_{m}", "condition": {"kind": "change", "metric": m,
                                                         "warning": 0.05, "critical": 0.1}})
    for f in FEATURES[:6]:  # 6 per-feature drift rules, 2 by statistic
        raw.append({"name": f"Drift_{f}", "condition": {"kind": "drift", "feature": f},
                    "for": 2})
    raw += [
        {"name": "DriftAny", "condition": {"kind": "drift", "feature": "*"}},
        {"name": "PsiAny", "condition": {"kind": "drift", "feature": "*", "test": "psi",
                                         "op": ">", "value": 0.2}},
        {"name": "OutputDrift", "condition": {"kind": "drift", "feature": "prediction"}},
        {"name": "DriftShare", "condition": {"kind": "drift_share", "value": 0.3}},
        {"name": "Missing", "condition": {"kind": "data_quality", "value": 0.1}},
        {"name": "OutOfRange", "condition": {"kind": "data_quality",
                                             "measure": "out_of_range_share", "value": 0.05}},
        {"name": "Unseen", "condition": {"kind": "data_quality", "measure": "unseen_share",
                                         "value": 0.05}},
        {"name": "Degraded", "condition": {"kind": "verdict"}},
        {"name": "WarningLong", "condition": {"kind": "verdict", "status": ["warning"]},
         "for": 3},
        {"name": "QualityCritical", "condition": {"kind": "verdict", "reason": ["quality"],
                                                  "min_severity": "critical"}},
        {"name": "Concept", "condition": {"kind": "detector"}},
        {"name": "RiskOnly", "match": ["team=~risk.*"], "condition": {
            "kind": "metric", "metric": "accuracy", "op": "<", "value": 0.8}},
        {"name": "NotShadow", "match": ["model!~shadow-.*"], "condition": {
            "kind": "metric", "metric": "recall", "op": "<", "value": 0.6}},
        {"name": "SupportOnly", "match": ["team=support"], "condition": {
            "kind": "metric", "metric": "f1", "op": "<", "value": 0.6}},
    ]
    assert len(raw) == 50, len(raw)
    return [AlertRule.model_validate(r) for r in raw]


def _specs(n: int) -> list[ModelSpec]:
    teams = ["risk", "risk-cards", "support", "growth"]
    return [ModelSpec.model_validate({
        "name": f"model-{i:03d}", "task": "binary_classification", "owner": f"owner-{i % 7}",
        "labels": {"team": teams[i % 4]}, "prediction": {"classes": [0, 1], "score": True}})
        for i in range(n)]


def _context(spec: ModelSpec, cycle: int, rng: np.random.Generator) -> ModelContext:
    """One window of facts; about one rule in ten breaks (a steady set of troubled models)."""
    trouble = int(spec.name[-3:]) % 5 == 0  # 20 of 100 models are in trouble
    metrics: dict[str, tuple[float, int]] = {}
    bands: dict[str, MetricBand] = {}
    for m in METRICS:
        base = 0.9 if not m.startswith(("latency", "error", "log_loss", "brier", "false_pos")) \
            else 0.1
        value = base + rng.normal(0, 0.01)
        if trouble and m in ("accuracy", "f1", "recall", "latency_p95_seconds"):
            value = 0.62 if base > 0.5 else 0.9
        metrics[m] = (value, 2000)
        bands[m] = MetricBand(m, base, 0.01, 12, 2000.0)
    features = []
    for j, f in enumerate(FEATURES):
        drifted = trouble and j < 4
        features.append(FeatureFacts(
            f, "numeric", "psi" if j % 3 == 0 else "normalized_wasserstein",
            0.35 if drifted else 0.02, 0.1, drifted, 2000, missing_share=0.2 if drifted else 0.0,
            out_of_range_share=0.0, unseen_share=0.0))
    features.append(FeatureFacts("prediction", "numeric", "normalized_wasserstein",
                                 0.3 if trouble else 0.01, 0.1, trouble, 2000))
    start = T0 + timedelta(hours=cycle)
    facts = WindowFacts(spec.name, Task.BINARY, "1h", start, start + timedelta(hours=1), 2000,
                        metrics=metrics, features=features, bands=bands,
                        detector_events=[DetectorEvent("adwin", "drift", start, "*", 0.3)]
                        if trouble else [])
    reasons = [Reason(ReasonKind.QUALITY, Severity.CRITICAL, "accuracy fell", metric="accuracy")] \
        if trouble else []
    labels = {"model": spec.name, "team": spec.labels["team"]}
    return ModelContext(spec.name, labels, start + timedelta(hours=1), "1h",
                        Status.DEGRADED if trouble else Status.HEALTHY, facts, reasons)


def cycles(quick: bool) -> list[dict[str, Any]]:
    models = 20 if quick else 100
    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-alerts-"))
    store = DuckDBStore(str(tmp / "alerts.duckdb"))
    store.open()
    rules = _rules()
    engine = AlertEngine(store.alerts, [(r, "config") for r in rules])
    specs = _specs(models)
    rng = np.random.default_rng(0)
    times: list[float] = []
    evaluations = 0
    for c in range(25):
        contexts = [_context(s, c, rng) for s in specs]  # built outside the timing
        t0 = time.perf_counter()
        with engine.deferred():  # as the evaluator's cycle: one write at its end
            for spec, ctx in zip(specs, contexts, strict=True):
                engine.evaluate_model(spec, ctx)
        took = time.perf_counter() - t0
        if c >= 5:  # after the warm-up: alerts firing, each cycle writes their evaluations
            times.append(took)
        evaluations = sum(st.stats.evaluations for st in engine.rules()) // (c + 1)
    active = engine.active()
    events = store.alerts.alert_events(active[0].alert_id) if active else []
    store.close()
    return [{"case": f"{models} models x {len(rules)} rules, one cycle",
             "rule evaluations": evaluations, "median_ms": statistics.median(times) * 1000,
             "slowest_ms": max(times) * 1000, "target_ms": 100.0,
             "active alerts": len(active), "events per alert after 25 cycles": len(events)}]


def history(quick: bool) -> list[dict[str, Any]]:
    models = 10 if quick else 100
    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-alert-history-"))
    store = DuckDBStore(str(tmp / "history.duckdb"))
    store.open()
    rng = np.random.default_rng(1)
    now = T0 + timedelta(days=30)
    per_model = 30 * 24 * 3  # one incident every 20 minutes
    rules = ["AccuracyDrop", "FeatureDrift", "LatencyP95High", "ModelDegraded", "HighErrorRate"]
    severities = [Severity.WARNING, Severity.HIGH, Severity.CRITICAL]
    total = 0
    for m in range(models):
        alerts: list[AlertInstance] = []
        events: list[Any] = []
        starts = np.sort(rng.uniform(0, 30 * 86400, per_model))
        for k, s in enumerate(starts):
            start = T0 + timedelta(seconds=float(s))
            end = start + timedelta(minutes=float(rng.uniform(5, 180)))
            rule = rules[k % len(rules)]
            labels = {"alertname": rule, "model": f"model-{m:03d}", "feature": f"f{k % 12}"}
            resolved = end < now
            inst = AlertInstance(
                f"{m:03d}{k:08d}", f"fp{m:03d}{k % 60:04d}", rule, f"model-{m:03d}", labels,
                {"summary": f"{rule} on model-{m:03d}"},
                AlertState.RESOLVED if resolved else AlertState.FIRING,
                severities[k % 3], 0.5, 0.8, start, end, end, 3, start,
                end if resolved else None)
            alerts.append(inst)
            events += [(inst, start, "firing", None), (inst, end, "evaluated", None)]
            if resolved:
                events.append((inst, end, "resolved", None))
        store.alerts.save_alerts(alerts, events)
        total += len(alerts)
    lo = now - timedelta(days=30)
    queries = {
        "first page of 100, all models": dict(start=lo, limit=101),
        "one model's, first page": dict(model="model-007", start=lo, limit=101),
        "resolved critical ones, first page": dict(state=[AlertState.RESOLVED],
                                                   severity="critical", start=lo, limit=101),
        "a page 20 days back (paging cursor)": dict(start=lo, before=now - timedelta(days=20),
                                                    limit=101),
    }
    rows = []
    for name, kw in queries.items():
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            page = store.alerts.list_alerts(**kw)
            _ = [a.to_dict() for a in page]  # as the route answers them
            times.append(time.perf_counter() - t0)
        rows.append({"query over 30 days": name, "incidents stored": total,
                     "median_ms": statistics.median(times) * 1000,
                     "slowest_ms": max(times) * 1000, "target_ms": 50.0, "rows": len(page)})
    t0 = time.perf_counter()
    one = store.alerts.alert_events(f"{7:03d}{100:08d}")
    rows.append({"query over 30 days": "one incident's history", "incidents stored": total,
                 "median_ms": (time.perf_counter() - t0) * 1000, "slowest_ms": float("nan"),
                 "target_ms": 50.0, "rows": len(one)})
    store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print_table("Alerting: rule evaluation per cycle (DuckDB store, alerts and events written)",
                cycles(args.quick))
    print_table("Alerting: alert history queries", history(args.quick))


if __name__ == "__main__":
    main()

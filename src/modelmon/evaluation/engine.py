"""The evaluator: for every model, (re-)evaluate changed windows, run the concept-drift detector,
then judge the model and store its status and a report.

One cycle per model:

1. compare the store's data watermarks (latest ``received_at`` of predictions and actuals) with
   those of the last cycle; nothing new means nothing to recompute (a cycle over idle models
   costs a few dictionary look-ups);
2. otherwise ask the store which windows hold new predictions or predictions with new actuals
   (late ground truth re-opens old windows) and queue them; evaluate at most
   ``max_windows_per_cycle`` (newest first); the rest stay queued, persisted with the watermarks;
3. each window: fetch only the columns the evaluation needs, compute everything
   (:func:`~modelmon.evaluation.window.evaluate_window`) and replace the stored results;
4. feed newly labelled rows to the concept-drift detector;
5. assess (status, reasons, report, recommendations) from the stored results.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from modelmon.config.durations import format_duration
from modelmon.config.models import ModelSpec
from modelmon.evaluation.aggregates import WindowAggregate
from modelmon.evaluation.assessment import Assessment, assess, compare_versions
from modelmon.evaluation.concept import ConceptDriftTracker, DetectorConfig
from modelmon.evaluation.frame import EvalFrame, needed_columns
from modelmon.evaluation.importance import importance_shift
from modelmon.evaluation.presets import HEADLINE, thresholds_for
from modelmon.evaluation.references import ReferenceManager, baseline_period
from modelmon.evaluation.window import evaluate_window
from modelmon.evaluation.windows import Window, window_containing
from modelmon.exceptions import ModelmonWarning
from modelmon.store.base import BatchKind
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.store.results import ALL

__all__ = ["CycleSummary", "Evaluator"]

log = logging.getLogger("modelmon.evaluation")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ModelCycle:
    model: str
    windows_evaluated: int = 0
    windows_rolled_up: int = 0
    windows_pending: int = 0
    detector_events: int = 0
    status: str | None = None
    seconds: float = 0.0
    error: str | None = None


@dataclass
class CycleSummary:
    started_at: datetime
    seconds: float = 0.0
    models: list[ModelCycle] = field(default_factory=list)

    @property
    def windows_evaluated(self) -> int:
        return sum(m.windows_evaluated for m in self.models)

    def to_dict(self) -> dict[str, Any]:
        return {"started_at": self.started_at.isoformat(), "seconds": round(self.seconds, 4),
                "windows_evaluated": self.windows_evaluated,
                "models": [m.__dict__ for m in self.models]}


class Evaluator:
    """Evaluates every registered model (see the module docstring).

    Parameters
    ----------
    store : DuckDBStore
        Data and result store.
    clock : callable
        Current UTC time (tests and the demo pass their own).
    max_windows_per_cycle : int
        Bound on windows recomputed per cycle, over all models.
    detector : DetectorConfig
        The concept-drift detector and its lateness.
    """

    def __init__(
        self,
        store: DuckDBStore,
        *,
        clock: Callable[[], datetime] = _utcnow,
        max_windows_per_cycle: int = 500,
        detector: DetectorConfig | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_windows_per_cycle = max_windows_per_cycle
        self.references = ReferenceManager(store)
        self.concept = ConceptDriftTracker(store, detector)
        self._assessed: dict[str, tuple[Any, ...]] = {}

    # --- cycles ------------------------------------------------------------------------------------
    def run_cycle(self) -> CycleSummary:
        """Evaluate every model once."""
        started = time.perf_counter()
        summary = CycleSummary(self.clock())
        budget = self.max_windows_per_cycle
        for info in self.store.list_models():
            result = ModelCycle(info.name)
            t0 = time.perf_counter()
            try:
                self._evaluate_model(info.spec, result, budget)
            except Exception as exc:
                log.exception("evaluation of %s failed", info.name)
                result.error = f"{type(exc).__name__}: {exc}"
            result.seconds = time.perf_counter() - t0
            budget = max(0, budget - result.windows_evaluated)
            summary.models.append(result)
        summary.seconds = time.perf_counter() - started
        return summary

    def evaluate_model(self, model: str) -> ModelCycle:
        """One cycle for one model (the API's "evaluate now")."""
        result = ModelCycle(model)
        t0 = time.perf_counter()
        self._evaluate_model(self.store.get_model(model).spec, result, self.max_windows_per_cycle)
        result.seconds = time.perf_counter() - t0
        return result

    def _evaluate_model(self, spec: ModelSpec, result: ModelCycle, budget: int) -> None:
        now = self.clock()
        name = spec.name
        watermarks = self.store.data_watermarks(name)
        seen_p, seen_a, pending = self.store.evaluation_state(name)
        changed = watermarks != (seen_p, seen_a)
        if watermarks[0] is None:  # no predictions yet: status "no_data", judged once
            judged = self._judge(spec, now, force=False)
            result.status = judged.status if judged is not None else "no_data"
            return
        sizes = {format_duration(d): d for d in spec.window_durations}
        base = min(spec.window_durations)
        base_text = format_duration(base)
        # (size, start) -> "evaluate" (recompute from rows) or "final" (an open larger window
        # rolled up from its base windows' aggregates, due for a full evaluation when it closes).
        queue: dict[tuple[str, datetime], str] = {
            (size, start): kind for size, start, kind in pending if size in sizes}
        if changed:
            for size in spec.window_durations:
                starts = self.store.changed_windows(
                    name, int(size.total_seconds()), predictions_since=seen_p,
                    actuals_since=seen_a,
                )
                for s in starts:
                    queue[(format_duration(size), s)] = "evaluate"
        due = []
        for (size_text, start), kind in queue.items():
            window = Window(start, start + sizes[size_text])
            if kind == "final" and window.is_open(now):
                continue  # rolled up already; evaluated in full once it closes
            due.append((size_text, start))
        # Base windows first (larger ones roll up from them), newest first within each size.
        due.sort(key=lambda item: (item[0] != base_text, -item[1].timestamp()))
        todo = due[:budget]
        evaluated = rolled = 0
        batch: list[Any] = []
        reference = self.references.get(name, now) if todo else None
        left_base = {item[1] for item in due[budget:] if item[0] == base_text}
        for size_text, start in todo:
            size = sizes[size_text]
            window = Window(start, start + size)
            rollup = (size_text != base_text and window.is_open(now)
                      and size % base == timedelta(0)
                      and not any(start <= b < window.end for b in left_base))
            if rollup:
                if batch:  # the base windows it merges must be stored first
                    self.store.replace_window_results(name, batch)
                    batch.clear()
                self._roll_up(spec, window, base_text)
                queue[(size_text, start)] = "final"
                rolled += 1
                continue
            batch.append(self._evaluate_window(spec, window, reference))
            queue.pop((size_text, start), None)
            evaluated += 1
            if len(batch) >= 16:
                self.store.replace_window_results(name, batch)
                batch.clear()
        if batch:
            self.store.replace_window_results(name, batch)
        rest = sorted(((size, start, kind) for (size, start), kind in queue.items()),
                      key=lambda item: (item[1], item[0]))
        result.windows_evaluated = evaluated
        result.windows_rolled_up = rolled
        result.windows_pending = sum(1 for _, _, kind in rest if kind == "evaluate")
        if changed or rest != pending:
            self.store.set_evaluation_state(name, watermarks[0], watermarks[1], rest)
        todo = todo[: evaluated + rolled]
        if changed:
            result.detector_events = self.concept.run(spec, now)
        assessment = self._judge(spec, now, force=bool(todo) or changed)
        if assessment is not None:
            result.status = assessment.status

    def _roll_up(self, spec: ModelSpec, window: Window, base_text: str) -> None:
        """Decomposable statistics of an open larger window, merged from its base windows'
        stored aggregates: no rows are read again."""
        merged: WindowAggregate | None = None
        for version, segment, _, blob in self.store.window_aggregates(
            spec.name, base_text, window.start, window.end
        ):
            if version != ALL or segment != ALL:
                continue
            part = WindowAggregate.from_bytes(blob)
            merged = part if merged is None else merged.merge(part)
        if merged is None:
            return
        positive = None
        if spec.task.value == "binary_classification":
            classes = spec.prediction.classes or []
            positive = classes.index(spec.positive_class) if spec.positive_class in classes \
                else max(merged.k - 1, 0)
        values = merged.metrics(window.size.total_seconds(), positive)
        rows = [{"version": ALL, "segment": ALL, "window_size": window.name,
                 "window_start": window.start, "window_end": window.end, "metric": metric,
                 "value": None if value is None or math.isnan(value) else float(value), "n": n}
                for metric, (value, n) in values.items()]
        self.store.replace_metric_points(spec.name, window.name, window.start,
                                         pa.Table.from_pylist(rows))

    def _evaluate_window(self, spec: ModelSpec, window: Window, reference: Any) -> Any:
        table = self.store.read_predictions(spec.name, start=window.start, end=window.end,
                                            columns=needed_columns(spec, ids=spec.business is not None),
                                            with_actuals=True, ordered=spec.finance is not None)
        frame = EvalFrame.from_arrow(spec, table)
        events = ids = None
        if spec.business is not None:
            events = self.store.read_table(spec.name, BatchKind.METRIC_EVENTS, start=window.start,
                                           end=window.end)
            ids = np.asarray(table.column("prediction_id").to_pylist(), dtype=object)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelmonWarning)
            evaluation = evaluate_window(frame, window_seconds=window.size.total_seconds(),
                                         reference=reference, business_events=events,
                                         prediction_ids=ids)
        return evaluation.to_results(window.name, window.start, window.end)

    # --- judging -----------------------------------------------------------------------------------
    def _judge(self, spec: ModelSpec, now: datetime, *, force: bool) -> Assessment | None:
        """Assess the model; skipped when nothing changed and the status window did not roll."""
        size = min(spec.window_durations)
        current_window = window_containing(now, size).start
        key = (current_window,)
        if not force and self._assessed.get(spec.name) == key:
            return None
        self._assessed[spec.name] = key
        thresholds = thresholds_for(spec)
        size_text = format_duration(size)
        horizon = now - size * (thresholds.baseline_windows + thresholds.current_windows + 2)
        first = self._first_window(spec.name, size_text)
        baseline = baseline_period(spec, first, thresholds.baseline_windows)
        start = min(horizon, baseline[0]) if baseline is not None else horizon
        if baseline is not None and baseline[0] < horizon:
            # Baseline windows plus the recent ones: two bounded reads, not the whole history.
            base_pts = self.store.metric_series(spec.name, window_size=size_text,
                                                start=baseline[0], end=baseline[1])
            recent = self.store.metric_series(spec.name, window_size=size_text, start=horizon)
            points = pa.concat_tables([base_pts, recent])
        else:
            points = self.store.metric_series(spec.name, window_size=size_text, start=start)
        latest = self._latest_features(spec.name, size_text)
        events = self.store.detector_events(spec.name, start=now - size * 20, limit=50)
        schema = [e.details for e in self.store.list_events(spec.name, kind="schema_change",
                                                            limit=5)
                  if now - e.at < size * (thresholds.current_windows + 1)]
        assessment = assess(spec, thresholds, window_size=size_text, now=now, points=points,
                            baseline=baseline,
                            latest_features=latest, detector_events=events,
                            schema_changes=[_schema_text(d) for d in schema])
        shift = importance_shift(self.store.read_table(spec.name, BatchKind.FEATURE_IMPORTANCE))
        if shift is not None:
            assessment.report["feature_importance"] = shift.to_dict()
            if shift.shifted:
                assessment.reasons.append({"severity": "warning", "kind": "importance",
                                           "message": shift.reason()})
                if assessment.status == "healthy":
                    assessment.status = assessment.report["status"] = "warning"
        versions = self.store.metric_series(spec.name, window_size=size_text, start=horizon,
                                            version=None)
        advice = compare_versions(versions, HEADLINE[spec.task])
        if advice:
            assessment.report.setdefault("recommendations", []).extend(advice)
            assessment.report["versions"] = advice
        report_id = self.store.save_report(spec.name, assessment.report)
        self.store.set_status(spec.name, assessment.status, assessment.reasons, report_id)
        return assessment

    def _first_window(self, model: str, size_text: str) -> datetime | None:
        table = self.store.metric_series(model, window_size=size_text, metrics=["prediction_count"],
                                         limit=1)
        return table.column("window_start")[0].as_py() if table.num_rows else None

    def _latest_features(self, model: str, size_text: str, windows: int = 3) -> Any:
        """Feature results of the newest ``windows`` evaluated windows of one size."""
        latest = self.store.latest_metric_points(model, window_size=size_text)
        starts = [r["window_start"] for r in latest.to_pylist()
                  if r["metric"] == "prediction_count" and r["version"] == ALL
                  and r["segment"] == ALL]
        if not starts:
            return self.store.feature_results(model, window_size=size_text, limit=0)
        newest = max(starts)
        size = min(d for d in self.store.get_model(model).spec.window_durations
                   if format_duration(d) == size_text)
        return self.store.feature_results(model, window_size=size_text,
                                          start=newest - size * (windows - 1),
                                          end=newest + timedelta(microseconds=1))


def _schema_text(details: dict[str, Any]) -> str:
    parts = []
    for key in ("added", "removed", "type_changed"):
        if details.get(key):
            value = details[key]
            items = ", ".join(value) if isinstance(value, list) else ", ".join(
                f"{k}" for k in value)
            parts.append(f"{key.replace('_', ' ')}: {items}")
    return "; ".join(parts) or "feature schema changed"

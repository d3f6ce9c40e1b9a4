"""The evaluator: for every model, (re-)evaluate changed windows, judge every window, then set
the model's status from its newest complete window.

One cycle per model:

1. compare the store's data watermarks (latest ``received_at`` of predictions and actuals) with
   those of the last cycle; nothing new means nothing to recompute (a cycle over idle models
   costs a few dictionary look-ups);
2. fit the reference when it is due (:mod:`~modelmon.evaluation.references`); a new reference
   re-queues every window (their drift is measured against it);
3. ask the store which windows of each window scheme hold new predictions or predictions with
   new actuals (late ground truth re-opens old windows) and queue them; evaluate at most
   ``max_windows_per_cycle`` (smallest windows first, newest first); the rest stay queued,
   persisted with the watermarks. A window whose evaluation fails is logged and counted; the
   model's other windows go on;
4. feed newly labelled rows to the concept-drift detector;
5. judge the evaluated windows and the two after each (persistence rules look back two
   windows) — every window of the size when its baseline changed
   (:mod:`~modelmon.evaluation.verdicts`), and store their verdicts;
6. the model's status is the verdict of the newest *complete* window of its status window size,
   plus what concerns the model rather than a window (a partial window that already looks
   degraded, an unreadable reference, failing evaluations, silence); a report is stored.

:meth:`Evaluator.backfill` evaluates a model's whole history in event time (all windows, then
one judgement pass), holding that model's lock so scheduled cycles skip it meanwhile while the
other models go on.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from modelmon.alerts.builtin import service_rules
from modelmon.alerts.conditions import ModelContext, ServiceContext
from modelmon.alerts.engine import AlertEngine, model_labels
from modelmon.config.models import ModelSpec
from modelmon.evaluation.aggregates import WindowAggregate
from modelmon.evaluation.concept import ConceptDriftTracker, DetectorConfig
from modelmon.evaluation.frame import EvalFrame, needed_columns
from modelmon.evaluation.references import ReferenceManager, ReferenceProfile
from modelmon.evaluation.report import build_report
from modelmon.evaluation.verdicts import WindowJudge, drift_sigma
from modelmon.evaluation.versions import version_advice
from modelmon.evaluation.window import evaluate_window
from modelmon.exceptions import ModelmonError, ModelmonWarning
from modelmon.judgement import Reason, Verdict, WindowFacts, status_of
from modelmon.store.base import BatchKind
from modelmon.store.results import ALL, RowChunk, StoredVerdict
from modelmon.vocabulary import HEADLINE, ReasonKind, Severity, Status
from modelmon.windows import FixedWindows, RowWindows, Window, WindowScheme

if TYPE_CHECKING:
    from modelmon.evaluation.coordination import Leadership
    from modelmon.store.backend import Backend

__all__ = ["BackfillSummary", "CycleSummary", "Evaluator", "ModelCycle", "safe_error"]

log = logging.getLogger("modelmon.evaluation")

_US = timedelta(microseconds=1)
#: With the preset's windows, fine windows cover only the recent past of a model's data (the
#: newest event time minus this), so a backfill of months does not make 5-minute windows.
_HORIZONS = ((timedelta(hours=1), timedelta(days=2)), (timedelta(days=1), timedelta(days=92)))


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ModelCycle:
    model: str
    windows_evaluated: int = 0
    windows_rolled_up: int = 0
    windows_pending: int = 0
    windows_failed: int = 0
    windows_judged: int = 0
    detector_events: int = 0
    status: str | None = None
    seconds: float = 0.0
    error: str | None = None
    skipped: str | None = None


@dataclass
class CycleSummary:
    started_at: datetime
    seconds: float = 0.0
    models: list[ModelCycle] = field(default_factory=list)
    #: Why nothing was evaluated (another server leads), None otherwise.
    skipped: str | None = None

    @property
    def windows_evaluated(self) -> int:
        return sum(m.windows_evaluated for m in self.models)

    def to_dict(self) -> dict[str, Any]:
        return {"started_at": self.started_at.isoformat(), "seconds": round(self.seconds, 4),
                "windows_evaluated": self.windows_evaluated, "skipped": self.skipped,
                "models": [m.__dict__ for m in self.models]}


@dataclass
class BackfillSummary:
    """What a backfill did: windows evaluated and judged, failures, time, final status."""

    model: str
    windows_evaluated: int = 0
    windows_judged: int = 0
    windows_failed: int = 0
    seconds: float = 0.0
    status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Failures:
    count: int = 0
    last_error: str = ""
    since: datetime | None = None


def _error_text(exc: BaseException) -> str:
    """An error for a status reason: its type, never its message (which may quote data)."""
    return type(exc).__name__


def safe_error(exc: BaseException) -> str:
    """An error as ``/health`` and the API may show it: a modelmon error's own message (written
    for clients), anything else only by its type (its text may quote data or server paths)."""
    if isinstance(exc, ModelmonError):
        return exc.message
    return f"evaluation failed ({type(exc).__name__}; see the server log)"


class Evaluator:
    """Evaluates every registered model (see the module docstring).

    Parameters
    ----------
    store : ResultBackend
        Data and result store.
    clock : callable
        Current UTC time (tests and the demo pass their own).
    max_windows_per_cycle : int
        Bound on windows recomputed per cycle, over all models.
    detector : DetectorConfig
        The concept-drift detector and its lateness.
    alerts : AlertEngine, optional
        Evaluates alert rules on each model's newest complete window, and the timed rules
        (no data, staleness, the service's health) once per cycle.
    service_context : callable, optional
        The service's health and resource use, for service rules.
    leadership : Leadership, optional
        Several servers on one store: cycles run only on the leader
        (:mod:`modelmon.evaluation.coordination`); None: always.
    """

    def __init__(
        self,
        store: Backend,
        *,
        clock: Callable[[], datetime] = _utcnow,
        max_windows_per_cycle: int = 500,
        detector: DetectorConfig | None = None,
        alerts: AlertEngine | None = None,
        service_context: Callable[[], ServiceContext] | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self.store = store
        #: Several servers on one store: cycles run only while this one leads.
        self.leadership = leadership
        self.clock = clock
        self.max_windows_per_cycle = max_windows_per_cycle
        self.references = ReferenceManager(store)
        self.concept = ConceptDriftTracker(store, detector)
        self.judge = WindowJudge(store)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._failures: dict[str, _Failures] = {}
        self._status_key: dict[str, Any] = {}
        self._rotation = 0
        self.alerts = alerts
        self.service_context = service_context

    def lock(self, model: str) -> threading.Lock:
        """The lock a backfill of ``model`` holds (scheduled cycles skip the model meanwhile)."""
        with self._locks_guard:
            return self._locks.setdefault(model, threading.Lock())

    # --- cycles ------------------------------------------------------------------------------------
    def run_cycle(self) -> CycleSummary:
        """Evaluate every model once (starting from a different model each cycle, so a bounded
        budget reaches every model)."""
        started = time.perf_counter()
        summary = CycleSummary(self.clock())
        if self.leadership is not None:
            if self.leadership.term() is None:
                summary.skipped = "another server leads: it evaluates"
                return summary
            if self.alerts is not None:
                self.alerts.refresh()  # what other servers stored since the last cycle
        infos = self.store.list_models()
        if infos:
            k = self._rotation % len(infos)
            infos = infos[k:] + infos[:k]
            self._rotation += 1
        with self._alert_writes():  # the cycle's alerts are stored in one transaction
            self._cycle(infos, summary)
        summary.seconds = time.perf_counter() - started
        return summary

    def _alert_writes(self) -> AbstractContextManager[None]:
        return self.alerts.deferred() if self.alerts is not None else nullcontext()

    def _cycle(self, infos: list[Any], summary: CycleSummary) -> None:
        budget = self.max_windows_per_cycle
        for info in infos:
            result = ModelCycle(info.name)
            lock = self.lock(info.name)
            if not lock.acquire(blocking=False):
                result.skipped = "a backfill of this model is running"
                summary.models.append(result)
                continue
            t0 = time.perf_counter()
            try:
                self._evaluate_model(info.spec, result, budget)
            except Exception as exc:
                log.exception("evaluation of %s failed", info.name)
                result.error = safe_error(exc)
                self._record_failure(info.spec, exc)
            finally:
                lock.release()
            result.seconds = time.perf_counter() - t0
            budget = max(0, budget - result.windows_evaluated)
            summary.models.append(result)
        self._evaluate_timed(summary.started_at)

    def evaluate_model(self, model: str) -> ModelCycle:
        """One cycle for one model (the API's "evaluate now")."""
        result = ModelCycle(model)
        t0 = time.perf_counter()
        spec = self.store.get_model(model).spec
        with self.lock(model):
            try:
                self._evaluate_model(spec, result, self.max_windows_per_cycle)
            except ModelmonError as exc:  # the store is away, say: the caller's error answer
                self._record_failure(spec, exc)
                raise
            except Exception as exc:  # as in a scheduled cycle: said in the result and status
                log.exception("evaluation of %s failed", model)
                result.error = safe_error(exc)
                self._record_failure(spec, exc)
        result.seconds = time.perf_counter() - t0
        return result

    def backfill(self, model: str, *, chunk: int = 100,
                 progress: Callable[[int, int], None] | None = None) -> BackfillSummary:
        """Evaluate every window of ``model``'s history, then judge them all.

        ``progress(done, total)`` is called after each chunk of windows (the total grows when
        windows are found). Holds the model's lock: scheduled cycles skip the model meanwhile.
        """
        t0 = time.perf_counter()
        out = BackfillSummary(model)
        spec = self.store.get_model(model).spec
        with self.lock(model):
            while True:
                result = ModelCycle(model)
                self._evaluate_model(spec, result, chunk, judge=False)
                out.windows_evaluated += result.windows_evaluated
                out.windows_failed += result.windows_failed
                if progress is not None:
                    progress(out.windows_evaluated,
                             out.windows_evaluated + result.windows_pending)
                if result.windows_pending == 0 or result.windows_evaluated == 0:
                    break
            judged = self._judge_all(spec)
            out.windows_judged = len(judged)
            self._replay_alerts(spec, judged)
            out.status = self._update_status(spec, self.clock(), force=True, alert=False)
        out.seconds = time.perf_counter() - t0
        return out

    # --- one model ---------------------------------------------------------------------------------
    def _evaluate_model(self, spec: ModelSpec, result: ModelCycle, budget: int, *,
                        judge: bool = True) -> None:
        now = self.clock()
        name = spec.name
        watermarks = self.store.data_watermarks(name)
        seen_p, seen_a, pending, ref_key = self.store.evaluation_state(name)
        if watermarks[0] is None:
            result.status = self._update_status(spec, now)
            return
        changed = watermarks != (seen_p, seen_a)
        schemes = {s.name: s for s in spec.window_schemes}
        status_scheme = self.status_scheme(spec)
        profile = self.references.get(name, now, status_scheme, spec.judgement.baseline_windows)
        # Everything is evaluated again when the reference changes or data was deleted.
        deleted = self.store.list_events(name, kind="data_deleted", limit=1)
        key = (f"{_profile_key(self.store.get_model(name).revision, profile) or '-'}"
               f"|{deleted[0].id if deleted else 0}")
        requeue = key != ref_key
        queue: dict[tuple[str, datetime], str] = {
            (size, start): kind for size, start, kind in pending if size in schemes}
        chunks: dict[str, dict[datetime, RowChunk]] = {}
        if changed or requeue:
            since_p, since_a = (None, None) if requeue else (seen_p, seen_a)
            if requeue:  # windows left empty by a deletion: their results go
                self._drop_empty_windows(spec, schemes)
            newest = self.store.event_time_range(name)[1]
            for scheme in schemes.values():
                if isinstance(scheme, RowWindows):
                    for start in self._plan_rows(spec, scheme, since_p, since_a, chunks):
                        queue[(scheme.name, start)] = "evaluate"
                    continue
                horizon = self._horizon(spec, scheme, newest)
                for start in self.store.changed_windows(
                        name, scheme, predictions_since=since_p,
                        actuals_since=since_a, min_start=horizon):
                    queue[(scheme.name, start)] = "evaluate"
        due = self._due(schemes, queue, now)
        todo = due[:budget]
        evaluated: dict[str, list[datetime]] = {}
        rolled = failed = 0
        batch: list[Any] = []
        base = _base_fixed(schemes)
        left_base = {start for size, start in due[budget:] if base is not None and size == base.name}
        for size, start in todo:
            scheme = schemes[size]
            window = self._window(spec, scheme, start, chunks)
            if window is None:  # a row window whose boundaries moved: planned again next cycle
                queue.pop((size, start), None)
                continue
            if (isinstance(scheme, FixedWindows) and base is not None and scheme != base
                    and window.is_open(now) and scheme.size % base.size == timedelta(0)
                    and not any(start <= b < window.end for b in left_base)):
                if batch:  # the base windows it merges must be stored first
                    self.store.replace_window_results(name, batch)
                    batch.clear()
                self._roll_up(spec, window, base.name)
                queue[(size, start)] = "final"
                evaluated.setdefault(size, []).append(start)
                rolled += 1
                continue
            queue.pop((size, start), None)
            chunk = chunks.get(size, {}).get(start) if isinstance(scheme, RowWindows) else None
            try:
                batch.append(self._evaluate_window(spec, window, profile, chunk))
            except Exception as exc:
                log.exception("evaluation of %s window %s %s failed", name, size, start)
                self._record_failure(spec, exc)
                failed += 1
                continue
            evaluated.setdefault(size, []).append(start)
            if len(batch) >= 16:
                self.store.replace_window_results(name, batch)
                batch.clear()
        if batch:
            self.store.replace_window_results(name, batch)
        rest = sorted(((size, start, kind) for (size, start), kind in queue.items()),
                      key=lambda item: (item[1], item[0]))
        done = sum(len(v) for v in evaluated.values())
        result.windows_evaluated = done - rolled
        result.windows_rolled_up = rolled
        result.windows_failed = failed
        result.windows_pending = sum(1 for _, _, kind in rest if kind == "evaluate")
        if changed or rest != pending or key != ref_key:
            self.store.set_evaluation_state(name, watermarks[0], watermarks[1], rest, key)
        if done and not failed:
            self._failures.pop(name, None)
        if changed:
            result.detector_events = self.concept.run(spec, now)
        if not judge:
            return
        try:
            result.windows_judged = self._judge_changed(spec, schemes, evaluated, profile, now,
                                                        everything=requeue)
        except Exception as exc:  # the windows are stored; their verdicts come next cycle
            log.exception("judging %s failed", name)
            self._record_failure(spec, exc)
            result.windows_failed += 1
        result.status = self._update_status(spec, now)

    def _drop_empty_windows(self, spec: ModelSpec, schemes: dict[str, WindowScheme]) -> None:
        for scheme in schemes.values():
            if isinstance(scheme, RowWindows):
                continue  # planned again from the rows
            stored = [a for a, _ in self.store.window_starts(spec.name, scheme.name)]
            if not stored:
                continue
            live = set(self.store.changed_windows(spec.name, scheme,
                                                  predictions_since=None, actuals_since=None))
            gone = [a for a in stored if a not in live]
            if gone:
                self.store.delete_window_results(spec.name, scheme.name, gone)

    def _due(self, schemes: dict[str, WindowScheme], queue: dict[tuple[str, datetime], str],
             now: datetime) -> list[tuple[str, datetime]]:
        due = []
        for (size, start), kind in queue.items():
            scheme = schemes[size]
            if kind == "final" and isinstance(scheme, FixedWindows) and \
                    scheme.containing(start).is_open(now):
                continue  # rolled up already; evaluated in full once it closes
            due.append((size, start))
        # Smaller windows first (larger ones roll up from them), newest first within each size.
        due.sort(key=lambda item: (schemes[item[0]].approx_seconds, -item[1].timestamp()))
        return due

    def _horizon(self, spec: ModelSpec, scheme: WindowScheme,
                 newest: datetime | None) -> datetime | None:
        """With the preset's windows, windows shorter than an hour cover the newest two days of
        data and windows shorter than a day the newest 92 days."""
        if not spec.windows_are_default or newest is None or not isinstance(scheme, FixedWindows):
            return None
        for below, span in _HORIZONS:
            if scheme.size < below:
                return newest - span
        return None

    def _plan_rows(self, spec: ModelSpec, scheme: RowWindows, since_p: datetime | None,
                   since_a: datetime | None,
                   chunks: dict[str, dict[datetime, RowChunk]]) -> list[datetime]:
        """Row windows to evaluate: those holding new data or whose boundaries moved; results
        of windows that no longer exist are deleted."""
        found = self.store.row_chunks(spec.name, scheme.rows, predictions_since=since_p,
                                      actuals_since=since_a)
        stored = dict(self.store.window_starts(spec.name, scheme.name))
        plan: dict[datetime, RowChunk] = {}
        last: datetime | None = None
        todo = []
        for c in found:
            start = c.first_time if last is None or c.first_time > last else last + _US
            last = start
            plan[start] = c
            end = c.last_time + _US
            if c.changed or stored.get(start) != end or since_p is None:
                todo.append(start)
        chunks[scheme.name] = plan
        gone = [s for s in stored if s not in plan]
        if gone:
            self.store.delete_window_results(spec.name, scheme.name, gone)
        return todo

    def _window(self, spec: ModelSpec, scheme: WindowScheme, start: datetime,
                chunks: dict[str, dict[datetime, RowChunk]]) -> Window | None:
        if isinstance(scheme, RowWindows):
            if scheme.name not in chunks:  # windows queued by an earlier cycle
                self._plan_rows(spec, scheme, None, None, chunks)
            c = chunks[scheme.name].get(start)
            if c is None:
                return None
            return Window(start, c.last_time + _US, scheme.name, c.index)
        w = scheme.containing(start)
        return Window(w.start, w.end, scheme.name)

    def _roll_up(self, spec: ModelSpec, window: Window, base_name: str) -> None:
        """Decomposable statistics of an open larger window, merged from its base windows'
        stored aggregates: no rows are read again."""
        merged: WindowAggregate | None = None
        for version, segment, _, blob in self.store.window_aggregates(
            spec.name, base_name, window.start, window.end
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
                 "window_start": window.start, "window_end": window.end, "metric": str(metric),
                 "value": None if value is None or math.isnan(value) else float(value), "n": n}
                for metric, (value, n) in values.items()]
        self.store.replace_metric_points(spec.name, window.name, window.start,
                                         pa.Table.from_pylist(rows))

    def _evaluate_window(self, spec: ModelSpec, window: Window,
                         profile: ReferenceProfile | None, chunk: RowChunk | None = None) -> Any:
        ids_needed = spec.business is not None
        bounds: dict[str, Any] = {}
        start = window.start
        if chunk is not None:  # a row window: exactly its rows
            start = chunk.first_time
            bounds = {"first": (chunk.first_time, chunk.first_id),
                      "last": (chunk.last_time, chunk.last_id)}
        table = self.store.read_predictions(spec.name, start=start, end=window.end,
                                            columns=needed_columns(spec, ids=ids_needed),
                                            with_actuals=True, ordered=spec.finance is not None,
                                            **bounds)
        frame = EvalFrame.from_arrow(spec, table)
        events = ids = None
        if spec.business is not None:
            events = self.store.read_table(spec.name, BatchKind.METRIC_EVENTS, start=window.start,
                                           end=window.end)
            ids = np.asarray(table.column("prediction_id").to_pylist(), dtype=object)
        seconds = window.size.total_seconds()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelmonWarning)
            evaluation = evaluate_window(frame, window_seconds=seconds, reference=profile,
                                         drift_sigma=drift_sigma(spec, profile),
                                         business_events=events, prediction_ids=ids)
        return evaluation.to_results(window.name, window.start, window.end)

    # --- judging -----------------------------------------------------------------------------------
    def status_scheme(self, spec: ModelSpec) -> WindowScheme:
        """The window size whose newest complete window sets the status: ``judgement.window``,
        else the smallest size whose windows hold ``judgement.min_window_rows`` predictions on
        median (over its first 100 windows), else the largest."""
        schemes = spec.window_schemes
        if spec.judgement.window is not None:
            return next(s for s in schemes if s.name == spec.judgement.window)
        for scheme in schemes:
            if isinstance(scheme, RowWindows):
                return scheme
            counts = self.store.window_counts(spec.name, scheme)
            if counts and float(np.median(counts)) >= spec.judgement.min_window_rows:
                return scheme
        return schemes[-1]

    def _judge_changed(self, spec: ModelSpec, schemes: dict[str, WindowScheme],
                       evaluated: dict[str, list[datetime]], profile: ReferenceProfile | None,
                       now: datetime, *, everything: bool) -> int:
        judged = 0
        count = spec.judgement.baseline_windows
        for size, scheme in schemes.items():
            spans = self.store.window_starts(spec.name, size)
            if not spans:
                continue
            starts_all = [a for a, _ in spans]
            new = set(evaluated.get(size, ()))
            baseline = set(starts_all[:count])
            if everything or new & baseline:
                judged += len(self.judge.judge(spec, scheme, profile=profile, now=now))
                continue
            wanted = set()
            index = {a: i for i, a in enumerate(starts_all)}
            for start in new:
                i = index.get(start)
                if i is not None:
                    wanted.update(starts_all[i:i + 3])
            # a window that was still filling when judged, and has ended since
            newest = self.store.verdicts(spec.name, window_size=size, newest_first=True, limit=1)
            if newest and not newest[0].complete and (
                    newest[0].window_end <= now or isinstance(scheme, RowWindows)):
                wanted.add(newest[0].window_start)
            if wanted:
                judged += len(self.judge.judge(spec, scheme, profile=profile, now=now,
                                               starts=wanted))
        return judged

    def _judge_all(self, spec: ModelSpec) -> list[tuple[WindowFacts, Verdict]]:
        """Judge every window of every size; return the status size's windows, oldest first."""
        now = self.clock()
        scheme = self.status_scheme(spec)
        profile = self.references.get(spec.name, now, scheme, spec.judgement.baseline_windows)
        status: list[tuple[WindowFacts, Verdict]] = []
        judged = []
        for s in spec.window_schemes:
            judged = self.judge.judge(spec, s, profile=profile, now=now)
            if s == scheme:
                status = judged
        return status

    # --- alerts ------------------------------------------------------------------------------------
    def _context(self, spec: ModelSpec, at: datetime, window: str | None, status: Status,
                 facts: WindowFacts | None, reasons: list[Reason]) -> ModelContext:
        table: Any = None

        def metric(name: str, size: str, version: str) -> tuple[float, int] | None:
            nonlocal table
            if table is None:
                table = self.store.latest_metric_points(spec.name).to_pylist()
            for row in table:
                if row["metric"] == name and row["window_size"] == size and \
                        row["version"] == version and row["segment"] == ALL:
                    value = row["value"]
                    return (math.nan if value is None else float(value)), int(row["n"] or 0)
            return None

        return ModelContext(spec.name, model_labels(spec), at, window, status, facts, reasons,
                            metric)

    def _replay_alerts(self, spec: ModelSpec, judged: list[tuple[WindowFacts, Verdict]]) -> None:
        """The alerts of a backfilled history, window by window in event time (recorded as
        backfilled: nobody is notified of the past)."""
        if self.alerts is None:
            return
        with self.alerts.deferred():
            for facts, verdict in judged:
                if not verdict.complete:
                    continue
                ctx = self._context(spec, verdict.end, verdict.window, verdict.status, facts,
                                    list(verdict.reasons))
                self.alerts.evaluate_model(spec, ctx, backfilled=True)
        if judged:
            self.alerts.mark_live(spec.name, judged[-1][1].end - judged[-1][1].start, self.clock())

    def _evaluate_timed(self, now: datetime) -> None:
        """No-data and staleness rules of every model, and the service rules."""
        if self.alerts is None:
            return
        for info in self.store.list_models():
            try:
                received = self.store.data_watermarks(info.name)[0]
                runs = self.store.read_table(info.name, BatchKind.TRAINING_RUNS)
                last_run = None
                if runs.num_rows and "started_at" in runs.column_names:
                    last_run = max((t for t in runs.column("started_at").to_pylist() if t),
                                   default=None)
                stored = self.store.get_status(info.name)
                status = Status(stored.status) if stored is not None else Status.NO_DATA
                ctx = ModelContext(info.name, model_labels(info.spec), now, None, status,
                                   last_prediction=received, last_training=last_run)
                self.alerts.evaluate_timed(info.spec, ctx)
            except Exception:  # timed rules of one model never stop the others
                log.exception("timed alert rules of %s failed", info.name)
        if self.service_context is not None:
            try:
                self.alerts.evaluate_service(self.service_context(),
                                             [(r, "service") for r in service_rules()])
            except Exception:
                log.exception("service alert rules failed")

    # --- status ------------------------------------------------------------------------------------
    def _record_failure(self, spec: ModelSpec, exc: BaseException) -> None:
        f = self._failures.setdefault(spec.name, _Failures())
        f.count += 1
        f.last_error = _error_text(exc)
        if f.since is None:
            f.since = self.clock()
        try:
            self._update_status(spec, self.clock(), force=True)
        except Exception:  # the status of a model whose store reads fail cannot be set either
            log.exception("could not set the status of %s", spec.name)

    def _model_reasons(self, spec: ModelSpec, now: datetime, scheme: WindowScheme,
                       base: StoredVerdict | None, newest: StoredVerdict | None) -> list[Reason]:
        """Reasons about the model rather than one window."""
        reasons: list[Reason] = []
        error = self.references.errors.get(spec.name)
        if error:
            reasons.append(Reason(ReasonKind.BASELINE, Severity.WARNING,
                                  f"the reference cannot be used: {error}"))
        failure = self._failures.get(spec.name)
        if failure is not None:
            reasons.append(Reason(
                ReasonKind.EVALUATION, Severity.WARNING,
                f"evaluation failed {failure.count} time(s) since "
                f"{failure.since:%Y-%m-%d %H:%M} UTC ({failure.last_error}); other windows go on",
                evidence={"failures": failure.count, "error": failure.last_error}))
        if newest is not None and base is not None and newest.window_start != base.window_start:
            worst = [Reason.from_dict(r) for r in newest.reasons]
            serious = [r for r in worst if r.severity.rank >= Severity.HIGH.rank]
            if serious and newest.n > 0:
                reasons.append(Reason(
                    ReasonKind.PARTIAL_WINDOW, Severity.WARNING,
                    f"the window still filling ({newest.window_start:%Y-%m-%d %H:%M}, "
                    f"{newest.n} predictions so far): {serious[0].message}",
                    metric=serious[0].metric, value=serious[0].value,
                    evidence={"n": newest.n, "start": newest.window_start}))
        if isinstance(scheme, FixedWindows) and base is not None:
            quiet = now - base.window_end
            if quiet > max(2 * scheme.size, timedelta(hours=1)):
                reasons.append(Reason(
                    ReasonKind.NO_DATA, Severity.INFO,
                    f"no predictions since {base.window_end:%Y-%m-%d %H:%M} UTC",
                    evidence={"since": base.window_end}))
        return reasons

    def _update_status(self, spec: ModelSpec, now: datetime, *, force: bool = False,
                       alert: bool = True) -> str:
        """Set the model's status from its newest complete status window (see the module
        docstring); write a report when it changed."""
        name = spec.name
        scheme = self.status_scheme(spec)
        size = scheme.name
        newest_list = self.store.verdicts(name, window_size=size, newest_first=True, limit=1)
        newest = newest_list[0] if newest_list else None
        base = newest
        if newest is not None and not newest.complete:
            done = self.store.verdicts(name, window_size=size, complete=True, newest_first=True,
                                       limit=1)
            base = done[0] if done else newest
        reasons = [Reason.from_dict(r) for r in base.reasons] if base is not None else []
        reasons = [r for r in reasons if r.kind is not ReasonKind.NO_DATA]
        model_reasons = self._model_reasons(spec, now, scheme, base, newest)
        has_data = base is not None and base.n > 0
        status = status_of([*reasons, *model_reasons], has_data=has_data)
        if base is None:
            received = self.store.data_watermarks(name)[0] is not None
            model_reasons.insert(0, Reason(ReasonKind.NO_DATA, Severity.INFO,
                                           "no window judged yet" if received
                                           else "no predictions received yet"))
        all_reasons = sorted([*reasons, *model_reasons], key=lambda r: -r.severity.rank)
        key = (size, base.window_start if base else None, base.judged_at if base else None,
               newest.judged_at if newest else None,
               tuple((r.kind, r.message) for r in model_reasons if r.kind is not ReasonKind.NO_DATA))
        if not force and self._status_key.get(name) == key and self.store.get_status(name):
            return str(status)
        self._status_key[name] = key
        facts, verdict = self._facts_of(spec, scheme, base, now)
        events = self.store.detector_events(name, limit=20).to_pylist()
        report = build_report(
            spec, now=now, status=status, reasons=all_reasons, facts=facts, verdict=verdict,
            reference_source=self._reference_source(name), detector_events=[
                {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in e.items()}
                for e in events],
            versions=self._version_advice(spec, size, base))
        report_id = self.store.save_report(name, report)
        self.store.set_status(name, str(status), [r.to_dict() for r in all_reasons], report_id)
        if alert and self.alerts is not None and base is not None:
            at = base.window_end if base.complete else now
            self.alerts.evaluate_model(spec, self._context(spec, at, size, status, facts,
                                                           all_reasons))
        return str(status)

    def _facts_of(self, spec: ModelSpec, scheme: WindowScheme, base: StoredVerdict | None,
                  now: datetime) -> tuple[WindowFacts | None, Verdict | None]:
        if base is None:
            return None, None
        profile = self.references.get(spec.name, now, scheme, spec.judgement.baseline_windows)
        judged = self.judge.judge(spec, scheme, profile=profile, now=now,
                                  starts=[base.window_start])
        return judged[-1] if judged else (None, None)

    def _reference_source(self, model: str) -> str | None:
        stored = self.store.get_reference(model)
        return stored[1] if stored is not None else None

    def _version_advice(self, spec: ModelSpec, size: str, base: StoredVerdict | None) -> list[str]:
        versions = [v.version for v in self.store.list_versions(spec.name)]
        if len(versions) < 2 or len(versions) > 5 or base is None:
            return []
        start = base.window_start - 20 * (base.window_end - base.window_start)
        try:
            return version_advice(self.store, spec.name, size, HEADLINE[spec.task], versions,
                                  start=start)
        except Exception:  # advice is optional: a failure never blocks the status
            log.exception("version advice for %s failed", spec.name)
            return []


def _base_fixed(schemes: dict[str, WindowScheme]) -> FixedWindows | None:
    fixed = [s for s in schemes.values() if isinstance(s, FixedWindows)]
    return min(fixed, key=lambda s: s.size) if fixed else None


def _profile_key(revision: int, profile: ReferenceProfile | None) -> str | None:
    if profile is None:
        return None
    return f"{revision}:{profile.source}:{profile.n_rows}"


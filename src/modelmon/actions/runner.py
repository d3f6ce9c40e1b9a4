"""The action runner: hears the alert engine, decides, runs actions off the evaluation path.

The engine tells its listeners each stored change; :meth:`ActionRunner.listen` only queues the
ones that may trigger an action (never a backfilled alert's), so a slow webhook never holds up
evaluation. One dispatcher thread takes them in order, finds the rule's actions, applies the
guardrails (:func:`~modelmon.actions.guardrails.decide`) and records each trigger; a small pool
of worker threads sends the requests, with retries under the same idempotency key.

- **Rollbacks** of one model run one at a time (a lock per model). A rollback triggered by an
  incident that started before the model's last successful rollback finished is not run: it is
  recorded ``superseded``, pointing at that rollback (the second of a burst finds the first's
  result instead of rolling back once more).
- **Approval**: a record ``pending_approval`` waits (in the store: a restart keeps it waiting)
  until :meth:`ActionRunner.approve` or :meth:`ActionRunner.reject`, or expires after the
  action's ``approval_timeout``.
- **Restart**: records ``approved`` or ``running`` when the process stopped are resumed at
  start (sent again with the same idempotency key and, for a rollback, the same versions);
  alerts that fired in the last ten minutes with no record of their actions are caught up.
- **Failure**: a failed action raises its own alert, ``ActionFailed{model, action}``, through
  the alert engine; the next success of that action for that model resolves it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from modelmon._durations import format_duration
from modelmon.actions.guardrails import DAY, decide
from modelmon.actions.record import FINAL, ActionRecord, ActionState, idempotency_key
from modelmon.actions.request import payload, prepare
from modelmon.actions.spec import ActionSettings, ActionSpec
from modelmon.actions.transport import send
from modelmon.actions.versions import NoRollbackTarget, plan_rollback
from modelmon.alerts.engine import AlertChange
from modelmon.alerts.matchers import matches_all
from modelmon.alerts.rules import AlertRule
from modelmon.alerts.state import AlertInstance, AlertState
from modelmon.exceptions import ConflictError, NotFoundError
from modelmon.vocabulary import Severity

__all__ = ["ACTION_FAILED", "CATCH_UP", "ActionRunner"]

log = logging.getLogger("modelmon.actions")

#: The alert a failed action raises (labels ``model``, ``action``).
ACTION_FAILED = "ActionFailed"
#: At start, alerts that fired this recently with no record of their actions are caught up.
CATCH_UP = timedelta(minutes=10)
_TRIGGERS = frozenset({"firing", "escalated", "resolved", "live"})
_IDLE = object()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ActionRunner:
    """Runs the actions of alert rules (see the module docstring).

    Parameters
    ----------
    settings : ActionSettings
        The ``actions:`` section: definitions, global dry run, worker threads.
    store : ActionStore
        Where records live (``store.actions`` of the service's store).
    registry : object
        The model registry (``list_versions(model)``): where a rollback finds its versions.
    alerts : AlertEngine, optional
        The engine whose rules name actions and that raises ``ActionFailed``.
    clock : callable
        Returns the current UTC time.
    observe : callable, optional
        ``observe(action, state)`` for each state a record reaches (``/metrics``).
    """

    def __init__(self, settings: ActionSettings, store: Any, registry: Any, *,
                 alerts: Any = None, clock: Callable[[], datetime] = _utcnow,
                 observe: Callable[[str, str], None] | None = None,
                 expire_every: float = 5.0) -> None:
        self.settings = settings
        self.store = store
        self.registry = registry
        self.alerts = alerts
        self.clock = clock
        self.observe = observe
        self.expire_every = expire_every
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.RLock()  # one transition of a record at a time
        self._model_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._outstanding = 0
        self._idle = threading.Condition(self._guard)

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, *, resume: bool = True) -> ActionRunner:
        """Start the dispatcher and workers, then (unless ``resume`` is false: several servers
        share the store, and the leader calls :meth:`take_over`) resume unfinished records and
        catch up."""
        self._pool = ThreadPoolExecutor(self.settings.workers,
                                        thread_name_prefix="modelmon-action")
        self._thread = threading.Thread(target=self._loop, name="modelmon-actions", daemon=True)
        self._thread.start()
        if resume:
            self.take_over()
        return self

    def take_over(self) -> None:
        """Resume the unfinished records (approved or running) and act on alerts that fired
        recently: at start, or when this server starts leading."""
        self._resume()
        self._catch_up()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work; actions being sent finish (their timeout bounds the wait), queued
        ones stay ``running`` in the store and are resumed at the next start."""
        self._stop.set()
        self._inbox.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued change is decided and every started action finished (or
        waits for approval); whether that happened within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._outstanding:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def _track(self, n: int) -> None:
        with self._idle:
            self._outstanding += n
            if not self._outstanding:
                self._idle.notify_all()

    # --- hearing the engine ------------------------------------------------------------------
    def listen(self, changes: Sequence[AlertChange]) -> None:
        """The alert engine's listener: queue the changes that may trigger actions (called
        under the engine's lock: nothing else happens here)."""
        for change in changes:
            alert = change.alert
            if (change.event in _TRIGGERS and not alert.backfilled
                    and alert.rule != ACTION_FAILED):
                self._track(1)
                self._inbox.put(change)

    def _loop(self) -> None:
        next_expiry = 0.0
        stopping = False
        while True:
            try:
                item = self._inbox.get(timeout=0.5) if not stopping else self._inbox.get_nowait()
            except queue.Empty:
                if stopping:
                    return
                item = _IDLE
            if item is None:
                stopping = True  # decide what is queued (workers may take it), then leave
                continue
            if item is not _IDLE:
                try:
                    self._on_change(item)
                except Exception:  # one bad change never stops the runner
                    log.exception("action trigger failed for alert %s", item.alert.alert_id)
                finally:
                    self._track(-1)
            if not stopping and time.monotonic() >= next_expiry:
                try:
                    self.expire_approvals()
                except Exception:
                    log.exception("expiring actions waiting for approval failed")
                next_expiry = time.monotonic() + self.expire_every

    def _rule(self, name: str) -> AlertRule | None:
        if self.alerts is None:
            return None
        return next((st.rule for st in self.alerts.rules() if st.rule.name == name), None)

    def _on_change(self, change: AlertChange) -> None:
        alert, event = change.alert, change.event
        if event == "live":  # a backfilled alert that turned out current
            if alert.state != AlertState.FIRING:
                return
            event = "firing"
        rule = self._rule(alert.rule)
        if rule is None:
            return
        for ref in rule.actions:
            if event not in ref.on:
                continue
            if ref.min_severity is not None and alert.severity.rank < ref.min_severity.rank:
                continue
            if not matches_all(ref.matchers, alert.labels):
                continue
            self._trigger(ref.name, alert, event)

    # --- deciding ----------------------------------------------------------------------------
    def _trigger(self, name: str, alert: AlertInstance, event: str) -> None:
        key = idempotency_key(name, alert.alert_id, event, str(alert.severity))
        if self.store.find_by_key(key) is not None:
            return  # this action already answered this incident at this severity
        spec = self.settings.get(name)
        now = self.clock()
        record = ActionRecord(
            uuid.uuid4().hex, key, name, spec.type if spec else "unknown", alert.model,
            alert.rule, alert.alert_id, alert.fingerprint, event, str(alert.severity),
            ActionState.RUNNING, False, now, now,
            details={"alert_started_at": alert.started_at.isoformat(), "alert": alert.to_dict()})
        if spec is None:
            record = record.evolve(now, state=ActionState.FAILED, finished_at=now,
                                   error=f"no action named {name!r} is defined "
                                         "(actions.definitions)")
            if self.store.insert_action(record):
                self._reached(record)
                self._raise_failure(record)
            return
        recent = self.store.recent_actions(name, alert.model,
                                           now - max(DAY, spec.cooldown_period))
        decision = decide(spec, recent, now, dry_run=self.settings.dry_run)
        record = record.evolve(now, state=decision.state, note=decision.note,
                               related_id=decision.related_id,
                               dry_run=decision.state == ActionState.DRY_RUN)
        if decision.state in (ActionState.DRY_RUN, ActionState.PENDING_APPROVAL):
            record = self._preview(spec, record)
        if record.state in FINAL:
            record = record.evolve(now, finished_at=now)
        if not self.store.insert_action(record):
            return
        self._reached(record)
        if record.state == ActionState.RUNNING:
            self._submit(record)

    def _preview(self, spec: ActionSpec, record: ActionRecord) -> ActionRecord:
        """The request a dry run (or an action waiting for approval) would send now."""
        details = dict(record.details)
        if spec.type == "rollback" and record.model is not None:
            try:
                details.update(plan_rollback(record.model,
                                             self.registry.list_versions(record.model)).to_dict())
            except (NoRollbackTarget, NotFoundError) as exc:
                details["plan_error"] = str(exc)
        hidden = dict.fromkeys(spec.secret_values(), "***")
        body = payload(spec, record, details.get("alert"), details)
        return record.evolve(record.updated_at, details=details,
                             request=prepare(spec, record, body, hidden).recorded)

    # --- approval ----------------------------------------------------------------------------
    def _decide(self, action_id: str, by: str, note: str, state: str) -> ActionRecord:
        with self._lock:
            record = self.store.get_action(action_id)
            if record is None:
                raise NotFoundError(f"no action {action_id!r}", loc=("action_id",))
            if record.state != ActionState.PENDING_APPROVAL:
                raise ConflictError(f"action {action_id} is {record.state}, not waiting for "
                                    "approval", loc=("action_id",))
            now = self.clock()
            record = record.evolve(now, state=state, decided_by=by, decided_at=now,
                                   decision_note=note or None,
                                   finished_at=now if state in FINAL else None)
            self.store.save_action(record)
        self._reached(record)
        return record

    def approve(self, action_id: str, by: str, note: str = "") -> ActionRecord:
        """Approve an action waiting for approval; it runs at once (on a worker)."""
        record = self._decide(action_id, by, note, ActionState.APPROVED)
        self._submit(record)
        return record

    def reject(self, action_id: str, by: str, note: str = "") -> ActionRecord:
        """Reject an action waiting for approval; it never runs."""
        return self._decide(action_id, by, note, ActionState.REJECTED)

    def expire_approvals(self) -> list[ActionRecord]:
        """Expire the records that waited for approval longer than their action's
        ``approval_timeout``."""
        now = self.clock()
        expired = []
        for record in self.store.list_actions(state=[ActionState.PENDING_APPROVAL],
                                              limit=100_000):
            spec = self.settings.get(record.action)
            period = spec.approval_period if spec is not None else DAY
            if now - record.created_at < period:
                continue
            with self._lock:
                current = self.store.get_action(record.action_id)
                if current is None or current.state != ActionState.PENDING_APPROVAL:
                    continue
                done = current.evolve(now, state=ActionState.EXPIRED, finished_at=now,
                                      note=f"no approval within {format_duration(period)}")
                self.store.save_action(done)
            self._reached(done)
            expired.append(done)
        return expired

    # --- running -----------------------------------------------------------------------------
    def _submit(self, record: ActionRecord, *, resumed: bool = False) -> None:
        if self._pool is None or self._stop.is_set():
            return  # stays approved/running in the store: resumed at the next start
        self._track(1)
        try:
            future = self._pool.submit(self._execute, record, resumed)
        except RuntimeError:  # the pool shut down meanwhile
            self._track(-1)
            return
        future.add_done_callback(lambda _: self._track(-1))

    def _model_lock(self, model: str) -> threading.Lock:
        with self._guard:
            return self._model_locks.setdefault(model, threading.Lock())

    def _execute(self, record: ActionRecord, resumed: bool) -> None:
        try:
            spec = self.settings.get(record.action)
            if spec is None:
                self._finish(record, ActionState.FAILED,
                             error=f"action {record.action!r} is no longer defined")
            elif spec.type == "rollback" and record.model is not None:
                with self._model_lock(record.model):
                    self._rollback(spec, record, resumed)
            else:
                self._send(spec, record, resumed)
        except Exception as exc:  # a store failure: said on the record when it can be
            log.exception("action %s (%s) failed", record.action_id, record.action)
            try:
                self._finish(record, ActionState.FAILED, error=type(exc).__name__)
            except Exception:
                log.exception("could not record the failure of action %s", record.action_id)

    def _rollback(self, spec: ActionSpec, record: ActionRecord, resumed: bool) -> None:
        assert record.model is not None
        if not (resumed and record.started_at is not None and record.request is not None):
            last = self.store.last_rollback(record.model)
            started = record.details.get("alert_started_at")
            if (last is not None and last.finished_at is not None and started is not None
                    and last.finished_at >= datetime.fromisoformat(started)):
                versions = {k: last.details.get(k) for k in ("from_version", "to_version")}
                self._finish(record, ActionState.SUPERSEDED, related_id=last.action_id,
                             details={**record.details, "superseded_by": versions},
                             note=f"{record.model} was rolled back from "
                                  f"{versions['from_version']} to {versions['to_version']} by "
                                  f"action {last.action} ({last.action_id}) at "
                                  f"{last.finished_at.isoformat()}, after this alert started")
                return
            try:
                plan = plan_rollback(record.model, self.registry.list_versions(record.model))
            except (NoRollbackTarget, NotFoundError) as exc:
                self._finish(record, ActionState.FAILED, error=str(exc))
                return
            details = {k: v for k, v in record.details.items() if k != "plan_error"}
            record = record.evolve(record.updated_at, details={**details, **plan.to_dict()})
        record, ok = self._attempts(spec, record, resumed)
        if ok is None:
            return
        if not ok:
            self._finish(record, ActionState.FAILED)
            return
        now = self.clock()
        done = record.evolve(now, state=ActionState.SUCCEEDED, finished_at=now, error=None)
        with self._lock:
            self.store.finish_rollback(done, done.details["from_version"],
                                       done.details["to_version"])
        self._reached(done)
        self._resolve_failure(done)

    def _send(self, spec: ActionSpec, record: ActionRecord, resumed: bool) -> None:
        record, ok = self._attempts(spec, record, resumed)
        if ok is None:
            return
        if ok:
            self._finish(record, ActionState.SUCCEEDED, error=None)
        else:
            self._finish(record, ActionState.FAILED)

    def _attempts(self, spec: ActionSpec, record: ActionRecord, resumed: bool
                  ) -> tuple[ActionRecord, bool | None]:
        """Send the request (again, with the same key, after a retryable failure); whether it
        succeeded, or ``None`` when the runner stops between attempts (the record stays
        ``running`` and is resumed at the next start)."""
        if resumed and record.request is not None:
            body = record.request.get("body", record.request.get("stdin", {}))
        else:
            body = payload(spec, record, record.details.get("alert"), record.details)
        now = self.clock()
        prepared = prepare(spec, record, body, spec.secret_values())
        record = record.evolve(now, state=ActionState.RUNNING,
                               started_at=record.started_at or now, request=prepared.recorded,
                               note="resumed after a restart" if resumed else record.note)
        self.store.save_action(record)
        ok = False
        for attempt in range(spec.retries + 1):
            delay = spec.retry_delay_seconds * 2 ** (attempt - 1) if attempt else 0.0
            if delay and self._stop.wait(min(delay, 300.0)):
                return record, None
            outcome = send(prepared, spec.timeout_seconds)
            record = record.evolve(self.clock(), attempts=record.attempts + 1,
                                   response=outcome.response, error=outcome.error)
            ok = outcome.ok
            if ok or not outcome.retryable:
                break
            self.store.save_action(record)
        return record, ok

    def _finish(self, record: ActionRecord, state: str, **changes: Any) -> ActionRecord:
        now = self.clock()
        with self._lock:
            record = record.evolve(now, state=state, finished_at=now, **changes)
            self.store.save_action(record)
        self._reached(record)
        if state == ActionState.FAILED:
            self._raise_failure(record)
        elif state == ActionState.SUCCEEDED:
            self._resolve_failure(record)
        return record

    def _reached(self, record: ActionRecord) -> None:
        log.info("action %s %s for %s: %s%s", record.action, record.action_id, record.model,
                 record.state, f" ({record.error})" if record.error else "")
        if self.observe is not None:
            self.observe(record.action, record.state)

    # --- the ActionFailed alert --------------------------------------------------------------
    def _raise_failure(self, record: ActionRecord) -> None:
        if self.alerts is None:
            return
        trigger = Severity(record.severity) if record.severity else Severity.HIGH
        severity = trigger if trigger.rank > Severity.HIGH.rank else Severity.HIGH
        annotations = {"summary": f"{record.model or 'service'}: action {record.action} failed",
                       "description": record.error or "the action failed",
                       "action_id": record.action_id}
        base = getattr(self.alerts, "dashboard_url", "")
        if base:
            annotations["action"] = f"{base}/v1/actions/{record.action_id}"
        try:
            self.alerts.raise_alert(ACTION_FAILED, {"action": record.action}, severity=severity,
                                    annotations=annotations, now=self.clock(),
                                    model=record.model)
        except Exception:
            log.exception("could not raise ActionFailed for action %s", record.action_id)

    def _resolve_failure(self, record: ActionRecord) -> None:
        if self.alerts is None:
            return
        try:
            self.alerts.resolve_alert(ACTION_FAILED, {"action": record.action},
                                      now=self.clock(), model=record.model)
        except Exception:
            log.exception("could not resolve ActionFailed for action %s", record.action_id)

    # --- restart -----------------------------------------------------------------------------
    def _resume(self) -> None:
        for record in self.store.unfinished_actions():
            if record.state == ActionState.APPROVED:
                self._submit(record)
            elif record.state == ActionState.RUNNING:
                self._submit(record, resumed=True)

    def _catch_up(self) -> None:
        if self.alerts is None:
            return
        now = self.clock()
        recent = [a for a in self.alerts.active() if a.state == AlertState.FIRING
                  and a.fired_at is not None and now - a.fired_at <= CATCH_UP]
        self.listen([AlertChange(a, "firing", now, "caught up at start") for a in recent])


"""The alert engine: evaluates rules, moves alerts through their lifecycle, keeps their history.

Model rules are evaluated right after a model's newest complete window is judged (the evaluator
calls :meth:`AlertEngine.evaluate_model` with that window's facts, verdict and reasons), so an
alert fires within one cycle of the window that breaks its rule; a backfill replays every
window in event time and records the alerts of the past without notifying anyone. Timed rules
(no data, training staleness, the service's own health) are evaluated every scheduler cycle.

Every state change and every evaluation of an active alert is stored (the alert's history);
active alerts are loaded back at start, so an alert still firing after a restart is the same
incident, not a new one. Silences are applied at each evaluation (a silenced alert is still
recorded, marked ``silenced``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from modelmon.alerts.conditions import (
    ModelContext,
    NotApplicable,
    Sample,
    ServiceContext,
    evaluate_condition,
)
from modelmon.alerts.matchers import Matcher, fingerprint, matches_all
from modelmon.alerts.rules import AlertRule
from modelmon.alerts.silences import Silence
from modelmon.alerts.state import ACTIVE, AlertInstance, AlertState, advance
from modelmon.config.models import ModelSpec
from modelmon.vocabulary import Severity

__all__ = ["NOTIFIED_EVENTS", "AlertChange", "AlertEngine", "RuleStats", "RuleStatus",
           "model_labels"]

log = logging.getLogger("modelmon.alerts")

_DEFAULT_SUMMARY = "{{ model or 'service' }}: {{ rule }}"
_DEFAULT_DESCRIPTION = (
    "{% if reason %}{{ reason }}{% elif value is not none %}{{ rule }}: value "
    "{{ value | round(4) }}{% if threshold is not none %} (limit {{ threshold | round(4) }})"
    "{% endif %}{% else %}{{ rule }}{% endif %}")


def model_labels(spec: ModelSpec) -> dict[str, str]:
    """The labels rules match a model by: ``model``, ``task``, ``owner`` and its own labels
    (``team`` ...)."""
    out = {"model": spec.name, "task": spec.task.value}
    if spec.owner:
        out["owner"] = spec.owner
    out.update(spec.labels)
    return out


@dataclass(frozen=True)
class AlertChange:
    """What a listener hears: an alert's event (``firing``, ``resolved``, ``escalated``,
    ``deescalated``, ``acknowledged``, ``live`` for a backfilled alert that turned out current,
    ``pending``, ``cancelled``), after it is stored."""

    alert: AlertInstance
    event: str
    at: datetime
    note: str | None = None


#: Events listeners are told of (``evaluated`` lines only grow the history).
NOTIFIED_EVENTS = frozenset({"pending", "firing", "resolved", "escalated", "deescalated",
                             "acknowledged", "live", "cancelled"})


@dataclass
class RuleStats:
    """What a rule did lately."""

    evaluations: int = 0
    last_evaluated_at: datetime | None = None
    last_error: str | None = None
    seconds: float = 0.0


@dataclass
class RuleStatus:
    """A rule, where it comes from and what it did lately (``GET /v1/rules``)."""

    rule: AlertRule
    source: str
    stats: RuleStats = field(default_factory=RuleStats)

    def to_dict(self, active: int) -> dict[str, Any]:
        st = self.stats
        return {"name": self.rule.name, "source": self.source, "enabled": self.rule.enabled,
                "rule": self.rule.model_dump(mode="json", by_alias=True),
                "evaluations": st.evaluations,
                "last_evaluated_at": None if st.last_evaluated_at is None
                else st.last_evaluated_at.isoformat(),
                "last_error": st.last_error, "seconds": st.seconds, "active_alerts": active}


@dataclass
class _Pending:
    alerts: list[AlertInstance] = field(default_factory=list)
    events: list[tuple[AlertInstance, datetime, str, str | None]] = field(default_factory=list)


class AlertEngine:
    """Rules, alert state and silences over an alert store (see the module docstring).

    Parameters
    ----------
    store : AlertStore
        Where alerts, their history, silences and API-made rules are kept.
    rules : sequence of (AlertRule, source)
        Rules from the configuration file and the presets (``source`` ``"config"`` or
        ``"preset:<name>"``); rules made over the API are read from the store.
    builtin : callable, optional
        ``builtin(spec)`` -> the preset's rules for a model (:mod:`modelmon.alerts.builtin`).
    dashboard_url : str
        Base URL for links in annotations (``{{ dashboard_url }}``).
    """

    def __init__(self, store: Any, rules: Sequence[tuple[AlertRule, str]] = (), *,
                 builtin: Callable[[ModelSpec], list[AlertRule]] | None = None,
                 dashboard_url: str = "", clock: Callable[[], datetime] | None = None,
                 observe: Callable[[str, float, bool], None] | None = None) -> None:
        self.store = store
        self.builtin = builtin
        self.dashboard_url = dashboard_url.rstrip("/")
        self.clock = clock
        self.observe = observe
        self._lock = threading.RLock()
        self._defined: dict[str, tuple[AlertRule, str]] = {r.name: (r, source)
                                                           for r, source in rules}
        self._stats: dict[str, RuleStats] = {}
        self._api_loaded = False
        self._active: dict[str, AlertInstance] | None = None
        self._silences: list[Silence] | None = None
        self._env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        self._templates: dict[str, Any] = {}
        self._deferred = threading.local()
        #: called with the changes of each write, after it is stored (notifications, actions);
        #: a listener must be quick (queue the work) and never raise
        self.listeners: list[Callable[[Sequence[AlertChange]], None]] = []

    def _emit(self, events: Sequence[tuple[AlertInstance, datetime, str, str | None]]) -> None:
        changes = [AlertChange(a, event, at, note) for a, at, event, note in events
                   if event in NOTIFIED_EVENTS]
        if not changes:
            return
        for listener in list(self.listeners):
            try:
                listener(changes)
            except Exception:  # a listener's failure never stops evaluation
                log.exception("alert listener %r failed", listener)

    # --- writes ------------------------------------------------------------------------------------
    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Within the block, this thread's alert writes are gathered and stored in one
        transaction at its end (an evaluation cycle of a hundred models writes once, not a
        hundred times). The alerts themselves change at once: ``active()`` and the API see
        them; their rows and history reach the store when the block ends."""
        outer = getattr(self._deferred, "pending", None) is None
        if outer:
            self._deferred.pending = _Pending()
        try:
            yield
        finally:
            if outer:
                pending, self._deferred.pending = self._deferred.pending, None
                self._flush(pending)

    def _flush(self, pending: _Pending) -> None:
        if not pending.alerts and not pending.events:
            return
        with self._lock:
            state = self._state()
            # an alert acknowledged (or silenced) since it was gathered: its newest self
            alerts = [state[a.fingerprint] if a.fingerprint in state
                      and state[a.fingerprint].alert_id == a.alert_id else a
                      for a in pending.alerts]
            self.store.save_alerts(alerts, pending.events)
        self._emit(pending.events)

    def _save(self, out: _Pending) -> None:
        pending = getattr(self._deferred, "pending", None)
        if pending is not None:
            pending.alerts += out.alerts
            pending.events += out.events
        elif out.alerts or out.events:
            self.store.save_alerts(out.alerts, out.events)
            self._emit(out.events)

    # --- rules -------------------------------------------------------------------------------------
    def _load_api_rules(self) -> None:
        if self._api_loaded:
            return
        for name, spec in self.store.list_alert_rules():
            try:
                rule = AlertRule.model_validate(spec)
            except ValueError:
                log.exception("stored alert rule %s is invalid; skipped", name)
                continue
            self._defined[rule.name] = (rule, "api")
        self._api_loaded = True

    def rules(self) -> list[RuleStatus]:
        """Every configured and API-made rule with its stats (preset rules apply per model:
        :meth:`rules_for`)."""
        with self._lock:
            self._load_api_rules()
            return [RuleStatus(r, source, self._stats.setdefault(r.name, RuleStats()))
                    for r, source in self._defined.values()]

    def stats(self, name: str) -> RuleStats:
        with self._lock:
            return self._stats.setdefault(name, RuleStats())

    def rules_for(self, spec: ModelSpec) -> list[tuple[AlertRule, str]]:
        """The rules that apply to a model: its preset's, the configured and the API-made ones
        whose matchers match its labels."""
        labels = model_labels(spec)
        out: dict[str, tuple[AlertRule, str]] = {}
        if self.builtin is not None:
            out = {r.name: (r, f"preset:{spec.preset.value}") for r in self.builtin(spec)}
        for st in self.rules():  # a configured or API-made rule replaces a preset rule's name
            if st.rule.enabled and matches_all(st.rule.matchers, labels):
                out[st.rule.name] = (st.rule, st.source)
            elif st.rule.name in out:
                del out[st.rule.name]
        return list(out.values())

    def put_rule(self, rule: AlertRule) -> None:
        """Create or replace an API-made rule (a configured rule's name is refused)."""
        with self._lock:
            self._load_api_rules()
            existing = self._defined.get(rule.name)
            if existing is not None and existing[1] != "api":
                from modelmon.exceptions import ConflictError

                raise ConflictError(f"rule {rule.name!r} comes from the {existing[1]} and "
                                    "cannot be changed over the API", loc=("name",))
            self.store.save_alert_rule(rule.name, rule.model_dump(mode="json", by_alias=True))
            self._defined[rule.name] = (rule, "api")

    def delete_rule(self, name: str) -> None:
        from modelmon.exceptions import ConflictError, NotFoundError

        with self._lock:
            self._load_api_rules()
            existing = self._defined.get(name)
            if existing is None:
                raise NotFoundError(f"no alert rule {name!r}", loc=("name",))
            if existing[1] != "api":
                raise ConflictError(f"rule {name!r} comes from the {existing[1]} and cannot "
                                    "be deleted over the API", loc=("name",))
            self.store.delete_alert_rule(name)
            del self._defined[name]

    # --- state -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Forget what is cached of the store (active alerts, silences, API-made rules): read
        again on next use. Several servers share a store: the leader calls this before each
        cycle, so acknowledgements, silences and rules made on other servers (and the alerts
        of a leader it took over from) count."""
        with self._lock:
            self._active = None
            self._silences = None
            self._defined = {n: d for n, d in self._defined.items() if d[1] != "api"}
            self._api_loaded = False

    def _state(self) -> dict[str, AlertInstance]:
        if self._active is None:
            self._active = {a.fingerprint: a for a in self.store.active_alerts()}
        return self._active

    def silences(self) -> list[Silence]:
        with self._lock:
            if self._silences is None:
                self._silences = self.store.list_silences()
            return list(self._silences)

    def add_silence(self, silence: Silence) -> Silence:
        with self._lock:
            self.store.save_silence(silence)
            self._silences = None
            return silence

    def expire_silence(self, silence_id: str, now: datetime) -> Silence:
        from modelmon.exceptions import NotFoundError

        with self._lock:
            found = next((s for s in self.silences() if s.silence_id == silence_id), None)
            if found is None:
                raise NotFoundError(f"no silence {silence_id!r}", loc=("silence_id",))
            expired = found.expire(now)
            self.store.save_silence(expired)
            self._silences = None
            return expired

    def active(self) -> list[AlertInstance]:
        """Alerts pending or firing now (silenced ones included, marked)."""
        with self._lock:
            return [a for a in self._state().values() if a.state in ACTIVE]

    def acknowledge(self, fingerprint_: str, by: str, note: str, now: datetime) -> AlertInstance:
        from modelmon.exceptions import NotFoundError

        with self._lock:
            inst = self._state().get(fingerprint_)
            if inst is None or inst.state not in ACTIVE:
                raise NotFoundError(f"no active alert {fingerprint_!r}", loc=("fingerprint",))
            acked = replace(inst, acked_by=by, acked_at=now, ack_note=note)
            self._state()[fingerprint_] = acked
            event = (acked, now, "acknowledged", note or None)
            self.store.save_alerts([acked], [event])
        self._emit([event])
        return acked

    # --- templates ---------------------------------------------------------------------------------
    def _render(self, template: str, values: dict[str, Any]) -> str:
        compiled = self._templates.get(template)
        if compiled is None:
            compiled = self._templates[template] = self._env.from_string(template)
        try:
            return str(compiled.render(**values))
        except TemplateError as exc:  # a broken annotation never stops an alert
            return f"(annotation error: {exc})"

    def check_templates(self, rule: AlertRule) -> None:
        """Raise ``ValueError`` naming the annotation whose template does not compile."""
        for key, text in rule.annotations.items():
            try:
                self._env.from_string(text)
            except TemplateError as exc:
                raise ValueError(f"rule {rule.name!r} annotation {key!r}: {exc}") from None

    def _annotations(self, rule: AlertRule, labels: dict[str, str], sample: Sample,
                     severity: Severity, ctx: ModelContext | ServiceContext) -> dict[str, str]:
        model = labels.get("model")
        reason = ""
        if isinstance(ctx, ModelContext) and ctx.reasons:
            reason = ctx.reasons[0].message
        values = {"model": model, "rule": rule.name, "severity": str(severity),
                  "value": sample.value, "threshold": sample.threshold, "labels": labels,
                  "reason": reason, "dashboard_url": self.dashboard_url,
                  "window": getattr(ctx, "window", None)}
        out = {"summary": _DEFAULT_SUMMARY, "description": _DEFAULT_DESCRIPTION}
        if self.dashboard_url and model:
            out["dashboard"] = "{{ dashboard_url }}/ui/models/{{ model }}"
        out.update(rule.annotations)
        return {k: self._render(v, values) for k, v in out.items()}

    # --- evaluation --------------------------------------------------------------------------------
    def _apply(self, rule: AlertRule, source_labels: dict[str, str], samples: Iterable[Sample],
               ctx: ModelContext | ServiceContext, now: datetime, model: str | None,
               backfilled: bool, out: _Pending, mine: dict[str, list[str]]) -> None:
        """One rule's samples; ``mine``: the fingerprints of the scope's active alerts by rule
        (gathered once per evaluation, not per rule)."""
        state = self._state()
        seen: set[str] = set()
        silences: list[Silence] | None = None
        live = rule.name in mine
        for sample in samples:
            if not sample.active and not live:
                continue  # quiet and nothing of this rule active here: nothing to do
            if silences is None:
                silences = self.silences()
            severity = sample.severity or rule.severity
            labels = {"alertname": rule.name, "severity": str(severity), **source_labels,
                      **sample.labels, **rule.labels}
            fp = fingerprint({k: v for k, v in labels.items() if k != "severity"})
            seen.add(fp)
            current = state.get(fp)
            if not sample.active and (current is None or current.state not in ACTIVE):
                continue
            t = advance(rule, current, active=sample.active, now=now, fingerprint=fp,
                        labels=labels, severity=severity, value=sample.value,
                        threshold=sample.threshold, model=model, backfilled=backfilled,
                        annotations=self._annotations(rule, labels, sample, severity, ctx))
            self._record(t, fp, now, silences, out, sample.value)
        # this rule's alerts for this model (or the service) that no sample named: inactive
        for fp in mine.get(rule.name, ()):
            inst = state.get(fp)
            if inst is None or fp in seen or inst.state not in ACTIVE:
                continue
            if silences is None:
                silences = self.silences()
            t = advance(rule, inst, active=False, now=now, fingerprint=fp, labels=inst.labels,
                        annotations=inst.annotations, severity=inst.severity, value=None,
                        threshold=inst.threshold, model=inst.model, backfilled=backfilled)
            self._record(t, fp, now, silences, out, None)

    def _record(self, t: Any, fp: str, now: datetime, silences: list[Silence], out: _Pending,
                value: float | None) -> None:
        state = self._state()
        inst = t.instance
        if inst is None:  # a pending alert whose condition stopped holding
            old = state.pop(fp, None)
            if old is not None:
                out.alerts.append(replace(old, state="cancelled", last_evaluated_at=now))
                out.events.append((old, now, "cancelled", None))
            return
        silenced = any(s.silences(inst.labels, now) for s in silences)
        if silenced != inst.silenced:
            inst = replace(inst, silenced=silenced)
        state[fp] = inst
        out.alerts.append(inst)
        if t.changed and t.event is not None:
            note = f"{t.data['from']} -> {t.data['to']}" if "to" in t.data else None
            out.events.append((inst, now, t.event, note))
        elif inst.state in ACTIVE:
            out.events.append((inst, now, "evaluated", None))
        if inst.state == AlertState.RESOLVED:
            state.pop(fp, None)

    def _run(self, rules: Sequence[tuple[AlertRule, str]], ctx: ModelContext | ServiceContext,
             source_labels: dict[str, str], model: str | None, now: datetime, backfilled: bool,
             timed: bool) -> list[AlertInstance]:
        out = _Pending()
        scope = model or ""
        with self._lock:
            mine: dict[str, list[str]] = {}
            for fp, inst in self._state().items():
                if (inst.model or "") == scope:
                    mine.setdefault(inst.rule, []).append(fp)
            for rule, _source in rules:
                if rule.timed != timed:
                    continue
                st = self._stats.setdefault(rule.name, RuleStats())
                t0 = time.perf_counter()
                failed = False
                try:
                    samples = evaluate_condition(rule, ctx)
                    self._apply(rule, source_labels, samples, ctx, now, model, backfilled, out,
                                mine)
                    st.last_error = None
                except NotApplicable as exc:  # said in the rule's status, not a failure
                    st.last_error = str(exc)
                except Exception as exc:  # one broken rule never stops the others
                    log.exception("alert rule %s failed", rule.name)
                    st.last_error = type(exc).__name__
                    failed = True
                st.seconds = time.perf_counter() - t0
                st.evaluations += 1
                st.last_evaluated_at = now
                if self.observe is not None:
                    self.observe(rule.name, st.seconds, failed)
            self._save(out)
        return out.alerts

    def evaluate_model(self, spec: ModelSpec, ctx: ModelContext, *,
                       backfilled: bool = False) -> list[AlertInstance]:
        """Evaluate a model's (non-timed) rules on one window; return the alerts it touched."""
        labels = {k: v for k, v in model_labels(spec).items() if k != "task"}
        return self._run(self.rules_for(spec), ctx, labels, spec.name, ctx.at, backfilled,
                         timed=False)

    def evaluate_timed(self, spec: ModelSpec, ctx: ModelContext) -> list[AlertInstance]:
        """Evaluate a model's timed rules (no data, training staleness)."""
        labels = {k: v for k, v in model_labels(spec).items() if k != "task"}
        return self._run(self.rules_for(spec), ctx, labels, spec.name, ctx.at, False, timed=True)

    def evaluate_service(self, ctx: ServiceContext,
                         rules: Sequence[tuple[AlertRule, str]]) -> list[AlertInstance]:
        """Evaluate the service rules (store, writer, resources)."""
        service = [(r, s) for r, s in rules if r.condition.kind == "service"]
        return self._run(service, ctx, {}, None, ctx.at, False, timed=True)

    def mark_live(self, model: str, window: Any, now: datetime) -> None:
        """After a backfill: the model's alerts still active whose last window ended within two
        windows (and an hour) of ``now`` are current, not history (notifications may go out)."""
        from datetime import timedelta

        recent = max(2 * window, timedelta(hours=1))
        with self._lock:
            changed = []
            for fp, inst in self._state().items():
                if inst.model == model and inst.backfilled and now - inst.last_active_at <= recent:
                    changed.append(replace(inst, backfilled=False))
                    self._state()[fp] = changed[-1]
            if changed:
                self._save(_Pending(changed, [(a, now, "live", None) for a in changed]))

    def matching(self, matchers: Sequence[Matcher]) -> list[AlertInstance]:
        """Active alerts a silence with these matchers would silence."""
        return [a for a in self.active() if matches_all(matchers, a.labels)]

    # --- alerts raised from outside rule evaluation ---------------------------------------------
    def raise_alert(self, name: str, labels: dict[str, str], *, severity: Severity,
                    annotations: dict[str, str], now: datetime, model: str | None = None,
                    value: float | None = None) -> AlertInstance:
        """Fire (or, while it fires, update) an alert that no rule evaluates, such as
        ``ActionFailed{model, action}``: it lives, is silenced, acknowledged, stored and told
        to listeners like any other, and stays firing until :meth:`resolve_alert`."""
        full = {"alertname": name, "severity": str(severity),
                **({"model": model} if model else {}), **labels}
        fp = fingerprint({k: v for k, v in full.items() if k != "severity"})
        silenced = any(s.silences(full, now) for s in self.silences())
        with self._lock:
            current = self._state().get(fp)
            if current is not None and current.state in ACTIVE:
                inst = replace(current, labels=full, annotations=annotations, value=value,
                               severity=severity, silenced=silenced, last_active_at=now,
                               last_evaluated_at=now, evaluations=current.evaluations + 1)
                event = ("escalated" if severity.rank > current.severity.rank else
                         "deescalated" if severity.rank < current.severity.rank else "evaluated")
            else:
                inst = AlertInstance(uuid.uuid4().hex, fp, name, model, full, annotations,
                                     AlertState.FIRING, severity, value, None, now, now, now,
                                     fired_at=now, silenced=silenced)
                event = AlertState.FIRING
            self._state()[fp] = inst
            self._save(_Pending([inst], [(inst, now, event, None)]))
        return inst

    def resolve_alert(self, name: str, labels: dict[str, str], *, now: datetime,
                      model: str | None = None) -> AlertInstance | None:
        """Resolve an alert fired by :meth:`raise_alert` (``None`` when none is active)."""
        full = {"alertname": name, **({"model": model} if model else {}), **labels}
        fp = fingerprint(full)
        with self._lock:
            current = self._state().get(fp)
            if current is None or current.state not in ACTIVE:
                return None
            inst = replace(current, state=AlertState.RESOLVED, resolved_at=now,
                           last_evaluated_at=now)
            self._state().pop(fp, None)
            self._save(_Pending([inst], [(inst, now, AlertState.RESOLVED, None)]))
        return inst

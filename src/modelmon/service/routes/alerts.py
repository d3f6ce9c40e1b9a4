"""Alert routes: active alerts and their history, acknowledgements, silences and rules.

Active alerts come from the alert engine's memory; history, incidents and silences from the
store (off the event loop). Errors are ``{code, message, loc}`` as everywhere else.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from modelmon._durations import parse_duration
from modelmon.alerts.engine import AlertEngine, RuleStatus
from modelmon.alerts.matchers import Matcher
from modelmon.alerts.rules import AlertRule
from modelmon.alerts.silences import Silence
from modelmon.alerts.state import ACTIVE, AlertState
from modelmon.exceptions import NotFoundError, StoreError, ValidationError
from modelmon.service.openapi import body_doc, error_responses
from modelmon.service.params import next_page, time_range
from modelmon.service.responses_alerts import (
    ActiveAlertsBody,
    AlertBody,
    AlertPageBody,
    AlertWithHistory,
    DeletedRuleBody,
    NewSilenceBody,
    RulesBody,
    SilenceInfo,
    SilencesBody,
)
from modelmon.service.routes._body import json_response, read_json, require_object, validated
from modelmon.service.state import ServiceState
from modelmon.vocabulary import Severity

router = APIRouter(prefix="/v1", tags=["alerts"])

_ERRORS = error_responses(400, 401, 404, 409, 415, 422, 503)
_STATES = (AlertState.PENDING, AlertState.FIRING, AlertState.RESOLVED, "cancelled")
_HISTORY_STATES = Query(None, description="pending, firing, resolved or cancelled (repeat; "
                                          "default all but cancelled)")


class AckBody(BaseModel):
    """Acknowledge an alert: who and why."""

    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=200)
    note: str = Field("", max_length=2000)


class SilenceBody(BaseModel):
    """A silence: Alertmanager-style matchers (``team=~"risk.*"`` or ``{name, op, value}``),
    from ``starts_at`` (default now) to ``ends_at`` or for ``duration``."""

    model_config = ConfigDict(extra="forbid")
    matchers: list[str | dict[str, str]] = Field(min_length=1, max_length=50)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    duration: str | None = None
    created_by: str = Field(min_length=1, max_length=200)
    comment: str = Field("", max_length=2000)


def _state(request: Request) -> ServiceState:
    return request.app.state.mm


def _engine(request: Request) -> AlertEngine:
    engine = _state(request).alerts
    if engine is None:
        raise StoreError("alerting is off (alerts.enabled: false) or not started yet")
    return engine


def _bad(name: str, message: str) -> ValidationError:
    return ValidationError(message, code="invalid_value", loc=("query", name))


def _choice(value: str | None, name: str, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise _bad(name, f"'{name}' must be one of {', '.join(allowed)}; got {value!r}")
    return value


# --- alerts ----------------------------------------------------------------------------------------

@router.get("/alerts", summary="Alerts pending or firing now (silenced ones marked)",
            responses={200: {"model": ActiveAlertsBody}, **_ERRORS})
async def list_alerts(
    request: Request,
    model: str | None = Query(None), severity: str | None = Query(None),
    state: str | None = Query(None, description="pending or firing"),
    silenced: bool | None = Query(None), limit: int = Query(1000, ge=1, le=10_000),
) -> Response:
    _choice(severity, "severity", tuple(str(s) for s in Severity))
    _choice(state, "state", ACTIVE)
    alerts = [a for a in _engine(request).active()
              if (model is None or a.model == model)
              and (severity is None or str(a.severity) == severity)
              and (state is None or a.state == state)
              and (silenced is None or a.silenced == silenced)]
    alerts.sort(key=lambda a: (-a.severity.rank, a.started_at))
    return json_response({"alerts": [a.to_dict() for a in alerts[:limit]],
                          "count": len(alerts)})


@router.get("/alerts/history", summary="Alert incidents, newest first (resolved ones too)",
            responses={200: {"model": AlertPageBody}, **_ERRORS})
async def alert_history(
    request: Request,
    model: str | None = Query(None), severity: str | None = Query(None),
    state: list[str] | None = _HISTORY_STATES,
    silenced: bool | None = Query(None),
    start: str | None = Query(None, description="ISO 8601; incidents that started at or after"),
    end: str | None = Query(None, description="ISO 8601; incidents that started before"),
    before: str | None = Query(None, description="the cursor of `next`"),
    limit: int = Query(100, ge=1, le=10_000),
) -> Response:
    _choice(severity, "severity", tuple(str(s) for s in Severity))
    for s in state or ():
        _choice(s, "state", _STATES)
    lo, hi = time_range(start, end)
    cursor = time_range(before, None)[0]
    engine = _engine(request)
    rows = await asyncio.to_thread(
        engine.store.list_alerts, model=model, severity=severity,
        state=state or [AlertState.PENDING, AlertState.FIRING, AlertState.RESOLVED],
        silenced=silenced, start=lo, end=hi, before=cursor, limit=limit + 1)
    page, nxt = next_page(request.url, rows, limit, lambda a: a.started_at)
    return json_response({"alerts": [a.to_dict() for a in page], "next": nxt})


@router.get("/alerts/{key}", summary="An alert (by fingerprint: its newest incident; or by "
            "incident id) with its history", responses={200: {"model": AlertWithHistory}, **_ERRORS})
async def get_alert(request: Request, key: str) -> Response:
    engine = _engine(request)

    def build() -> dict[str, Any]:
        found = engine.store.get_alert(key)
        if found is None:
            raise NotFoundError(f"no alert {key!r}", loc=("key",))
        return {**found.to_dict(), "history": engine.store.alert_events(found.alert_id)}

    return json_response(await asyncio.to_thread(build))


@router.post("/alerts/{fingerprint}/ack", summary="Acknowledge an active alert",
             openapi_extra=body_doc(AckBody), responses={200: {"model": AlertBody}, **_ERRORS})
async def ack_alert(request: Request, fingerprint: str) -> Response:
    body = validated(AckBody, require_object(await read_json(request), "an acknowledgement"))
    engine = _engine(request)
    acked = await asyncio.to_thread(engine.acknowledge, fingerprint, body.by, body.note,
                                    _state(request).clock())
    return json_response(acked.to_dict())


# --- silences --------------------------------------------------------------------------------------

def _matchers(raw: list[str | dict[str, str]]) -> list[Matcher]:
    out = []
    for i, m in enumerate(raw):
        try:
            out.append(Matcher.parse(m) if isinstance(m, str) else Matcher(
                m.get("name", ""), m.get("op", "="), m.get("value", "")))
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid_value", loc=("matchers", i)) from None
    return out


@router.get("/silences", summary="Silences (active, pending and expired), newest first",
            responses={200: {"model": SilencesBody}, **_ERRORS})
async def list_silences(request: Request,
                        state: str | None = Query(None, description="active, pending or expired")
                        ) -> Response:
    _choice(state, "state", ("active", "pending", "expired"))
    engine = _engine(request)
    now = _state(request).clock()
    silences = await asyncio.to_thread(engine.silences)
    items = [s.to_dict(now) for s in silences if state is None or s.state(now) == state]
    return json_response({"silences": items})


def build_silence(body: SilenceBody, now: datetime) -> Silence:
    """The silence a request (or the dashboard's form) asks for, checked: ``invalid_value``
    naming the field otherwise."""
    starts = body.starts_at or now
    if body.ends_at is not None and body.duration is not None:
        raise ValidationError("give 'ends_at' or 'duration', not both", code="invalid_value",
                              loc=("duration",))
    if body.duration is not None:
        try:
            ends = starts + parse_duration(body.duration)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid_value", loc=("duration",)) from None
    elif body.ends_at is not None:
        ends = body.ends_at
    else:
        ends = starts + timedelta(hours=1)
    for name, when in (("starts_at", starts), ("ends_at", ends)):
        if when.tzinfo is None:
            raise ValidationError(f"'{name}' needs a UTC offset (e.g. Z)", code="invalid_value",
                                  loc=(name,))
    matchers = _matchers(body.matchers)
    try:
        return Silence.create(matchers, starts, ends, body.created_by, body.comment, now)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_value", loc=("ends_at",)) from None


@router.post("/silences", summary="Create a silence", status_code=201,
             openapi_extra=body_doc(SilenceBody), responses={201: {"model": NewSilenceBody}, **_ERRORS})
async def create_silence(request: Request) -> Response:
    body = validated(SilenceBody, require_object(await read_json(request), "a silence"))
    now = _state(request).clock()
    silence = build_silence(body, now)
    engine = _engine(request)
    await asyncio.to_thread(engine.add_silence, silence)
    matching = [a.fingerprint for a in engine.matching(silence.matchers)]
    return json_response({**silence.to_dict(now), "matching_alerts": matching}, 201)


@router.delete("/silences/{silence_id}", summary="Expire a silence now", responses={200: {"model": SilenceInfo}, **_ERRORS})
async def expire_silence(request: Request, silence_id: str) -> Response:
    engine = _engine(request)
    now = _state(request).clock()
    expired = await asyncio.to_thread(engine.expire_silence, silence_id, now)
    return json_response(expired.to_dict(now))


# --- rules -----------------------------------------------------------------------------------------

def _rules_body(request: Request) -> dict[str, Any]:
    engine = _engine(request)
    state = _state(request)
    active = engine.active()

    def count(name: str) -> int:
        return sum(1 for a in active if a.rule == name)

    rules = {st.rule.name: st.to_dict(count(st.rule.name)) for st in engine.rules()}
    models: dict[str, list[str]] = {}
    for info in state.store.list_models():
        applied = engine.rules_for(info.spec)
        models[info.name] = [r.name for r, _ in applied]
        for r, source in applied:
            if r.name not in rules:
                rules[r.name] = RuleStatus(r, source, engine.stats(r.name)).to_dict(count(r.name))
    return {"rules": sorted(rules.values(), key=lambda r: r["name"]), "models": models}


@router.get("/rules", summary="Alert rules with their state and last evaluation",
            responses={200: {"model": RulesBody}, **_ERRORS})
async def list_rules(request: Request) -> Response:
    return json_response(await asyncio.to_thread(_rules_body, request))


def _parse_rule(data: Any, name: str | None = None) -> AlertRule:
    body = require_object(data, "an alert rule")
    if name is not None:
        if body.get("name", name) != name:
            raise ValidationError(f"the body names rule {body['name']!r} but the URL names "
                                  f"{name!r}", code="invalid_value", loc=("name",))
        body = {**body, "name": name}
    return validated(AlertRule, body)


def _check_actions(request: Request, rule: AlertRule) -> None:
    """A rule may name only actions the deployment defines (``actions.definitions``)."""
    defined = _state(request).settings.actions
    for i, ref in enumerate(rule.actions):
        if defined.get(ref.name) is None:
            raise ValidationError(f"rule {rule.name!r}: no action named {ref.name!r} is defined "
                                  "(actions.definitions)", code="invalid_value",
                                  loc=("actions", i, "name"))


@router.post("/rules", summary="Create an alert rule", status_code=201,
             openapi_extra=body_doc(AlertRule), responses={201: {"model": AlertRule}, **_ERRORS})
async def create_rule(request: Request) -> Response:
    rule = _parse_rule(await read_json(request))
    _check_actions(request, rule)
    engine = _engine(request)
    try:
        engine.check_templates(rule)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_value", loc=("annotations",)) from None
    if any(st.rule.name == rule.name for st in await asyncio.to_thread(engine.rules)):
        from modelmon.exceptions import ConflictError

        raise ConflictError(f"rule {rule.name!r} exists: PUT /v1/rules/{rule.name} replaces it",
                            loc=("name",))
    await asyncio.to_thread(engine.put_rule, rule)
    return json_response(rule.model_dump(mode="json", by_alias=True), 201)


@router.put("/rules/{name}", summary="Create or replace an alert rule made over the API",
            openapi_extra=body_doc(AlertRule), responses={200: {"model": AlertRule}, **_ERRORS})
async def put_rule(request: Request, name: str) -> Response:
    rule = _parse_rule(await read_json(request), name)
    _check_actions(request, rule)
    engine = _engine(request)
    try:
        engine.check_templates(rule)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_value", loc=("annotations",)) from None
    await asyncio.to_thread(engine.put_rule, rule)
    return json_response(rule.model_dump(mode="json", by_alias=True))


@router.delete("/rules/{name}", summary="Delete an alert rule made over the API",
               responses={200: {"model": DeletedRuleBody}, **_ERRORS})
async def delete_rule(request: Request, name: str) -> Response:
    await asyncio.to_thread(_engine(request).delete_rule, name)
    return json_response({"deleted": name})

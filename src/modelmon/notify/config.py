"""The ``notifications:`` section: receivers, the route tree, inhibition, time intervals.

Shaped like Alertmanager's configuration (so a team that knows one knows the other, and
``modelmon export alertmanager-config`` can write the equivalent), with two additions:
``escalate`` on a route (notify another receiver when an alert stays unacknowledged) and
``alertmanagers`` (forward every alert to Alertmanagers whose routing a team already runs).

Secrets (webhook URLs, routing keys, passwords, signing keys) are written as ``${VAR}`` (filled
from the environment when the file is read), ``{env: VAR}`` or ``{file: /run/secrets/x}``; they
are held as :class:`pydantic.SecretStr`, never logged and never shown by ``/v1/info``, the API
or the outbox (which stores what to say, not where or with which key).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from modelmon._durations import parse_duration
from modelmon.alerts.matchers import Matcher

__all__ = [
    "AlertmanagerTarget",
    "EmailConfig",
    "Escalation",
    "InhibitRule",
    "NotificationSettings",
    "PagerDutyConfig",
    "Receiver",
    "Route",
    "SlackConfig",
    "TeamsConfig",
    "TimeInterval",
    "TimeRange",
    "WebhookConfig",
    "duration",
]


def duration(text: str | int | float) -> timedelta:
    """A duration that may be zero (``"0s"``: notify at once)."""
    if text in (0, "0", "0s", "0m"):
        return timedelta(0)
    return parse_duration(text)


def _secret(value: Any) -> Any:
    """``{env: NAME}`` and ``{file: PATH}`` read now; a plain string is the secret itself."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            name = str(value["env"])
            if name not in os.environ:
                raise ValueError(f"environment variable {name} is not set")
            return os.environ[name]
        if set(value) == {"file"}:
            path = Path(str(value["file"]))
            try:
                return path.read_text(encoding="utf-8").strip()
            except OSError as exc:  # the path is the operator's own: it may be named
                raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None
        raise ValueError("a secret is a string, {env: NAME} or {file: PATH}")
    return value


Secret = Annotated[SecretStr, BeforeValidator(_secret)]
Duration = Annotated[str, BeforeValidator(lambda v: str(v))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _matchers(v: list[str]) -> list[str]:
    for text in v:
        Matcher.parse(text)
    return v


def _check_duration(v: str, zero: bool = True) -> str:
    (duration if zero else parse_duration)(v)
    return v


class _Integration(_Strict):
    send_resolved: bool = True
    timeout: Duration = "10s"

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: str) -> str:
        return _check_duration(v, zero=False)


class EmailConfig(_Integration):
    """E-mail over SMTP: ``smarthost`` ``host:port``; STARTTLS unless ``starttls: false`` (or
    implicit TLS on port 465 with ``tls: true``); ``auth_username``/``auth_password`` for
    authentication; ``ca_file`` to trust a private certificate authority."""

    to: list[str] = Field(min_length=1)
    from_: str = Field(alias="from")
    smarthost: str
    starttls: bool = True
    tls: bool = False
    auth_username: str | None = None
    auth_password: Secret | None = None
    ca_file: str | None = None
    subject_prefix: str = "[modelmon]"

    @field_validator("smarthost")
    @classmethod
    def _hostport(cls, v: str) -> str:
        host, _, port = v.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"smarthost is host:port; got {v!r}")
        return v

    @field_validator("to", "from_")
    @classmethod
    def _address(cls, v: Any) -> Any:
        for a in v if isinstance(v, list) else [v]:
            if "@" not in a or any(c in a for c in "\r\n"):
                raise ValueError(f"not an e-mail address: {a!r}")
        return v


class SlackConfig(_Integration):
    """A Slack incoming webhook (the URL is the secret)."""

    url: Secret
    channel: str | None = None
    username: str | None = None


class TeamsConfig(_Integration):
    """A Microsoft Teams incoming webhook (Adaptive Card); the URL is the secret."""

    url: Secret


class PagerDutyConfig(_Integration):
    """PagerDuty Events API v2: one event per alert, ``dedup_key`` its fingerprint; firing
    triggers, an acknowledgement in modelmon acknowledges, resolution resolves."""

    routing_key: Secret
    url: str = "https://events.pagerduty.com/v2/enqueue"


class WebhookConfig(_Integration):
    """Alertmanager's version-4 webhook payload; with ``secret``, each request carries
    ``X-Modelmon-Timestamp`` and ``X-Modelmon-Signature: sha256=<hex HMAC-SHA256 of
    "<timestamp>.<body>">``; ``headers`` are added (values may be secrets)."""

    url: Secret
    secret: Secret | None = None
    headers: dict[str, Secret] = Field(default_factory=dict)
    max_alerts: int = Field(0, ge=0)


class AlertmanagerTarget(_Strict):
    """An Alertmanager every alert is forwarded to (``POST /api/v2/alerts``); ``match`` keeps
    some alerts only. Firing alerts are sent again every ``resend_interval`` with ``endsAt``
    four intervals ahead (as Prometheus does), so Alertmanager resolves them if modelmon stops;
    a resolved alert is sent with its real end."""

    url: str
    match: list[str] = Field(default_factory=list)
    resend_interval: Duration = "1m"
    headers: dict[str, Secret] = Field(default_factory=dict)
    timeout: Duration = "10s"

    @field_validator("match")
    @classmethod
    def _match(cls, v: list[str]) -> list[str]:
        return _matchers(v)

    @field_validator("resend_interval", "timeout")
    @classmethod
    def _resend(cls, v: str) -> str:
        return _check_duration(v, zero=False)


INTEGRATIONS = ("email", "slack", "teams", "pagerduty", "webhook")


class Receiver(_Strict):
    """A named set of integrations that get the same notifications."""

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    email: list[EmailConfig] = Field(default_factory=list)
    slack: list[SlackConfig] = Field(default_factory=list)
    teams: list[TeamsConfig] = Field(default_factory=list)
    pagerduty: list[PagerDutyConfig] = Field(default_factory=list)
    webhook: list[WebhookConfig] = Field(default_factory=list)

    def integrations(self) -> list[tuple[str, int, Any]]:
        """``(kind, index, config)`` of every integration, in a stable order."""
        return [(kind, i, c) for kind in INTEGRATIONS for i, c in enumerate(getattr(self, kind))]


class Escalation(_Strict):
    """Notify ``receiver`` about alerts of the route still firing and unacknowledged ``after``
    they fired (once per alert)."""

    after: Duration
    receiver: str

    @field_validator("after")
    @classmethod
    def _after(cls, v: str) -> str:
        return _check_duration(v, zero=False)


class Route(_Strict):
    """A node of the route tree; unset fields are inherited from the parent (as Alertmanager).

    An alert goes down the tree to the first child whose ``matchers`` all match (every child
    when ``continue: true`` lets it go on), and is notified by the deepest nodes it reaches.
    """

    receiver: str | None = None
    matchers: list[str] = Field(default_factory=list)
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    continue_: bool = Field(False, alias="continue")
    mute_time_intervals: list[str] = Field(default_factory=list)
    active_time_intervals: list[str] = Field(default_factory=list)
    escalate: Escalation | None = None
    routes: list[Route] = Field(default_factory=list)

    @field_validator("matchers")
    @classmethod
    def _match(cls, v: list[str]) -> list[str]:
        return _matchers(v)

    @field_validator("group_wait", "repeat_interval", "group_interval")
    @classmethod
    def _durations(cls, v: str | None) -> str | None:
        return None if v is None else _check_duration(v)

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, v: list[str] | None) -> list[str] | None:
        for name in v or []:
            if name != "...":
                Matcher(name, "=", "")  # the label-name rule
        return v


class InhibitRule(_Strict):
    """While an alert matching ``source_matchers`` fires, alerts matching ``target_matchers``
    with the same values of the ``equal`` labels are not notified."""

    source_matchers: list[str] = Field(min_length=1)
    target_matchers: list[str] = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)

    @field_validator("source_matchers", "target_matchers")
    @classmethod
    def _match(cls, v: list[str]) -> list[str]:
        return _matchers(v)


class TimeRange(_Strict):
    """Times of day ``HH:MM`` (end exclusive) and the days: ``weekdays`` (``monday:friday``),
    ``days_of_month`` (``1:7``, ``-1`` the last), ``months`` (``january:march`` or ``1:3``),
    ``years``; ``location`` an IANA time zone (default UTC). As Alertmanager's."""

    times: list[dict[str, str]] = Field(default_factory=list)
    weekdays: list[str] = Field(default_factory=list)
    days_of_month: list[str] = Field(default_factory=list)
    months: list[str] = Field(default_factory=list)
    years: list[str] = Field(default_factory=list)
    location: str = "UTC"

    @model_validator(mode="after")
    def _valid(self) -> TimeRange:
        from modelmon.notify.timeintervals import parse_range  # checks every field

        parse_range(self)
        return self


class TimeInterval(_Strict):
    name: str = Field(min_length=1)
    time_intervals: list[TimeRange] = Field(min_length=1)


class DeliverySettings(_Strict):
    """How the outbox delivers: retries back off from ``min_backoff`` doubling to
    ``max_backoff`` (with jitter) until a notification is ``max_age`` old; ``workers`` send in
    parallel, one receiver integration at a time each (a slow one holds only itself)."""

    min_backoff: Duration = "1s"
    max_backoff: Duration = "5m"
    max_age: Duration = "24h"
    workers: int = Field(8, ge=1, le=64)


class NotificationSettings(_Strict):
    """Receivers, the route tree, inhibition and time intervals (see the module docstring)."""

    receivers: list[Receiver] = Field(default_factory=list)
    route: Route | None = None
    inhibit_rules: list[InhibitRule] = Field(default_factory=list)
    time_intervals: list[TimeInterval] = Field(default_factory=list)
    alertmanagers: list[AlertmanagerTarget] = Field(default_factory=list)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)

    @model_validator(mode="after")
    def _references(self) -> NotificationSettings:
        names = [r.name for r in self.receivers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"receiver names must be unique; repeated: {dupes}")
        intervals = {t.name for t in self.time_intervals}
        if self.route is None:
            if self.receivers:
                raise ValueError("receivers need a 'route' (at least {receiver: NAME})")
            return self
        if self.route.receiver is None:
            raise ValueError("route.receiver: the root route needs a receiver")
        if self.route.matchers:
            raise ValueError("route.matchers: the root route matches every alert")

        def walk(node: Route, path: str) -> None:
            for name in [node.receiver] + ([node.escalate.receiver] if node.escalate else []):
                if name is not None and name not in names:
                    raise ValueError(f"{path}: no receiver named {name!r}")
            for t in node.mute_time_intervals + node.active_time_intervals:
                if t not in intervals:
                    raise ValueError(f"{path}: no time interval named {t!r}")
            for i, child in enumerate(node.routes):
                walk(child, f"{path}.routes[{i}]")

        walk(self.route, "route")
        return self

    def receiver(self, name: str) -> Receiver | None:
        return next((r for r in self.receivers if r.name == name), None)

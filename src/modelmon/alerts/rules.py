"""Alert rules: what to watch, when it fires, how it is labelled and described.

A rule is written in the deployment's YAML (``alerts.rules``), created over the API, or comes
with the model's preset (:mod:`modelmon.alerts.builtin`)::

    - name: AccuracyLow
      match: [team=risk]                 # which models (their labels), all when absent
      condition: {kind: metric, metric: accuracy, op: "<", warning: 0.85, critical: 0.80}
      for: 3                             # consecutive evaluations (or a duration: "30m")
      keep_firing_for: 1h
      min_samples: 200
      labels: {page: "true"}
      annotations:
        summary: "{{ model }} accuracy {{ value | round(3) }} (limit {{ threshold }})"
        runbook_url: https://wiki/runbooks/accuracy
      actions:                           # automated responses (docs/actions.md)
        - {name: rollback, on: [firing, escalated], min_severity: critical}

Conditions (``condition.kind``):

========================  ==========================================================================
``metric``                a metric of the newest complete window against a limit (``op`` and ``value``,
                          or ``warning``/``critical`` tiers): quality, latency, error rate, throughput,
                          counts, finance, business and custom metrics
``change``                a metric's change against its baseline (the band's centre), relative
                          (``0.05`` = 5 % worse) or absolute, with ``warning``/``critical`` tiers
``drift``                 a feature (``feature: income``, any: ``*``, the output: ``prediction``) whose
                          drift verdict is drift, or whose statistic passes ``op value``
``drift_share``           the share of drifted input features
``data_quality``          a feature's missing / out-of-range / unseen-category share
``verdict``               the window's verdict: its status, a reason kind, a minimum severity (the
                          alert takes the worst matching reason's severity)
``detector``              a streaming detector signalled drift on the error stream in the window
``no_data``               no prediction received for ``for`` (a model that went silent)
``training_staleness``    no training run logged for ``max_age``
``service``               the service itself: ``store``/``writer``/``scheduler`` unhealthy, or
                          ``cpu``/``memory``/``disk``/``queue`` use above a ratio, or
                          ``auth_failures`` (refused authentications in 5 minutes) above a count
========================  ==========================================================================

Thresholds accept fractions (``0.15``) or percents (``"15%"``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from modelmon._durations import parse_duration
from modelmon.alerts.matchers import Matcher
from modelmon.vocabulary import ReasonKind, Severity, Status

__all__ = [
    "CONDITION_KINDS",
    "AlertRule",
    "ChangeCondition",
    "Condition",
    "DataQualityCondition",
    "DetectorCondition",
    "DriftCondition",
    "DriftShareCondition",
    "MetricCondition",
    "NoDataCondition",
    "RuleAction",
    "ServiceCondition",
    "StalenessCondition",
    "VerdictCondition",
    "parse_threshold",
]

_RULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
Op = Literal["<", "<=", ">", ">=", "==", "!="]


def parse_threshold(value: Any) -> Any:
    """A threshold as a fraction: ``"15%"`` -> 0.15, ``"10bp"`` -> 0.001, ``"0.15"`` -> 0.15,
    numbers as they are (one rule with backtests and finance metrics:
    :func:`modelmon.metrics.finance.parse_threshold`).

    >>> parse_threshold("15%"), parse_threshold(0.2), parse_threshold("2.5"), parse_threshold("10bp")
    (0.15, 0.2, 2.5, 0.001)
    """
    if isinstance(value, str):
        from modelmon.metrics.finance import parse_threshold as parse

        return parse(value, name="threshold", owner="an alert rule")
    return value


Threshold = Annotated[float, BeforeValidator(parse_threshold)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def compare(value: float, op: str, limit: float) -> bool:
    """``value op limit``."""
    return {"<": value < limit, "<=": value <= limit, ">": value > limit,
            ">=": value >= limit, "==": value == limit, "!=": value != limit}[op]


class _Tiered(_Strict):
    """A limit (``op`` with ``value``) or tiers: ``warning`` and ``critical`` limits on the same
    side (``op`` says which side is bad)."""

    op: Op = ">"
    value: Threshold | None = None
    warning: Threshold | None = None
    critical: Threshold | None = None

    @model_validator(mode="after")
    def _limits(self) -> Any:
        if self.value is None and self.warning is None and self.critical is None:
            raise ValueError("give 'value' (with the rule's severity) or 'warning'/'critical' "
                             "tiers")
        if self.value is not None and (self.warning is not None or self.critical is not None):
            raise ValueError("give either 'value' or 'warning'/'critical' tiers, not both")
        if self.op in ("==", "!=") and self.value is None:
            raise ValueError(f"tiers need an ordering operator, not {self.op!r}")
        return self

    def tiers(self, default: Severity) -> list[tuple[Severity, float]]:
        """``(severity, limit)`` from the most severe."""
        if self.value is not None:
            return [(default, self.value)]
        out = []
        if self.critical is not None:
            out.append((Severity.CRITICAL, self.critical))
        if self.warning is not None:
            out.append((Severity.WARNING, self.warning))
        return out


class MetricCondition(_Tiered):
    """A metric against a limit or tiers. Limits are in the metric's unit: ``"15%"`` is 0.15
    against ``mape`` (a fraction) and 15 against ``valuation_mape`` (percent)."""

    kind: Literal["metric"] = "metric"
    metric: str
    window: str | None = None
    version: str = "*"
    op: Op = "<"

    @model_validator(mode="before")
    @classmethod
    def _in_metric_unit(cls, data: Any) -> Any:
        from modelmon.metrics.finance import metric_unit
        from modelmon.metrics.finance import parse_threshold as parse

        if not isinstance(data, dict) or metric_unit(str(data.get("metric"))) == "fraction":
            return data
        out = dict(data)
        for key in ("value", "warning", "critical"):
            if isinstance(out.get(key), str | int | float) and not isinstance(out[key], bool):
                out[key] = parse(out[key], unit="percent", name=key, owner="an alert rule")
        return out


class ChangeCondition(_Strict):
    """The change of ``metric`` against its baseline, measured in its worse direction
    (``relative``: a fraction of the baseline; otherwise in the metric's units).

    ``min_sigmas``: the change must also lie that many standard deviations of the band (its
    sampling noise at the window's size, see the judgement's bands) beyond the baseline, so a
    5 % tier on 300-row windows does not fire on noise alone; 0 turns the check off.
    """

    kind: Literal["change"] = "change"
    metric: str
    relative: bool = True
    warning: Threshold | None = None
    critical: Threshold | None = None
    min_sigmas: float = Field(3.0, ge=0, le=50)
    window: str | None = None

    @model_validator(mode="after")
    def _some(self) -> ChangeCondition:
        if self.warning is None and self.critical is None:
            raise ValueError("give 'warning' and/or 'critical'")
        return self


class DriftCondition(_Strict):
    """A feature's drift verdict, or its statistic against ``op value``. ``test`` keeps the
    features whose drift statistic is that test (``psi``, ``jensen_shannon`` ...: a limit such
    as ``PSI > 0.2`` means nothing on another statistic); a model none of whose features uses it
    makes the rule fail with that said (``GET /v1/rules``), not stay silent."""

    kind: Literal["drift"] = "drift"
    feature: str = "*"
    test: str | None = None
    op: Op | None = None
    value: Threshold | None = None
    window: str | None = None

    @model_validator(mode="after")
    def _pair(self) -> DriftCondition:
        if (self.op is None) != (self.value is None):
            raise ValueError("give both 'op' and 'value' (a limit on the statistic), or neither "
                             "(the feature's drift verdict)")
        return self


class DriftShareCondition(_Strict):
    kind: Literal["drift_share"] = "drift_share"
    op: Op = ">="
    value: Threshold
    window: str | None = None


class DataQualityCondition(_Strict):
    kind: Literal["data_quality"] = "data_quality"
    measure: Literal["missing_share", "out_of_range_share", "unseen_share"] = "missing_share"
    feature: str = "*"
    op: Op = ">"
    value: Threshold
    window: str | None = None


class VerdictCondition(_Strict):
    kind: Literal["verdict"] = "verdict"
    status: list[Status] = Field(default_factory=lambda: [Status.DEGRADED])
    reason: list[ReasonKind] | None = None
    min_severity: Severity | None = None


class DetectorCondition(_Strict):
    kind: Literal["detector"] = "detector"
    signal: Literal["drift", "warning"] = "drift"


class NoDataCondition(_Strict):
    kind: Literal["no_data"] = "no_data"
    for_: str = Field("30m", alias="for")

    @field_validator("for_")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v


class StalenessCondition(_Strict):
    kind: Literal["training_staleness"] = "training_staleness"
    max_age: str = "30d"

    @field_validator("max_age")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v


class ServiceCondition(_Strict):
    kind: Literal["service"] = "service"
    check: Literal["store", "writer", "scheduler", "cpu", "memory", "disk", "queue",
                   "auth_failures"]
    op: Op = ">"
    value: Threshold | None = None

    @model_validator(mode="after")
    def _ratio(self) -> ServiceCondition:
        if self.check in ("cpu", "memory", "disk", "queue") and self.value is None:
            raise ValueError(f"check {self.check!r} needs a 'value' (a ratio such as 0.8)")
        if self.check == "auth_failures" and self.value is None:
            raise ValueError("check 'auth_failures' needs a 'value' (refused authentications "
                             "in the last 5 minutes, such as 50)")
        return self


Condition = Annotated[
    MetricCondition | ChangeCondition | DriftCondition | DriftShareCondition
    | DataQualityCondition | VerdictCondition | DetectorCondition | NoDataCondition
    | StalenessCondition | ServiceCondition,
    Field(discriminator="kind"),
]

#: Every condition kind, for docs and errors.
CONDITION_KINDS = ("metric", "change", "drift", "drift_share", "data_quality", "verdict",
                   "detector", "no_data", "training_staleness", "service")


def _parse_matchers(v: list[str]) -> list[str]:
    for text in v:
        Matcher.parse(text)
    return v


#: Alertmanager-style matchers as written (``team=~"risk.*"``), each checked.
Matchers = Annotated[list[str], AfterValidator(_parse_matchers)]
ActionEvent = Literal["firing", "escalated", "resolved"]
_DEFAULT_EVENTS: tuple[ActionEvent, ...] = ("firing", "escalated")


def _action_shorthand(value: Any) -> Any:
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict) and True in value and "on" not in value:
        # YAML 1.1 reads a bare ``on:`` key as the boolean true
        value = {("on" if k is True else k): v for k, v in value.items()}
    return value


class RuleAction(_Strict):
    """An action (defined under ``actions.definitions`` in the deployment file) that an alert of
    the rule triggers: on which of its events (``firing``, ``escalated``, ``resolved``), from
    which severity, and for which models (matchers on the alert's labels; all when absent).
    Written as a name alone (``actions: [rollback]``) it runs on ``firing`` and ``escalated``."""

    name: str
    on: list[ActionEvent] = Field(default_factory=lambda: list(_DEFAULT_EVENTS), min_length=1)
    min_severity: Severity | None = None
    match: Matchers = Field(default_factory=list)

    @property
    def matchers(self) -> list[Matcher]:
        return [Matcher.parse(t) for t in self.match]


class AlertRule(_Strict):
    """One alert rule (see the module docstring)."""

    name: str
    condition: Condition
    severity: Severity = Severity.WARNING
    match: Matchers = Field(default_factory=list)
    for_: str | int = Field(0, alias="for")
    keep_firing_for: str | None = None
    min_samples: int = Field(0, ge=0)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    description: str = ""
    enabled: bool = True
    actions: list[Annotated[RuleAction, BeforeValidator(_action_shorthand)]] = Field(
        default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _RULE_NAME.match(v):
            raise ValueError(f"invalid rule name {v!r}: letters, digits and '_', not starting "
                             "with a digit, at most 128 characters")
        return v

    @field_validator("for_")
    @classmethod
    def _for(cls, v: str | int) -> str | int:
        if isinstance(v, int):
            if v < 0:
                raise ValueError("'for' is a number of evaluations (>= 0) or a duration")
            return v
        parse_duration(v)
        return v

    @field_validator("keep_firing_for")
    @classmethod
    def _keep(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v:
            Matcher(name, "=", "")  # the label-name rule
        reserved = sorted(set(v) & {"alertname", "severity", "model"})
        if reserved:
            raise ValueError(f"labels {reserved} are set by modelmon")
        return v

    @field_validator("actions")
    @classmethod
    def _actions(cls, v: list[RuleAction]) -> list[RuleAction]:
        names = [a.name for a in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"an action is listed once per rule; repeated: {dupes}")
        return v

    # --- derived -----------------------------------------------------------------------------
    @property
    def matchers(self) -> list[Matcher]:
        return [Matcher.parse(t) for t in self.match]

    @property
    def for_evaluations(self) -> int:
        """Consecutive evaluations the condition must hold (0 when ``for`` is a duration)."""
        return self.for_ if isinstance(self.for_, int) else 0

    @property
    def for_duration(self) -> timedelta:
        """How long the condition must hold (0 when ``for`` counts evaluations)."""
        return parse_duration(self.for_) if isinstance(self.for_, str) else timedelta(0)

    @property
    def keep_firing(self) -> timedelta:
        return parse_duration(self.keep_firing_for) if self.keep_firing_for else timedelta(0)

    @property
    def timed(self) -> bool:
        """Evaluated on a timer (no data, staleness, service), not after model evaluations."""
        return self.condition.kind in ("no_data", "training_staleness", "service")

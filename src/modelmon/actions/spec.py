"""What an action is, as the deployment file defines it (``actions:``), and its guardrails.

::

    actions:
      dry_run: false                  # true: every action is recorded as it would run; none runs
      definitions:
        - name: rollback
          type: rollback              # rollback | route_to_backup | scale | toggle_feature |
                                      # retrain | webhook | command
          url: https://serving.internal/models/{model}/rollback
          headers: {X-Team: risk}
          secret_headers:             # never logged, stored or shown
            Authorization: "Bearer ${SERVING_TOKEN}"   # or {env: NAME}, {file: PATH}
          cooldown: 30m               # per action and model
          max_per_day: 3              # per action and model, in any 24 hours
          approval: false             # true: waits for POST /v1/actions/{id}/approve
          timeout: 10s
          retries: 2

Rules name the actions their alerts trigger (``actions:`` of an alert rule, see
:class:`~modelmon.alerts.rules.RuleAction`). Secrets are written as in ``notifications:``
(``${VAR}``, ``{env: VAR}``, ``{file: PATH}`` or a plain string, read when the settings are
loaded) and held as secret strings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelmon._durations import parse_duration
from modelmon.notify.config import Secret

__all__ = ["ACTION_TYPES", "ActionSettings", "ActionSpec", "check_action_refs"]

#: Every action type; all but ``command`` are webhooks by default (``url``), any may run a
#: ``command`` instead.
ACTION_TYPES = ("rollback", "route_to_backup", "scale", "toggle_feature", "retrain", "webhook",
                "command")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
#: What ``{...}`` in a URL may name (URL-quoted when filled in).
URL_PLACEHOLDERS = ("model", "action")
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any, name: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"'{name}': {exc}") from None


class ActionSpec(_Strict):
    """One named action (see the module docstring and ``docs/actions.md``)."""

    name: str
    type: Literal["rollback", "route_to_backup", "scale", "toggle_feature", "retrain",
                  "webhook", "command"]
    url: str | None = None
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    secret_headers: dict[str, Secret] = Field(default_factory=dict)
    secret: Secret | None = None
    command: list[str] | None = Field(None, min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    secret_env: dict[str, Secret] = Field(default_factory=dict)
    # what the serving system is asked to do (per type)
    backup: str | None = None
    replicas: int | None = Field(None, ge=0)
    feature: str | None = None
    feature_enabled: bool | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    # guardrails
    dry_run: bool = False
    cooldown: str | None = "15m"
    max_per_day: int | None = Field(None, ge=1)
    approval: bool = False
    approval_timeout: str = "24h"
    timeout: str | float = "10s"
    retries: int = Field(2, ge=0, le=10)
    retry_delay: str | float = "1s"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"invalid action name {v!r}: letters, digits, '_', '.', '-', "
                             "not starting with a digit, at most 128 characters")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"'url' must be an http:// or https:// URL with a host; got {v!r}")
        unknown = sorted(set(_PLACEHOLDER.findall(v)) - set(URL_PLACEHOLDERS))
        if unknown:
            raise ValueError(f"'url' may hold {{model}} and {{action}}; got {unknown}")
        return v

    @field_validator("headers", "secret_headers")
    @classmethod
    def _headers(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not _HEADER.match(name):
                raise ValueError(f"invalid header name {name!r}")
            if name.lower() in ("content-type", "idempotency-key", "content-length"):
                raise ValueError(f"header {name!r} is set by modelmon")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ActionSpec:
        if self.url is not None and self.command is not None:
            raise ValueError(f"action {self.name!r}: give 'url' or 'command', not both")
        if self.type == "webhook" and self.url is None:
            raise ValueError(f"action {self.name!r}: type 'webhook' needs 'url'")
        if self.type == "command" and self.command is None:
            raise ValueError(f"action {self.name!r}: type 'command' needs 'command'")
        if self.url is None and self.command is None:
            raise ValueError(f"action {self.name!r} ({self.type}) needs 'url' (a webhook) or "
                             "'command'")
        needs = {"route_to_backup": ("backup",), "scale": ("replicas",),
                 "toggle_feature": ("feature", "feature_enabled")}.get(self.type, ())
        missing = [f for f in needs if getattr(self, f) is None]
        if missing:
            raise ValueError(f"action {self.name!r} ({self.type}) needs {missing}")
        if self.command is None and (self.env or self.secret_env):
            raise ValueError(f"action {self.name!r}: 'env' and 'secret_env' are for commands")
        if self.url is None and (self.headers or self.secret_headers or self.secret):
            raise ValueError(f"action {self.name!r}: headers and 'secret' (signing) are for "
                             "webhooks")
        if self.cooldown is not None:
            _duration(self.cooldown, "cooldown")
        for name in ("approval_timeout", "timeout", "retry_delay"):
            _duration(getattr(self, name), name)
        return self

    # --- derived -----------------------------------------------------------------------------
    @property
    def cooldown_period(self) -> timedelta:
        return timedelta(0) if self.cooldown is None else parse_duration(self.cooldown)

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout).total_seconds()

    @property
    def retry_delay_seconds(self) -> float:
        return parse_duration(self.retry_delay).total_seconds()

    @property
    def approval_period(self) -> timedelta:
        return parse_duration(self.approval_timeout)

    def describe(self) -> dict[str, Any]:
        """The definition as the API shows it: secrets (and the paths of secret files) as
        ``"***"``."""
        out = self.model_dump(mode="json", exclude={"secret_headers", "secret_env", "secret"})
        out["secret_headers"] = dict.fromkeys(self.secret_headers, "***")
        out["secret_env"] = dict.fromkeys(self.secret_env, "***")
        out["secret"] = None if self.secret is None else "***"
        return out

    def secret_values(self) -> dict[str, str]:
        """The secrets' values by where they go (``header:NAME``, ``env:NAME``, ``signing``),
        as :func:`~modelmon.actions.request.prepare` takes them."""
        out = {f"header:{k}": v.get_secret_value() for k, v in self.secret_headers.items()}
        out.update({f"env:{k}": v.get_secret_value() for k, v in self.secret_env.items()})
        if self.secret is not None:
            out["signing"] = self.secret.get_secret_value()
        return out


class ActionSettings(BaseModel):
    """The ``actions:`` section: named actions rules may trigger, and a switch that turns every
    one into a dry run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    dry_run: bool = False
    workers: int = Field(4, ge=1, le=64)
    definitions: list[ActionSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ActionSettings:
        dupes = sorted(n for n, k in Counter(a.name for a in self.definitions).items() if k > 1)
        if dupes:
            raise ValueError(f"action names must be unique; repeated: {dupes}")
        return self

    def get(self, name: str) -> ActionSpec | None:
        return next((a for a in self.definitions if a.name == name), None)


def check_action_refs(rules: Sequence[Any], settings: ActionSettings) -> list[str]:
    """Problems of rules naming actions that are not defined, each naming the rule and the
    field (``alerts.rules[2] (rule 'AccuracyLow').actions[0]: ...``); empty when all is well."""
    known = [a.name for a in settings.definitions]
    problems = []
    for i, rule in enumerate(rules):
        for j, ref in enumerate(getattr(rule, "actions", ())):
            if ref.name not in known:
                defined = ", ".join(known) or "none"
                problems.append(f"alerts.rules[{i}] (rule {rule.name!r}).actions[{j}]: no action "
                                f"named {ref.name!r} under actions.definitions (defined: "
                                f"{defined})")
    return problems

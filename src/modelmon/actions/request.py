"""The request an action sends: one JSON payload (the same to a webhook as a body and to a
command on stdin), its headers, and the copy that is recorded, with secrets as ``***``. Pure:
secret values are handed in, read by :mod:`~modelmon.actions.transport`.

The payload::

    {"action": "rollback", "type": "rollback", "action_id": "...", "idempotency_key": "...",
     "model": "fraud", "dry_run": false,
     "trigger": {"event": "firing", "rule": "ModelDegraded", "severity": "critical"},
     "alert": {...the alert as GET /v1/alerts shows it...},
     "rollback": {"from_version": "v2", "to_version": "v1"}}

``route_to_backup`` adds ``"backup"``, ``scale`` ``"replicas"``, ``toggle_feature``
``"feature": {"name", "enabled"}``; ``params`` from the definition are passed as ``"params"``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import modelmon
from modelmon.actions.record import ActionRecord
from modelmon.actions.spec import ActionSpec
from modelmon.notify.integrations.webhook import signature

__all__ = ["HIDDEN", "Prepared", "payload", "prepare"]

#: How secret values appear in records and the API.
HIDDEN = "***"


def payload(spec: ActionSpec, record: ActionRecord, alert: Mapping[str, Any] | None,
            details: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON an action sends (see the module docstring)."""
    body: dict[str, Any] = {
        "action": spec.name, "type": spec.type, "action_id": record.action_id,
        "idempotency_key": record.idempotency_key, "model": record.model,
        "dry_run": record.dry_run,
        "trigger": {"event": record.trigger, "rule": record.rule, "severity": record.severity},
        "alert": dict(alert) if alert is not None else None,
    }
    if spec.type == "rollback":
        body["rollback"] = {k: details.get(k) for k in ("from_version", "to_version")}
    elif spec.type == "route_to_backup":
        body["backup"] = spec.backup
    elif spec.type == "scale":
        body["replicas"] = spec.replicas
    elif spec.type == "toggle_feature":
        body["feature"] = {"name": spec.feature, "enabled": spec.feature_enabled}
    if spec.params:
        body["params"] = spec.params
    return body


@dataclass(frozen=True)
class Prepared:
    """A request ready to send (``url`` or ``command``) and its recorded copy."""

    body: bytes
    recorded: dict[str, Any]
    url: str | None = None
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: secret values, scrubbed from whatever is recorded of the response
    secrets: tuple[str, ...] = ()
    #: the definition's ``secret``: each attempt is signed as notifications' webhooks are
    signing_key: str | None = None

    def headers_at(self, now: float) -> dict[str, str]:
        """The headers of an attempt at ``now`` (Unix seconds): with a signing key,
        ``X-Modelmon-Timestamp`` and ``X-Modelmon-Signature: sha256=<hex HMAC-SHA256 of
        "<timestamp>.<body>">``, as :mod:`modelmon.notify.integrations.webhook` signs."""
        if self.signing_key is None:
            return dict(self.headers)
        ts = str(int(now))
        return {**self.headers, "X-Modelmon-Timestamp": ts,
                "X-Modelmon-Signature": signature(self.signing_key.encode(), ts, self.body)}

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, HIDDEN)
        return text


def _hidden(values: Any) -> tuple[str, ...]:
    """What to blank in what comes back: each secret, and the words of one (the token of
    ``"Bearer <token>"``) of at least 8 characters; longest first."""
    found = {v for v in values if v}
    found |= {w for v in list(found) for w in v.split() if len(w) >= 8}
    return tuple(sorted(found, key=len, reverse=True))


def _url(template: str, spec: ActionSpec, model: str | None) -> str:
    return (template.replace("{model}", quote(model or "", safe=""))
            .replace("{action}", quote(spec.name, safe="")))


def prepare(spec: ActionSpec, record: ActionRecord, body: Mapping[str, Any],
            secrets: Mapping[str, str]) -> Prepared:
    """The request of ``spec`` carrying ``body``; ``secrets`` holds the values of the
    definition's secrets by where they go (``header:Authorization``, ``env:TOKEN``,
    ``signing``: :meth:`~modelmon.actions.spec.ActionSpec.secret_values`)."""
    raw = json.dumps(body, default=str, sort_keys=True).encode()
    hidden = _hidden(secrets.values())
    if spec.url is not None:
        url = _url(spec.url, spec, record.model)
        headers = {"Content-Type": "application/json", "Idempotency-Key": record.idempotency_key,
                   "User-Agent": f"modelmon/{modelmon.__version__}",
                   "X-Modelmon-Action": spec.name, **spec.headers}
        shown = dict(headers)
        for name in spec.secret_headers:
            headers[name] = secrets[f"header:{name}"]
            shown[name] = HIDDEN
        recorded = {"method": spec.method, "url": url, "headers": shown, "body": dict(body),
                    "signed": spec.secret is not None}
        return Prepared(raw, recorded, url=url, method=spec.method, headers=headers,
                        secrets=hidden, signing_key=secrets.get("signing"))
    assert spec.command is not None
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", **spec.env,
           "MODELMON_ACTION": spec.name, "MODELMON_ACTION_ID": record.action_id,
           "MODELMON_IDEMPOTENCY_KEY": record.idempotency_key,
           "MODELMON_MODEL": record.model or "", "MODELMON_DRY_RUN": str(record.dry_run).lower()}
    shown_env = dict(env)
    for name in spec.secret_env:
        env[name] = secrets[f"env:{name}"]
        shown_env[name] = HIDDEN
    recorded = {"command": list(spec.command), "env": shown_env, "stdin": dict(body)}
    return Prepared(raw, recorded, command=list(spec.command), env=env, secrets=hidden)

"""The generic webhook: Alertmanager's version-4 payload, signed.

The body is what Alertmanager's webhook receiver sends (``version``, ``groupKey``,
``truncatedAlerts``, ``status``, ``receiver``, ``groupLabels``, ``commonLabels``,
``commonAnnotations``, ``externalURL``, ``alerts``), so a receiver written for Alertmanager works
unchanged; each alert also carries modelmon's ``model``, ``severity``, ``value`` and
``threshold``. With a ``secret``, the request carries ``X-Modelmon-Timestamp`` (Unix seconds)
and ``X-Modelmon-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<body>"`` under
the secret: a receiver recomputes it, compares in constant time and refuses old timestamps
(replays).

>>> s = signature(b"s3cret", "1700000000", b'{"a":1}')
>>> s.startswith("sha256="), len(s)
(True, 71)
"""

from __future__ import annotations

import hashlib
import hmac

import orjson

from modelmon.notify.config import WebhookConfig, duration
from modelmon.notify.integrations import HttpRequest
from modelmon.notify.messages import Notification

__all__ = ["payload", "render", "signature"]


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``"<timestamp>.<body>"``."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def payload(n: Notification, max_alerts: int = 0) -> dict[str, object]:
    alerts = n.alerts
    truncated = 0
    if max_alerts and len(alerts) > max_alerts:
        truncated = len(alerts) - max_alerts
        alerts = alerts[:max_alerts]
    return {
        "version": "4", "groupKey": n.group_key, "truncatedAlerts": truncated,
        "status": n.status, "receiver": n.receiver, "groupLabels": n.group_labels,
        "commonLabels": n.common_labels, "commonAnnotations": n.common_annotations,
        "externalURL": n.external_url, "alerts": alerts,
        "modelmon": {"kind": n.kind, "created_at": n.created_at},
    }


def render(n: Notification, cfg: WebhookConfig, now: float) -> list[HttpRequest]:
    body = orjson.dumps(payload(n, cfg.max_alerts))
    headers = {"Content-Type": "application/json", "User-Agent": "modelmon"}
    headers.update({k: v.get_secret_value() for k, v in cfg.headers.items()})
    if cfg.secret is not None:
        ts = str(int(now))
        headers["X-Modelmon-Timestamp"] = ts
        headers["X-Modelmon-Signature"] = signature(cfg.secret.get_secret_value().encode(), ts,
                                                    body)
    return [HttpRequest(cfg.url.get_secret_value(), body, headers,
                        duration(cfg.timeout).total_seconds())]

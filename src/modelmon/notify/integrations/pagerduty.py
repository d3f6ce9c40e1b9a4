"""PagerDuty Events API v2: one event per alert, ``dedup_key`` its fingerprint.

A firing alert is a ``trigger`` (again on each notification: PagerDuty merges events of one
``dedup_key`` into one incident), a resolved one a ``resolve`` (with ``send_resolved``), an
acknowledgement in modelmon an ``acknowledge``. Severities map to PagerDuty's: critical ->
critical, high -> error, warning -> warning, info -> info.
"""

from __future__ import annotations

from typing import Any

import orjson

from modelmon.notify.config import PagerDutyConfig, duration
from modelmon.notify.integrations import HttpRequest
from modelmon.notify.integrations._common import clip, link, summary
from modelmon.notify.messages import Notification

__all__ = ["SEVERITY", "events", "render"]

SEVERITY = {"critical": "critical", "high": "error", "warning": "warning", "info": "info"}


def events(n: Notification, routing_key: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for a in n.alerts:
        if n.kind == "acknowledge":
            action = "acknowledge"
        else:
            action = "resolve" if a["status"] == "resolved" else "trigger"
        event: dict[str, Any] = {"routing_key": routing_key, "event_action": action,
                                 "dedup_key": a["fingerprint"]}
        if action == "trigger":
            details = {"labels": a["labels"], "annotations": a["annotations"],
                       "value": a.get("value"), "threshold": a.get("threshold")}
            if n.kind == "escalation":
                details["escalated"] = True
            event["payload"] = {
                "summary": clip(summary(a), 1024),
                "source": a.get("model") or "modelmon",
                "severity": SEVERITY.get(a["severity"], "error"),
                "timestamp": a["startsAt"],
                "component": a.get("model") or "modelmon",
                "group": a["labels"].get("team") or a["labels"].get("owner") or "modelmon",
                "class": a["labels"].get("alertname", a["rule"]),
                "custom_details": details}
            url = link(n, a)
            if url:
                event["links"] = [{"href": url, "text": "the alert in modelmon"}]
            event["client"] = "modelmon"
            if n.external_url:
                event["client_url"] = n.external_url
        out.append(event)
        if n.kind == "test":  # a test opens nothing that stays open
            out.append({"routing_key": routing_key, "event_action": "resolve",
                        "dedup_key": a["fingerprint"]})
    return out


def render(n: Notification, cfg: PagerDutyConfig, now: float) -> list[HttpRequest]:
    key = cfg.routing_key.get_secret_value()
    timeout = duration(cfg.timeout).total_seconds()
    return [HttpRequest(cfg.url, orjson.dumps(e), {"Content-Type": "application/json"}, timeout)
            for e in events(n, key)]

"""Microsoft Teams incoming webhooks: a message holding one Adaptive Card (schema 1.4).

The card has the title coloured by severity (``Attention`` for critical and high, ``Warning``,
``Good`` when resolved), a fact set per alert (severity, model, value, limit, since) under its
summary, and an ``Action.OpenUrl`` to the alerts in modelmon.
"""

from __future__ import annotations

from typing import Any

import orjson

from modelmon.notify.config import TeamsConfig, duration
from modelmon.notify.integrations import HttpRequest
from modelmon.notify.integrations._common import clip, link, summary, worst
from modelmon.notify.messages import Notification

__all__ = ["card", "render"]

_COLOUR = {"critical": "Attention", "high": "Attention", "warning": "Warning",
           "info": "Accent", "resolved": "Good"}
_SHOWN = 10


def card(n: Notification) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": clip(n.title, 300), "weight": "Bolder", "size": "Medium",
         "color": _COLOUR[worst(n)], "wrap": True}]
    for a in n.alerts[:_SHOWN]:
        facts = [{"title": "status", "value": a["status"]},
                 {"title": "severity", "value": a["severity"]},
                 {"title": "model", "value": a.get("model") or "service"}]
        if a.get("value") is not None:
            facts.append({"title": "value", "value": f"{a['value']:.4g}"})
        if a.get("threshold") is not None:
            facts.append({"title": "limit", "value": f"{a['threshold']:.4g}"})
        facts.append({"title": "since", "value": a["startsAt"]})
        body.append({"type": "TextBlock", "text": clip(summary(a), 1000), "wrap": True,
                     "separator": True})
        body.append({"type": "FactSet", "facts": facts})
    if len(n.alerts) > _SHOWN:
        body.append({"type": "TextBlock", "text": f"and {len(n.alerts) - _SHOWN} more alerts",
                     "isSubtle": True, "wrap": True})
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard", "version": "1.4", "body": body}
    if n.external_url:
        content["actions"] = [{"type": "Action.OpenUrl", "title": "Alerts in modelmon",
                               "url": link(n)}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": content}]}


def render(n: Notification, cfg: TeamsConfig, now: float) -> list[HttpRequest]:
    return [HttpRequest(cfg.url.get_secret_value(), orjson.dumps(card(n)),
                        {"Content-Type": "application/json"},
                        duration(cfg.timeout).total_seconds())]

"""Slack incoming webhooks: a Block Kit message in an attachment coloured by severity.

A header (``[FIRING:2] FeatureDrift fraud``), one section per alert (its summary, severity,
value and limit; at most ten, then how many more), the group's common description, and a button
to open the alerts in modelmon. Slack's limits are kept (header 150 characters, a section 3,000,
50 blocks).
"""

from __future__ import annotations

from typing import Any

import orjson

from modelmon.notify.config import SlackConfig, duration
from modelmon.notify.integrations import SEVERITY_COLOURS, HttpRequest
from modelmon.notify.integrations._common import clip, link, summary, worst
from modelmon.notify.messages import Notification

__all__ = ["message", "render"]

_SHOWN = 10


def _value(a: dict[str, Any]) -> str:
    if a.get("value") is None:
        return ""
    limit = "" if a.get("threshold") is None else f" (limit {a['threshold']:.4g})"
    return f" · value {a['value']:.4g}{limit}"


def message(n: Notification) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(n.title, 150)}}]
    for a in n.alerts[:_SHOWN]:
        mark = ":white_check_mark:" if a["status"] == "resolved" else ":rotating_light:"
        text = (f"{mark} *{a['labels'].get('alertname', a['rule'])}* ({a['severity']}, "
                f"{a['status']}){_value(a)}\n{summary(a)}")
        section: dict[str, Any] = {"type": "section",
                                   "text": {"type": "mrkdwn", "text": clip(text, 3000)}}
        url = link(n, a)
        if url:
            section["accessory"] = {"type": "button", "url": url,
                                    "text": {"type": "plain_text", "text": "Open"}}
        blocks.append(section)
    if len(n.alerts) > _SHOWN:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"and {len(n.alerts) - _SHOWN} more alerts"}]})
    description = n.common_annotations.get("description")
    if description:
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": clip(description, 3000)}})
    if n.external_url:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Alerts in modelmon"},
             "url": link(n)}]})
    return {"text": clip(n.title, 3000),
            "attachments": [{"color": SEVERITY_COLOURS[worst(n)], "blocks": blocks[:50]}]}


def render(n: Notification, cfg: SlackConfig, now: float) -> list[HttpRequest]:
    body = message(n)
    if cfg.channel:
        body["channel"] = cfg.channel
    if cfg.username:
        body["username"] = cfg.username
    return [HttpRequest(cfg.url.get_secret_value(), orjson.dumps(body),
                        {"Content-Type": "application/json"},
                        duration(cfg.timeout).total_seconds())]

"""Forwarding to Alertmanager: ``POST /api/v2/alerts`` with a list of alerts.

Each alert is sent with its labels, annotations, ``startsAt``, ``generatorURL`` and an
``endsAt``: for a firing alert four resend intervals after the moment it is sent (as
Prometheus does: Alertmanager resolves it by itself if modelmon stops sending), for a resolved
one the time it resolved. Alertmanager identifies alerts by their labels, as modelmon does, so
the same incident stays one alert there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from modelmon.notify.config import AlertmanagerTarget, duration
from modelmon.notify.integrations import HttpRequest

__all__ = ["alerts_body", "render"]


def alerts_body(entries: list[dict[str, Any]], resend: timedelta, now: float) -> list[dict[str, Any]]:
    ends = (datetime.fromtimestamp(now, UTC) + 4 * resend).isoformat().replace("+00:00", "Z")
    return [{"labels": e["labels"], "annotations": e["annotations"], "startsAt": e["startsAt"],
             "endsAt": e["endsAt"] if e["status"] == "resolved" else ends,
             "generatorURL": e.get("generatorURL") or ""} for e in entries]


def render(payload: dict[str, Any], target: AlertmanagerTarget, now: float) -> HttpRequest:
    body = alerts_body(payload["alerts"], duration(target.resend_interval), now)
    headers = {"Content-Type": "application/json"}
    headers.update({k: v.get_secret_value() for k, v in target.headers.items()})
    return HttpRequest(target.url.rstrip("/") + "/api/v2/alerts", orjson.dumps(body), headers,
                       duration(target.timeout).total_seconds())

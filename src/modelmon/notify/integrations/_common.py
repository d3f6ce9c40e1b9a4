"""Small helpers the renderers share."""

from __future__ import annotations

from typing import Any

from modelmon.notify.messages import Notification

_ORDER = ("critical", "high", "warning", "info")


def worst(n: Notification) -> str:
    """The most severe firing severity, or ``resolved``."""
    firing = {a["severity"] for a in n.firing}
    return next((s for s in _ORDER if s in firing), "resolved")


def summary(a: dict[str, Any]) -> str:
    """An alert in one line: its summary annotation, else its rule and model."""
    text = a["annotations"].get("summary") or f"{a['rule']} on {a.get('model') or 'service'}"
    return str(text)


def link(n: Notification, a: dict[str, Any] | None = None) -> str:
    """Where to look: the alert's page, else the service's alerts."""
    if a is not None:
        return str(a["annotations"].get("dashboard") or a.get("generatorURL") or "")
    return f"{n.external_url}/v1/alerts" if n.external_url else ""


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

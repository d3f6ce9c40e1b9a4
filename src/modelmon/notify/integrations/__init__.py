"""Integrations: how a :class:`~modelmon.notify.messages.Notification` is said to each kind of
receiver. Each module renders (pure: the request or e-mail to send, from the notification and
the integration's settings); :mod:`modelmon.notify.transport` sends.

- :mod:`.webhook`: Alertmanager's version-4 webhook payload, HMAC-signed;
- :mod:`.slack`: a Slack incoming webhook, Block Kit, coloured by severity;
- :mod:`.teams`: a Microsoft Teams incoming webhook, an Adaptive Card;
- :mod:`.pagerduty`: PagerDuty Events API v2, one event per alert;
- :mod:`.email`: an e-mail, plain text and HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["SEVERITY_COLOURS", "HttpRequest"]

#: Colours by the group's worst severity (resolved: green).
SEVERITY_COLOURS = {"critical": "#d00000", "high": "#e8590c", "warning": "#e8a317",
                    "info": "#1c7ed6", "resolved": "#2eb886"}


@dataclass(frozen=True)
class HttpRequest:
    """A JSON POST to make."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0

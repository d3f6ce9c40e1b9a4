"""Sending: an outbox message through its integration (the only I/O of notifications).

:func:`deliver` renders the stored notification with the receiver's current settings and sends
it: HTTP integrations POST JSON (a 2xx answer is delivered; 408, 429 and 5xx answers and network
failures are tried again; other 4xx answers are refused for good), e-mail goes over SMTP
(STARTTLS or TLS, authentication). Error messages name the failure, never the URL (a webhook URL
is a secret) or a key.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from typing import Any

import httpx

from modelmon.notify.config import (
    AlertmanagerTarget,
    EmailConfig,
    NotificationSettings,
    duration,
)
from modelmon.notify.integrations import HttpRequest, email, pagerduty, slack, teams, webhook
from modelmon.notify.integrations.alertmanager import render as render_alertmanager
from modelmon.notify.messages import Notification

__all__ = ["DeliveryError", "deliver", "send_http"]

_RENDER: dict[str, Any] = {"slack": slack.render, "teams": teams.render,
                           "pagerduty": pagerduty.render, "webhook": webhook.render}


class DeliveryError(Exception):
    """A message that was not delivered: ``permanent`` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def send_http(client: httpx.Client, req: HttpRequest) -> int:
    """POST one request; the status, or :class:`DeliveryError`."""
    try:
        resp = client.post(req.url, content=req.body, headers=req.headers, timeout=req.timeout)
    except httpx.TimeoutException:
        raise DeliveryError(f"timed out after {req.timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"could not connect ({type(exc).__name__})") from None
    if 200 <= resp.status_code < 300:
        return resp.status_code
    excerpt = resp.text[:200].replace("\n", " ") if resp.text else ""
    retry = resp.status_code in (408, 429) or resp.status_code >= 500
    raise DeliveryError(f"HTTP {resp.status_code}{': ' + excerpt if excerpt else ''}",
                        permanent=not retry)


def _send_email(n: Notification, cfg: EmailConfig) -> None:
    host, _, port = cfg.smarthost.rpartition(":")
    timeout = duration(cfg.timeout).total_seconds()
    context = ssl.create_default_context(cafile=cfg.ca_file)
    msg = email.render(n, cfg)
    try:
        if cfg.tls:
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, int(port), timeout=timeout,
                                                    context=context)
        else:
            server = smtplib.SMTP(host, int(port), timeout=timeout)
        with server:
            server.ehlo()
            if cfg.starttls and not cfg.tls:
                if not server.has_extn("starttls"):
                    raise DeliveryError("the SMTP server does not offer STARTTLS (set "
                                        "starttls: false to send without it)", permanent=True)
                server.starttls(context=context)
                server.ehlo()
            if cfg.auth_username:
                password = cfg.auth_password.get_secret_value() if cfg.auth_password else ""
                server.login(cfg.auth_username, password)
            server.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP authentication refused ({exc.smtp_code})",
                            permanent=True) from None
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryError("SMTP server refused every recipient", permanent=True) from None
    except smtplib.SMTPResponseException as exc:
        # 5xx: refused for good; 4xx: try again later
        raise DeliveryError(f"SMTP {exc.smtp_code}", permanent=exc.smtp_code >= 500) from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"TLS failed ({exc.reason})") from None
    except (OSError, smtplib.SMTPException) as exc:
        if isinstance(exc, DeliveryError):
            raise
        what = "timed out" if isinstance(exc, socket.timeout | TimeoutError) else \
            f"could not send ({type(exc).__name__})"
        raise DeliveryError(f"SMTP {what}") from None


def deliver(settings: NotificationSettings, client: httpx.Client, receiver: str,
            integration: str, idx: int, payload: dict[str, Any], now: float) -> str:
    """Send one outbox message; a short note of what happened, or :class:`DeliveryError`."""
    if integration == "alertmanager":
        try:
            target: AlertmanagerTarget = settings.alertmanagers[idx]
        except IndexError:
            raise DeliveryError("the Alertmanager is no longer configured",
                                permanent=True) from None
        send_http(client, render_alertmanager(payload, target, now))
        return "forwarded"
    rec = settings.receiver(receiver)
    configs = getattr(rec, integration, None) if rec is not None else None
    if not configs or idx >= len(configs):
        raise DeliveryError(f"receiver {receiver!r} has no {integration} #{idx} any more",
                            permanent=True)
    cfg = configs[idx]
    n = Notification.from_dict(payload)
    if not cfg.send_resolved and n.kind != "acknowledge":
        n = n.without_resolved()
    if not n.alerts and n.kind != "test":
        return "nothing to send (resolved only)"
    if integration == "email":
        _send_email(n, cfg)
        return "sent"
    for req in _RENDER[integration](n, cfg, now):
        send_http(client, req)
    return "sent"


def now_seconds() -> float:
    return time.time()

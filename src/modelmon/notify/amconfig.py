"""``modelmon export alertmanager-config``: the ``notifications:`` section as an Alertmanager
configuration, for teams that run their routing in Alertmanager (0.25 and later) and forward
modelmon's alerts there.

The route tree, receivers, inhibition rules and time intervals carry over one to one, so
``amtool config routes test`` sends a label set to the receivers modelmon itself picks. What
Alertmanager 0.25 cannot say is left out and listed: Microsoft Teams receivers
(``msteams_configs`` came with 0.26), escalation of unacknowledged alerts, and the webhook
signature. Secrets are written as Alertmanager needs them (its ``*_file`` fields are not used:
the values come from wherever modelmon read them), so the file is for the operator's eyes:
``--out`` writes it readable by its owner only.
"""

from __future__ import annotations

from typing import Any

from modelmon.alerts.matchers import Matcher
from modelmon.notify.config import NotificationSettings, Receiver, Route

__all__ = ["alertmanager_config"]


def _route(node: Route, root: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if node.receiver is not None:
        out["receiver"] = node.receiver
    if node.matchers and not root:
        out["matchers"] = [str(Matcher.parse(m)) for m in node.matchers]
    for name in ("group_by", "group_wait", "group_interval", "repeat_interval"):
        value = getattr(node, name)
        if value is not None:
            out[name] = list(value) if name == "group_by" else value
    if node.continue_:
        out["continue"] = True
    if node.mute_time_intervals:
        out["mute_time_intervals"] = list(node.mute_time_intervals)
    if node.active_time_intervals:
        out["active_time_intervals"] = list(node.active_time_intervals)
    if node.routes:
        out["routes"] = [_route(r, False) for r in node.routes]
    return out


def _receiver(r: Receiver, external_url: str, skipped: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": r.name}
    if r.email:
        out["email_configs"] = []
        for e in r.email:
            cfg: dict[str, Any] = {"to": ", ".join(e.to), "from": e.from_,
                                   "smarthost": e.smarthost, "send_resolved": e.send_resolved,
                                   "require_tls": e.starttls or e.tls}
            if e.auth_username:
                cfg["auth_username"] = e.auth_username
            if e.auth_password is not None:
                cfg["auth_password"] = e.auth_password.get_secret_value()
            out["email_configs"].append(cfg)
    if r.slack:
        out["slack_configs"] = []
        for s in r.slack:
            cfg = {"api_url": s.url.get_secret_value(), "send_resolved": s.send_resolved}
            if s.channel:
                cfg["channel"] = s.channel
            if s.username:
                cfg["username"] = s.username
            out["slack_configs"].append(cfg)
    if r.pagerduty:
        out["pagerduty_configs"] = [
            {"routing_key": p.routing_key.get_secret_value(), "url": p.url,
             "send_resolved": p.send_resolved} for p in r.pagerduty]
    if r.webhook:
        out["webhook_configs"] = [
            {"url": w.url.get_secret_value(), "send_resolved": w.send_resolved,
             "max_alerts": w.max_alerts} for w in r.webhook]
        if any(w.secret is not None or w.headers for w in r.webhook):
            skipped.append(f"receiver {r.name}: webhook signatures and headers (Alertmanager's "
                           "webhooks have neither)")
    if r.teams:
        skipped.append(f"receiver {r.name}: Microsoft Teams (msteams_configs needs Alertmanager "
                       "0.26)")
    return out


def alertmanager_config(settings: NotificationSettings,
                        external_url: str = "") -> tuple[dict[str, Any], list[str]]:
    """The Alertmanager configuration and what it leaves out (see the module docstring)."""
    skipped: list[str] = []
    if settings.route is None:
        raise ValueError("notifications.route is not set: nothing to export")
    doc: dict[str, Any] = {"route": _route(settings.route, True),
                           "receivers": [_receiver(r, external_url, skipped)
                                         for r in settings.receivers]}

    def escalations(node: Route, path: str) -> None:
        if node.escalate is not None:
            skipped.append(f"{path}: escalation after {node.escalate.after} to "
                           f"{node.escalate.receiver} (Alertmanager has no acknowledgements)")
        for i, child in enumerate(node.routes):
            escalations(child, f"{path}.routes[{i}]")

    escalations(settings.route, "route")
    if settings.inhibit_rules:
        doc["inhibit_rules"] = [
            {"source_matchers": [str(Matcher.parse(m)) for m in r.source_matchers],
             "target_matchers": [str(Matcher.parse(m)) for m in r.target_matchers],
             **({"equal": list(r.equal)} if r.equal else {})} for r in settings.inhibit_rules]
    if settings.time_intervals:
        doc["time_intervals"] = [
            {"name": t.name, "time_intervals": [
                {k: v for k, v in r.model_dump().items() if v and not (k == "location"
                                                                          and v == "UTC")}
                for r in t.time_intervals]} for t in settings.time_intervals]
    return doc, skipped

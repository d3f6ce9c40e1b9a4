"""Each integration's payload, checked against the receiver's documented schema, and sending
over real HTTP (answers, timeouts, what an error says)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from modelmon.alerts.state import AlertInstance
from modelmon.notify.config import NotificationSettings
from modelmon.notify.integrations import email, pagerduty, slack, teams, webhook
from modelmon.notify.integrations.alertmanager import render as render_am
from modelmon.notify.messages import Notification
from modelmon.notify.transport import DeliveryError, deliver, send_http
from tests.notify.test_groups import alert
from tests.support.receivers import Receiver

SCHEMAS = Path(__file__).parent / "schemas"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def check(schema: str, doc: Any) -> None:
    jsonschema.validate(doc, json.loads((SCHEMAS / schema).read_text()),
                        format_checker=jsonschema.FormatChecker())


def notification(n_firing: int = 2, kind: str = "notification") -> Notification:
    alerts: list[AlertInstance] = [
        alert("FeatureDrift", feature=f"f{i}") for i in range(n_firing)]
    alerts.append(replace(alert("AccuracyDrop", severity="critical"), state="resolved",
                          resolved_at=NOW))
    alerts[0] = replace(alerts[0], annotations={
        "summary": "fraud: feature <amount> drifted", "description": "Wasserstein 1.8 & more",
        "dashboard": "http://mm/ui/models/fraud"})
    return Notification.build("team", 'route:{model="fraud"}', {"model": "fraud"}, alerts,
                               "http://mm", NOW, kind=kind)


def settings(**receiver: Any) -> NotificationSettings:
    return NotificationSettings.model_validate({
        "receivers": [{"name": "team", **receiver}], "route": {"receiver": "team"}})


@pytest.mark.parametrize("n_firing", [1, 14])
def test_webhook_payload_is_alertmanagers_version_4_and_signed(n_firing: int) -> None:
    cfg = settings(webhook=[{"url": "http://x/hook", "secret": "s3cret",
                             "headers": {"X-Team": "risk"}, "max_alerts": 10}]).receivers[0]
    [req] = webhook.render(notification(n_firing), cfg.webhook[0], NOW.timestamp())
    body = json.loads(req.body)
    check("alertmanager_webhook_v4.json", body)
    assert body["status"] == "firing" and body["groupLabels"] == {"model": "fraud"}
    assert body["commonLabels"]["model"] == "fraud"
    assert body["truncatedAlerts"] == max(0, n_firing + 1 - 10)
    assert body["alerts"][0]["status"] == "firing" and body["alerts"][-1]["status"] == \
        ("resolved" if n_firing + 1 <= 10 else "firing")
    ts = req.headers["X-Modelmon-Timestamp"]
    expected = hmac.new(b"s3cret", ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(req.headers["X-Modelmon-Signature"], f"sha256={expected}")
    assert req.headers["X-Team"] == "risk"


@pytest.mark.parametrize("n_firing", [1, 14])
def test_slack_block_kit_message(n_firing: int) -> None:
    msg = slack.message(notification(n_firing))
    check("slack_incoming_webhook.json", msg)
    assert msg["attachments"][0]["color"] == "#e8a317"          # the worst firing: warning
    text = json.dumps(msg)
    assert "fraud: feature <amount> drifted" in text
    assert ("and 5 more alerts" in text) == (n_firing == 14)
    resolved = slack.message(replace(notification(0)))
    assert resolved["attachments"][0]["color"] == "#2eb886"


def test_teams_adaptive_card() -> None:
    card = teams.card(notification(3))
    check("teams_adaptive_card.json", card)
    content = card["attachments"][0]["content"]
    assert content["body"][0]["color"] == "Warning"
    assert content["actions"][0]["url"] == "http://mm/v1/alerts"


def test_pagerduty_events_one_per_alert_by_fingerprint() -> None:
    n = notification(2)
    events = pagerduty.events(n, "R0UT1NGKEY")
    for e in events:
        check("pagerduty_events_v2.json", e)
    assert [e["event_action"] for e in events] == ["trigger", "trigger", "resolve"]
    assert [e["dedup_key"] for e in events] == [a["fingerprint"] for a in n.alerts]
    assert events[0]["payload"]["severity"] == "warning"
    crit = Notification.build("team", "k", {}, [alert("ModelDegraded", severity="critical"),
                                                alert("X", severity="high")], "", NOW)
    assert [e["payload"]["severity"] for e in pagerduty.events(crit, "k")] == ["critical",
                                                                             "error"]
    ack = Notification.build("team", "k", {}, [alert("ModelDegraded")], "", NOW,
                             kind="acknowledge")
    [e] = pagerduty.events(ack, "k")
    check("pagerduty_events_v2.json", e)
    assert e["event_action"] == "acknowledge"


def test_alertmanager_forwarding_body() -> None:
    n = notification(1)
    target = NotificationSettings.model_validate(
        {"alertmanagers": [{"url": "http://am:9093/", "resend_interval": "1m"}]}).alertmanagers[0]
    req = render_am({"alerts": n.alerts}, target, NOW.timestamp())
    body = json.loads(req.body)
    check("alertmanager_postable_alerts.json", body)
    assert req.url == "http://am:9093/api/v2/alerts"
    assert body[0]["endsAt"] == "2026-12-07T12:04:00Z"      # four resend intervals ahead
    assert body[-1]["endsAt"] == "2026-12-07T12:00:00Z"     # the resolved one: its real end


def test_email_has_text_and_escaped_html() -> None:
    cfg = settings(email=[{"to": ["ml@example.com"], "from": "mm@example.com",
                           "smarthost": "localhost:25"}]).receivers[0].email[0]
    msg = email.render(notification(2), cfg)
    assert msg["Subject"] == '[modelmon] [FIRING:2] fraud'
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "fraud: feature <amount> drifted" in text and "RESOLVED" in text
    assert "&lt;amount&gt;" in html and "<amount>" not in html      # escaped
    assert "Wasserstein 1.8 &amp; more" in html and "http://mm/ui/models/fraud" in html


def test_send_http_answers_and_errors_never_carry_the_url() -> None:
    rec = Receiver()
    try:
        with httpx.Client() as client:
            s = settings(slack=[{"url": f"{rec.url}/services/T000/B000/SECRETPATH"}])
            note = deliver(s, client, "team", "slack", 0, notification(1).to_dict(),
                           NOW.timestamp())
            assert note == "sent" and rec.requests[0].path == "/services/T000/B000/SECRETPATH"
            rec.fail_next(1, 503)
            with pytest.raises(DeliveryError) as retry:
                deliver(s, client, "team", "slack", 0, notification(1).to_dict(), 0)
            assert not retry.value.permanent and "503" in str(retry.value)
            rec.fail_next(1, 400)
            with pytest.raises(DeliveryError) as refused:
                deliver(s, client, "team", "slack", 0, notification(1).to_dict(), 0)
            assert refused.value.permanent
            rec.down()
            with pytest.raises(DeliveryError) as down:
                deliver(s, client, "team", "slack", 0, notification(1).to_dict(), 0)
            assert not down.value.permanent
            for err in (retry.value, refused.value, down.value):
                assert "SECRETPATH" not in str(err) and "127.0.0.1" not in str(err)
            slow = Receiver(delay=2.0)
            from modelmon.notify.integrations import HttpRequest
            with pytest.raises(DeliveryError, match="timed out"):
                send_http(client, HttpRequest(slow.url, b"{}", {}, timeout=0.3))
            slow.close()
    finally:
        rec.close()


def test_send_resolved_false_drops_resolved_alerts_and_resolved_only_messages() -> None:
    rec = Receiver()
    try:
        s = settings(webhook=[{"url": rec.url, "send_resolved": False}])
        with httpx.Client() as client:
            deliver(s, client, "team", "webhook", 0, notification(2).to_dict(), 0)
            only_resolved = notification(0).to_dict()
            assert deliver(s, client, "team", "webhook", 0, only_resolved, 0).startswith(
                "nothing to send")
        [got] = rec.requests
        assert [a["status"] for a in got.json()["alerts"]] == ["firing", "firing"]
    finally:
        rec.close()


def test_secrets_come_from_env_and_files_and_are_never_shown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PD_KEY", "pd-secret-123")
    (tmp_path / "hook").write_text("https://hooks.slack.com/services/SECRET\n")
    s = settings(pagerduty=[{"routing_key": {"env": "PD_KEY"}}],
                 slack=[{"url": {"file": str(tmp_path / "hook")}}])
    rec = s.receivers[0]
    assert rec.pagerduty[0].routing_key.get_secret_value() == "pd-secret-123"
    assert rec.slack[0].url.get_secret_value() == "https://hooks.slack.com/services/SECRET"
    shown = repr(s) + str(s.model_dump())
    assert "pd-secret-123" not in shown and "SECRET" not in shown
    with pytest.raises(ValueError, match="NOPE is not set"):
        settings(pagerduty=[{"routing_key": {"env": "NOPE"}}])

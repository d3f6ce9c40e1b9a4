"""E-mail through a real SMTP server (aiosmtpd) on loopback: STARTTLS with a certificate the
test makes, authentication, the message's parts; a wrong password is refused for good, a server
without STARTTLS is refused rather than sent to in clear."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from modelmon.notify.config import NotificationSettings
from modelmon.notify.transport import DeliveryError, deliver
from tests.notify.test_integrations import notification
from tests.support.certificates import self_signed
from tests.support.live_server import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"modelmon" and \
        data.password == b"hunter2"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    ctl = Controller(inbox, hostname="localhost", port=port, tls_context=context,
                     require_starttls=True, authenticator=_auth, auth_require_tls=True)
    ctl.start()
    try:
        yield inbox, port, cert
    finally:
        ctl.stop()


def _settings(port: int, cert: Path, password: str = "hunter2", **extra: Any
              ) -> NotificationSettings:
    return NotificationSettings.model_validate({
        "receivers": [{"name": "team", "email": [{
            "to": ["ml@example.com", "oncall@example.com"], "from": "modelmon@example.com",
            "smarthost": f"localhost:{port}", "auth_username": "modelmon",
            "auth_password": password, "ca_file": str(cert), **extra}]}],
        "route": {"receiver": "team"}})


def test_an_email_goes_over_starttls_with_authentication(smtp: tuple[Inbox, int, Path]) -> None:
    inbox, port, cert = smtp
    with httpx.Client() as client:
        assert deliver(_settings(port, cert), client, "team", "email", 0,
                       notification(2).to_dict(), 0) == "sent"
    [(sender, to, raw)] = inbox.messages
    assert sender == "modelmon@example.com" and to == ["ml@example.com", "oncall@example.com"]
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "[modelmon] [FIRING:2] fraud"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "FeatureDrift" in text and "RESOLVED" in text and "&lt;amount&gt;" in html


def test_a_wrong_password_is_refused_for_good(smtp: tuple[Inbox, int, Path]) -> None:
    inbox, port, cert = smtp
    with httpx.Client() as client, pytest.raises(DeliveryError) as err:
        deliver(_settings(port, cert, password="wrong"), client, "team", "email", 0,
                notification(1).to_dict(), 0)
    assert err.value.permanent and "authentication refused" in str(err.value)
    assert "wrong" not in str(err.value) and inbox.messages == []


def test_no_clear_text_when_starttls_is_missing_and_a_dead_server_is_tried_again(
        tmp_path: Path) -> None:
    inbox = Inbox()
    port = free_port()
    ctl = Controller(inbox, hostname="localhost", port=port)  # no TLS offered
    ctl.start()
    try:
        cert, _ = self_signed(tmp_path)
        with httpx.Client() as client:
            with pytest.raises(DeliveryError, match="does not offer STARTTLS") as err:
                deliver(_settings(port, cert), client, "team", "email", 0,
                        notification(1).to_dict(), 0)
            assert err.value.permanent and inbox.messages == []
            plain = _settings(port, cert, starttls=False, auth_username=None,
                              auth_password=None)
            assert deliver(plain, client, "team", "email", 0, notification(1).to_dict(),
                           0) == "sent"
    finally:
        ctl.stop()
    with httpx.Client() as client, pytest.raises(DeliveryError) as dead:
        deliver(_settings(port, cert), client, "team", "email", 0, notification(1).to_dict(), 0)
    assert not dead.value.permanent

"""docs/notifications.md stays true: its complete example validates as a deployment's
settings and routes as the page says; the signature check it shows accepts modelmon's
signature."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

from modelmon.config import load_settings
from modelmon.notify.integrations.webhook import signature
from modelmon.notify.routing import RouteTree

DOC = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text()
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.S)
PYTHON = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_the_complete_example_validates_and_routes_as_described(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_ML_WEBHOOK", "PD_RISK_KEY", "TEAMS_RISK_WEBHOOK", "MODELMON_HOOK_SECRET"):
        monkeypatch.setenv(name, f"https://example.com/{name.lower()}")
    (tmp_path / "smtp").write_text("hunter2")
    example = BLOCKS[0].replace("/run/secrets/smtp-password", str(tmp_path / "smtp"))
    (tmp_path / "deploy.yaml").write_text(example)
    settings = load_settings(tmp_path / "deploy.yaml", env={})
    n = settings.notifications
    assert [r.name for r in n.receivers] == ["ml-team", "risk-oncall", "platform", "ml-leads"]
    assert n.receivers[0].email[0].auth_password is not None
    assert n.receivers[0].email[0].auth_password.get_secret_value() == "hunter2"
    assert n.route is not None
    tree = RouteTree(n.route)
    route = [r.receiver for r in tree.match({"severity": "critical", "model": "fraud",
                                            "team": "risk"})]
    assert route == ["risk-oncall", "ml-team"]   # as the export section's amtool line says
    assert "risk-oncall,ml-team" in DOC


def test_every_yaml_snippet_parses() -> None:
    for block in BLOCKS:
        assert yaml.safe_load(block) is not None


def test_the_receivers_signature_check_accepts_modelmons_signature() -> None:
    scope: dict[str, object] = {}
    exec(PYTHON[0], scope)  # the page's verify()
    verify = scope["verify"]
    body, ts = b'{"version": "4"}', str(int(time.time()))
    headers = {"X-Modelmon-Timestamp": ts, "X-Modelmon-Signature": signature(b"k", ts, body)}
    assert verify(b"k", headers, body)  # type: ignore[operator]
    assert not verify(b"other", headers, body)  # type: ignore[operator]
    old = str(int(time.time()) - 3600)
    stale = {"X-Modelmon-Timestamp": old, "X-Modelmon-Signature": signature(b"k", old, body)}
    assert not verify(b"k", stale, body)  # type: ignore[operator]

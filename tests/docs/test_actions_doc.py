"""docs/actions.md stays true: its example deployment loads, and it names every field of an
action and of a rule's action, every state of a record and every route."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from modelmon.actions.record import ActionState
from modelmon.actions.spec import ActionSettings, ActionSpec
from modelmon.alerts.rules import RuleAction
from modelmon.config import load_settings
from modelmon.service.routes.actions import router

DOC = Path(__file__).resolve().parents[2] / "docs" / "actions.md"
TEXT = DOC.read_text()


def test_the_example_deployment_loads(tmp_path: Path) -> None:
    block = re.findall(r"```yaml\n(.*?)```", TEXT, flags=re.S)[0]
    (tmp_path / "deploy.yaml").write_text(block)
    settings = load_settings(tmp_path / "deploy.yaml", env={"SERVING_TOKEN": "t"})
    assert [a.name for a in settings.actions.definitions] == ["rollback", "retrain"]
    assert [a.name for a in settings.alerts.rules[0].actions] == ["rollback", "retrain"]
    assert settings.alerts.rules[0].actions[1].on == ["firing"]  # YAML's bare on: is true
    assert yaml.safe_load(block)["actions"]["definitions"][0]["type"] == "rollback"


def test_every_field_state_and_route_is_documented() -> None:
    for name in [*ActionSpec.model_fields, *RuleAction.model_fields,
                 *ActionSettings.model_fields]:
        assert f"`{name}`" in TEXT or f"`actions.{name}`" in TEXT, name
    for state in ActionState.ALL:
        assert state in TEXT, state
    for route in router.routes:
        path = route.path.replace("{action_id}", "{id}")  # type: ignore[attr-defined]
        for method in route.methods:  # type: ignore[attr-defined]
            assert f"`{method} {path}`" in TEXT, (method, path)

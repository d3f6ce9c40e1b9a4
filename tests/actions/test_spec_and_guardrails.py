"""Action definitions and rule actions as the deployment file writes them (errors name the rule,
the action and the field), the guardrails' decisions, rollback planning, idempotency keys and
the request an action sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from modelmon.actions.guardrails import decide
from modelmon.actions.record import ActionRecord, ActionState, idempotency_key
from modelmon.actions.request import payload, prepare
from modelmon.actions.spec import ActionSettings, ActionSpec
from modelmon.actions.versions import NoRollbackTarget, plan_rollback
from modelmon.alerts.rules import AlertRule
from modelmon.config import load_settings
from modelmon.exceptions import ConfigError

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
URL = "https://serving.example/models/{model}/rollback"


def spec(**kw: Any) -> ActionSpec:
    return ActionSpec.model_validate({"name": "rb", "type": "rollback", "url": URL, **kw})


def record(state: str, minutes_ago: float, **kw: Any) -> ActionRecord:
    at = NOW - timedelta(minutes=minutes_ago)
    return ActionRecord(f"id-{minutes_ago}", f"k-{minutes_ago}", "rb", "rollback", "fraud",
                        "R", "a", "f", "firing", "critical", state, False, at, at, **kw)


# --- the deployment file --------------------------------------------------------------------------

def test_a_deployment_file_with_actions_loads_with_secrets_from_the_environment(
        tmp_path: Path) -> None:
    (tmp_path / "token").write_text("file-token-89\n")
    path = tmp_path / "deploy.yaml"
    path.write_text("""
actions:
  definitions:
    - name: rollback
      type: rollback
      url: https://serving.internal/models/{model}/rollback
      secret_headers: {Authorization: "Bearer ${SERVING_TOKEN}"}
      cooldown: 30m
      max_per_day: 3
    - name: retrain
      type: retrain
      command: [/opt/ml/retrain.sh]
      secret_env: {TOKEN: {file: TOKEN_PATH}}
alerts:
  rules:
    - name: AccuracyLow
      condition: {kind: metric, metric: accuracy, op: "<", value: 0.8}
      actions:
        - {name: rollback, min_severity: critical, match: [team=risk]}
        - retrain
""".replace("TOKEN_PATH", str(tmp_path / "token")))
    settings = load_settings(path, env={"SERVING_TOKEN": "tok-123"})
    [rule] = settings.alerts.rules
    assert [(a.name, a.on, a.min_severity) for a in rule.actions] == [
        ("rollback", ["firing", "escalated"], "critical"), ("retrain", ["firing", "escalated"],
                                                           None)]
    rb = settings.actions.get("rollback")
    assert rb is not None and rb.cooldown_period == timedelta(minutes=30)
    shown = json.dumps([a.describe() for a in settings.actions.definitions])
    assert "tok-123" not in shown and "file-token" not in shown
    assert rb.describe()["secret_headers"] == {"Authorization": "***"}
    assert "tok-123" not in repr(settings) and "file-token" not in repr(settings)
    retrain = settings.actions.get("retrain")
    assert retrain is not None and retrain.secret_values() == {"env:TOKEN": "file-token-89"}
    assert rb.secret_values() == {"header:Authorization": "Bearer tok-123"}


@pytest.mark.parametrize(("actions", "rules", "message"), [
    ({}, [{"name": "AccuracyLow", "condition": {"kind": "verdict"}, "actions": ["rollbak"]}],
     "alerts.rules[0] (rule 'AccuracyLow').actions[0]: no action named 'rollbak' under "
     "actions.definitions (defined: none)"),
    ({"definitions": [{"name": "rb", "type": "rollback"}]}, [],
     "actions.definitions[0]: action 'rb' (rollback) needs 'url' (a webhook) or 'command'"),
    ({"definitions": [{"name": "s", "type": "scale", "url": "http://h/"}]}, [],
     "action 's' (scale) needs ['replicas']"),
    ({"definitions": [{"name": "w", "type": "webhook", "command": ["x"]}]}, [],
     "type 'webhook' needs 'url'"),
    ({"definitions": [{"name": "w", "type": "webhook", "url": "ftp://h/"}]}, [],
     "'url' must be an http:// or https:// URL"),
    ({"definitions": [{"name": "w", "type": "webhook", "url": "http://h/{version}"}]}, [],
     "'url' may hold {model} and {action}; got ['version']"),
    ({"definitions": [{"name": "w", "type": "webhook", "url": "http://h/", "cooldown": "soon"}]},
     [], "'cooldown': invalid duration 'soon'"),
    ({"definitions": [{"name": "w", "type": "webhook", "url": "http://h/",
                       "headers": {"Idempotency-Key": "x"}}]}, [],
     "header 'Idempotency-Key' is set by modelmon"),
    ({"definitions": [{"name": "w", "type": "webhook", "url": "http://h/"},
                      {"name": "w", "type": "webhook", "url": "http://h/"}]}, [],
     "action names must be unique; repeated: ['w']"),
    ({}, [{"name": "R", "condition": {"kind": "verdict"}, "actions": [{"name": "x",
                                                                       "on": ["acked"]}]}],
     "alerts.rules[0].actions[0].on[0]"),
    ({}, [{"name": "R", "condition": {"kind": "verdict"}, "actions": ["x", "x"]}],
     "an action is listed once per rule; repeated: ['x']"),
])
def test_bad_actions_name_the_rule_the_action_and_the_field(
        actions: dict[str, Any], rules: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env={}, overrides={"actions": actions, "alerts": {"rules": rules}})
    assert message in str(err.value)


def test_a_rule_action_written_as_a_name_runs_on_firing_and_escalation() -> None:
    rule = AlertRule.model_validate({"name": "R", "condition": {"kind": "verdict"},
                                     "actions": ["rollback"]})
    assert rule.actions[0].on == ["firing", "escalated"]
    assert rule.model_dump(mode="json")["actions"] == [
        {"name": "rollback", "on": ["firing", "escalated"], "min_severity": None, "match": []}]


# --- guardrails -----------------------------------------------------------------------------------

def test_guardrails_in_order_cooldown_daily_maximum_dry_run_approval() -> None:
    s = spec(cooldown="30m", max_per_day=2, approval=True)
    assert decide(s, [], NOW).state == ActionState.PENDING_APPROVAL
    assert decide(s, [], NOW, dry_run=True).state == ActionState.DRY_RUN
    cool = decide(s, [record(ActionState.SUCCEEDED, 10)], NOW)
    assert cool.state == ActionState.SKIPPED_COOLDOWN and cool.related_id == "id-10"
    # a rejected, expired or dry-run trigger counts too; skipped ones do not
    for state in (ActionState.REJECTED, ActionState.EXPIRED, ActionState.DRY_RUN):
        assert decide(s, [record(state, 10)], NOW).state == ActionState.SKIPPED_COOLDOWN
    assert decide(s, [record(ActionState.SKIPPED_COOLDOWN, 10)], NOW).state == \
        ActionState.PENDING_APPROVAL
    two = [record(ActionState.SUCCEEDED, 600), record(ActionState.FAILED, 300)]
    assert decide(s, two, NOW).state == ActionState.SKIPPED_DAILY_MAX
    old = [record(ActionState.SUCCEEDED, 24 * 60), record(ActionState.FAILED, 300)]
    assert decide(s, old, NOW).state == ActionState.PENDING_APPROVAL  # 24 h ago is out
    assert decide(spec(cooldown=None), [record(ActionState.SUCCEEDED, 0)], NOW).state == \
        ActionState.RUNNING
    assert decide(spec(dry_run=True), [], NOW).state == ActionState.DRY_RUN


def test_rollback_returns_to_the_newest_earlier_version_that_served_and_was_not_rolled_back(
        ) -> None:
    def v(name: str, day: int, stage: str) -> SimpleNamespace:
        return SimpleNamespace(version=name, created_at=NOW + timedelta(days=day), stage=stage)

    plan = plan_rollback("fraud", [v("v1", 1, "retired"), v("v2", 2, "rolled_back"),
                                   v("v3", 3, "shadow"), v("v4", 4, "active"),
                                   v("v5", 5, "canary")])
    assert (plan.from_version, plan.to_version) == ("v4", "v1")
    with pytest.raises(NoRollbackTarget, match="no active version"):
        plan_rollback("fraud", [v("v1", 1, "retired")])
    with pytest.raises(NoRollbackTarget, match="no version before 'v1'"):
        plan_rollback("fraud", [v("v1", 1, "active"), v("v0", 0, "rolled_back")])


def test_one_idempotency_key_per_action_incident_and_severity() -> None:
    k = idempotency_key("rb", "a1", "firing", "critical")
    assert k == idempotency_key("rb", "a1", "escalated", "critical")
    assert len({k, idempotency_key("rb", "a1", "firing", "warning"),
                idempotency_key("rb", "a2", "firing", "critical"),
                idempotency_key("other", "a1", "firing", "critical"),
                idempotency_key("rb", "a1", "resolved", "critical")}) == 5


# --- the request ----------------------------------------------------------------------------------

def test_the_request_carries_the_payload_and_hides_secrets() -> None:
    s = spec(headers={"X-Team": "risk"}, secret_headers={"Authorization": "Bearer tok"},
             params={"region": "eu"})
    rec = record(ActionState.RUNNING, 0)
    body = payload(s, rec, {"rule": "R"}, {"from_version": "v2", "to_version": "v1"})
    assert body["rollback"] == {"from_version": "v2", "to_version": "v1"}
    assert body["params"] == {"region": "eu"} and body["alert"] == {"rule": "R"}
    prepared = prepare(s, rec, body, {"header:Authorization": "Bearer tok-1234567"})
    assert prepared.url == "https://serving.example/models/fraud/rollback"
    assert prepared.headers["Authorization"] == "Bearer tok-1234567"
    assert prepared.headers["Idempotency-Key"] == rec.idempotency_key
    assert prepared.recorded["headers"]["Authorization"] == "***"
    assert prepared.scrub("echo tok-1234567 and Bearer tok-1234567") == "echo *** and ***"
    for kind, extra, key, value in (
            ("route_to_backup", {"backup": "fraud-v0"}, "backup", "fraud-v0"),
            ("scale", {"replicas": 0}, "replicas", 0),
            ("toggle_feature", {"feature": "f", "feature_enabled": True}, "feature",
             {"name": "f", "enabled": True})):
        s2 = ActionSpec.model_validate({"name": "x", "type": kind, "url": "http://h/", **extra})
        assert payload(s2, rec, None, {})[key] == value


def test_a_model_name_is_quoted_in_the_url() -> None:
    s = spec()
    rec = ActionRecord("i", "k", "rb", "rollback", "a/b c", None, None, None, "firing", None,
                       ActionState.RUNNING, False, NOW, NOW)
    assert prepare(s, rec, {}, {}).url == "https://serving.example/models/a%2Fb%20c/rollback"


def test_settings_without_actions_are_empty() -> None:
    assert ActionSettings().definitions == [] and ActionSettings().get("x") is None

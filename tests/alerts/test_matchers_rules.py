"""Matchers and fingerprints as Alertmanager has them; rules validated with clear errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from modelmon.alerts.matchers import Matcher, fingerprint, matches_all
from modelmon.alerts.rules import AlertRule, parse_threshold


@pytest.mark.parametrize(("text", "labels", "expected"), [
    ("team=risk", {"team": "risk"}, True),
    ("team=risk", {"team": "risk-ml"}, False),
    ('team!="risk"', {"team": "ops"}, True),
    ("team!=risk", {}, True),                      # absent = empty string
    ('team=~"risk.*"', {"team": "risk-ml"}, True),
    ('team=~"risk.*"', {"team": "credit-risk"}, False),  # anchored
    ("team!~risk|ops", {"team": "ops"}, False),
    ("team=~", {}, True),                          # empty regex matches an absent label
    ('severity=~"critical|high"', {"severity": "high"}, True),
])
def test_matchers(text: str, labels: dict[str, str], expected: bool) -> None:
    assert Matcher.parse(text).matches(labels) is expected


@pytest.mark.parametrize("bad", ["", "team", "1team=x", "team=~(", "=x"])
def test_bad_matchers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        Matcher.parse(bad)


def test_fingerprint_is_alertmanagers() -> None:
    # fixed values computed with prometheus/common's LabelSet.Fingerprint (FNV-1a, 0xff
    # separators over sorted names and values); the real Alertmanager agrees in the
    # integration test
    assert fingerprint({}) == "cbf29ce484222325"
    assert fingerprint({"alertname": "ModelDegraded", "model": "fraud"}) == "a9c5bfce486240be"
    a = {"b": "2", "a": "1"}
    assert fingerprint(a) == fingerprint(dict(sorted(a.items())))
    assert fingerprint({"a": "1b"}) != fingerprint({"a1": "b"})
    assert matches_all([], {"x": "1"}) and not matches_all([Matcher("x", "=", "2")], {"x": "1"})


def test_thresholds_accept_fractions_and_percents() -> None:
    assert parse_threshold("15%") == pytest.approx(0.15)
    rule = AlertRule.model_validate({"name": "MapeHigh", "condition": {
        "kind": "metric", "metric": "mape", "op": ">", "value": "15%"}})
    assert rule.condition.value == pytest.approx(0.15)  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="'15%' or '10bp'"):
        AlertRule.model_validate({"name": "X", "condition": {
            "kind": "metric", "metric": "mape", "op": ">", "value": "fifteen"}})
    assert parse_threshold("10bp") == pytest.approx(0.001)


@pytest.mark.parametrize(("written", "value"), [("15%", 15.0), (0.15, 15.0), ("20bp", 0.2)])
def test_limits_on_a_percent_metric_are_read_in_percent(written: object, value: float) -> None:
    rule = AlertRule.model_validate({"name": "ValuationOff", "condition": {
        "kind": "metric", "metric": "valuation_mape", "op": ">", "warning": written,
        "critical": "30%"}})
    assert rule.condition.warning == pytest.approx(value)  # type: ignore[union-attr]
    assert rule.condition.critical == pytest.approx(30.0)  # type: ignore[union-attr]


@pytest.mark.parametrize(("rule", "message"), [
    ({"name": "1bad", "condition": {"kind": "verdict"}}, "invalid rule name"),
    ({"name": "X", "condition": {"kind": "nope"}}, "does not match any of the expected tags"),
    ({"name": "X", "condition": {"kind": "metric", "metric": "accuracy"}}, "give 'value'"),
    ({"name": "X", "condition": {"kind": "metric", "metric": "accuracy", "value": 0.8,
                                 "warning": 0.9}}, "not both"),
    ({"name": "X", "condition": {"kind": "change", "metric": "accuracy"}}, "warning"),
    ({"name": "X", "condition": {"kind": "verdict"}, "for": "soon"}, "invalid duration"),
    ({"name": "X", "condition": {"kind": "verdict"}, "match": ["team=~("]}, "regular expression"),
    ({"name": "X", "condition": {"kind": "verdict"}, "labels": {"severity": "x"}}, "set by"),
    ({"name": "X", "condition": {"kind": "service", "check": "cpu"}}, "needs a 'value'"),
    ({"name": "X", "condition": {"kind": "drift", "op": ">"}}, "both 'op' and 'value'"),
])
def test_rules_are_validated_with_the_field_and_the_reason(rule: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AlertRule.model_validate(rule)


def test_rule_properties() -> None:
    r = AlertRule.model_validate({"name": "X", "condition": {"kind": "verdict"}, "for": 3,
                                  "keep_firing_for": "10m"})
    assert r.for_evaluations == 3 and r.for_duration.total_seconds() == 0
    assert r.keep_firing.total_seconds() == 600 and not r.timed
    d = AlertRule.model_validate({"name": "Y", "condition": {"kind": "no_data"}, "for": "5m"})
    assert d.for_duration.total_seconds() == 300 and d.timed

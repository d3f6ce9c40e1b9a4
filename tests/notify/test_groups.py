"""Grouping, timing, inhibition, silences, mute intervals and escalation (pure, Alertmanager's
semantics), and what survives a restart (the notification log)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from modelmon.alerts.state import AlertInstance, AlertState
from modelmon.notify.config import NotificationSettings
from modelmon.notify.groups import Grouper
from modelmon.notify.routing import Inhibitor, RouteTree, TimeIntervals
from modelmon.vocabulary import Severity

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # a Monday
S = timedelta(seconds=1)


def alert(name: str, model: str = "fraud", severity: str = "warning", state: str = "firing",
          **labels: str) -> AlertInstance:
    lab = {"alertname": name, "model": model, "severity": severity, **labels}
    fp = f"{name}-{model}-{'-'.join(f'{k}{v}' for k, v in sorted(labels.items()))}"
    return AlertInstance(f"id-{fp}", fp, name, model, lab, {"summary": f"{name} on {model}"},
                         state, Severity(severity), 0.5, 0.8, T0, T0, T0, 1, fired_at=T0,
                         resolved_at=T0 if state == "resolved" else None)


def grouper(cfg: dict[str, Any], log: Any = None, escalated: Any = ()) -> Grouper:
    s = NotificationSettings.model_validate({"receivers": [{"name": n} for n in
                                                           ("team", "pager", "boss")], **cfg})
    assert s.route is not None
    return Grouper(RouteTree(s.route), Inhibitor(s.inhibit_rules),
                   TimeIntervals(s.time_intervals), "http://mm", log, escalated)


ROUTE = {"receiver": "team", "group_by": ["model"], "group_wait": "30s",
         "group_interval": "5m", "repeat_interval": "4h"}


def sent(g: Grouper, at: datetime, firing: list[AlertInstance] | None = None) -> list[Any]:
    active = [a.labels for a in (firing or []) if a.state == AlertState.FIRING]
    return [(n.receiver, n.kind, sorted((a["labels"]["alertname"], a["status"]) for a in n.alerts))
            for n in g.flush(at, active).notifications]


def test_group_wait_collects_an_incident_then_interval_and_repeat() -> None:
    g = grouper({"route": ROUTE})
    a, b = alert("FeatureDrift", feature="amount"), alert("AccuracyDrop")
    g.add(a, T0)
    assert sent(g, T0 + 10 * S) == []                       # waiting for the rest
    g.add(b, T0 + 20 * S)                                   # same group (model=fraud)
    assert sent(g, T0 + 30 * S) == [("team", "notification", [
        ("AccuracyDrop", "firing"), ("FeatureDrift", "firing")])]
    assert sent(g, T0 + 6 * 60 * S) == []                   # nothing new at the next interval
    g.add(replace(b, state="resolved", resolved_at=T0 + 7 * 60 * S), T0 + 7 * 60 * S)
    assert sent(g, T0 + 8 * 60 * S) == []                   # the group's next look is at 10:30
    assert sent(g, T0 + 11 * 60 * S) == [("team", "notification", [
        ("AccuracyDrop", "resolved"), ("FeatureDrift", "firing")])]
    assert sent(g, T0 + 4 * 3600 * S) == []                 # 3h49 since the last message
    assert sent(g, T0 + 4 * 3600 * S + 11 * 60 * S) == [("team", "notification", [
        ("FeatureDrift", "firing")])]                       # repeated after 4 h
    g.add(replace(a, state="resolved"), T0 + 5 * 3600 * S)
    assert sent(g, T0 + 5 * 3600 * S + 5 * 60 * S) == [("team", "notification", [
        ("FeatureDrift", "resolved")])]
    assert g.groups == {} and g.log == {}                   # the group ended


def test_an_escalated_severity_is_news_and_a_resolved_alert_never_told_is_not() -> None:
    g = grouper({"route": {**ROUTE, "group_wait": "0s"}})
    a = alert("LatencyP95High")
    g.add(a, T0)
    assert len(sent(g, T0)) == 1
    g.add(replace(a, severity=Severity.CRITICAL, labels={**a.labels, "severity": "critical"}),
          T0 + S)
    assert len(sent(g, T0 + 5 * 60 * S)) == 1               # warning -> critical is news
    quiet = alert("Quiet", model="intent")
    g.add(replace(quiet, state="resolved"), T0 + 6 * 60 * S)  # resolved before any group held it
    assert sent(g, T0 + 20 * 60 * S) == []


def test_routes_continue_and_one_group_per_route() -> None:
    g = grouper({"route": {**ROUTE, "group_wait": "0s", "routes": [
        {"matchers": ["severity=critical"], "receiver": "pager", "continue": True,
         "group_by": ["..."]},
        {"matchers": ["model=fraud"], "receiver": "team"}]}})
    g.add(alert("ModelDegraded", severity="critical"), T0)
    g.add(alert("FeatureDrift", feature="amount"), T0)
    got = sent(g, T0)
    assert ("pager", "notification", [("ModelDegraded", "firing")]) in got
    assert ("team", "notification", [("FeatureDrift", "firing"), ("ModelDegraded", "firing")]) \
        in got
    assert len(got) == 2


def test_silenced_and_inhibited_alerts_are_left_out() -> None:
    g = grouper({"route": {**ROUTE, "group_wait": "0s", "group_by": ["alertname"]},
                 "inhibit_rules": [{"source_matchers": ["severity=critical"],
                                    "target_matchers": ["severity=warning"],
                                    "equal": ["model"]}]})
    crit = alert("ModelDegraded", severity="critical")
    warn = alert("FeatureDrift", feature="amount")
    other = alert("FeatureDrift", model="intent", feature="length")
    silenced = replace(alert("LatencyP95High"), silenced=True)
    for a in (crit, warn, other, silenced):
        g.add(a, T0)
    got = sent(g, T0, [crit, warn, other, silenced])
    names = sorted(x for _, _, alerts in got for x, _ in alerts)
    assert names == ["FeatureDrift", "ModelDegraded"]       # intent's drift; fraud's inhibited
    drift = next(alerts for _, _, alerts in got if alerts[0][0] == "FeatureDrift")
    assert len(drift) == 1


def test_mute_and_active_time_intervals() -> None:
    g = grouper({"route": {**ROUTE, "group_wait": "0s", "routes": [
        {"matchers": ["model=fraud"], "receiver": "pager",
         "active_time_intervals": ["office"]}]},
        "time_intervals": [{"name": "office", "time_intervals": [
            {"weekdays": ["monday:friday"], "times": [{"start_time": "09:00",
                                                       "end_time": "17:00"}]}]}]})
    sunday = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    g.add(alert("FeatureDrift", feature="amount"), sunday)
    assert sent(g, sunday) == []                            # outside office hours: muted
    assert sent(g, T0) == [("pager", "notification", [("FeatureDrift", "firing")])]


def test_unacknowledged_alerts_escalate_once() -> None:
    g = grouper({"route": {**ROUTE, "group_wait": "0s",
                           "escalate": {"after": "15m", "receiver": "boss"}}})
    a, b = alert("ModelDegraded"), alert("FeatureDrift", feature="amount")
    g.add(a, T0)
    g.add(b, T0)
    assert [r for r, _, _ in sent(g, T0)] == ["team"]
    g.update(replace(b, acked_by="bob"))                    # b is being looked at
    assert sent(g, T0 + 10 * 60 * S) == []
    assert sent(g, T0 + 16 * 60 * S) == [("boss", "escalation", [("ModelDegraded", "firing")])]
    assert sent(g, T0 + 30 * 60 * S) == []                  # once
    assert g.escalated == {("id-ModelDegraded-fraud-", "route")}


def test_the_notification_log_stops_a_restart_from_telling_twice() -> None:
    first = grouper({"route": {**ROUTE, "group_wait": "0s"}})
    a = alert("ModelDegraded")
    first.add(a, T0)
    assert len(sent(first, T0)) == 1
    again = grouper({"route": {**ROUTE, "group_wait": "0s"}}, log=first.log)  # after a restart
    again.add(a, T0 + 60 * S)
    assert sent(again, T0 + 60 * S) == []
    again.add(replace(a, state="resolved"), T0 + 120 * S)
    assert sent(again, T0 + 6 * 60 * S) == [("team", "notification",
                                             [("ModelDegraded", "resolved")])]


@pytest.mark.parametrize(("bad", "message"), [
    ({"route": {"receiver": "nobody"}}, "no receiver named 'nobody'"),
    ({"route": {"receiver": "team", "routes": [{"matchers": ["x=~("]}]}}, "regular expression"),
    ({"route": {"receiver": "team", "mute_time_intervals": ["never"]}}, "no time interval"),
    ({"route": {"receiver": "team", "group_wait": "soon"}}, "invalid duration"),
    ({"route": {"receiver": "team"}, "time_intervals": [{"name": "x", "time_intervals": [
        {"times": [{"start_time": "18:00", "end_time": "09:00"}]}]}]}, "not after"),
    ({"route": {"receiver": "team"}, "time_intervals": [{"name": "x", "time_intervals": [
        {"location": "Mars/Olympus"}]}]}, "unknown time zone"),
])
def test_bad_settings_name_what_is_wrong(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grouper(bad)

"""Aggregation groups: when a route's alerts are told to its receiver, and what (pure).

As Alertmanager: each route collects its alerts into groups by its ``group_by`` labels. A new
group waits ``group_wait`` (so alerts of one incident arrive together) and is then told; after
that it is looked at every ``group_interval``: its receiver hears again when an alert started
firing (or changed severity), or an alert it was told about resolved, or ``repeat_interval``
passed with alerts still firing. Silenced and inhibited alerts are left out; a route inside a
mute interval says nothing. What each group last told its receiver (the firing fingerprints and
severities) is the *notification log*: kept in the store, it stops a restart from telling the
same thing twice.

Escalation: alerts of a route with ``escalate`` that are still firing and unacknowledged
``after`` they fired are told, once, to the escalation receiver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from modelmon._durations import parse_duration
from modelmon.alerts.state import AlertInstance, AlertState
from modelmon.notify.messages import Notification
from modelmon.notify.routing import Inhibitor, RouteOpts, RouteTree, TimeIntervals, group_key

__all__ = ["Flush", "Group", "Grouper", "LogEntry"]

#: ``(when, firing "fingerprint|severity" entries)``: what a group last told its receiver.
LogEntry = tuple[datetime, list[str]]


@dataclass
class Group:
    route: RouteOpts
    key: str
    labels: dict[str, str]
    next_flush: datetime
    alerts: dict[str, AlertInstance] = field(default_factory=dict)


@dataclass
class Flush:
    """What one look at the groups decided: messages to queue and the log to keep."""

    notifications: list[Notification] = field(default_factory=list)
    log: list[tuple[str, str, list[str]]] = field(default_factory=list)
    forget: list[tuple[str, str]] = field(default_factory=list)
    escalations: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.notifications or self.log or self.forget or self.escalations)


def _entry(a: AlertInstance) -> str:
    return f"{a.fingerprint}|{a.severity}"


class Grouper:
    """The groups of every route (see the module docstring)."""

    def __init__(self, tree: RouteTree, inhibitor: Inhibitor, intervals: TimeIntervals,
                 external_url: str, log: Mapping[tuple[str, str], LogEntry] | None = None,
                 escalated: Iterable[tuple[str, str]] = ()) -> None:
        self.tree = tree
        self.inhibitor = inhibitor
        self.intervals = intervals
        self.external_url = external_url
        self.groups: dict[str, Group] = {}
        self.log: dict[tuple[str, str], LogEntry] = dict(log or {})
        self.escalated: set[tuple[str, str]] = set(escalated)
        #: the earliest moment a group is due or an escalation may be (None: nothing waits)
        self.next_due: datetime | None = None

    # --- alerts in -------------------------------------------------------------------------------
    def add(self, alert: AlertInstance, now: datetime) -> None:
        """A firing alert joins (or updates) its groups; a resolved one updates the groups that
        hold it. Pending and backfilled alerts are not notified."""
        if alert.backfilled or alert.state == AlertState.PENDING:
            return
        for route in self.tree.match(alert.labels):
            labels = route.group_labels(alert.labels)
            key = group_key(route, labels)
            group = self.groups.get(key)
            if group is None:
                if alert.state != AlertState.FIRING:
                    continue  # resolved before any group held it: nothing was said
                group = self.groups[key] = Group(route, key, labels, now + route.group_wait)
            group.alerts[alert.fingerprint] = alert
            self._soon(group.next_flush)
            if route.escalate is not None and alert.fired_at is not None:
                self._soon(alert.fired_at + parse_duration(route.escalate.after))

    def _soon(self, at: datetime) -> None:
        if self.next_due is None or at < self.next_due:
            self.next_due = at

    def due(self, now: datetime) -> bool:
        """Whether :meth:`flush` may have anything to do at ``now``."""
        return self.next_due is not None and now >= self.next_due

    def update(self, alert: AlertInstance) -> None:
        """An alert changed without a state change (acknowledged, silenced)."""
        for group in self.groups.values():
            if alert.fingerprint in group.alerts:
                group.alerts[alert.fingerprint] = alert

    def routes_of(self, alert: AlertInstance) -> list[RouteOpts]:
        return self.tree.match(alert.labels)

    # --- decisions -------------------------------------------------------------------------------
    def flush(self, now: datetime, firing_now: Sequence[Mapping[str, str]]) -> Flush:
        """Look at the groups due and at escalations; what to send (see the module docstring).
        ``firing_now``: the labels of every alert firing (inhibition sources)."""
        out = Flush()
        self.next_due = None
        inhibited = self.inhibitor.prepare(firing_now)
        for key, group in list(self.groups.items()):
            self._escalate(group, now, inhibited, out)
            if now < group.next_flush:
                continue
            self._flush_group(group, now, inhibited, out)
            group.alerts = {fp: a for fp, a in group.alerts.items()
                            if a.state == AlertState.FIRING}
            if not group.alerts:
                del self.groups[key]
                if (group.route.receiver, key) in self.log:
                    del self.log[(group.route.receiver, key)]
                    out.forget.append((group.route.receiver, key))
            else:
                group.next_flush = now + group.route.group_interval
                self._soon(group.next_flush)
        return out

    @staticmethod
    def _notifiable(group: Group, inhibited: Callable[[Mapping[str, str]], bool]
                    ) -> list[AlertInstance]:
        return [a for a in group.alerts.values() if a.state == AlertState.FIRING
                and not a.silenced and not inhibited(a.labels)]

    def _flush_group(self, group: Group, now: datetime,
                     inhibited: Callable[[Mapping[str, str]], bool], out: Flush) -> None:
        route = group.route
        if self.intervals.muted(route, now):
            return
        firing = self._notifiable(group, inhibited)
        told = self.log.get((route.receiver, group.key))
        before = set(told[1]) if told else set()
        told_fps = {e.split("|", 1)[0] for e in before}
        resolved = [a for a in group.alerts.values() if a.state == AlertState.RESOLVED
                    and a.fingerprint in told_fps]
        current = sorted(_entry(a) for a in firing)
        news = bool(set(current) - before) or bool(resolved)
        repeat = bool(current) and told is not None and now - told[0] >= route.repeat_interval
        if not (news or repeat):
            return
        out.notifications.append(Notification.build(
            route.receiver, group.key, group.labels, [*firing, *resolved], self.external_url,
            now))
        self.log[(route.receiver, group.key)] = (now, current)
        out.log.append((route.receiver, group.key, current))

    def _escalate(self, group: Group, now: datetime,
                  inhibited: Callable[[Mapping[str, str]], bool], out: Flush) -> None:
        esc = group.route.escalate
        if esc is None:
            return
        after = parse_duration(esc.after)
        due = []
        for a in self._notifiable(group, inhibited):
            if a.acked_by is not None or a.fired_at is None or \
                    (a.alert_id, group.route.path) in self.escalated:
                continue
            if now - a.fired_at >= after:
                due.append(a)
            else:
                self._soon(a.fired_at + after)
        if not due:
            return
        out.notifications.append(Notification.build(
            esc.receiver, f"{group.key}/escalation", group.labels, due, self.external_url, now,
            kind="escalation", extra={"escalated_from": group.route.receiver,
                                      "after": esc.after}))
        for a in due:
            self.escalated.add((a.alert_id, group.route.path))
            out.escalations.append((a.alert_id, group.route.path))

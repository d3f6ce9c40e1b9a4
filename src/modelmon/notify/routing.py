"""Which receivers an alert goes to: the route tree, inhibition and time intervals (pure).

As Alertmanager: an alert enters the root route and goes down to the first child whose matchers
all match it (on to later siblings too when that child has ``continue: true``); the deepest
routes it reaches notify it. Each route groups its alerts by ``group_by`` labels (``...``: all
labels, one group per alert; none: one group for the route) and times notifications with
``group_wait``, ``group_interval`` and ``repeat_interval``, inherited from the parent when unset
(defaults 30s, 5m, 4h).

>>> from modelmon.notify.config import Route
>>> tree = RouteTree(Route.model_validate({
...     "receiver": "team", "group_by": ["alertname"],
...     "routes": [{"matchers": ["severity=critical"], "receiver": "pager", "continue": True},
...                {"matchers": ["team=risk"], "receiver": "risk"}]}))
>>> [r.receiver for r in tree.match({"alertname": "A", "severity": "critical", "team": "risk"})]
['pager', 'risk']
>>> [r.receiver for r in tree.match({"alertname": "A", "severity": "warning"})]
['team']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from modelmon.alerts.matchers import Matcher, matches_all
from modelmon.notify.config import Escalation, InhibitRule, Route, TimeInterval, duration
from modelmon.notify.timeintervals import CompiledRange, in_any, parse_range

__all__ = ["Inhibitor", "RouteOpts", "RouteTree", "TimeIntervals", "group_key"]

_DEFAULTS = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}


@dataclass(frozen=True)
class RouteOpts:
    """A route as it applies: its own and inherited settings."""

    path: str
    receiver: str
    group_by: tuple[str, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    mute: tuple[str, ...] = ()
    active: tuple[str, ...] = ()
    escalate: Escalation | None = None

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels an alert is grouped by on this route."""
        if "..." in self.group_by:
            return dict(labels)
        return {k: labels[k] for k in self.group_by if k in labels}


def group_key(route: RouteOpts, group_labels: Mapping[str, str]) -> str:
    """A group's identity: the route and its group labels (Alertmanager's shape)."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(group_labels.items()))
    return f"{route.path}:{{{inner}}}"


@dataclass(frozen=True)
class _Node:
    opts: RouteOpts
    matchers: tuple[Matcher, ...]
    cont: bool
    children: tuple[_Node, ...]


class RouteTree:
    """A compiled route tree (see the module docstring)."""

    def __init__(self, root: Route) -> None:
        self.root = self._compile(root, None, "route")

    def _compile(self, node: Route, parent: RouteOpts | None, path: str) -> _Node:
        def pick(name: str) -> timedelta:
            own = getattr(node, name)
            if own is not None:
                return duration(own)
            return getattr(parent, name) if parent is not None else duration(_DEFAULTS[name])

        receiver = node.receiver or (parent.receiver if parent else "")
        group_by = tuple(node.group_by) if node.group_by is not None else \
            (parent.group_by if parent else ())
        opts = RouteOpts(path, receiver, group_by, pick("group_wait"), pick("group_interval"),
                         pick("repeat_interval"), tuple(node.mute_time_intervals),
                         tuple(node.active_time_intervals), node.escalate)
        children = tuple(self._compile(c, opts, f"{path}.routes[{i}]")
                         for i, c in enumerate(node.routes))
        return _Node(opts, tuple(Matcher.parse(m) for m in node.matchers), node.continue_,
                     children)

    def match(self, labels: Mapping[str, str]) -> list[RouteOpts]:
        """The routes that notify an alert with these labels (at least the root)."""
        return self._match(self.root, labels) or [self.root.opts]

    def _match(self, node: _Node, labels: Mapping[str, str]) -> list[RouteOpts]:
        if not matches_all(node.matchers, labels):
            return []
        out: list[RouteOpts] = []
        for child in node.children:
            found = self._match(child, labels)
            if found:
                out += found
                if not child.cont:
                    break
        return out or [node.opts]

    def routes(self) -> list[RouteOpts]:
        """Every route of the tree, depth first."""
        out: list[RouteOpts] = []

        def walk(node: _Node) -> None:
            out.append(node.opts)
            for child in node.children:
                walk(child)

        walk(self.root)
        return out


class Inhibitor:
    """Inhibition rules over the alerts firing now."""

    def __init__(self, rules: Sequence[InhibitRule]) -> None:
        self.rules = [([Matcher.parse(m) for m in r.source_matchers],
                       [Matcher.parse(m) for m in r.target_matchers], tuple(r.equal))
                      for r in rules]

    def inhibited(self, labels: Mapping[str, str], firing: Iterable[Mapping[str, str]]) -> bool:
        """Whether an alert with ``labels`` is inhibited by one of the ``firing`` alerts (an
        alert never inhibits itself; one matching both sides of a rule is inhibited only by
        sources that do not)."""
        return self.prepare(firing)(labels)

    def prepare(self, firing: Iterable[Mapping[str, str]]) -> Callable[[Mapping[str, str]], bool]:
        """``inhibited`` for many alerts against the same firing ones: each rule's sources are
        found once (a flush of a hundred groups looks at every firing alert once, not once per
        alert)."""
        if not self.rules:
            return lambda labels: False
        firing = list(firing)
        prepared = [(tgt_m, src_m, equal, [dict(f) for f in firing if matches_all(src_m, f)])
                    for src_m, tgt_m, equal in self.rules]

        def check(labels: Mapping[str, str]) -> bool:
            own = dict(labels)
            for tgt_m, src_m, equal, sources in prepared:
                if not sources or not matches_all(tgt_m, own):
                    continue
                both = matches_all(src_m, own)
                for s in sources:
                    if s == own or (both and matches_all(tgt_m, s)):
                        continue
                    if all(s.get(k, "") == own.get(k, "") for k in equal):
                        return True
            return False

        return check


class TimeIntervals:
    """Named time intervals, compiled."""

    def __init__(self, intervals: Sequence[TimeInterval]) -> None:
        self.by_name: dict[str, list[CompiledRange]] = {
            t.name: [parse_range(r) for r in t.time_intervals] for t in intervals}

    def muted(self, route: RouteOpts, at: datetime) -> bool:
        """A route is muted inside any of its mute intervals or outside all its active ones."""
        if any(in_any(self.by_name[n], at) for n in route.mute):
            return True
        return bool(route.active) and not any(in_any(self.by_name[n], at) for n in route.active)

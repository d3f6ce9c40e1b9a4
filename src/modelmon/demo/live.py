"""The demo's live terminal table (each model's status, serving version, headline numbers, top
reasons and active alerts) and its feed (a line when an alert fires or resolves, or an action
such as fraud's rollback runs)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from modelmon.actions.record import ActionState
from modelmon.alerts.state import ACTIVE, AlertInstance, AlertState
from modelmon.store.results import ALL
from modelmon.vocabulary import Status

_STYLE = {Status.HEALTHY: "green", Status.WARNING: "yellow", Status.DEGRADED: "bold red",
          Status.NO_DATA: "dim"}
_HEADLINE = {"fraud": "accuracy", "intent": "accuracy", "price": "mae"}


def _latest(store: Any, model: str, window: str) -> dict[str, float]:
    pts = store.latest_metric_points(model, window_size=window).to_pylist()
    return {p["metric"]: p["value"] for p in pts if p["version"] == ALL and p["segment"] == ALL
            and p["value"] is not None}


def render(run: Any) -> Table:
    store = run.server.state.store
    window = run.options.window
    table = Table(title=f"modelmon demo — {run.elapsed:.0f} s ({run.phase}) — {run.url}",
                  expand=True)
    active: dict[str, list[AlertInstance]] = {}
    for a in store.alerts.list_alerts(state=list(ACTIVE), limit=200):
        active.setdefault(a.model or "", []).append(a)
    for col in ("model", "status", "version", "quality", "latency p95", "drift", "reasons",
                "alerts"):
        table.add_column(col, overflow="fold")
    for model in ("fraud", "intent", "price"):
        st = store.get_status(model)
        status = st.status if st is not None else Status.NO_DATA
        latest = _latest(store, model, window)
        metric = _HEADLINE[model]
        quality = f"{metric} {latest[metric]:.3g}" if metric in latest else "-"
        lat = latest.get("latency_p95_seconds")
        drift = latest.get("drift_share")
        reasons = "\n".join(r["message"] for r in (st.reasons if st else [])[:4]) or "-"
        alerts = "\n".join(_alert_cell(a) for a in active.get(model, [])[:5]) or "-"
        table.add_row(model, f"[{_STYLE.get(status, '')}]{status}[/]",
                      version_cell(store.list_versions(model)), quality,
                      f"{lat * 1000:.0f} ms" if lat is not None else "-",
                      f"{drift * 100:.0f} %" if drift is not None else "-", reasons, alerts)
    return table


def version_cell(versions: list[Any]) -> str:
    """The version serving (the newest active one) and those rolled back:
    ``"v1 (v2 rolled back)"``."""
    active = [v.version for v in versions if v.stage == "active"]
    if not active:
        return "-"
    rolled = [v.version for v in versions if v.stage == "rolled_back"]
    return active[-1] + (f" [yellow]({', '.join(rolled)} rolled back)[/]" if rolled else "")


def _alert_name(a: AlertInstance) -> str:
    detail = ",".join(f"{k}={v}" for k, v in a.labels.items() if k not in _MODEL_LABELS)
    return f"{a.rule}{{{detail}}}" if detail else a.rule


def _alert_cell(a: AlertInstance) -> str:
    return f"{_alert_name(a)} ({a.severity}, {a.state})"


_MODEL_LABELS = frozenset({"alertname", "model", "task", "owner", "severity"})


class AlertFeed:
    """Lines for alerts that fired, changed severity or resolved since the last call
    (backfilled ones skipped)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._seen: dict[str, tuple[str, str]] = {}

    def new_lines(self) -> list[str]:
        lines = []
        for a in reversed(self._store.alerts.list_alerts(limit=200)):
            key = (a.state, str(a.severity))  # an escalation is printed again
            if a.backfilled or a.state == AlertState.PENDING or self._seen.get(a.alert_id) == key:
                continue
            self._seen[a.alert_id] = key
            when = (a.resolved_at if a.state == AlertState.RESOLVED else a.fired_at) or a.started_at
            word = "[bold red]FIRING[/]  " if a.state == AlertState.FIRING else "[green]RESOLVED[/]"
            lines.append(f"{when:%H:%M:%S} {word} {a.severity:<8} {_alert_name(a)}  "
                         f"{a.annotations.get('summary', '')}")
        return lines


class ActionFeed:
    """Lines for actions that ended (or wait for approval) since the last call:
    ``ROLLBACK fraud v2 -> v1 (succeeded; ModelDegraded critical)``."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._seen: dict[str, str] = {}

    def new_lines(self) -> list[str]:
        lines = []
        for a in reversed(self._store.actions.list_actions(limit=100)):
            if a.state in (ActionState.RUNNING, ActionState.APPROVED) or \
                    self._seen.get(a.action_id) == a.state:
                continue
            self._seen[a.action_id] = a.state
            style = "green" if a.state == ActionState.SUCCEEDED else (
                "bold red" if a.state == ActionState.FAILED else "yellow")
            if a.type == "rollback" and a.details.get("from_version"):
                what = f"{a.model} {a.details['from_version']} -> {a.details['to_version']}"
                word = "ROLLBACK"
            else:
                what, word = f"{a.action} {a.model or ''}", "ACTION  "
            why = a.error or a.note
            lines.append(f"{a.updated_at:%H:%M:%S} [{style}]{word}[/] {what} ({a.state}; "
                         f"{a.rule} {a.severity}){f'  {why}' if why else ''}")
        return lines


def _feeds(run: Any) -> list[Any]:
    store = run.server.state.store
    return [AlertFeed(store), ActionFeed(store)]


def live_table(run: Any, console: Console) -> None:
    deadline = None if run.options.duration is None else time.monotonic() + run.options.duration
    feeds = _feeds(run)
    with Live(render(run), console=console, refresh_per_second=1) as live:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(2)
            for feed in feeds:
                for line in feed.new_lines():
                    live.console.print(line, highlight=False, soft_wrap=True)
            live.update(render(run))


def alert_lines(run: Any, console: Console) -> None:
    """Without the table: print each alert as it fires and resolves, and each action."""
    deadline = None if run.options.duration is None else time.monotonic() + run.options.duration
    feeds = _feeds(run)
    while deadline is None or time.monotonic() < deadline:
        time.sleep(1)
        for feed in feeds:
            for line in feed.new_lines():
                console.print(line, highlight=False, soft_wrap=True)

"""The demo's live terminal table: each model's status, headline numbers and top reasons."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

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
    phase = "after the change" if run.changed else f"change in {run.options.change_after - run.elapsed:.0f} s"
    table = Table(title=f"modelmon demo — {run.elapsed:.0f} s ({phase}) — {run.url}",
                  expand=True)
    for col in ("model", "status", "quality", "latency p95", "drift", "reasons"):
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
        table.add_row(model, f"[{_STYLE.get(status, '')}]{status}[/]", quality,
                      f"{lat * 1000:.0f} ms" if lat is not None else "-",
                      f"{drift * 100:.0f} %" if drift is not None else "-", reasons)
    return table


def live_table(run: Any, console: Console) -> None:
    deadline = None if run.options.duration is None else time.monotonic() + run.options.duration
    with Live(render(run), console=console, refresh_per_second=1) as live:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(2)
            live.update(render(run))

"""Backtest reports: a text table, JSON, and a self-contained HTML page.

The page draws each run's equity curve and drawdown with Plotly, whose JavaScript is embedded
in the file (no CDN): it opens offline. Rendering is apart from computation: these functions
only read results. Plotly and Jinja2 are imported when a page is written, so
:mod:`modelmon.backtest` itself needs neither.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelmon.backtest.compare import Comparison, WalkForwardResult
from modelmon.backtest.engine import BacktestResult

__all__ = ["html_page", "summary_rows", "to_json", "write_report"]

#: Columns of the summary table: (field, heading, format).
COLUMNS = (
    ("total_return", "total", "pct"), ("annual_return", "annual", "pct"),
    ("annual_volatility", "vol", "pct"), ("sharpe", "Sharpe", "num"),
    ("sharpe_ci", "Sharpe CI", "text"), ("sortino", "Sortino", "num"),
    ("calmar", "Calmar", "num"), ("max_drawdown", "max DD", "pct"),
    ("hit_rate", "hit rate", "pct"), ("trades", "trades", "int"),
    ("avg_trade_return", "avg trade", "pct"), ("turnover", "turnover/yr", "num"),
    ("exposure", "exposure", "pct"), ("information_ratio", "IR", "num"),
    ("vs_baseline", "ΔSharpe vs base (CI, p)", "text"),
)


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "text":
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if kind == "pct":
        return f"{100 * value:.2f} %"
    if kind == "int":
        return str(int(value))
    return f"{value:.2f}"


def summary_rows(comparison: Comparison) -> list[dict[str, str]]:
    """The comparison's table as formatted strings, one dict per run."""
    rows = []
    for row in comparison.table():
        row = dict(row)
        row["sharpe_ci"] = (f"[{row['sharpe_low']:.2f}, {row['sharpe_high']:.2f}]"
                            if not math.isnan(row["sharpe_low"]) else "–")
        if row["sharpe_vs_baseline"] is None:
            row["vs_baseline"] = "baseline"
        else:
            row["vs_baseline"] = (f"{row['sharpe_vs_baseline']:+.2f} "
                                  f"[{row['sharpe_vs_baseline_low']:+.2f}, "
                                  f"{row['sharpe_vs_baseline_high']:+.2f}], "
                                  f"p={row['sharpe_vs_baseline_p']:.3f}")
        rows.append({"name": row["name"],
                     **{head: _fmt(row[key], kind) for key, head, kind in COLUMNS}})
    return rows


def _clean(obj: Any) -> Any:
    """NaN and infinities become null: JSON has no such numbers."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def to_json(comparison: Comparison, walk_forward: Sequence[WalkForwardResult] = (),
            *, trades: bool = False) -> str:
    """The comparison (and walk-forward results) as JSON, NaN written as null."""
    body = comparison.to_dict()
    if trades:
        for run, res in zip(body["runs"], comparison.results, strict=True):
            run["trades"] = res.trades.to_dict()
    if walk_forward:
        body["walk_forward"] = [wf.to_dict() for wf in walk_forward]
    return json.dumps(_clean(body), indent=2, default=str)


def _figure(results: Sequence[BacktestResult]) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35],
                        vertical_spacing=0.05, subplot_titles=("Equity", "Drawdown"))
    for res in results:
        x = [str(d) for d in res.dates]
        fig.add_trace(go.Scatter(x=x, y=res.equity.tolist(), name=res.name, mode="lines",
                                 legendgroup=res.name), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=(-res.drawdown).tolist(), name=res.name, mode="lines",
                                 legendgroup=res.name, showlegend=False, fill="tozeroy"),
                      row=2, col=1)
    first = results[0] if results else None
    if first is not None and first.benchmark is not None:
        import numpy as np

        bench = first.capital * np.cumprod(1.0 + first.benchmark)
        fig.add_trace(go.Scatter(x=[str(d) for d in first.dates], y=bench.tolist(),
                                 name="benchmark", mode="lines",
                                 line={"dash": "dot", "color": "grey"}), row=1, col=1)
    fig.update_yaxes(tickformat=".0%", row=2, col=1)
    fig.update_layout(height=720, margin={"l": 60, "r": 20, "t": 40, "b": 40},
                      legend={"orientation": "h"}, template="plotly_white")
    return fig


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 1rem 0; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.note { color: #666; font-size: 0.85rem; max-width: 60rem; }
</style></head><body>
<h1>{{ title }}</h1>
<p class="note">{{ note }}</p>
<table><thead><tr><th>run</th>{% for h in headings %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr><td>{{ row.name }}</td>{% for h in headings %}<td>{{ row[h] }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
{{ figure | safe }}
{% for wf in walk_forward %}
<h2>Walk-forward: {{ wf.name }}</h2>
<table><thead><tr><th>fold</th><th>test from</th><th>to</th><th>chosen</th><th>Sharpe (test)</th><th>return (test)</th></tr></thead>
<tbody>{% for f in wf.folds %}<tr><td>{{ f.fold }}</td><td>{{ f.first }}</td><td>{{ f.last }}</td><td>{{ f.chosen }}</td><td>{{ f.sharpe }}</td><td>{{ f.ret }}</td></tr>{% endfor %}</tbody></table>
{% endfor %}
</body></html>
"""


def html_page(comparison: Comparison, walk_forward: Sequence[WalkForwardResult] = (),
              *, title: str = "Backtest", walk_forward_names: Sequence[str] = ()) -> str:
    """A standalone HTML page: the summary table, equity curves and drawdowns (Plotly's
    JavaScript inline, so the file works offline) and the walk-forward folds."""
    import jinja2

    rows = summary_rows(comparison)
    headings = [head for _, head, _ in COLUMNS]
    figure = _figure(comparison.results).to_html(full_html=False, include_plotlyjs=True)
    first = comparison.results[0]
    q = first.stats.periods_per_year
    note = (f"{len(first.dates)} periods from {first.dates[0] if len(first.dates) else '–'} to "
            f"{first.dates[-1] if len(first.dates) else '–'}; annualised with {q:g} periods a "
            f"year, risk-free rate {100 * first.stats.risk_free_rate:g} % a year. Sharpe "
            "intervals: circular block bootstrap, "
            f"{next(iter(comparison.sharpe.values())).n_resamples} resamples, "
            f"{100 * next(iter(comparison.sharpe.values())).level:g} %. Max drawdown counts the "
            "starting capital as a peak.")
    wfs = []
    for i, wf in enumerate(walk_forward):
        name = walk_forward_names[i] if i < len(walk_forward_names) else f"#{i + 1}"
        wfs.append({"name": name, "folds": [
            {"fold": f["fold"], "first": f["test_first_date"], "last": f["test_last_date"],
             "chosen": f["chosen"], "sharpe": _fmt(f["test_stats"]["sharpe"], "num"),
             "ret": _fmt(f["test_stats"]["total_return"], "pct")} for f in wf.folds]})
    env = jinja2.Environment(autoescape=True)
    return env.from_string(_PAGE).render(title=title, note=note, headings=headings, rows=rows,
                                         figure=figure, walk_forward=wfs)


def write_report(comparison: Comparison, directory: str | Path, *,
                 walk_forward: Sequence[WalkForwardResult] = (),
                 walk_forward_names: Sequence[str] = (), title: str = "Backtest",
                 stem: str = "backtest") -> dict[str, Path]:
    """Write ``<stem>.json``, ``<stem>.html`` and ``<stem>_trades.csv`` into ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / f"{stem}.json", "html": out / f"{stem}.html",
             "trades": out / f"{stem}_trades.csv"}
    paths["json"].write_text(to_json(comparison, walk_forward), encoding="utf-8")
    paths["html"].write_text(html_page(comparison, walk_forward, title=title,
                                       walk_forward_names=walk_forward_names),
                             encoding="utf-8")
    lines = ["run,symbol,entry_date,exit_date,direction,invested,pnl,return"]
    for res in comparison.results:
        t = res.trades
        for i in range(len(t)):
            lines.append(f"{res.name},{t.symbol[i]},{t.entry_date[i]},{t.exit_date[i]},"
                         f"{t.direction[i]},{t.invested[i]:.6f},{t.pnl[i]:.6f},"
                         f"{t.returns[i]:.8f}")
    paths["trades"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths

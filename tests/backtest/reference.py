"""A plain pandas backtest loop, written for clarity and nothing else: the reference the
compiled engine must equal (same rules, see ``modelmon.backtest.engine.backtest``)."""

from __future__ import annotations

import math

import pandas as pd


def reference_backtest(
    signals: pd.DataFrame,
    returns: pd.DataFrame,
    *,
    sizing: tuple[str, float],
    capital: float,
    rate: float = 0.0,
    fixed: float = 0.0,
    max_position: float = math.inf,
    max_gross: float = math.inf,
    borrow: bool = False,
    rebalance: str = "on_change",
) -> tuple[pd.Series, pd.DataFrame]:
    """Equity at the end of each date, and the positions held after each date's trades."""
    kind, size = sizing
    symbols = list(signals.columns)
    pos = dict.fromkeys(symbols, 0.0)
    in_force = dict.fromkeys(symbols, math.nan)
    cash = capital
    ruined = False
    equity, held = [], []
    for date in signals.index:
        if ruined:
            equity.append(0.0)
            held.append(dict.fromkeys(symbols, 0.0))
            continue
        before = dict(in_force)
        for s in symbols:
            if not math.isnan(signals.at[date, s]):
                in_force[s] = signals.at[date, s]
        active = sum(1 for s in symbols if not math.isnan(in_force[s]) and in_force[s] != 0)
        value = cash + sum(pos.values())
        targets = {}
        for s in symbols:
            sig = in_force[s]
            if math.isnan(sig):
                continue
            previous = 0.0 if math.isnan(before[s]) else before[s]
            if rebalance == "on_change" and previous == sig:
                continue
            if kind == "fraction":
                target = sig * size * value
            elif kind == "equal":
                target = sig * size / active * value if active else 0.0
            else:
                target = sig * size
            limit = max_position * value
            target = max(-limit, min(limit, target))
            if math.isnan(returns.at[date, s]):  # no price: reduce or close only
                if pos[s] == 0 or target * pos[s] <= 0:
                    target = 0.0
                elif abs(target) > abs(pos[s]):
                    target = pos[s]
            targets[s] = target
        gross_held = sum(abs(pos[s]) for s in symbols if s not in targets)
        gross_new = sum(abs(v) for v in targets.values())
        if gross_new > 0 and gross_held + gross_new > max_gross * value:
            f = max(0.0, (max_gross * value - gross_held) / gross_new)
            targets = {s: v * f for s, v in targets.items()}
        trades = {s: targets[s] - pos[s] for s in targets}
        buys = {s: d for s, d in trades.items() if d > 0}
        sells = {s: d for s, d in trades.items() if d < 0}
        if not borrow and buys:
            available = cash - sum(sells.values()) * (1 - rate) - fixed * len(sells)
            need = sum(buys.values()) * (1 + rate) + fixed * len(buys)
            if need > available:
                f = max(0.0, (available - fixed * len(buys)) / (sum(buys.values()) * (1 + rate)))
                for s in buys:
                    trades[s] *= f
        for s, d in trades.items():
            if d != 0:
                pos[s] += d
                cash -= d + rate * abs(d) + fixed
        held.append(dict(pos))
        for s in symbols:
            r = returns.at[date, s]
            if not math.isnan(r):
                pos[s] *= 1 + r
        value = cash + sum(pos.values())
        if value <= 0:
            ruined, value, cash = True, 0.0, 0.0
            pos = dict.fromkeys(symbols, 0.0)
        equity.append(value)
    return pd.Series(equity, index=signals.index), pd.DataFrame(held, index=signals.index)

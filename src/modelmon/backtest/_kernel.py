"""The compiled per-date portfolio loop and the trade ledger built from its output.

The rules of one date ``t`` (documented for users in :func:`modelmon.backtest.backtest`):

1. ``E`` = cash + positions, the equity before trading (positions valued at the end of t-1).
2. Each ordered symbol gets its target: ``order * E`` (weights) or ``order`` (amounts),
   clipped to ``max_position * E``. A symbol without a return at ``t`` (no price) may only be
   reduced or closed, at its last value. Symbols without an order keep their position.
3. If the book's gross exposure would exceed ``max_gross * E``, the ordered targets are scaled
   down together (positions without an order stay as they are).
4. Sells (and short sales) execute first; without borrowing, buys are then scaled down together
   so that cash after costs stays >= 0.
5. Costs: ``rate * |trade|`` (fees + slippage) plus ``fixed_fee`` per non-zero trade, from cash.
6. Positions earn the period's returns; the equity at the end of ``t`` is cash + positions. An
   equity at or below 0 ends the run: the book is closed and the equity stays 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import kernel


@kernel
def run_portfolio(
    orders: NDArray[np.float64],
    is_amount: bool,
    returns: NDArray[np.float64],
    capital: float,
    rate: float,
    fixed_fee: float,
    max_position: float,
    max_gross: float,
    borrow: bool,
    equity: NDArray[np.float64],
    cash_out: NDArray[np.float64],
    held: NDArray[np.float64],
    flows: NDArray[np.float64],
    costs: NDArray[np.float64],
) -> bool:
    n_dates, n_symbols = orders.shape
    pos = np.zeros(n_symbols)
    target = np.zeros(n_symbols)
    ordered = np.zeros(n_symbols, dtype=np.bool_)
    delta = np.zeros(n_symbols)
    cash = capital
    ruined = False
    for t in range(n_dates):
        if ruined:
            equity[t] = 0.0
            cash_out[t] = 0.0
            for s in range(n_symbols):
                held[t, s] = 0.0
                flows[t, s] = 0.0
                costs[t, s] = 0.0
            continue
        eq = cash
        for s in range(n_symbols):
            eq += pos[s]
        limit = max_position * eq
        gross_held = 0.0
        gross_ordered = 0.0
        for s in range(n_symbols):
            o = orders[t, s]
            cur = pos[s]
            if np.isnan(o):
                ordered[s] = False
                target[s] = cur
                gross_held += abs(cur)
                continue
            tg = o if is_amount else o * eq
            if tg > limit:
                tg = limit
            elif tg < -limit:
                tg = -limit
            if np.isnan(returns[t, s]):  # no price this period: only reduce or close
                if cur == 0.0 or tg * cur <= 0.0:
                    tg = 0.0
                elif abs(tg) > abs(cur):
                    tg = cur
            ordered[s] = True
            target[s] = tg
            gross_ordered += abs(tg)
        room = max_gross * eq
        if gross_ordered > 0.0 and gross_held + gross_ordered > room:
            f = (room - gross_held) / gross_ordered
            if f < 0.0:
                f = 0.0
            for s in range(n_symbols):
                if ordered[s]:
                    target[s] *= f
        sells = 0.0
        buys = 0.0
        n_sells = 0
        n_buys = 0
        for s in range(n_symbols):
            d = target[s] - pos[s] if ordered[s] else 0.0
            delta[s] = d
            if d < 0.0:
                sells -= d
                n_sells += 1
            elif d > 0.0:
                buys += d
                n_buys += 1
        if not borrow and buys > 0.0:
            available = cash + sells * (1.0 - rate) - fixed_fee * n_sells
            need = buys * (1.0 + rate) + fixed_fee * n_buys
            if need > available:
                f = (available - fixed_fee * n_buys) / (buys * (1.0 + rate))
                if f <= 0.0:
                    f = 0.0
                for s in range(n_symbols):
                    if delta[s] > 0.0:
                        delta[s] *= f
        for s in range(n_symbols):
            d = delta[s]
            c = 0.0
            if d != 0.0:
                c = rate * abs(d) + fixed_fee
                pos[s] += d
                cash -= d + c
            held[t, s] = pos[s]
            flows[t, s] = d
            costs[t, s] = c
        eq = cash
        for s in range(n_symbols):
            r = returns[t, s]
            if not np.isnan(r):
                pos[s] *= 1.0 + r
            eq += pos[s]
        if eq <= 0.0:
            ruined = True
            eq = 0.0
            cash = 0.0
            for s in range(n_symbols):
                pos[s] = 0.0
        equity[t] = eq
        cash_out[t] = cash
    return ruined


@kernel
def count_trades(held: NDArray[np.float64], flows: NDArray[np.float64]) -> int:
    n_dates, n_symbols = held.shape
    n = 0
    for s in range(n_symbols):
        for t in range(n_dates):
            h = held[t, s]
            before = h - flows[t, s]
            if h != 0.0 and (before == 0.0 or (h > 0.0) != (before > 0.0)):
                n += 1
    return n


@kernel
def fill_trades(
    held: NDArray[np.float64],
    flows: NDArray[np.float64],
    costs: NDArray[np.float64],
    returns: NDArray[np.float64],
    symbol: NDArray[np.int64],
    entry: NDArray[np.int64],
    exit_: NDArray[np.int64],
    direction: NDArray[np.int64],
    invested: NDArray[np.float64],
    pnl: NDArray[np.float64],
) -> None:
    """One row per trade: a run of one symbol's position with an unchanged sign. A flip closes
    one trade and opens the next; the cost of that date is split by the two notionals."""
    n_dates, n_symbols = held.shape
    k = -1
    for s in range(n_symbols):
        is_open = False
        for t in range(n_dates):
            h = held[t, s]
            d = flows[t, s]
            before = h - d
            c = costs[t, s]
            # closed: flat now, wiped out by a -100 % return (before == 0), or flipped
            if is_open and (h == 0.0 or before == 0.0 or (h > 0.0) != (before > 0.0)):
                closing = abs(before)
                opening = abs(h)
                share = c * closing / (closing + opening) if closing + opening > 0.0 else c
                pnl[k] -= share
                c -= share
                exit_[k] = t
                is_open = False
            if h != 0.0:
                if not is_open:
                    k += 1
                    symbol[k] = s
                    entry[k] = t
                    exit_[k] = -1
                    direction[k] = 1 if h > 0.0 else -1
                    invested[k] = abs(h)
                    pnl[k] = -c
                    is_open = True
                else:
                    pnl[k] -= c
                    if d * direction[k] > 0.0:
                        invested[k] += abs(d)
                r = returns[t, s]
                if not np.isnan(r):
                    pnl[k] += h * r

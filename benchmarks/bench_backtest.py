"""Backtest: 10 years of daily data for 500 symbols through ``modelmon.backtest.backtest``,
beside vectorbt on the same signals.

Data: 2,520 dates x 500 symbols of simulated returns and a model's noisy predictions of them.
Cases (each timed end to end — signals, sizing, the compiled portfolio loop, the trade ledger
and every statistic — best of ``repeat`` after one warm-up call that also compiles):

* top-50 long / bottom-50 short, equal weight, rebalanced every day, 5 bp fees + 2 bp slippage;
* threshold (long above +0.5 %, short below -0.5 %), orders on signal changes, 10 % of equity
  per position, gross exposure <= 150 %, no borrowing, 5 bp fees + 1 per trade;
* the first case with a 2,000-resample bootstrap of the Sharpe ratio.

vectorbt (``Portfolio.from_orders`` with target percentages, cash shared across the 500
columns, the same fees) runs the first case's daily target weights in its own virtual
environment, ``benchmarks/.venv-vectorbt`` (created on first use; never a dependency of
modelmon), on prices compounded from the same returns (``call_seq="auto"``: sells first).
its final value is shown beside ours with the relative difference (an agreement check that
prints, never asserts). Timings never fail anything.

Run: ``.venv/bin/python -m benchmarks.bench_backtest [--quick] [--no-peers]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from benchmarks._common import best_of, print_table
from modelmon import backtest as bt

BENCH = Path(__file__).resolve().parent
VBT_ENV = BENCH / ".venv-vectorbt"
VBT_PINS = ("vectorbt==1.2.0",)


def make_panel(n_dates: int, n_symbols: int, seed: int = 0) -> bt.Panel:
    rng = np.random.default_rng(seed)
    truth = rng.normal(0.0002, 0.02, (n_dates, n_symbols))
    pred = 0.15 * truth + rng.normal(0.0, 0.02, truth.shape)
    return bt.Panel(pred, truth, benchmark=truth.mean(axis=1))


def _vectorbt_python() -> Path | None:
    py = VBT_ENV / "bin" / "python"
    if py.exists():
        return py
    print("[backtest] creating benchmarks/.venv-vectorbt (pip install vectorbt) ...",
          file=sys.stderr, flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VBT_ENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *VBT_PINS], check=True,
                       stdout=sys.stderr)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"[backtest] vectorbt could not be installed: {exc}", file=sys.stderr)
        return None
    return py


_VBT_RUNNER = textwrap.dedent("""
    import json, sys, time, warnings
    import numpy as np
    warnings.simplefilter("ignore")
    import vectorbt as vbt
    d = np.load(sys.argv[1])
    returns, weights = d["returns"], d["weights"]
    close = np.vstack([np.ones((1, returns.shape[1])), np.cumprod(1 + returns, axis=0)])
    size = np.vstack([weights, np.full((1, weights.shape[1]), np.nan)])
    def run():
        return vbt.Portfolio.from_orders(close, size=size, size_type="targetpercent",
                                         fees=float(sys.argv[2]), group_by=True,
                                         cash_sharing=True, init_cash=1e6,
                                         call_seq="auto", freq="1D")
    pf = run()  # compiles
    best = float("inf")
    for _ in range(int(sys.argv[3])):
        t = time.perf_counter(); pf = run(); v = pf.value().to_numpy(); best = min(best, time.perf_counter() - t)
    print(json.dumps({"seconds": best, "final": float(v[-1]), "version": vbt.__version__}))
""")


def run_vectorbt(panel: bt.Panel, weights: np.ndarray, fees: float,
                 repeat: int) -> dict[str, float | str] | None:
    py = _vectorbt_python()
    if py is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "case.npz"
        np.savez(data, returns=panel.returns, weights=weights)
        script = Path(tmp) / "run_vbt.py"
        script.write_text(_VBT_RUNNER)
        done = subprocess.run([str(py), str(script), str(data), str(fees), str(repeat)],
                              capture_output=True, text=True)
    if done.returncode != 0:
        print(f"[backtest] vectorbt failed: {done.stderr[-2000:]}", file=sys.stderr)
        return None
    out: dict[str, float | str] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)
    n_dates, n_symbols = (504, 100) if args.quick else (2520, 500)
    repeat = 3 if args.quick else 5
    panel = make_panel(n_dates, n_symbols)
    topk = bt.TopK(k=n_symbols // 10, long_short=True)
    daily = {"costs": bt.Costs(fees="5bp", slippage="2bp"), "rebalance": "every_period"}
    thresh = bt.Threshold(long_above="0.5%", short_below="-0.5%")
    limited = {"sizing": bt.FractionOfEquity("10%"), "costs": bt.Costs(fees="5bp", fixed=1.0),
               "limits": bt.Limits(max_gross="150%"), "rebalance": "on_change"}
    rows = []
    cases = [
        ("top-k long/short, daily rebalance", lambda: bt.backtest(panel, topk, **daily)),
        ("threshold, on change, 10 %/position, gross <= 150 %",
         lambda: bt.backtest(panel, thresh, **limited)),
        ("top-k + Sharpe bootstrap (2,000)",
         lambda: bt.bootstrap_sharpe(bt.backtest(panel, topk, **daily).returns)),
    ]
    results = {}
    for name, fn in cases:
        results[name] = fn()  # warm-up (and compile on a fresh machine)
        seconds = best_of(fn, repeat)
        row = {"case": name, "dates x symbols": f"{n_dates:,} x {n_symbols}",
               "modelmon s": seconds}
        if isinstance(results[name], bt.BacktestResult):
            res = results[name]
            row.update({"trades": len(res.trades), "final equity": float(res.equity[-1]),
                        "Sharpe": res.stats.sharpe})
        rows.append(row)
    if not args.no_peers:
        res = results[cases[0][0]]
        weights = np.asarray(topk.signals(panel), dtype=float)
        active = np.maximum((weights != 0).sum(axis=1, keepdims=True), 1)
        weights = weights / active
        vbt_out = run_vectorbt(panel, weights, 0.0007, repeat)
        if vbt_out is None:
            rows[0]["vectorbt s"] = float("nan")
            rows[0]["vectorbt note"] = "could not install or run"
        else:
            rows[0]["vectorbt s"] = float(vbt_out["seconds"])
            rows[0]["vectorbt final equity"] = float(vbt_out["final"])
            rows[0]["rel. difference"] = (
                f"{abs(float(vbt_out['final']) / float(res.equity[-1]) - 1):.1e}")
            rows[0]["vectorbt"] = str(vbt_out["version"])
    print_table("Backtest: 10 years x 500 symbols, daily (end to end)", rows)


if __name__ == "__main__":
    main()

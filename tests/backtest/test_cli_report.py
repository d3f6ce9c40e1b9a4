"""``modelmon backtest`` on Parquet and CSV: the table, JSON, trades and an offline HTML page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from modelmon.cli import app


def _data(path: Path) -> None:
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2021-01-01", periods=120)
    truth = rng.normal(0.0, 0.01, (120, 6))
    rows = []
    for version, noise in (("v1", 0.03), ("v2", 0.005)):
        pred = truth + rng.normal(0, noise, truth.shape)
        for i, d in enumerate(dates):
            for j in range(6):
                rows.append((d, f"S{j}", version, pred[i, j], truth[i, j], truth[i].mean()))
    frame = pd.DataFrame(rows, columns=["date", "symbol", "version", "prediction", "realised",
                                        "bench"])
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)


def test_backtest_command_compares_versions(tmp_path: Path) -> None:
    data = tmp_path / "preds.parquet"
    _data(data)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, [
        "backtest", str(data), "-s", "top_k:k=2", "-s", "threshold:long_above=0.5%",
        "--by", "version", "--fees", "5bp", "--benchmark", "bench", "--train", "40",
        "--test", "40", "--resamples", "200", "--out", str(out)])
    assert result.exit_code == 0, result.output
    body = json.loads((out / "backtest.json").read_text())
    names = [row["name"] for row in body["table"]]
    assert names == ["v1 · top_k:k=2", "v1 · threshold:long_above=0.5%", "v2 · top_k:k=2",
                     "v2 · threshold:long_above=0.5%"]
    assert body["differences"]["v2 · top_k:k=2"]["excludes_zero"]
    assert len(body["walk_forward"]) == 2
    page = (out / "backtest.html").read_text()
    assert "Plotly.newPlot" in page and "<script src=" not in page  # plotly.js is inline
    assert re.search(r"<th>max DD</th>", page)
    trades = (out / "backtest_trades.csv").read_text().splitlines()
    assert trades[0].startswith("run,symbol,entry_date") and len(trades) > 10


def test_backtest_command_on_csv_and_errors(tmp_path: Path) -> None:
    data = tmp_path / "preds.csv"
    _data(data)
    ok = CliRunner().invoke(app, ["backtest", str(data), "--by", "version", "--resamples", "100",
                                  "--sizing", "fraction", "--size", "10%",
                                  "--out", str(tmp_path / "r")])
    assert ok.exit_code == 0, ok.output
    # two versions in one file without --by: each (date, symbol) twice
    twice = CliRunner().invoke(app, ["backtest", str(data), "--out", str(tmp_path / "r")])
    assert twice.exit_code == 2 and "more than once" in twice.output
    bad = CliRunner().invoke(app, ["backtest", str(data), "-s", "nope:k=1"])
    assert bad.exit_code == 2 and "Unknown strategy rule" in bad.output
    bad = CliRunner().invoke(app, ["backtest", str(data), "--fees", "ten"])
    assert bad.exit_code == 2 and "fees" in bad.output

"""Backtests over a monitored model's stored predictions: parse, run in a thread, respond."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from modelmon.evaluation.finance import backtest_model
from modelmon.service.openapi import error_responses
from modelmon.service.responses_ops import BacktestResultBody
from modelmon.service.routes._body import json_response, read_json, service_state, validated

router = APIRouter(prefix="/v1/models", tags=["backtest"])


class BacktestBody(BaseModel):
    """What to backtest. Fractions accept ``"10bp"``/``"5%"`` as well as numbers."""

    model_config = ConfigDict(extra="forbid")

    strategies: list[str] = Field(default_factory=lambda: ["threshold:long_above=0"],
                                  description="Rules such as 'top_k:k=5,long_short=true'.")
    versions: list[str] | None = Field(None, description="Default: every version.")
    symbol: str = Field("symbol", description="Feature or segment naming the asset.")
    start: datetime | None = None
    end: datetime | None = None
    sizing: str = "equal"
    size: float | str | None = None
    fees: float | str = 0.0
    slippage: float | str = 0.0
    fixed_fee: float = 0.0
    max_position: float | str | None = None
    max_gross: float | str | None = None
    borrow: bool = False
    rebalance: str = "on_change"
    capital: float = 1_000_000.0
    periods_per_year: float = 252.0
    risk_free_rate: float = 0.0
    train: int | None = Field(None, description="Walk forward: training periods.")
    test: int | None = Field(None, description="Walk forward: test periods.")
    resamples: int = Field(2000, ge=10, le=20_000)
    seed: int = 0
    series: bool = Field(True, description="Include each run's equity, returns and drawdown.")


def _run(state: Any, model: str, body: BacktestBody) -> dict[str, Any]:
    from modelmon import backtest as bt

    return backtest_model(
        state.store, model, strategies=body.strategies, versions=body.versions,
        symbol=body.symbol, start=body.start, end=body.end, train=body.train, test=body.test,
        resamples=body.resamples, seed=body.seed, series=body.series,
        sizing=bt.sizer_from_spec(body.sizing, body.size), capital=body.capital,
        costs=bt.Costs(fees=body.fees, slippage=body.slippage, fixed=body.fixed_fee),
        limits=bt.Limits(max_position=body.max_position, max_gross=body.max_gross,
                         borrow=body.borrow),
        rebalance=body.rebalance, periods_per_year=body.periods_per_year,
        risk_free_rate=body.risk_free_rate)


@router.post("/{model}/backtest",
             summary="Backtest strategies on each version's stored predictions and compare them",
             responses={200: {"model": BacktestResultBody}, **error_responses(400, 401, 404, 422)})
async def run_backtest(request: Request, model: str) -> Response:
    """Each labelled prediction is a (day, symbol) cell with its predicted and realised return;
    every version runs every strategy over the days they share. The answer holds the
    comparison table, bootstrap intervals of each Sharpe ratio and of its difference from the
    first run, and (with ``train`` and ``test``) the walk-forward folds."""
    state = service_state(request)
    data = await read_json(request)
    body = validated(BacktestBody, data if data is not None else {})
    result = await asyncio.to_thread(_run, state, model, body)
    return json_response(result)

"""Finance and business metrics of a window, when the model's spec asks for them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.config.models import FINANCE_METRICS, Task
from modelmon.evaluation.frame import EvalFrame
from modelmon.evaluation.quality import call_metric
from modelmon.exceptions import ValidationError
from modelmon.metrics import get_metric

__all__ = ["backtest_model", "business_metrics", "finance_metrics", "model_panels"]

#: Every finance metric a spec may name, looked up once in the registry.
_FUNCS: dict[str, Any] = {name: get_metric(name).func for name in FINANCE_METRICS}


def finance_metrics(frame: EvalFrame) -> dict[str, tuple[float, int]]:
    """Finance metrics over the labelled rows in event-time order."""
    fin = frame.spec.finance
    if fin is None or frame.spec.task is not Task.REGRESSION:
        return {}
    lab = frame.subset(frame.labelled)
    order = np.argsort(lab.event_time, kind="stable")
    yt, yp = lab.y_true[order], lab.y_pred[order]
    out: dict[str, tuple[float, int]] = {}
    for name in fin.metrics:
        if lab.n < 2:
            out[name] = (math.nan, lab.n)
            continue
        out[name] = (call_metric(_FUNCS[name], yt, yp, kind=fin.kind, periods_per_year=fin.periods_per_year,
                           risk_free_rate=fin.risk_free_rate, level=fin.var_level,
                                       tolerance=fin.tolerance), lab.n)
    return out


def business_metrics(frame: EvalFrame, events: pa.Table, prediction_ids: np.ndarray) -> dict[str, tuple[float, int]]:
    """Conversion rate, revenue, and (binary models) how well predictions matched conversions.

    ``events`` are the window's business events (name, value, prediction_id); conversions link
    to predictions by id: a prediction with a conversion event of value 1 converted.
    """
    biz = frame.spec.business
    if biz is None or events.num_rows == 0:
        return {}
    names = events.column("name")
    conv = events.filter(pc.equal(names, biz.conversion_event))
    rev = events.filter(pc.equal(names, biz.revenue_event))
    out: dict[str, tuple[float, int]] = {}
    if conv.num_rows:
        values = conv.column("value").to_numpy(zero_copy_only=False)
        out["conversion_rate"] = (float(np.mean(values > 0)), conv.num_rows)
        if frame.spec.task is Task.BINARY:
            converted = dict(zip(conv.column("prediction_id").to_pylist(), values > 0, strict=True))
            idx = [i for i, pid in enumerate(prediction_ids) if pid in converted]
            if idx:
                truth = np.asarray([converted[prediction_ids[i]] for i in idx], dtype=int)
                pred = (frame.y_pred[idx] == frame.positive_index).astype(int)
                out["conversion_prediction_accuracy"] = (float(np.mean(truth == pred)), len(idx))
    if rev.num_rows:
        out["realised_revenue"] = (float(pc.sum(rev.column("value")).as_py() or 0.0), rev.num_rows)
    return out


def model_panels(
    store: Any,
    model: str,
    *,
    versions: list[str] | None = None,
    symbol: str = "symbol",
    start: Any = None,
    end: Any = None,
    period: str = "D",
) -> dict[str, Any]:
    """One backtest panel per version from a monitored model's stored predictions.

    Each labelled prediction is a cell: its event time floored to ``period`` (NumPy's
    datetime64 unit, ``"D"`` for days) is the date, the feature or segment named ``symbol`` the
    symbol (a model without one is a single series named after the model), the predicted value
    the prediction and the actual the realised return. Of several predictions of one symbol in
    one period the last counts. Versions run over the periods they all have, so that they can
    be compared side by side.
    """
    from modelmon.backtest import Panel
    from modelmon.exceptions import NotFoundError
    from modelmon.store.base import FEATURE_PREFIX, SEGMENT_PREFIX

    spec = store.get_model(model).spec
    if spec.task is not Task.REGRESSION:
        raise ValidationError(f"model {model!r} is a {spec.task.value} model; a backtest needs "
                              "predicted returns or values (a regression model)",
                              loc=("model",))
    column = None
    if symbol in {f.name for f in spec.features}:
        column = f"{FEATURE_PREFIX}{symbol}"
    elif symbol in spec.segments:
        column = f"{SEGMENT_PREFIX}{symbol}"
    known = [v.version for v in store.list_versions(model)]
    chosen = versions or known
    for v in chosen:
        if v not in known:
            raise NotFoundError(f"model {model!r} has no version {v!r}; it has {known}",
                                code="version_not_found", loc=("versions",))
    panels: dict[str, Any] = {}
    for v in chosen:
        cols = ["prediction_id", "event_time", "value"] + ([column] if column else [])
        table = store.read_predictions(model, version=v, start=start, end=end, columns=cols)
        actual = table.column("actual_value").to_numpy(zero_copy_only=False)
        keep = ~np.isnan(np.asarray(actual, dtype=float))
        if not keep.any():
            continue
        times = table.column("event_time").to_numpy(zero_copy_only=False)[keep]
        dates = times.astype(f"datetime64[{period}]")
        symbols = (np.asarray(table.column(column).to_pylist(), dtype=object)[keep].astype(str)
                   if column else np.full(int(keep.sum()), model))
        pred = table.column("value").to_numpy(zero_copy_only=False)[keep]
        # the last prediction of a symbol in a period counts (rows come in event-time order)
        key = np.char.add(dates.astype(str), np.char.add("\x00", symbols))
        _, last = np.unique(key[::-1], return_index=True)
        idx = np.sort(key.size - 1 - last)
        panels[v] = Panel.from_long(dates=dates[idx], symbols=symbols[idx],
                                    predictions=np.asarray(pred, dtype=float)[idx],
                                    returns=np.asarray(actual, dtype=float)[keep][idx])
    if not panels:
        raise ValidationError(f"model {model!r} has no labelled predictions to backtest",
                              code="empty_input", loc=("model",))
    common: Any = None
    for p in panels.values():
        common = p.dates if common is None else np.intersect1d(common, p.dates)
    out = {}
    for v, p in panels.items():
        rows = np.flatnonzero(np.isin(p.dates, common))
        out[v] = Panel(p.predictions[rows], p.returns[rows], p.dates[rows], p.symbols)
    return out


def backtest_model(
    store: Any,
    model: str,
    *,
    strategies: list[str],
    versions: list[str] | None = None,
    symbol: str = "symbol",
    start: Any = None,
    end: Any = None,
    train: int | None = None,
    test: int | None = None,
    resamples: int = 2000,
    seed: int = 0,
    series: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Backtest ``strategies`` (one-line specs such as ``"top_k:k=5"``) on every version's
    stored predictions, compare them, and walk forward when ``train`` and ``test`` are given.

    Returns the comparison's dict (table, Sharpe intervals, differences against the first run,
    the runs' series) with ``walk_forward`` per version. ``options`` go to
    :func:`modelmon.backtest.backtest` (sizing, costs, limits, rebalance, capital ...).
    """
    from modelmon import backtest as bt

    rules = [bt.strategy_from_spec(s) for s in strategies]
    panels = model_panels(store, model, versions=versions, symbol=symbol, start=start, end=end)
    runs = [bt.backtest(p, r, name=f"{v} · {r.name}", **options)
            for v, p in panels.items() for r in rules]
    comparison = bt.compare(runs, n_resamples=resamples, random_state=seed)
    body = comparison.to_dict(series=series)
    if train and test:
        body["walk_forward"] = {
            v: bt.walk_forward(p, {r.name: r for r in rules}, train=train, test=test,
                               **options).to_dict()
            for v, p in panels.items()}
    return body

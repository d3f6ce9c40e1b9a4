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
from modelmon.metrics import get_metric

__all__ = ["business_metrics", "finance_metrics"]

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

"""Generated traffic for evaluation tests: hourly windows, optional drift from a given hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from modelmon.config import ModelSpec
from modelmon.ingest.actuals import actuals_from_table
from modelmon.ingest.predictions import predictions_from_table
from modelmon.store import BatchKind, WriteBatch
from modelmon.store.duckdb_store import DuckDBStore

NOW = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)

FRAUD = ModelSpec.model_validate({
    "name": "fraud", "task": "binary_classification", "windows": ["1h"],
    "features": [{"name": "amount", "type": "numeric"}, {"name": "age", "type": "numeric"},
                 {"name": "tenure", "type": "numeric"}, {"name": "channel", "type": "categorical"}],
    "segments": ["channel"], "prediction": {"classes": [0, 1], "score": True},
})


def hour_table(rng: np.random.Generator, h: int, n: int, *, drift: bool, start: datetime) -> tuple[pa.Table, np.ndarray]:
    amount = rng.normal(100 + (60 if drift else 0), 20, n)
    age = rng.normal(40, 10, n)
    tenure = rng.exponential(5, n)
    channel = rng.choice(["web", "app", "store"], n, p=[0.2, 0.3, 0.5] if drift else [0.5, 0.3, 0.2])
    score = 1 / (1 + np.exp(-(0.03 * (amount - 100) - 0.02 * (age - 40))))
    if drift:  # the learned relationship no longer holds: quality falls
        y = (rng.random(n) < 1 / (1 + np.exp(0.03 * (amount - 160)))).astype(int)
    else:
        y = (rng.random(n) < score).astype(int)
    ts = start + timedelta(hours=h)
    times = pa.array([ts + timedelta(seconds=float(s)) for s in np.sort(rng.uniform(0, 3599, n))])
    table = pa.table({"prediction_id": [f"p{h}-{i}" for i in range(n)], "timestamp": times,
                      "amount": amount, "age": age, "tenure": tenure, "channel": channel,
                      "score": score, "latency_seconds": rng.gamma(2, 0.01, n)})
    return table, y


def load(store: DuckDBStore, *, hours: int, n: int = 800, drift_from: int | None = None,
         seed: int = 0, with_actuals: bool = True, spec: ModelSpec = FRAUD) -> None:
    """Write ``hours`` hourly windows ending at NOW, drifting from hour ``drift_from``."""
    rng = np.random.default_rng(seed)
    start = NOW - timedelta(hours=hours)
    for h in range(hours):
        drift = drift_from is not None and h >= drift_from
        table, y = hour_table(rng, h, n, drift=drift, start=start)
        received = start + timedelta(hours=h + 1)
        batches = [WriteBatch(BatchKind.PREDICTIONS, spec.name,
                              predictions_from_table(spec, table, now=received))]
        if with_actuals:
            acts = pa.table({"prediction_id": table.column("prediction_id"),
                             "actual": y.astype(str), "timestamp": table.column("timestamp")})
            batches.append(WriteBatch(BatchKind.ACTUALS, spec.name,
                                      actuals_from_table(spec, acts, now=received)))
        store.write(batches)

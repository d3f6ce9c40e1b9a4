"""Warming the ingest path at start-up, so the first requests are not the slow ones.

The first validation of a prediction and the first id hash load compiled code and initialise
Arrow kernels: about 0.8 s on a 2-core machine. Paid by the first request, that is a latency
spike for every request queued behind it (the p99 of a load test); paid at start-up, before the
readiness probe answers, it costs nothing. Nothing is written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from modelmon.config.models import FeatureType, ModelSpec, Task
from modelmon.exceptions import ModelmonError
from modelmon.ingest.json_batch import (
    NotFastPath,
    predictions_from_batch_json,
    predictions_from_json,
)
from modelmon.ingest.predictions import predictions_from_records

__all__ = ["synthetic_record", "warm_up"]

log = logging.getLogger("modelmon.ingest")

_FEATURE_VALUES: dict[FeatureType, Any] = {
    FeatureType.NUMERIC: 0.0, FeatureType.CATEGORICAL: "warm-up", FeatureType.BOOLEAN: False,
}


def synthetic_record(spec: ModelSpec) -> dict[str, Any]:
    """A prediction record shaped like ``spec``'s (values are placeholders, not data)."""
    record: dict[str, Any] = {
        "prediction_id": "warm-up",
        "features": {f.name: _FEATURE_VALUES[f.type] for f in spec.features},
    }
    classes = spec.prediction.classes or ["0", "1"]
    if spec.task is Task.REGRESSION:
        record["prediction"] = 0.0
    elif spec.prediction.probabilities:
        record["probabilities"] = {c: 1.0 / len(classes) for c in classes}
    elif spec.prediction.score:
        record["score"] = 0.5
    else:
        record["prediction"] = classes[0]
    return record


def warm_up(specs: Iterable[ModelSpec], now: datetime, *, ids: bool = True) -> float:
    """Validate one synthetic record per model (every JSON path) and, with ``ids``, hash its id;
    seconds taken.

    A record a model's schema rejects (a feature with a narrow range, say) still warms most of
    the path; its error is ignored.
    """
    started = time.perf_counter()
    if ids:  # not in validation workers: they hash nothing, and numba is a large import
        from modelmon.store.recent_ids import hash_ids

        hash_ids(pa.array(["warm-up"]))
    for spec in specs:
        record = synthetic_record(spec)
        try:
            predictions_from_records(spec, [record], now=now)
            predictions_from_json(spec, orjson.dumps([record] * 2), now=now, max_records=2)
            body = orjson.dumps({"model": spec.name, "records": [record] * 2})
            predictions_from_batch_json(spec, body, model=spec.name, now=now, max_records=2)
        except (ModelmonError, NotFastPath) as exc:
            log.debug("warm-up record for %s rejected: %s", spec.name, exc)
    return time.perf_counter() - started

"""Start-up warm-up of the ingest path (modelmon.ingest.warmup)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from tests.support.models import INGEST_MODELS

from modelmon.config.models import ModelSpec
from modelmon.ingest.json_batch import predictions_from_json
from modelmon.ingest.predictions import predictions_from_records
from modelmon.ingest.warmup import synthetic_record, warm_up

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SPECS = [ModelSpec.model_validate(m) for m in INGEST_MODELS] + [
    ModelSpec.model_validate({"name": "labels", "task": "binary_classification",
                              "features": [{"name": "x", "type": "boolean"}]}),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_synthetic_record_passes_validation(spec: ModelSpec) -> None:
    # A rejected record would warm only part of the path.
    record = synthetic_record(spec)
    table = predictions_from_records(spec, [record], now=NOW)
    assert table.num_rows == 1
    assert table.column("prediction_id").to_pylist() == ["warm-up"]
    assert predictions_from_json(spec, orjson.dumps([record]), now=NOW).equals(table)


def test_warm_up_reports_its_time() -> None:
    seconds = warm_up(SPECS, NOW)
    assert 0 < seconds < 60

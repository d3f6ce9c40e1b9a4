"""Labels of binary predictions sent with a score only."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from tests.support.models import INGEST_MODELS

from modelmon.config.models import ModelSpec
from modelmon.exceptions import ValidationError
from modelmon.ingest.predictions import predictions_from_records, predictions_from_table

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
FRAUD = ModelSpec.model_validate(INGEST_MODELS[0])
FEATURES = {"amount": 1.0, "country": "DE", "online": True, "score_in": 3}


def _table(scores: list[float | None], **columns: list[object]) -> pa.Table:
    n = len(scores)
    return pa.table({"score": pa.array(scores, pa.float64()), "amount": [1.0] * n,
                     "country": ["DE"] * n, "online": [True] * n, "score_in": [3.0] * n,
                     **columns})


def test_labels_follow_the_threshold() -> None:
    scores = [0.0, 0.49, 0.5, 0.51, 1.0]
    out = predictions_from_table(FRAUD, _table(scores), now=NOW)
    assert out.column("label").to_pylist() == ["0", "0", "1", "1", "1"]


def test_a_sent_label_wins_and_unknown_sent_labels_are_rejected() -> None:
    out = predictions_from_table(FRAUD, _table([0.9, 0.1], prediction=["0", None]), now=NOW)
    assert out.column("label").to_pylist() == ["0", "0"]
    with pytest.raises(ValidationError) as err:
        predictions_from_table(FRAUD, _table([0.9, 0.1], prediction=["7", None]), now=NOW)
    assert (err.value.code, err.value.loc) == ("invalid_prediction", ("rows", 0, "prediction"))


def test_missing_and_nan_scores_give_no_label() -> None:
    records = [{"features": FEATURES, "score": 0.8}, {"features": FEATURES}]
    with pytest.raises(ValidationError) as err:
        predictions_from_records(FRAUD, records, now=NOW)
    assert err.value.loc == ("records", 1, "prediction")
    with pytest.raises(ValidationError) as err:
        predictions_from_table(FRAUD, _table([0.8, math.nan]), now=NOW)
    locs = [e["loc"] for e in err.value.to_dict()["errors"]]
    assert locs == [["rows", 1, "score"], ["rows", 1, "prediction"]]
    errored = [{"features": FEATURES, "status": "error"}, {"features": FEATURES, "score": 0.2}]
    out = predictions_from_records(FRAUD, errored, now=NOW)
    assert out.column("label").to_pylist() == [None, "0"]

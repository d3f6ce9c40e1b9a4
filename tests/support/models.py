"""Model configs shared by the ingest tests (HTTP API and the validation paths behind it)."""

from __future__ import annotations

from typing import Any

INGEST_MODELS: list[dict[str, Any]] = [
    {
        "name": "fraud",
        "task": "binary_classification",
        "features": [
            {"name": "amount", "type": "numeric"},
            {"name": "country", "type": "categorical"},
            {"name": "online", "type": "boolean"},
            {"name": "age", "type": "numeric", "required": False, "nullable": True},
            {"name": "score_in", "type": "numeric", "nullable": False},
        ],
        "segments": ["channel", "country"],
        "prediction": {"classes": [0, 1], "score": True},
    },
    {
        "name": "price",
        "task": "regression",
        "features": [{"name": "area", "type": "numeric"}],
    },
    {
        "name": "species",
        "task": "multiclass_classification",
        "features": [{"name": "petal", "type": "numeric"}],
        "prediction": {"classes": ["setosa", "versicolor", "virginica"], "probabilities": True},
    },
]

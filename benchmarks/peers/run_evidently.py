"""Evidently 0.7: the default ``DataDriftPreset`` over all features, types declared.

Evidently picks a test per column by type and size (K-S / chi-square up to 1,000 rows, normalised
Wasserstein distance for numeric and Jensen-Shannon distance for categorical columns above that,
threshold 0.1). A column is flagged when Evidently's own per-column "Value Drift" test fails,
which the report includes when run with ``include_tests=True`` (this adds no computation: the
decision is made in the drift calculation either way).

Executed by ``benchmarks/.venv-evidently``; prints one JSON line (see ``_runner_io``).
"""

from __future__ import annotations

from typing import Any

import _runner_io


def load_library() -> str:
    import evidently
    from evidently.presets import DataDriftPreset  # noqa: F401

    return str(evidently.__version__)


def detect(frames: _runner_io.Frames) -> tuple[list[str], dict[str, dict[str, Any]]]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference, current = frames.data
    definition = DataDefinition(
        numerical_columns=frames.numeric, categorical_columns=frames.categorical
    )
    ref = Dataset.from_pandas(reference, data_definition=definition)
    cur = Dataset.from_pandas(current, data_definition=definition)
    snapshot = Report([DataDriftPreset()], include_tests=True).run(cur, ref)
    result = snapshot.dict()

    detail: dict[str, dict[str, Any]] = {}
    for metric in result["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith(":ValueDrift"):
            detail[config["column"]] = {
                "method": config["method"],
                "value": float(metric["value"]),
                "threshold": config["threshold"],
            }
    flagged: list[str] = []
    for test in result["tests"]:
        params = test.get("metric_config", {}).get("params", {})
        if not params.get("type", "").endswith(":ValueDrift"):
            continue
        column = params["column"]
        detail[column]["drifted"] = test["status"] == "FAIL"
        if test["status"] == "FAIL":
            flagged.append(column)
    missing = [f for f in frames.features if "drifted" not in detail.get(f, {})]
    if missing:
        raise RuntimeError(f"Evidently reported no drift decision for {missing}")
    return flagged, detail


if __name__ == "__main__":
    raise SystemExit(_runner_io.run("evidently", load_library, detect, _runner_io.as_pandas))

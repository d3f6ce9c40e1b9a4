"""``modelmon evaluate-batch``: evaluate Parquet prediction logs into the configured store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["evaluate_batch_command"]


def evaluate_batch_command(
    model: Annotated[str, typer.Argument(help="The model the logs belong to (in the config).")],
    predictions: Annotated[str, typer.Option(help="Parquet file or folder of predictions "
                                                  "(the store's logical columns).")],
    window: Annotated[str, typer.Option(help="Window size, e.g. 1h or 1d.")] = "1h",
    actuals: Annotated[str | None, typer.Option(help="Parquet file or folder of actuals "
                                                     "(prediction_id, label|value, "
                                                     "event_time).")] = None,
    engine: Annotated[str, typer.Option(help="embedded (this process) or spark.")] = "embedded",
    master: Annotated[str, typer.Option(help="Spark master URL.")] = "local[*]",
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Deployment YAML file.",
                                                envvar="MODELMON_CONFIG")] = None,
) -> None:
    """Compute each window's mergeable aggregates and metrics from Parquet logs (on Spark with
    --engine spark) and store them as the service's evaluation does, replacing what was stored
    for those windows. Prints a JSON summary."""
    from modelmon.batch import BatchInput, evaluate_batch
    from modelmon.cli import _fail, _settings
    from modelmon.config.inference import complete_spec
    from modelmon.exceptions import ModelmonError
    from modelmon.store import create_store

    if engine not in ("embedded", "spark"):
        _fail(f"--engine must be 'embedded' or 'spark', not {engine!r}")
    settings = _settings(config)
    store: Any = create_store(settings.store)
    try:
        store.open()
        for spec in settings.models:
            store.save_model(complete_spec(spec), source="config")
        summary = evaluate_batch(store, model, BatchInput(predictions, actuals, window),
                                 engine=engine, master=master)
    except ModelmonError as exc:
        _fail(exc.message)
    finally:
        store.close()
    typer.echo(json.dumps(summary.to_dict()))

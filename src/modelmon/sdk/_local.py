"""Embedded transport: validate like the HTTP API does and write straight into a local store.

Records go through the same JSON encoding as over HTTP and then through the ingest layer's
validation functions, so a record is accepted or rejected (with the same code and ``loc``) exactly
as the server would. Every batch is written with its idempotency key, so a retried write after a
store error is never stored twice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from modelmon.config.models import ModelSpec
from modelmon.exceptions import ModelmonError, StoreError
from modelmon.ingest.actuals import actuals_from_records, actuals_from_table
from modelmon.ingest.events import (
    feature_importance_from_record,
    metric_events_from_records,
    training_run_from_record,
)
from modelmon.ingest.predictions import predictions_from_records, predictions_from_table
from modelmon.sdk._batching import Batch
from modelmon.sdk._transport import Outcome
from modelmon.sdk._wire import encode_request
from modelmon.store.base import BatchKind, Store, WriteBatch

__all__ = ["LocalTransport", "open_local_store"]

log = logging.getLogger("modelmon.sdk")


def open_local_store(
    path: str | os.PathLike[str] | None,
    models: Sequence[ModelSpec | dict[str, Any]] | None,
    config_path: str | os.PathLike[str] | None,
) -> Store:
    """Open the DuckDB store at ``path`` and register ``models`` (and those of ``config_path``)."""
    from modelmon.config.settings import StoreSettings, load_settings
    from modelmon.store import create_store

    specs: list[ModelSpec] = []
    store_settings = StoreSettings.model_validate({})
    if config_path is not None:
        settings = load_settings(config_path)
        specs.extend(settings.models)
        store_settings = settings.store
    if path is not None:
        store_settings = store_settings.model_copy(update={"path": os.fspath(path)})
    elif config_path is None:
        from modelmon.exceptions import ParameterError

        raise ParameterError("Monitor.local needs a database path or a config_path naming one",
                             loc=("path",))
    for m in models or ():
        specs.append(m if isinstance(m, ModelSpec) else ModelSpec.model_validate(m))
    store = create_store(store_settings)
    store.open()
    try:
        for spec in specs:
            store.save_model(spec, source="sdk")
    except BaseException:
        store.close()
        raise
    return store


class LocalTransport:
    """Writes batches into ``store`` (owned: closed with the transport)."""

    can_spool = False

    def __init__(self, store: Store) -> None:
        self.store = store

    def prepare(self, batch: Batch) -> None:
        if batch.records is not None and batch.request is None:
            batch.request = encode_request(batch)

    def _table(self, batch: Batch, spec: ModelSpec, now: datetime) -> Any:
        kind = batch.kind
        if batch.table is not None:
            if kind == "predictions":
                return predictions_from_table(spec, batch.table, now=now, version=batch.version)
            return actuals_from_table(spec, batch.table, now=now)
        assert batch.request is not None
        data = orjson.loads(batch.request.body)
        if kind == "predictions":
            return predictions_from_records(spec, data["records"], now=now, version=batch.version)
        if kind == "actuals":
            return actuals_from_records(spec, data["records"], now=now)
        if kind == "metric_events":
            return metric_events_from_records(spec, data["records"], now=now)
        if kind == "feature_importance":
            return feature_importance_from_record(spec, data, now=now)
        return training_run_from_record(spec, data, now=now)

    def send(self, batch: Batch) -> Outcome:
        self.prepare(batch)
        kind = BatchKind(batch.kind)
        try:
            spec = self.store.get_model(batch.model).spec
            table = self._table(batch, spec, datetime.now(UTC))
            key = f"{batch.model}:{kind.value}:{batch.key}"
            [result] = self.store.write([WriteBatch(kind, batch.model, table, key)])
            self.store.maintain()  # checkpoints once the log reached its threshold
        except StoreError as exc:
            return Outcome("retry", code=exc.code, message=exc.message, unavailable=True)
        except ModelmonError as exc:
            body = exc.to_dict()
            return Outcome("rejected", code=exc.code, message=exc.message, loc=exc.loc,
                           errors=tuple(body.get("errors", ())))
        except Exception as exc:  # a bug must not stall the sender: reject, log
            log.exception("modelmon: unexpected error writing a %s batch locally", batch.kind)
            return Outcome("rejected", code="internal_error", message=repr(exc))
        return Outcome("stored", accepted=result.inserted, duplicates=result.duplicates,
                       replayed=result.replayed)

    def close(self) -> None:
        self.store.close()

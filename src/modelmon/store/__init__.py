"""Storage: one protocol (:class:`Backend`) and its implementations.

``DuckDBStore`` (:mod:`modelmon.store.duckdb`) is the embedded default; ``PostgresStore``
(:mod:`modelmon.store.postgres`) is shared by several servers. :func:`create_store` builds the
one the settings name.
"""

from __future__ import annotations

from modelmon.config.settings import StoreSettings
from modelmon.store.backend import Backend
from modelmon.store.base import (
    ACTUAL_COLUMNS,
    FEATURE_PREFIX,
    PREDICTION_COLUMNS,
    SEGMENT_PREFIX,
    BatchKind,
    Deletion,
    ModelEvent,
    ModelInfo,
    Store,
    VersionInfo,
    WriteBatch,
    WriteResult,
)

__all__ = [
    "ACTUAL_COLUMNS",
    "FEATURE_PREFIX",
    "PREDICTION_COLUMNS",
    "SEGMENT_PREFIX",
    "Backend",
    "BatchKind",
    "Deletion",
    "ModelEvent",
    "ModelInfo",
    "Store",
    "VersionInfo",
    "WriteBatch",
    "WriteResult",
    "create_store",
]


def create_store(settings: StoreSettings) -> Backend:
    """Build (not open) the store the settings describe."""
    if settings.backend == "duckdb":
        from modelmon.store.duckdb import DuckDBStore

        return DuckDBStore(
            settings.path,
            memory_limit=settings.memory_limit,
            threads=settings.threads,
            checkpoint_threads=settings.checkpoint_threads,
            checkpoint_threshold=settings.checkpoint_threshold,
            checkpoint_interval_seconds=settings.checkpoint_interval_seconds,
        )
    if settings.backend == "postgres":
        from modelmon.store.postgres import PostgresStore

        assert settings.url is not None  # the settings require it
        return PostgresStore(settings.url.get_secret_value(), pool_min=settings.pool_min,
                             pool_max=settings.pool_max, partition_days=settings.partition_days)
    raise ValueError(f"unknown store backend {settings.backend!r}")  # pragma: no cover

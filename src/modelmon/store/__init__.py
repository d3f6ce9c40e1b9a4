"""Storage: one small interface (:class:`Store`) and its implementations.

``DuckDBStore`` is the embedded default. Pick one from settings with :func:`open_store`.
"""

from __future__ import annotations

from modelmon.config.settings import StoreSettings
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


def create_store(settings: StoreSettings) -> Store:
    """Build (not open) the store the settings describe."""
    if settings.backend == "duckdb":
        from modelmon.store.duckdb_store import DuckDBStore

        return DuckDBStore(
            settings.path,
            memory_limit=settings.memory_limit,
            threads=settings.threads,
            checkpoint_threads=settings.checkpoint_threads,
            checkpoint_threshold=settings.checkpoint_threshold,
        )
    raise ValueError(f"unknown store backend {settings.backend!r}")  # pragma: no cover

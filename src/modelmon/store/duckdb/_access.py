"""What the parts of the DuckDB store share: the catalog entry of a model and the connection
helpers (cursors for reads, one write transaction at a time under a lock, the clock).

The store builds one :class:`Access` and hands it to each part (results, alerts, ...), so a part
reaches the database only through these and never through the store's private methods.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from modelmon.store.base import ModelInfo
from modelmon.store.recent_ids import RecentIdIndex

__all__ = ["Access", "ModelEntry"]


@dataclass
class ModelEntry:
    """Cached catalog facts about one model."""

    model_id: int
    info: ModelInfo
    feature_columns: dict[str, str]  # feature name -> physical column
    segment_columns: dict[str, str]  # segment name -> physical column
    known_versions: set[str] = field(default_factory=set)
    ids: RecentIdIndex | None = None
    read_dedupe: bool = False
    # Latest received_at of (predictions, actuals); None until first asked (then kept current).
    watermarks: tuple[datetime | None, datetime | None] | None = None

    @property
    def pred_table(self) -> str:
        return f"pred_{self.model_id}"

    @property
    def act_table(self) -> str:
        return f"act_{self.model_id}"


Connection = duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class Access:
    """The store's connection helpers, as one object a part is built with."""

    #: A cursor of its own for reads (committed data only).
    cursor: Callable[[], AbstractContextManager[Connection]]
    #: The write connection inside BEGIN ... COMMIT (rolled back on error); hold ``lock``.
    transaction: Callable[[], AbstractContextManager[Connection]]
    #: More DuckDB threads while inside (large reads).
    parallel: Callable[[], AbstractContextManager[None]]
    lock: threading.RLock
    clock: Callable[[], datetime]
    #: The catalog entry of a model (raises ``model_not_found``).
    entry: Callable[[str], ModelEntry]

"""Batches: what the sender delivers, and how queued records are grouped into them.

Records queued by the ``log_*`` calls are grouped by (kind, model, version) into batches of at
most ``batch_size`` records. A batch gets its idempotency key when it is built and keeps it for
every retry and replay, so the server stores it once however often it is sent.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SINGLE_RECORD_KINDS", "Batch", "Marker", "Request", "group"]

#: Kinds whose endpoint takes one record per request.
SINGLE_RECORD_KINDS = frozenset({"feature_importance", "training_runs"})

#: Queue item kinds that are not records.
BULK = "bulk"
MARKER = "marker"


@dataclass(frozen=True)
class Request:
    """An encoded HTTP request, cached on its batch so a retry or replay sends the same bytes."""

    path: str
    content_type: str
    body: bytes
    params: tuple[tuple[str, str], ...] = ()


@dataclass(eq=False)
class Batch:
    """Records of one kind for one model (and version): one request, all or nothing."""

    kind: str
    model: str
    version: str | None
    records: list[dict[str, Any]] | None = None
    table: Any = None  # a pyarrow.Table for bulk uploads (log_batch, log_actuals)
    key: str = field(default_factory=lambda: f"{random.getrandbits(128):032x}")
    attempts: int = 0
    splits: int = 0
    request: Request | None = None
    spool_name: str | None = None
    count: int | None = None  # rows of a batch read back from the spool (records not decoded)

    @property
    def n(self) -> int:
        if self.count is not None:
            return self.count
        if self.records is not None:
            return len(self.records)
        return int(self.table.num_rows) if self.table is not None else 0

    def subset(self, keep: Sequence[int]) -> Batch:
        """The rows at positions ``keep``, as a new batch with a new key (nothing of this one was
        stored: it was rejected as a whole)."""
        if self.records is not None:
            records = [self.records[i] for i in keep]
            return Batch(self.kind, self.model, self.version, records=records,
                         splits=self.splits + 1)
        import pyarrow as pa

        table = self.table.take(pa.array(list(keep), pa.int64()))
        return Batch(self.kind, self.model, self.version, table=table, splits=self.splits + 1)


class Marker:
    """A point in the queue: set once everything queued before it has been dealt with.

    ``replay`` markers also ask the sender to replay the whole spool at that point.
    """

    __slots__ = ("count", "done", "ok", "replay")

    def __init__(self, replay: bool = False) -> None:
        self.done = threading.Event()
        self.ok = True
        self.replay = replay
        self.count = 0  # records replayed (replay markers)


def group(items: Iterable[tuple[str, Any, Any, Any]], batch_size: int) -> list[Batch | Marker]:
    """Group queue items ``(kind, model, version, payload)`` into batches, keeping markers in
    place: every record queued before a marker lands in a batch placed before it.

    Examples
    --------
    >>> items = [("actuals", "m", None, {"prediction_id": str(i), "actual": 1}) for i in range(5)]
    >>> [b.n for b in group(items, batch_size=2)]
    [2, 2, 1]
    """
    out: list[Batch | Marker] = []
    open_groups: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}

    def close_all() -> None:
        for (kind, model, version), records in open_groups.items():
            out.append(Batch(kind, model, version, records=records))
        open_groups.clear()

    for kind, model, version, payload in items:
        if kind == MARKER:
            close_all()
            out.append(payload)
        elif kind == BULK:
            out.append(payload)
        elif kind in SINGLE_RECORD_KINDS:
            out.append(Batch(kind, model, version, records=[payload]))
        else:
            key = (kind, model, version)
            records = open_groups.get(key)
            if records is None:
                records = open_groups[key] = []
            records.append(payload)
            if len(records) >= batch_size:
                out.append(Batch(kind, model, version, records=records))
                del open_groups[key]
    close_all()
    return out

"""How a batch reaches storage: over HTTP, or straight into a local store (embedded mode).

A transport answers every delivery attempt with an :class:`Outcome`: stored, rejected (the
client's fault: never retried) or retry (timeout, unreachable, overloaded, server error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from modelmon.sdk._batching import Batch

__all__ = ["SENDER_THREAD", "Outcome", "Transport"]

#: Name of the SDK's background thread.
SENDER_THREAD = "modelmon-sdk-sender"


@dataclass(frozen=True)
class Outcome:
    """The result of one delivery attempt.

    ``unavailable`` (for ``retry``) separates "the server cannot take anything right now"
    (connection refused, timeout, 429, 502-504) from "the server failed on this batch" (500).
    """

    status: Literal["stored", "rejected", "retry"]
    accepted: int = 0
    duplicates: int = 0
    replayed: bool = False
    http_status: int | None = None
    code: str = ""
    message: str = ""
    loc: tuple[str | int, ...] = ()
    errors: tuple[dict[str, Any], ...] = ()
    retry_after: float | None = None
    unavailable: bool = True


class Transport(Protocol):
    """Delivers batches. Called from the sender thread only."""

    #: Whether batches it cannot deliver may be kept in a spool directory.
    can_spool: bool

    def prepare(self, batch: Batch) -> None:
        """Encode ``batch`` once (cached on it); raise ``UnserializableRecords`` if impossible."""

    def send(self, batch: Batch) -> Outcome:
        """One delivery attempt."""

    def close(self) -> None:
        """Release connections / the store."""

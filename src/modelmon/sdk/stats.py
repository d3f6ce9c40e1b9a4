"""What a :class:`~modelmon.sdk.Monitor` reports: delivery counters and failures.

These are frozen dataclasses with ``to_dict()`` like the library's other results; they do not use
:class:`modelmon._results.Result` because that imports NumPy, and ``import modelmon`` (which
exports the SDK) must stay light.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["DeliveryFailure", "MonitorStats"]


@dataclass(frozen=True)
class MonitorStats:
    """Counters of one :class:`~modelmon.sdk.Monitor`, in records (rows), since it started.

    Attributes
    ----------
    queued : int
        Records held in memory right now, waiting to be sent (queue plus batches in flight).
    sent : int
        Records the server (or the embedded store) acknowledged as durable, duplicates included.
    duplicates : int
        Of ``sent``, records that were already stored: a prediction id seen before, or a whole
        batch the server had already received (a retry whose first answer was lost).
    rejected : int
        Records refused as the client's fault (HTTP 4xx, or a validation error in embedded
        mode). Never retried.
    dropped : int
        Records lost: the queue was full, the monitor was closed, the spool was full, or the
        server failed on a batch more than ``max_retries`` times with no spool to keep it.
    retried : int
        Requests sent again after a timeout, a connection error, HTTP 429 or 5xx.
    spooled : int
        Records written to the spool directory because the server could not be reached.
    replayed : int
        Records from the spool that the server has since acknowledged (also counted in ``sent``).
    spool_records : int
        Records in the spool directory right now, waiting to be replayed.

    Examples
    --------
    >>> MonitorStats(sent=3).to_dict()["sent"]
    3
    """

    queued: int = 0
    sent: int = 0
    duplicates: int = 0
    rejected: int = 0
    dropped: int = 0
    retried: int = 0
    spooled: int = 0
    replayed: int = 0
    spool_records: int = 0

    def to_dict(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DeliveryFailure:
    """Records that were not stored, passed to a monitor's ``on_error`` callback.

    Attributes
    ----------
    reason : {"rejected", "dropped"}
        ``rejected``: the server refused them (4xx, the client's fault); ``dropped``: they were
        lost for another reason (queue full at close, server error after every retry, spool full).
    kind : str
        ``predictions``, ``actuals``, ``metric_events``, ``feature_importance`` or
        ``training_runs``.
    model : str or None
        The model the records were for.
    records : int
        How many records this failure covers.
    code : str
        The server's error code (e.g. ``unknown_feature``, see ``docs/errors.md``), or one of
        the SDK's own: ``closed`` (undelivered at close), ``server_error`` (the server failed on
        the batch every time), ``spool_full``, ``unserializable`` (a value JSON cannot hold),
        ``redirect`` (the URL answers with a redirect). Queue-full drops are only counted.
    message : str
        Human-readable explanation.
    loc : tuple
        Path of the offending field as the server reported it, e.g.
        ``("records", 3, "features", "age")``.
    status : int or None
        HTTP status of the answer, when there was one.
    errors : tuple of dict
        Every problem the server listed (``{"code", "message", "loc"}``). Row numbers in
        ``loc`` count within the batch the SDK sent, not within your calls.
    prediction_ids : tuple of str
        Ids of the rejected records, when the server named the records at fault (predictions
        and actuals).

    Examples
    --------
    >>> f = DeliveryFailure("rejected", "predictions", "fraud", 1, "unknown_feature", "no such")
    >>> f.to_dict()["code"]
    'unknown_feature'
    """

    reason: str
    kind: str
    model: str | None
    records: int
    code: str
    message: str
    loc: tuple[str | int, ...] = ()
    status: int | None = None
    errors: tuple[dict[str, Any], ...] = ()
    prediction_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The failure as a plain dict (tuples as lists)."""
        out = dataclasses.asdict(self)
        for key in ("loc", "errors", "prediction_ids"):
            out[key] = list(out[key])
        return out


class Counters:
    """The monitor's mutable counters; every update holds a lock (``+=`` is not atomic)."""

    __slots__ = (
        "_lock",
        "dropped",
        "duplicates",
        "rejected",
        "replayed",
        "retried",
        "sent",
        "spooled",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = self.duplicates = self.rejected = self.dropped = 0
        self.retried = self.spooled = self.replayed = 0

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def snapshot(self, queued: int, spool_records: int) -> MonitorStats:
        with self._lock:
            return MonitorStats(
                queued=queued, sent=self.sent, duplicates=self.duplicates, rejected=self.rejected,
                dropped=self.dropped, retried=self.retried, spooled=self.spooled,
                replayed=self.replayed, spool_records=spool_records,
            )

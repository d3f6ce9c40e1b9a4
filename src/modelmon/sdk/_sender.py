"""The background sender: drains the queue, batches, delivers, retries, spools and replays.

One daemon thread owns everything after the queue: batches waiting for delivery (``pending``),
the transport and the spool. Application threads only append to the queue (a ``deque``, whose
``append`` and ``popleft`` are atomic) and read ``room``.

Delivery of the batch at the head of ``pending``:

- stored: counted as sent; the next batch goes at once;
- rejected (4xx, the client's fault): never retried. When the server named the offending records
  (``loc = ["records", i, ...]``) and listed them all, only those are rejected and the rest is
  sent again as a new batch, so one bad record does not sink a thousand good ones;
- retry (timeout, unreachable, 429, 5xx): sent again after an exponential backoff with jitter
  (``Retry-After`` wins when the server sends it). After ``max_retries`` failed attempts the
  sender gives up on the server for now: with a spool, this batch and every later one go to disk
  until a probe gets through, then the spool is replayed; without one, batches stay in memory
  (bounded by ``max_queue``; new records are dropped when it is full) and the head batch is
  retried at the capped backoff interval. A batch the server answered with a 500 more than
  ``max_retries`` times is given up (spool: ``failed/`` folder; else dropped).
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from modelmon.sdk._batching import BULK, Batch, Marker, group
from modelmon.sdk._spool import Spool
from modelmon.sdk._transport import SENDER_THREAD, Outcome, Transport
from modelmon.sdk._wire import UnserializableRecords, decode_rows
from modelmon.sdk.stats import Counters, DeliveryFailure

__all__ = ["Sender"]

log = logging.getLogger("modelmon.sdk")

_MORE_PROBLEMS = re.compile(r"\(and \d+ more problems\)\s*$")
_MAX_SPLITS = 2
_REPLAY_PER_CYCLE = 8
#: A server's Retry-After is obeyed up to this many seconds (beyond it, likely a mistake).
_MAX_RETRY_AFTER = 300.0


class Sender:
    """Owns the queue's consumer side. See the module docstring for the delivery rules."""

    def __init__(
        self,
        transport: Transport,
        *,
        counters: Counters,
        report: Callable[[DeliveryFailure], None],
        batch_size: int,
        flush_interval: float,
        max_queue: int,
        max_retries: int,
        backoff: float,
        backoff_max: float,
        spool: Spool | None,
    ) -> None:
        self.transport = transport
        self.counters = counters
        self.report = report
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.max_retries = max_retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.spool = spool
        self.queue: deque[tuple[str, Any, Any, Any]] = deque()
        #: Application threads drop a record when ``len(queue) >= room``.
        self.room = max_queue
        self.wake = threading.Event()
        self.pending: deque[Batch | Marker] = deque()
        self._held = 0  # records in ``pending`` plus bulk rows beyond one per queued item
        self._held_lock = threading.Lock()
        self.closed = False
        self.down = False
        self._failures = 0
        self._next_attempt = 0.0
        self._stopping = False
        self._deadline = float("inf")
        self._lost_at_close = 0
        # Records rejected or dropped as of the last marker: a flush reports failure when any
        # was rejected or dropped since the previous one.
        self._failed_at_marker = 0
        self.thread = threading.Thread(target=self._run, name=SENDER_THREAD, daemon=True)

    # --- accounting ------------------------------------------------------------------------------
    def hold(self, n: int) -> None:
        with self._held_lock:
            self._held += n
            self.room = -1 if self.closed else self.max_queue - self._held

    @property
    def queued(self) -> int:
        return len(self.queue) + self._held

    def try_hold(self, rows: int) -> bool:
        """Reserve room for a bulk item of ``rows`` rows (it occupies one queue slot)."""
        with self._held_lock:
            if self.closed or len(self.queue) + self._held + rows > self.max_queue:
                return False
            self._held += rows - 1
            self.room = self.max_queue - self._held
            return True

    def _fail(self, batch: Batch, reason: str, outcome: Outcome | None, code: str = "",
              message: str = "", records: int | None = None,
              ids: tuple[str, ...] = ()) -> None:
        n = batch.n if records is None else records
        if reason == "rejected":
            self.counters.add(rejected=n)
        else:
            self.counters.add(dropped=n)
        self.report(DeliveryFailure(
            reason, batch.kind, batch.model, n,
            code or (outcome.code if outcome else "") or "unknown",
            message or (outcome.message if outcome else ""),
            outcome.loc if outcome else (), outcome.http_status if outcome else None,
            outcome.errors if outcome else (), ids,
        ))

    # --- thread ----------------------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float) -> bool:
        """Deliver what is queued within ``timeout`` seconds, then stop; True if all went."""
        self._deadline = time.monotonic() + timeout
        self._stopping = True
        self.wake.set()
        self.thread.join(timeout + 1.0)
        return not self.thread.is_alive() and self._lost_at_close == 0

    def _run(self) -> None:
        while True:
            self.wake.wait(self._wait_time())
            self.wake.clear()
            try:
                self._cycle()
            except Exception:  # the sender must survive anything
                log.exception("modelmon: the SDK sender failed; it will try again")
                self._next_attempt = time.monotonic() + self._delay(None)
            if self._stopping and (
                (not self.queue and not self.pending) or time.monotonic() >= self._deadline
            ):
                break
        try:
            self._shutdown()
        finally:
            try:
                self.transport.close()
            except Exception:
                log.exception("modelmon: closing the SDK transport failed")

    def _wait_time(self) -> float:
        now = time.monotonic()
        wait = self.flush_interval
        if self.pending or (self.down and self.spool is not None):
            wait = min(wait, max(0.0, self._next_attempt - now))
        if self._stopping:
            wait = min(wait, max(0.0, self._deadline - now))
            if not self.pending and not self.queue:
                wait = 0.0
        return wait

    def _cycle(self) -> None:
        self._collect()
        self._deliver()
        self._replay_some()

    def _collect(self) -> None:
        q = self.queue
        k = len(q)
        if not k:
            return
        # Count the k items as held before taking them off the queue, so that callers never
        # see room that is not there (briefly counted twice: the bound errs on the safe side).
        self.hold(k)
        items = []
        extra = 0
        for _ in range(k):
            item = q.popleft()
            if item[0] == BULK:
                extra += item[3].n - 1
            items.append(item)
        built = group(items, self.batch_size)
        self.hold(sum(b.n for b in built if isinstance(b, Batch)) - extra - k)
        self.pending.extend(built)

    # --- delivery --------------------------------------------------------------------------------
    def _deliver(self) -> None:
        while self.pending:
            head = self.pending[0]
            if isinstance(head, Marker):
                self.pending.popleft()
                if head.replay:
                    self._replay_all(head)
                failed = self.counters.rejected + self.counters.dropped
                if failed != self._failed_at_marker:
                    head.ok = False
                    self._failed_at_marker = failed
                head.done.set()
                continue
            if self.down and self.spool is not None:
                if time.monotonic() >= self._next_attempt and not self.spool.files():
                    self._attempt(head)  # nothing on disk to probe with: probe with this batch
                else:
                    self._spool_head()
                continue
            if time.monotonic() < self._next_attempt:
                return
            self._attempt(head)

    def _pop(self, batch: Batch) -> None:
        self.pending.popleft()
        self.hold(-batch.n)

    def _attempt(self, batch: Batch) -> None:
        try:
            self.transport.prepare(batch)
        except UnserializableRecords as exc:
            self._pop(batch)
            self._fail(batch, "rejected", None, "unserializable",
                       f"cannot encode as JSON: {exc.message}", records=len(exc.indices))
            bad = set(exc.indices)
            keep = [i for i in range(batch.n) if i not in bad]
            if keep:
                self._push_front([batch.subset(keep)])
            return
        if batch.attempts:
            self.counters.add(retried=1)
        outcome = self.transport.send(batch)
        if outcome.status == "stored":
            self._pop(batch)
            self._reachable()
            self._count_stored(batch, outcome)
        elif outcome.status == "rejected":
            self._pop(batch)
            self._reachable()
            self._push_front(self._rejected(batch, outcome))
        else:
            batch.attempts += 1
            self._failures += 1
            self._next_attempt = time.monotonic() + self._delay(outcome.retry_after)
            if batch.attempts > self.max_retries:
                self._give_up(batch, outcome)

    def _push_front(self, batches: list[Batch]) -> None:
        for b in reversed(batches):
            self.pending.appendleft(b)
            self.hold(b.n)

    def _reachable(self) -> None:
        if self.down:
            log.info("modelmon: the server is reachable again")
        self.down = False
        self._failures = 0
        self._next_attempt = 0.0

    def _count_stored(self, batch: Batch, outcome: Outcome, replayed: bool = False) -> None:
        dupes = batch.n if outcome.replayed else outcome.duplicates
        self.counters.add(sent=batch.n, duplicates=dupes, replayed=batch.n if replayed else 0)

    def _delay(self, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, _MAX_RETRY_AFTER)
        cap = min(self.backoff_max, self.backoff * 2.0 ** max(self._failures - 1, 0))
        return random.uniform(cap / 2, cap)  # "equal jitter": spread retries, keep a floor

    def _give_up(self, batch: Batch, outcome: Outcome) -> None:
        if not outcome.unavailable:
            # The server answers but fails on this batch: keep it out of the way.
            self._pop(batch)
            self._dead_letter(batch, outcome)
            return
        if not self.down:
            where = "spooling to disk" if self.spool is not None else "keeping data in memory"
            log.warning("modelmon: giving up on %s for now after %d attempts (%s: %s); %s",
                        getattr(self.transport, "url", "the store"), batch.attempts,
                        outcome.code, outcome.message, where)
        self.down = True
        # Without a spool the batch stays at the head: it is the probe, retried at the backoff.

    def _dead_letter(self, batch: Batch, outcome: Outcome) -> None:
        kept = ""
        if self.spool is not None and batch.request is not None:
            try:
                self.spool.write(batch, batch.request, failed=True)
                kept = f"; kept in {self.spool.failed_dir}"
            except OSError as exc:
                kept = f"; could not keep it: {exc}"
        self._fail(batch, "dropped", outcome, "server_error",
                   f"the server failed on this batch {batch.attempts} times "
                   f"({outcome.code}: {outcome.message}){kept}")

    def _rejected(self, batch: Batch, outcome: Outcome) -> list[Batch]:
        """Count a 4xx; return what is worth sending again (a split, or the good records)."""
        n = batch.n
        if outcome.http_status == 413 and n > 1:
            decode_rows(batch)
            half = n // 2
            return [batch.subset(range(half)), batch.subset(range(half, n))]
        bad = self._bad_rows(outcome, n)
        if bad and len(bad) < n and batch.splits < _MAX_SPLITS:
            decode_rows(batch)
            self._fail(batch, "rejected", outcome, records=len(bad),
                       ids=_prediction_ids(batch, sorted(bad)))
            return [batch.subset([i for i in range(n) if i not in bad])]
        self._fail(batch, "rejected", outcome)
        return []

    @staticmethod
    def _bad_rows(outcome: Outcome, n: int) -> set[int]:
        """Rows the server blamed, if it blamed rows only and listed every problem."""
        if _MORE_PROBLEMS.search(outcome.message):
            return set()
        errors = outcome.errors or ({"loc": list(outcome.loc)},)
        rows: set[int] = set()
        for err in errors:
            loc: list[Any] = list(err.get("loc") or ())
            if (len(loc) < 2 or loc[0] not in ("records", "rows") or type(loc[1]) is not int
                    or not 0 <= loc[1] < n):
                return set()
            rows.add(loc[1])
        return rows

    # --- spool -----------------------------------------------------------------------------------
    def _spool_head(self) -> None:
        batch = self.pending[0]
        assert isinstance(batch, Batch)
        assert self.spool is not None
        try:
            self.transport.prepare(batch)
        except UnserializableRecords:
            self._attempt(batch)  # rejects the bad records, requeues the rest
            return
        self._pop(batch)
        self._to_spool(batch)

    def _to_spool(self, batch: Batch) -> bool:
        assert self.spool is not None
        assert batch.request is not None
        try:
            written = self.spool.write(batch, batch.request)
        except OSError as exc:
            self._fail(batch, "dropped", None, "spool_full", f"cannot write the spool: {exc}")
            return False
        if written:
            self.counters.add(spooled=batch.n)
        else:
            self._fail(batch, "dropped", None, "spool_full",
                       f"the spool {self.spool.dir} holds spool_max_bytes={self.spool.max_bytes}")
        return written

    def _replay_some(self) -> None:
        if self.spool is None or self.pending or time.monotonic() < self._next_attempt:
            return
        names = self.spool.files()
        for name in names[:_REPLAY_PER_CYCLE]:
            if not self._replay_file(name):
                return
        if len(names) > _REPLAY_PER_CYCLE:
            self.wake.set()  # more to replay: come back at once (new records go first)

    def _replay_all(self, marker: Marker) -> None:
        if self.spool is None:
            return
        before = self.counters.replayed
        for name in self.spool.files():
            if not self._replay_file(name):
                marker.ok = False
                break
        marker.count = self.counters.replayed - before

    def _replay_file(self, name: str) -> bool:
        """Send one spool file; False when the server is unavailable (stop replaying)."""
        assert self.spool is not None
        batch = self.spool.read(name)
        if batch is None:
            return True
        outcome = self.transport.send(batch)
        if outcome.status == "stored":
            self._reachable()
            self._count_stored(batch, outcome, replayed=True)
            self.spool.remove(name)
            return True
        if outcome.status == "rejected":
            self._reachable()
            for part in self._rejected(batch, outcome):
                self.transport.prepare(part)
                self._to_spool(part)  # still durable until it is sent
            self.spool.remove(name)
            return True
        self._failures += 1
        self._next_attempt = time.monotonic() + self._delay(outcome.retry_after)
        if outcome.unavailable:
            self.down = True
            return False
        new_name, failures = self.spool.record_failure(name)
        if failures > self.max_retries:
            self.spool.quarantine(new_name)
            batch.attempts = failures
            self._fail(batch, "dropped", outcome, "server_error",
                       f"the server failed on this spooled batch {failures} times "
                       f"({outcome.code}: {outcome.message}); moved to {self.spool.failed_dir}")
        return True

    # --- shutdown --------------------------------------------------------------------------------
    def _shutdown(self) -> None:
        """Whatever could not be delivered in time: spool it, or count it as dropped."""
        with self._held_lock:
            self.closed = True
            self.room = -1
        self._collect()
        while self.pending:
            head = self.pending.popleft()
            if isinstance(head, Marker):
                head.ok = False
                head.done.set()
                continue
            self.hold(-head.n)
            if self.spool is not None and self.transport.can_spool:
                try:
                    self.transport.prepare(head)
                except UnserializableRecords as exc:
                    self._fail(head, "rejected", None, "unserializable",
                               f"cannot encode as JSON: {exc.message}", records=len(exc.indices))
                    bad = set(exc.indices)
                    keep = [i for i in range(head.n) if i not in bad]
                    if keep:
                        self._push_front([head.subset(keep)])
                    continue
                if not self._to_spool(head):
                    self._lost_at_close += head.n
            else:
                self._lost_at_close += head.n
                self._fail(head, "dropped", None, "closed",
                           "the monitor closed before this batch could be delivered "
                           "(set spool_dir to keep undelivered batches on disk)")


def _prediction_ids(batch: Batch, rows: list[int]) -> tuple[str, ...]:
    """The ``prediction_id`` of rows ``rows`` of a batch, where it has them."""
    if batch.records is not None:
        ids = [batch.records[i].get("prediction_id") for i in rows]
    elif batch.table is not None and "prediction_id" in batch.table.column_names:
        column = batch.table.column("prediction_id")
        ids = [column[i].as_py() for i in rows]
    else:
        return ()
    return tuple(str(i) for i in ids if i is not None)

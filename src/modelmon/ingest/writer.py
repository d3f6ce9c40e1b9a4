"""Group commit: many concurrent ingest requests share one durable transaction.

Each commit costs a write-ahead-log sync (about 5 ms on this class of disk), so committing every
request on its own caps single-prediction ingest near 200 requests/s. The writer thread takes
whatever requests queued up while the previous commit ran (up to ``max_commit_records`` rows),
writes them in one transaction, then resolves each request's future with its own result: a
request is acknowledged only after its data is durable. If a group's transaction fails, each
request of the group is retried on its own, so one request's problem never fails another's.

A commit has a fixed cost (a few milliseconds of DuckDB statement work besides the sync) on top of
its rows, so under batch load the writer waits a little for requests still being validated
(:meth:`GroupCommitWriter.incoming`), up to ``max_wait_seconds`` or ``target_commit_records``
rows: a commit of 1,000 rows costs about three times as much per row as one of 10,000. A lone client
sending one batch at a time never waits (nothing else is on its way).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass

from modelmon.exceptions import OverloadedError, StoreError, ValidationError
from modelmon.store.base import Store, WriteBatch, WriteResult

__all__ = ["GroupCommitWriter", "WriterStats"]

log = logging.getLogger("modelmon.ingest.writer")

_STOP = object()

#: A request of fewer rows is someone waiting for an answer (a single prediction, a small batch):
#: a commit holding one does not wait for announced requests beyond its linger.
SMALL_REQUEST_ROWS = 100


@dataclass
class WriterStats:
    """Counters the service exports on ``/metrics`` and ``/health``.

    ``failing_since`` is the time of the first of the commits that failed in a row because of
    the store (a full disk, a read-only file), 0.0 while the last commit succeeded.
    """

    commits: int = 0
    failed_commits: int = 0
    rows_written: int = 0
    last_commit_seconds: float = 0.0
    last_commit_at: float = 0.0
    failures_in_a_row: int = 0
    failing_since: float = 0.0
    last_failure_at: float = 0.0


@dataclass
class _Request:
    batches: Sequence[WriteBatch]
    future: Future[list[WriteResult]]
    rows: int


class GroupCommitWriter:
    """Serialises writes to a :class:`~modelmon.store.base.Store` with group commit.

    Parameters
    ----------
    store : Store
        An opened store.
    max_commit_records : int
        Most rows written in one transaction.
    max_queue_records : int
        Rows waiting beyond which :meth:`submit` refuses new work (:class:`OverloadedError`).
    on_commit : callable, optional
        Called with ``(seconds, rows)`` after each successful commit (metrics).
    on_written : callable, optional
        Called with ``(batches, results)`` of each successful commit (every request of the
        group), in the writer thread, before any of the group's requests is answered.
    linger_seconds : float
        How long a commit waits for more requests in any case.
    max_wait_seconds : float
        How long a commit may wait while requests announced by :meth:`incoming` are still on
        their way, or until it holds ``target_commit_records`` rows.
    """

    def __init__(
        self,
        store: Store,
        *,
        max_commit_records: int = 50_000,
        max_queue_records: int = 500_000,
        on_commit: Callable[[float, int], None] | None = None,
        on_written: Callable[[Sequence[WriteBatch], Sequence[WriteResult]], None] | None = None,
        linger_seconds: float = 0.002,
        max_wait_seconds: float = 0.05,
        target_commit_records: int = 10_000,
    ) -> None:
        self.store = store
        self.linger_seconds = linger_seconds
        self.max_wait_seconds = max_wait_seconds
        self.target_commit_records = min(target_commit_records, max_commit_records)
        self.max_commit_records = max_commit_records
        self.max_queue_records = max_queue_records
        self.on_commit = on_commit
        self.on_written = on_written
        self.stats = WriterStats()
        self._queue: queue.Queue[object] = queue.Queue()
        self._queued_rows = 0
        self._incoming = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._carry: _Request | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="modelmon-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write everything already queued, then stop the thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(_STOP)
        thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    @contextmanager
    def incoming(self) -> Iterator[None]:
        """Announce a request being validated for writing: commits that start meanwhile wait
        for it (up to ``max_wait_seconds``) instead of paying their fixed cost for fewer rows."""
        with self._lock:
            self._incoming += 1
        try:
            yield
        finally:
            with self._lock:
                self._incoming -= 1

    # --- submitting ------------------------------------------------------------------------------
    def submit(self, batches: Sequence[WriteBatch]) -> Future[list[WriteResult]]:
        """Queue ``batches`` (one request's worth, applied atomically); return a future."""
        rows = sum(b.num_rows for b in batches)
        fut: Future[list[WriteResult]] = Future()
        if not self.running:
            fut.set_exception(StoreError("the ingest writer is not running"))
            return fut
        with self._lock:
            if self._queued_rows + rows > self.max_queue_records and self._queued_rows > 0:
                raise OverloadedError(
                    f"the ingest queue holds {self._queued_rows} rows (limit "
                    f"{self.max_queue_records}); retry shortly"
                )
            self._queued_rows += rows
        self._queue.put(_Request(batches, fut, rows))
        return fut

    async def write(self, batches: Sequence[WriteBatch]) -> list[WriteResult]:
        """Submit and wait without blocking the event loop; returns once durable."""
        return await asyncio.wrap_future(self.submit(batches))

    def write_sync(self, batches: Sequence[WriteBatch], timeout: float | None = None) -> list[WriteResult]:
        """Submit and block until durable (for threads outside the event loop)."""
        return self.submit(batches).result(timeout)

    # --- the writer thread -----------------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping:
            # Requests that queued while the previous commit ran form the next group at once;
            # only a writer that sat idle lingers for company (a commit costs much the same for
            # 1 row or 100, but lingering behind a backlog only adds latency).
            first: object = self._carry
            backlog = first is not None
            if first is None:
                try:
                    first = self._queue.get_nowait()
                    backlog = True
                except queue.Empty:
                    first = self._queue.get()
            self._carry = None
            if first is _STOP:
                stopping = True
                group: list[_Request] = []
            else:
                assert isinstance(first, _Request)
                group = [first]
            rows = sum(r.rows for r in group)
            # Longer while announced requests are still being validated, unless a small request
            # (a single prediction, an interactive client) is in the group.
            small = any(r.rows < SMALL_REQUEST_ROWS for r in group)
            linger = 0.0 if backlog else self.linger_seconds
            start = time.monotonic()
            while rows < self.max_commit_records:
                now = time.monotonic()
                if now < start + linger:
                    wait = start + linger - now
                elif (self._incoming and not small and rows < self.target_commit_records
                        and now < start + self.max_wait_seconds):
                    # Short slices: stop waiting soon after the announced requests are gone.
                    wait = min(0.002, start + self.max_wait_seconds - now)
                else:
                    wait = 0.0
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    if wait > 0:
                        continue
                    break
                if item is _STOP:
                    stopping = True
                    continue
                assert isinstance(item, _Request)
                if rows + item.rows > self.max_commit_records and group:
                    self._carry = item
                    break
                group.append(item)
                rows += item.rows
                small = small or item.rows < SMALL_REQUEST_ROWS
            if group:
                self._commit(group)
            if stopping:
                # Drain whatever is left so no acknowledged-to-queue request is abandoned.
                rest: list[_Request] = []
                if self._carry is not None:
                    rest.append(self._carry)
                    self._carry = None
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(item, _Request):
                        rest.append(item)
                for req in rest:
                    self._commit([req])

    def _commit(self, group: list[_Request]) -> None:
        batches = [b for r in group for b in r.batches]
        rows = sum(r.rows for r in group)
        started = time.perf_counter()
        try:
            results = self.store.write(batches)
        except Exception as exc:
            self.stats.failed_commits += 1
            if not isinstance(exc, ValidationError):  # the store failed, not the request
                self._failed()
            if len(group) > 1:
                log.warning("group commit of %d requests failed (%s); retrying one by one",
                            len(group), exc)
                for req in group:
                    self._commit([req])
                return
            self._release(group)
            group[0].future.set_exception(exc)
            return
        elapsed = time.perf_counter() - started
        self._release(group)
        if self.stats.failures_in_a_row:
            log.warning("the store writes again after %d failed commits",
                        self.stats.failures_in_a_row)
        self.stats.failures_in_a_row = 0
        self.stats.failing_since = 0.0
        self.stats.commits += 1
        self.stats.rows_written += rows
        self.stats.last_commit_seconds = elapsed
        self.stats.last_commit_at = time.time()
        if self.on_commit is not None:
            try:
                self.on_commit(elapsed, rows)
            except Exception:
                log.exception("on_commit callback failed")
        if self.on_written is not None:
            try:
                self.on_written(batches, results)
            except Exception:
                log.exception("on_written callback failed")
        pos = 0
        for req in group:
            n = len(req.batches)
            req.future.set_result(results[pos : pos + n])
            pos += n
        # Only now (the group is answered): a checkpoint can take seconds.
        try:
            self.store.maintain()
        except Exception:
            log.exception("store maintenance failed")

    def _failed(self) -> None:
        now = time.time()
        if not self.stats.failures_in_a_row:
            self.stats.failing_since = now
        self.stats.failures_in_a_row += 1
        self.stats.last_failure_at = now

    def failing(self, within: float = 60.0) -> bool:
        """Whether the store's commits are failing: the last commit failed (because of the
        store) less than ``within`` seconds ago. Without traffic there is no evidence either
        way after that, and readiness must come back so that traffic can show it."""
        stats = self.stats
        return bool(stats.failures_in_a_row) and time.time() - stats.last_failure_at < within

    def _release(self, group: list[_Request]) -> None:
        with self._lock:
            self._queued_rows -= sum(r.rows for r in group)

"""Validation of large JSON batches in worker processes.

Decoding and validating a batch of 1,000 predictions is a few milliseconds of Python work that
holds the interpreter lock. In the server process that work competes with the event loop and the
group-commit writer for the one lock, so a second core cannot help. Worker processes have their
own interpreters: the server hands them the raw JSON of a batch's records and gets back the
validated Arrow table (or the validation error with every problem), and its own lock stays free
for HTTP and the writer.

The pool starts in the background on the first large batch (a server that never sees one never
starts a process); until its workers are up, or if one dies, batches are validated in a thread of
the server process. Results are the same either way (the
workers run :func:`~modelmon.ingest.json_batch.predictions_from_json`).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any

import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.exceptions import ModelmonError
from modelmon.ingest.json_batch import predictions_from_json

__all__ = ["ValidationPool", "default_workers"]

log = logging.getLogger("modelmon.ingest.pool")


def default_workers() -> int:
    """One worker per core beyond the first (none on a single core), at most four."""
    return max(0, min(4, (os.cpu_count() or 1) - 1)) if (os.cpu_count() or 1) > 1 else 0


def _init_worker() -> None:
    # Ctrl-C reaches the whole process group: the server stops its workers itself, and a worker
    # must not die first with a traceback on the terminal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A server killed without a clean stop (SIGKILL, os._exit) must not leave workers behind.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent.sentinel,), daemon=True).start()
    # Validation allocates many short-lived containers and creates no reference cycles: rarer
    # young-generation collections save about a tenth of its time.
    gc.set_threshold(50_000, 20, 20)


def _exit_with_parent(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _warm() -> int:
    return os.getpid()


def _validate(spec: ModelSpec, records_json: bytes, now: datetime, version: str | None,
              max_records: int) -> tuple[bool, Any]:
    # Errors travel back as values: a worker must never die of a client's bad input.
    try:
        table = predictions_from_json(spec, records_json, now=now, version=version,
                                      max_records=max_records)
    except ModelmonError as exc:
        return False, exc
    # Arrow IPC, not a pickled table: a quarter of the cost on both sides.
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return True, sink.getvalue().to_pybytes()


class ValidationPool:
    """Worker processes for :func:`~modelmon.ingest.json_batch.predictions_from_json`.

    Parameters
    ----------
    workers : int
        Worker processes; 0 validates in a thread of the calling process.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self._starting = False

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self._executor is not None

    def start(self) -> None:
        """Start the workers in the background (returns at once; no-op if started)."""
        with self._lock:
            if self.workers <= 0 or self._closed or self._starting or self._executor is not None:
                return
            self._starting = True
        threading.Thread(target=self._spawn, name="modelmon-pool-start", daemon=True).start()

    def _spawn(self) -> None:
        # "spawn", not "fork": the server process runs threads (writer, DuckDB) that fork would
        # copy in whatever state they were in.
        ctx = multiprocessing.get_context("spawn")
        executor = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker)
        try:
            pids = {f.result(timeout=120) for f in [executor.submit(_warm) for _ in range(self.workers)]}
        except Exception as exc:  # no workers: keep validating in threads
            log.warning("validation workers did not start (%s); validating in threads", exc)
            executor.shutdown(wait=False, cancel_futures=True)
            return  # _starting stays set: do not retry on every request
        with self._lock:
            self._starting = False
            if self._closed:
                executor.shutdown(wait=False, cancel_futures=True)
                return
            self._executor = executor
            self._ready.set()
        log.info("validation workers ready (pids %s)", sorted(pids))

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Start the workers and block until they are up; False on timeout or without workers."""
        self.start()
        return self.workers > 0 and self._ready.wait(timeout)

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            self._ready.clear()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    async def predictions_from_json(
        self, spec: ModelSpec, records_json: bytes | memoryview, *, now: datetime,
        version: str | None, max_records: int,
    ) -> pa.Table:
        """Validate in a worker process when one is ready, else in a thread."""
        executor = self._executor if self._ready.is_set() else None
        if executor is None:
            self.start()
        if executor is not None:
            try:
                fut: Future[tuple[bool, Any]] = executor.submit(
                    _validate, spec, bytes(records_json), now, version, max_records)
                ok, value = await asyncio.wrap_future(fut)
            except (BrokenProcessPool, RuntimeError) as exc:
                # A worker died (or the pool is shutting down): restart it, answer from a thread.
                log.warning("validation worker pool failed (%s); restarting it", exc)
                self._restart(executor)
            else:
                if ok:
                    return pa.ipc.open_stream(value).read_all()
                raise value
        return await asyncio.to_thread(predictions_from_json, spec, records_json, now=now,
                                       version=version, max_records=max_records)

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is not broken or self._closed:
                return
            self._executor = None
            self._ready.clear()
        broken.shutdown(wait=False, cancel_futures=True)
        self.start()  # the next request validates in a thread until the new workers are up

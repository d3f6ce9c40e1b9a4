"""Validation of large JSON batches, bulk uploads and coalesced single predictions in worker
processes.

Decoding and validating a batch of 1,000 predictions is a few milliseconds of Python work that
holds the interpreter lock. In the server process that work competes with the event loop and the
group-commit writer for the one lock, so a second core cannot help. Worker processes have their
own interpreters: the server hands them the raw JSON of a batch's records and gets back the
validated Arrow table (or the validation error with every problem), and its own lock stays free
for HTTP and the writer.

The transport is lean on purpose: each worker listens on a Unix socket, and the server's event
loop writes a request and reads the reply on a connection of its own (one per request in flight,
kept for reuse), with no threads or pickling of the body in between. A request is the model
spec (pickled once per spec and cached by the worker), the request's parameters and the raw
JSON (or the uploaded file); a reply is the table as Arrow IPC, or the pickled validation
error. Measured on 2 cores, a concurrent.futures process pool cost about 1.2 ms of server CPU and two thread hand-offs per
batch; this costs about 0.5 ms and none.

``modelmon serve`` starts the pool with the server (:meth:`ValidationPool.start`, each worker
warmed up for every model); otherwise it starts in the background on the first large batch,
upload or single prediction. Until its workers are up, or if one dies, requests are validated in
a thread of the server process. Results are the same either way (the workers run the functions
of :data:`_TASKS`).

Arrow uploads are cheap to validate (vectorised), yet in a thread of the server they cost more
than the work itself: the thread, the event loop and the writer hand the interpreter lock back
and forth (measured on 2 cores: 80,000 rows/s validated in threads, over 110,000 without them).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import re
import selectors
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.ingest._values import Now
from modelmon.ingest.bulk import predictions_from_upload
from modelmon.ingest.json_batch import predictions_from_batch_json, predictions_from_json
from modelmon.ingest.warmup import warm_up

__all__ = ["ValidationPool", "default_workers"]

log = logging.getLogger("modelmon.ingest.pool")

#: What a worker can be asked to do: function(spec, body, **parameters) -> validated table.
_TASKS: dict[str, Callable[..., pa.Table]] = {
    "json": predictions_from_json,
    "batch": predictions_from_batch_json,
    "upload": predictions_from_upload,
}

# Request: spec length, parameters length, body length; then the three. Reply: ok flag, length.
_REQUEST = struct.Struct("<IIQ")
_REPLY = struct.Struct("<BQ")


def default_workers() -> int:
    """One worker per core, at most four; none on a single core.

    As many workers as cores, not one fewer: the server process itself (event loop and writer)
    keeps to about two thirds of a core under batch load, and on two cores one worker left a
    fifth of the machine idle (JSON batches: 71,000-78,000 rows/s with one worker,
    83,000-101,000 with two, same runs alternated)."""
    cores = os.cpu_count() or 1
    return min(4, cores) if cores > 1 else 0


# --- the worker process ---------------------------------------------------------------------------


def _init_worker(path: str) -> None:
    # Ctrl-C reaches the whole process group: the server stops its workers itself, and a worker
    # must not die first with a traceback on the terminal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A server killed without a clean stop (SIGKILL, os._exit) must not leave workers (or their
    # sockets) behind.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent.sentinel, path),
                         daemon=True).start()
    # Validation allocates many short-lived containers and creates no reference cycles: rarer
    # young-generation collections save about a tenth of its time.
    gc.set_threshold(50_000, 20, 20)


def _exit_with_parent(sentinel: int, path: str) -> None:
    multiprocessing.connection.wait([sentinel])
    for leftover in (path, path + ".tmp"):  # listening, or still starting
        with contextlib.suppress(OSError):
            os.unlink(leftover)
    with contextlib.suppress(OSError):
        os.rmdir(os.path.dirname(path))  # the last worker of the folder removes it
    os._exit(0)


def _recv_exact(conn: socket.socket, n: int) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = conn.recv_into(view[got:])
        if k == 0:
            raise EOFError
        got += k
    return buf


def _validate(specs: dict[bytes, ModelSpec], spec_blob: bytes, params: bytes,
              body: memoryview) -> tuple[bytes, Any]:
    """The reply: its header and its payload (a pickled error, or the table as Arrow IPC)."""
    spec = specs.get(spec_blob)
    if spec is None:
        if len(specs) >= 256:
            specs.clear()
        spec = specs[spec_blob] = pickle.loads(spec_blob)
    task, kwargs = pickle.loads(params)
    # Errors travel back as values: a worker must never die of a request.
    try:
        table = _TASKS[task](spec, body, **kwargs)
    except Exception as exc:  # a ModelmonError, or a bug: the server answers 4xx or 500
        try:
            blob = pickle.dumps(exc)
        except Exception:  # an exception that does not pickle
            blob = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        return _REPLY.pack(0, len(blob)), blob
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    out = sink.getvalue()
    return _REPLY.pack(1, out.size), out


_SOCKET_BUFFER = 4 * 2**20


def _big_buffers(conn: socket.socket) -> None:
    """Room in the kernel for a whole body or reply (hundreds of KB for 1,000 records), so the
    sender hands it over in one call and goes on instead of waiting for the reader (the kernel
    caps the size at net.core.wmem_max / rmem_max)."""
    for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.SOL_SOCKET, option, _SOCKET_BUFFER)


def _accept_all(listener: socket.socket, selector: selectors.BaseSelector) -> int:
    """Accept every connection waiting, not one per round: under load a round of validations
    takes seconds, and the tenth new connection would wait ten rounds for its first read."""
    accepted = 0
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return accepted
        conn.setblocking(True)
        _big_buffers(conn)
        selector.register(conn, selectors.EVENT_READ)
        accepted += 1


def _worker_main(path: str, warm: Sequence[ModelSpec] = ()) -> None:
    _init_worker(path)
    try:  # before listening: the server sends requests once the socket exists
        warm_up(warm, datetime.now(UTC), ids=False)
    except Exception as exc:  # a cold worker still validates
        log.warning("validation worker warm-up failed: %s", exc)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".tmp")
    listener.listen(128)
    listener.setblocking(False)
    os.rename(path + ".tmp", path)  # the server connects once the socket is listening
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    specs: dict[bytes, ModelSpec] = {}
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                _accept_all(listener, selector)
                continue
            conn: socket.socket = key.fileobj  # type: ignore[assignment]
            try:
                n_spec, n_params, n_body = _REQUEST.unpack(_recv_exact(conn, _REQUEST.size))
                spec_blob = bytes(_recv_exact(conn, n_spec))
                params = bytes(_recv_exact(conn, n_params))
                body = memoryview(_recv_exact(conn, n_body))
                header, payload = _validate(specs, spec_blob, params, body)
                conn.sendall(header)
                conn.sendall(payload)
            except (EOFError, OSError):
                selector.unregister(conn)
                conn.close()


# --- the server side ------------------------------------------------------------------------------


class _WorkerGone(Exception):
    pass


@dataclass
class _Worker:
    process: Any
    path: str
    idle: list[socket.socket] = field(default_factory=list)
    busy: int = 0

    async def call(self, header: bytes, spec_blob: bytes, params: bytes,
                   body: bytes | memoryview) -> tuple[bool, memoryview]:
        loop = asyncio.get_running_loop()
        conn = self.idle.pop() if self.idle else None
        self.busy += 1
        try:
            if conn is None:
                conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.setblocking(False)
                _big_buffers(conn)
                await loop.sock_connect(conn, self.path)
            await loop.sock_sendall(conn, header + spec_blob + params)
            await loop.sock_sendall(conn, body)
            ok, n = _REPLY.unpack(await _read(loop, conn, _REPLY.size))
            payload = await _read(loop, conn, n)
        except (OSError, EOFError) as exc:
            if conn is not None:
                conn.close()
            raise _WorkerGone(str(exc) or type(exc).__name__) from exc
        except BaseException:  # cancelled mid-request: the connection's state is unknown
            if conn is not None:
                conn.close()
            raise
        finally:
            self.busy -= 1
        self.idle.append(conn)
        return bool(ok), payload

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


async def _read(loop: asyncio.AbstractEventLoop, conn: socket.socket, n: int) -> memoryview:
    view = memoryview(bytearray(n))
    got = 0
    while got < n:
        k = await loop.sock_recv_into(conn, view[got:])
        if k == 0:
            raise EOFError("the validation worker closed the connection")
        got += k
    return view


class ValidationPool:
    """Worker processes that validate JSON batches and Arrow uploads of predictions.

    Parameters
    ----------
    workers : int
        Worker processes; 0 validates in a thread of the calling process.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._workers: list[_Worker] = []
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self._starting = False
        self._spec_blobs: dict[int, tuple[ModelSpec, bytes]] = {}

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and bool(self._workers)

    @property
    def pids(self) -> list[int]:
        """Process ids of the running workers (empty until they are up)."""
        return [w.process.pid for w in self._workers]

    def start(self, warm: Sequence[ModelSpec] = ()) -> None:
        """Start the workers in the background (returns at once; no-op if started). Each
        worker first validates a synthetic batch for each of the ``warm`` models, so that the
        first requests do not pay for loading code and building decoders."""
        with self._lock:
            if self.workers <= 0 or self._closed or self._starting or self._workers:
                return
            self._starting = True
        threading.Thread(target=self._spawn, args=(list(warm),), name="modelmon-pool-start",
                         daemon=True).start()

    def _spawn(self, warm: list[ModelSpec]) -> None:
        # "spawn", not "fork": the server process runs threads (writer, DuckDB) that fork would
        # copy in whatever state they were in.
        ctx = multiprocessing.get_context("spawn")
        # Short paths: a Unix socket's path is limited to about 100 bytes.
        base = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
        _sweep_stale(base)
        folder = tempfile.mkdtemp(prefix=f"mm-pool-{os.getpid()}-", dir=base)
        workers = [_Worker(ctx.Process(target=_worker_main, args=(path, warm), daemon=True), path)
                   for path in (os.path.join(folder, f"w{i}.sock") for i in range(self.workers))]
        try:
            for w in workers:
                w.process.start()
            deadline = time.monotonic() + 120
            while not all(os.path.exists(w.path) for w in workers):
                if time.monotonic() > deadline or not all(w.process.is_alive() for w in workers):
                    raise RuntimeError("a worker exited or did not listen within 120 s")
                time.sleep(0.01)
        except Exception as exc:  # no workers: keep validating in threads
            log.warning("validation workers did not start (%s); validating in threads", exc)
            _terminate(workers)
            return  # _starting stays set: do not retry on every request
        with self._lock:
            self._starting = False
            if self._closed:
                _terminate(workers)
                return
            self._workers = workers
            self._ready.set()
        log.info("validation workers ready (pids %s)", sorted(w.process.pid for w in workers))

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Start the workers and block until they are up; False on timeout or without workers."""
        self.start()
        return self.workers > 0 and self._ready.wait(timeout)

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
            self._ready.clear()
        _terminate(workers)

    def _spec_blob(self, spec: ModelSpec) -> bytes:
        cached = self._spec_blobs.get(id(spec))
        if cached is None or cached[0] is not spec:
            if len(self._spec_blobs) >= 256:
                self._spec_blobs.clear()
            cached = self._spec_blobs[id(spec)] = (spec, pickle.dumps(spec))
        return cached[1]

    async def predictions_from_json(
        self, spec: ModelSpec, records_json: bytes | memoryview, *, now: Now,
        version: str | None, max_records: int,
    ) -> pa.Table:
        """:func:`~modelmon.ingest.json_batch.predictions_from_json` in a worker process when one
        is ready, else in a thread."""
        return await self._run("json", spec, records_json,
                               {"now": now, "version": version, "max_records": max_records})

    async def predictions_from_batch_json(
        self, spec: ModelSpec, body: bytes, *, model: str, now: Now, max_records: int,
    ) -> pa.Table:
        """:func:`~modelmon.ingest.json_batch.predictions_from_batch_json` (a whole batch body,
        envelope and records in one pass) in a worker process when one is ready, else in a
        thread; raises :class:`~modelmon.ingest.json_batch.NotFastPath` like it."""
        return await self._run("batch", spec, body,
                               {"model": model, "now": now, "max_records": max_records})

    async def predictions_from_upload(
        self, spec: ModelSpec, body: bytes, *, kind: str, now: Now, version: str | None,
        max_rows: int,
    ) -> pa.Table:
        """:func:`~modelmon.ingest.bulk.predictions_from_upload` (NDJSON, Arrow or Parquet) in a
        worker process when one is ready, else in a thread."""
        return await self._run("upload", spec, body, {"kind": kind, "now": now,
                                                      "version": version, "max_rows": max_rows})

    async def validate_records(self, spec: ModelSpec, records_json: bytes, now: Now) -> pa.Table:
        """A group of single records (an :data:`~modelmon.ingest.coalesce.Offload`)."""
        return await self.predictions_from_json(spec, records_json, now=now, version=None,
                                                max_records=2**31)

    async def _run(self, task: str, spec: ModelSpec, body: bytes | memoryview,
                   kwargs: dict[str, Any]) -> pa.Table:
        workers = self._workers if self._ready.is_set() else []
        if not workers:
            self.start()
        else:
            worker = min(workers, key=lambda w: w.busy)
            spec_blob = self._spec_blob(spec)
            params = pickle.dumps((task, kwargs))
            body = body if isinstance(body, bytes) else memoryview(body)
            header = _REQUEST.pack(len(spec_blob), len(params), len(body))
            try:
                ok, payload = await worker.call(header, spec_blob, params, body)
            except _WorkerGone as exc:
                # A worker died (or the pool is stopping): restart it, answer from a thread.
                log.warning("validation worker failed (%s); restarting the workers", exc)
                self._restart(workers)
            else:
                if ok:
                    return pa.ipc.open_stream(pa.py_buffer(payload)).read_all()
                raise pickle.loads(payload)
        return await asyncio.to_thread(_TASKS[task], spec, body, **kwargs)

    def _restart(self, broken: list[_Worker]) -> None:
        with self._lock:
            if self._workers is not broken or self._closed:
                return
            self._workers = []
            self._ready.clear()
        # Not on the event loop: terminating waits for the processes to exit.
        threading.Thread(target=_terminate, args=(broken,), daemon=True).start()
        self.start()  # the next request validates in a thread until the new workers are up


_FOLDER = re.compile(r"mm-pool-(\d+)-")


def _sweep_stale(base: str) -> int:
    """Remove socket folders of servers that no longer run (one killed while its workers were
    still starting leaves its folder behind); returns how many were removed."""
    removed = 0
    with contextlib.suppress(OSError):
        for name in os.listdir(base):
            match = _FOLDER.match(name)
            if match is None or _alive(int(match.group(1))):
                continue
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _terminate(workers: list[_Worker]) -> None:
    """Stop the workers and remove their socket folder (one per start)."""
    for w in workers:
        w.close()
        if w.process.is_alive():
            w.process.terminate()
    for w in workers:
        if w.process.pid is not None:
            w.process.join(10)
    for folder in {os.path.dirname(w.path) for w in workers}:
        shutil.rmtree(folder, ignore_errors=True)

"""The spool: batches the server could not take, kept on disk until it can.

One file per batch, written atomically (a temporary file, ``fsync``, then ``rename``), holding a
one-line JSON header (kind, model, idempotency key, request path ...) and the request body as it
would have been sent. Replaying a file sends the same bytes with the same idempotency key, so a
batch the server did store (its answer lost) is not stored twice.

File names sort by creation time and carry the idempotency key, the number of records and how
many times the server failed on the file (not counting unreachability)::

    00001767225600000000000-<key>-<records>-<failures>.mmspool

Files the server kept failing on move to the ``failed/`` subfolder (a dead-letter folder: move
them back to retry).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import orjson

from modelmon.sdk._batching import Batch, Request
from modelmon.sdk._wire import dumps

__all__ = ["Spool"]

log = logging.getLogger("modelmon.sdk")

SUFFIX = ".mmspool"
_STALE_TMP_SECONDS = 3600.0


def _parse(name: str) -> tuple[str, int, int] | None:
    """``(key, records, failures)`` from a spool file name, or None for a foreign file."""
    if not name.endswith(SUFFIX) or name.startswith("."):
        return None
    parts = name[: -len(SUFFIX)].split("-")
    if len(parts) != 4 or not (parts[2].isdigit() and parts[3].isdigit()):
        return None
    return parts[1], int(parts[2]), int(parts[3])


class Spool:
    """A spool directory (created if absent) holding at most ``max_bytes``."""

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.failed_dir = self.dir / "failed"
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._bytes = 0
        now = time.time()
        for entry in os.scandir(self.dir):
            # A temporary file left by a crash mid-write was never renamed: not a batch.
            if entry.name.endswith(".tmp") and now - entry.stat().st_mtime > _STALE_TMP_SECONDS:
                Path(entry.path).unlink(missing_ok=True)
        self.files()

    def files(self) -> list[str]:
        """Spool file names, oldest first (re-read from disk: other processes may share it)."""
        names, size = [], 0
        for entry in os.scandir(self.dir):
            if entry.is_file() and _parse(entry.name) is not None:
                names.append(entry.name)
                try:
                    size += entry.stat().st_size
                except FileNotFoundError:  # replayed meanwhile by another process
                    continue
        with self._lock:
            self._bytes = size
        return sorted(names)

    def records(self) -> int:
        """Records waiting in the spool."""
        return sum(p[1] for p in map(_parse, self.files()) if p is not None)

    def write(self, batch: Batch, request: Request, *, failed: bool = False) -> bool:
        """Write ``batch`` durably; False when the spool is full (nothing written).

        ``failed`` writes it to the dead-letter folder instead (not counted against the size).
        """
        header = {"v": 1, "kind": batch.kind, "model": batch.model, "version": batch.version,
                  "key": batch.key, "records": batch.n, "path": request.path,
                  "content_type": request.content_type, "params": list(request.params),
                  "created": time.time()}
        data = dumps(header) + b"\n" + request.body
        counted = 0 if failed else len(data)
        with self._lock:
            if counted and self._bytes + counted > self.max_bytes:
                return False
            self._bytes += counted
        folder = self.failed_dir if failed else self.dir
        folder.mkdir(exist_ok=True)
        name = f"{time.time_ns():023d}-{batch.key}-{batch.n}-0{SUFFIX}"
        tmp = folder / f".{name}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, folder / name)
            self._sync_dir(folder)
        except OSError:
            tmp.unlink(missing_ok=True)
            with self._lock:
                self._bytes -= counted
            raise
        return True

    @staticmethod
    def _sync_dir(folder: Path) -> None:
        # The rename is durable only once the directory entry is (POSIX).
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:  # pragma: no cover - platforms without directory fds
            return
        try:
            os.fsync(fd)
        except OSError:  # pragma: no cover
            pass
        finally:
            os.close(fd)

    def read(self, name: str) -> Batch | None:
        """The batch in file ``name``; None if it vanished or is unreadable (then quarantined)."""
        path = self.dir / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        head, _, body = data.partition(b"\n")
        try:
            h = orjson.loads(head)
            request = Request(h["path"], h["content_type"], body,
                              tuple((str(k), str(v)) for k, v in h.get("params", ())))
            return Batch(h["kind"], h["model"], h.get("version"), key=h["key"],
                         count=int(h["records"]), request=request, spool_name=name)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.error("modelmon: spool file %s is unreadable; moved to %s", path, self.failed_dir)
            self.quarantine(name)
            return None

    def remove(self, name: str) -> None:
        path = self.dir / name
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return
        with self._lock:
            self._bytes -= size

    def record_failure(self, name: str) -> tuple[str, int]:
        """Count one more server failure on file ``name``: ``(new name, failures)``."""
        parsed = _parse(name)
        assert parsed is not None
        failures = parsed[2] + 1
        stem = name[: -len(SUFFIX)].rsplit("-", 1)[0]
        new = f"{stem}-{failures}{SUFFIX}"
        try:
            os.replace(self.dir / name, self.dir / new)
        except FileNotFoundError:
            return name, failures
        return new, failures

    def quarantine(self, name: str) -> None:
        """Move file ``name`` to the ``failed/`` folder (never replayed automatically)."""
        self.failed_dir.mkdir(exist_ok=True)
        src = self.dir / name
        try:
            size = src.stat().st_size
            os.replace(src, self.failed_dir / name)
        except FileNotFoundError:
            return
        with self._lock:
            self._bytes -= size

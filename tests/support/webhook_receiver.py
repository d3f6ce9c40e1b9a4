"""A serving system's webhook endpoint on a loopback port, for tests: it records every request
(path, headers, JSON body, when, how many were in flight) and answers from a script of
responses, optionally slowly."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    at: float
    raw: bytes = b""


@dataclass
class Receiver:
    """``responses``: ``(status, body)`` answered in turn (the last one repeats); ``delay``:
    seconds each answer takes."""

    responses: list[tuple[int, str]] = field(default_factory=lambda: [(200, '{"ok": true}')])
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    max_in_flight: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, str]:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            self.requests.append(Received(path, headers, body, time.monotonic(), raw))
            status, text = self.responses[min(len(self.requests), len(self.responses)) - 1]
        try:
            if self.delay:
                time.sleep(self.delay)
            return status, text
        finally:
            with self._lock:
                self._in_flight -= 1

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.requests)


@contextmanager
def receiver(responses: list[tuple[int, str]] | None = None, *, delay: float = 0.0
             ) -> Iterator[Receiver]:
    """A :class:`Receiver` serving on ``127.0.0.1`` (a free port) for the block."""
    rec = Receiver(responses or [(200, '{"ok": true}')], delay)

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, text = rec.answer(self.path, dict(self.headers.items()), raw)
            data = text.encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PUT = do_PATCH = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()

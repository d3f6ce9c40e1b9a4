"""A real HTTP receiver on a free loopback port, recording what it is sent.

``Receiver()`` starts a threaded HTTP server; every POST is recorded (path, headers, body) and
answered with ``status`` (200 by default). ``down()`` makes it refuse connections until ``up()``;
``fail_next(n, status)`` answers the next n requests with an error; ``delay`` slows each answer.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.live_server import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[Received] = []
        self._failing: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.up()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if owner.delay:
                    time.sleep(owner.delay)
                with owner._lock:
                    status = owner._failing.pop(0) if owner._failing else owner.status
                    if status < 400:
                        owner.requests.append(Received(self.path, dict(self.headers.items()),
                                                       body, time.monotonic()))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                answer = b'{"status": "success"}' if status < 400 else b'{"error": "nope"}'
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def up(self) -> None:
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
            self._server.daemon_threads = True
            threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail_next(self, n: int, status: int = 503) -> None:
        with self._lock:
            self._failing += [status] * n

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        with self._lock:
            return list(self.requests)

    def close(self) -> None:
        self.down()

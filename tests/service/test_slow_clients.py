"""Slow or stalled clients cannot hold connections: a request's headers and body have deadlines
(``server.header_timeout_seconds``, ``server.body_timeout_seconds``). Before, a body shorter than
its Content-Length was waited for forever (900 half-open connections were alive after 32 s)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.service.test_ingest_api import settings_for
from tests.support.live_server import LiveServer, live_server

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path: Path = tmp_path_factory.mktemp("slow")
    settings = settings_for(path, server={"header_timeout_seconds": TIMEOUT,
                                          "body_timeout_seconds": TIMEOUT})
    with live_server(settings) as s:
        yield s


def _connect(server: LiveServer) -> socket.socket:
    url = urlparse(server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


@pytest.mark.parametrize("path", ["/v1/predictions", "/v1/predictions/batch", "/v1/models",
                                  "/v1/models/fraud/predictions/bulk"])
def test_a_body_shorter_than_announced_is_a_408_and_the_connection_closes(
        server: LiveServer, path: str) -> None:
    media = "application/x-ndjson" if path.endswith("bulk") else "application/json"
    with _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {media}\r\n"
                     "Content-Length: 1000\r\n\r\n{\"model\": ".encode())
        answer = _read_all(sock)
        elapsed = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer
    assert b"connection: close" in head.lower()
    err = json.loads(body)
    assert err["code"] == "request_timeout" and "server.body_timeout_seconds" in err["message"]
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + 5


@pytest.mark.parametrize("sent", [b"", b"POST /v1/predictions HTTP/1.1\r\nHost: x\r\n",
                                  b"GET /health HTTP/1.1\r\nHost"])
def test_incomplete_headers_close_the_connection(server: LiveServer, sent: bytes) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(sent)
        assert _read_all(sock) == b""
        assert time.monotonic() - started < TIMEOUT + 5


def test_many_stalled_connections_are_all_closed(server: LiveServer) -> None:
    socks = [_connect(server) for _ in range(200)]
    try:
        for i, sock in enumerate(socks):
            if i % 2:
                sock.sendall(b"POST /v1/predictions HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
            else:
                sock.sendall(b"POST /v1/predictions HTTP/1.1\r\nHost: x\r\nContent-")
        assert httpx.get(f"{server.url}/health/live", timeout=5).status_code == 200
        time.sleep(TIMEOUT + 1.0)
        for sock in socks:
            sock.settimeout(5)
            _read_all(sock)  # returns once the server closed it (a recv timeout fails)
    finally:
        for sock in socks:
            sock.close()


def test_keep_alive_requests_within_the_deadlines_work(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        for _ in range(3):
            assert c.get("/health/live").status_code == 200
            time.sleep(TIMEOUT / 3)
        r = c.post("/v1/predictions", json={"model": "price", "features": {"area": 50.0},
                                            "prediction": 1.0})
        assert r.status_code == 200, r.text

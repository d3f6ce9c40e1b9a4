"""Fixtures for the SDK tests: the real service (see :mod:`tests.sdk.servers`) and monitors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modelmon.sdk import Monitor
from tests.sdk.servers import ProcessServer, ThreadServer


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., ThreadServer]]:
    """``make_server(start=True, port=None, api_key=None, ingest=None)``: a fresh service on its
    own DB (``ingest`` overrides ingest settings, e.g. ``{"max_body_bytes": "20KB"}``)."""
    servers: list[ThreadServer] = []

    def make(start: bool = True, port: int | None = None, api_key: str | None = None,
             ingest: dict[str, Any] | None = None) -> ThreadServer:
        server = ThreadServer(tmp_path / f"db{len(servers)}.duckdb", port, api_key, ingest)
        servers.append(server)
        return server.start() if start else server

    yield make
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    """One running service shared by a module's tests (each test uses its own ids)."""
    s = ThreadServer(tmp_path_factory.mktemp("sdk") / "shared.duckdb").start()
    yield s
    s.stop()


@pytest.fixture
def process_server(tmp_path: Path) -> Iterator[ProcessServer]:
    """The service in a child process, not started yet."""
    s = ProcessServer(tmp_path / "proc.duckdb")
    yield s
    s.stop()


@pytest.fixture
def monitors() -> Iterator[Callable[..., Monitor]]:
    """``monitors(url, **kwargs)``: a Monitor with test-friendly timings, closed at teardown."""
    made: list[Monitor] = []

    def make(url: str, **kwargs: Any) -> Monitor:
        options: dict[str, Any] = {"model": "fraud", "flush_interval": 0.2, "retry_backoff": 0.05,
                                   "retry_backoff_max": 0.5, "timeout": 5.0}
        options.update(kwargs)
        m = Monitor(url, **options)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close(timeout=2.0)

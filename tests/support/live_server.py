"""Run the real modelmon service (uvicorn) on a free 127.0.0.1 port in a background thread."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from modelmon.config.settings import Settings
from modelmon.service.background import BackgroundServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer(BackgroundServer):
    """The service on a free loopback port (``url``; ``state`` is ``app.state.mm``)."""

    def __init__(self, settings: Settings, **app_kwargs: Any) -> None:
        super().__init__(settings, port=free_port(), **app_kwargs)


@contextmanager
def live_server(settings: Settings, **app_kwargs: Any) -> Iterator[LiveServer]:
    server = LiveServer(settings, **app_kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()

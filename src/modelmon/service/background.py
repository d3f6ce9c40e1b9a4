"""The service (uvicorn) in a background thread of this process: the demo runs it this way, and
so do the tests that need a real server on a loopback port."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from modelmon.config.settings import Settings
from modelmon.service.app import create_app
from modelmon.service.protocol import http_protocol
from modelmon.service.tls import check_tls, uvicorn_tls_options

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """uvicorn serving ``create_app(settings, **app_kwargs)`` on the settings' host and port
    (or ``port``)."""

    def __init__(self, settings: Settings, *, port: int | None = None, **app_kwargs: Any) -> None:
        self.settings = settings
        self.app = create_app(settings, **app_kwargs)
        host = settings.server.host
        self.port = port = settings.server.port if port is None else port
        self.url = f"{'https' if settings.server.tls else 'http'}://{host}:{port}"
        check_tls(settings.server)
        config = uvicorn.Config(self.app, host=host, port=port, log_config=None,
                                access_log=False, lifespan="on", log_level="warning",
                                http=http_protocol(settings.server.header_timeout_seconds),
                                **uvicorn_tls_options(settings.server))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="modelmon-server",
                                        daemon=True)

    def start(self, timeout: float = 60.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the service could not start on {self.url} (port in use?)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the service did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    @property
    def state(self) -> Any:
        return self.app.state.mm

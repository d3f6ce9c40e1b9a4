"""uvicorn's HTTP protocol with a deadline for request headers.

uvicorn closes a connection that stays idle between requests (``timeout_keep_alive``), but not
one that sends part of a request and then nothing: a client trickling header bytes, or opening a
connection and sending nothing, holds it (and its memory) forever; hundreds of such connections
starve the server. With this protocol a request's headers must arrive whole within
``server.header_timeout_seconds`` of its first byte (or of the connection, for a new one);
otherwise the connection is closed. The body has its own deadline, kept by the request middleware
(:class:`~modelmon.service.middleware.RequestMiddleware`, ``server.body_timeout_seconds``), which
answers ``408 request_timeout``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["http_protocol"]


class _HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        # Between requests uvicorn's keep-alive timer watches the connection instead.
        self._disarm()
        super().on_response_complete()

    def _arm(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _expired(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # a response is on its way: close after it
            return
        self.transport.close()


def http_protocol(header_timeout: float) -> type[Any]:
    """The protocol class to give uvicorn (``http=``), closing connections whose request headers
    take longer than ``header_timeout`` seconds."""
    return type("ModelmonHTTPProtocol", (_HeaderDeadlineProtocol,),
                {"header_timeout": float(header_timeout)})

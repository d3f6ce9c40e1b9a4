"""Coalescing single-record requests: validate many concurrent records as one batch.

Validation is column-wise, so its cost per call is mostly fixed; one record alone costs almost
as much as a hundred. Under load, single-prediction requests arriving within ``max_wait`` of each
other are validated together, then each request gets its own one-row slice. If the combined batch
has any problem, each record is validated on its own, so every request still receives exactly its
own errors (with locations relative to its own body).

With an ``offload`` (the service passes its validation worker pool), a group is validated in a
worker process instead of on the event loop: at 1,000 single predictions per second that
validation was about a third of the event loop's time. While a group is out, the next one
gathers and leaves as soon as the first is back, so groups grow with the load by themselves (a
longer fixed wait would cost latency at low load).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.exceptions import ModelmonError
from modelmon.ingest._values import Now

__all__ = ["Offload", "RecordCoalescer"]

log = logging.getLogger("modelmon.ingest")

Validator = Callable[..., pa.Table]
#: ``(spec, records as a JSON array, now) -> table``: validates elsewhere with the same result as
#: the validator (raises a ModelmonError when any record is invalid).
Offload = Callable[[ModelSpec, bytes, Now], Awaitable[pa.Table]]

_Key = tuple[int, int]
_Items = list[tuple[Any, "asyncio.Future[pa.Table]"]]


class RecordCoalescer:
    """Groups single records per (validator, model spec) within one event loop."""

    def __init__(self, *, max_wait: float = 0.001, max_records: int = 1000) -> None:
        self.max_wait = max_wait
        self.max_records = max_records
        self._pending: dict[_Key, _Items] = {}
        self._context: dict[_Key, tuple[Validator, ModelSpec, Now, Offload | None]] = {}
        self._out: set[_Key] = set()  # keys with a group being validated elsewhere
        self._tasks: set[asyncio.Future[None]] = set()
        self.batches = 0
        self.records = 0

    async def validate(self, func: Validator, spec: ModelSpec, record: Any, now: Now, *,
                       offload: Offload | None = None) -> pa.Table:
        """The validated one-row table for ``record`` (raises its own validation error).

        ``offload`` validates the group elsewhere (it must give ``func``'s result).
        """
        loop = asyncio.get_running_loop()
        key = (id(func), id(spec))
        fut: asyncio.Future[pa.Table] = loop.create_future()
        items = self._pending.setdefault(key, [])
        items.append((record, fut))
        if len(items) == 1:
            self._context[key] = (func, spec, now, offload)
            if key not in self._out:  # else it leaves when the group that is out comes back
                loop.call_later(self.max_wait, self._flush, key)
        elif len(items) >= self.max_records:
            self._flush(key)
        return await fut

    def _flush(self, key: _Key) -> None:
        items = self._pending.pop(key, None)
        if not items:
            return
        func, spec, now, offload = self._context.pop(key)
        self.batches += 1
        self.records += len(items)
        if offload is not None:
            self._out.add(key)
            task = asyncio.ensure_future(self._offloaded(key, func, spec, now, offload, items))
            self._tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(self._tasks.discard)
            return
        try:
            table = func(spec, [r for r, _ in items], now=now)
        except Exception:  # some record is invalid (or a bug): each is validated on its own
            table = None
        _resolve(func, spec, now, items, table)

    async def _offloaded(self, key: _Key, func: Validator, spec: ModelSpec, now: Now,
                         offload: Offload, items: _Items) -> None:
        table: pa.Table | None
        try:
            table = await offload(spec, orjson.dumps([r for r, _ in items]), now)
        except ModelmonError:
            table = None  # some record is invalid: each is validated on its own below
        except Exception:  # the offload failed, not the records: validate here
            log.exception("offloaded validation failed; validating in the server")
            table = None
        finally:
            self._out.discard(key)
            if self._pending.get(key):
                self._flush(key)  # what gathered meanwhile
        _resolve(func, spec, now, items, table)


def _resolve(func: Validator, spec: ModelSpec, now: Now, items: _Items,
             table: pa.Table | None) -> None:
    for i, (record, fut) in enumerate(items):
        if fut.done():
            continue
        if table is not None:
            fut.set_result(table.slice(i, 1))
            continue
        try:
            fut.set_result(func(spec, [record], now=now, prefix=(), single=True))
        except Exception as exc:  # its own error (or a bug: a 500), never a request left hanging
            fut.set_exception(exc)

"""Coalescing single-record requests: validate many concurrent records as one batch.

Validation is column-wise, so its cost per call is mostly fixed; one record alone costs almost
as much as a hundred. Under load, single-prediction requests arriving within ``max_wait`` of each
other are validated together, then each request gets its own one-row slice. If the combined batch
has any problem, each record is validated on its own, so every request still receives exactly its
own errors (with locations relative to its own body).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.exceptions import ModelmonError

__all__ = ["RecordCoalescer"]

Validator = Callable[..., pa.Table]


class RecordCoalescer:
    """Groups single records per (validator, model spec) within one event loop."""

    def __init__(self, *, max_wait: float = 0.001, max_records: int = 1000) -> None:
        self.max_wait = max_wait
        self.max_records = max_records
        self._pending: dict[tuple[int, int], list[tuple[Any, asyncio.Future[pa.Table]]]] = {}
        self._context: dict[tuple[int, int], tuple[Validator, ModelSpec, datetime]] = {}
        self.batches = 0
        self.records = 0

    async def validate(self, func: Validator, spec: ModelSpec, record: Any, now: datetime) -> pa.Table:
        """The validated one-row table for ``record`` (raises its own validation error)."""
        loop = asyncio.get_running_loop()
        key = (id(func), id(spec))
        fut: asyncio.Future[pa.Table] = loop.create_future()
        items = self._pending.setdefault(key, [])
        items.append((record, fut))
        if len(items) == 1:
            self._context[key] = (func, spec, now)
            loop.call_later(self.max_wait, self._flush, key)
        elif len(items) >= self.max_records:
            self._flush(key)
        return await fut

    def _flush(self, key: tuple[int, int]) -> None:
        items = self._pending.pop(key, None)
        if not items:
            return
        func, spec, now = self._context.pop(key)
        self.batches += 1
        self.records += len(items)
        records = [r for r, _ in items]
        try:
            table = func(spec, records, now=now)
        except ModelmonError:
            table = None
        for i, (record, fut) in enumerate(items):
            if fut.done():
                continue
            if table is not None:
                fut.set_result(table.slice(i, 1))
                continue
            try:
                fut.set_result(func(spec, [record], now=now, prefix=(), single=True))
            except ModelmonError as exc:
                fut.set_exception(exc)

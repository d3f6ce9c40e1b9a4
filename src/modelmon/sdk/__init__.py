"""The Python SDK: log predictions, actuals and metrics from model code.

``Monitor(url)`` talks to a modelmon server over HTTP; ``Monitor.local(path)`` writes straight
into a local DuckDB file with the same API. Calls return immediately: a background thread
batches, sends, retries with backoff and (optionally) spools to disk. See ``docs/sdk.md``.

Importing this package loads only the standard library: HTTP, Arrow and storage modules load
when a monitor is built or a frame is logged, so ``import modelmon`` stays fast.
"""

from __future__ import annotations

from modelmon.sdk.monitor import Monitor
from modelmon.sdk.stats import DeliveryFailure, MonitorStats
from modelmon.sdk.track import TrackedCall, Tracker

__all__ = ["DeliveryFailure", "Monitor", "MonitorStats", "TrackedCall", "Tracker"]

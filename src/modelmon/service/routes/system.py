"""``GET /v1/system``: infrastructure metrics of the host running the service.

CPU (overall and per core, since the previous call of this endpoint), load, memory, swap, the
disk holding the store and its I/O counters, network counters, this process, and NVIDIA GPUs
when NVML is available (otherwise ``"gpus": []`` with ``"gpu_available": false`` and the reason).
"""

from __future__ import annotations

import asyncio
import threading

import orjson
from fastapi import APIRouter, Request, Response

from modelmon.service.openapi import error_responses
from modelmon.service.responses_ops import SystemBody
from modelmon.service.system_metrics import HostMonitor, store_folder

router = APIRouter(prefix="/v1", tags=["system"])

_lock = threading.Lock()


def _monitor(request: Request) -> HostMonitor:
    # One monitor per app, built on first use: its CPU sampler measures between calls of this
    # endpoint, independently of the Prometheus collector's own sampler.
    state = request.app.state
    with _lock:
        monitor: HostMonitor | None = getattr(state, "host_monitor", None)
        if monitor is None:
            monitor = HostMonitor(store_folder(state.mm.settings.store.path))
            state.host_monitor = monitor
    return monitor


@router.get("/system", summary="Host infrastructure metrics: CPU, memory, disk, network, GPUs",
            responses={200: {"model": SystemBody}, **error_responses(401)})
async def system(request: Request) -> Response:
    snapshot = await asyncio.to_thread(_monitor(request).snapshot)
    return Response(orjson.dumps(snapshot), media_type="application/json")

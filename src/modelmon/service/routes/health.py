"""Health probes and service information.

- ``/health/live``: the process answers (for a liveness probe: restart when it fails).
- ``/health/ready``: the store answers, its commits are not failing and the writer runs (for a
  readiness probe: route traffic).
- ``/health``: every component with its status; overall ``healthy`` / ``degraded`` /
  ``unhealthy`` (503 only when unhealthy).
- ``/info``: version, uptime and a secret-free summary of the settings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

import modelmon
from modelmon.access.keys import Role
from modelmon.exceptions import StoreError
from modelmon.service.auth import authenticate_request
from modelmon.service.openapi import error_responses
from modelmon.service.responses_ops import HealthBody, InfoBody, LiveBody, ReadyBody
from modelmon.service.routes._body import json_response
from modelmon.service.state import ServiceState
from modelmon.vocabulary import Health

router = APIRouter(tags=["health"])
log = logging.getLogger("modelmon.service")


async def _store_check(state: ServiceState) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.to_thread(state.store.ping), timeout=5)
    except (StoreError, TimeoutError) as exc:
        # The reason goes to the log: a store's error names its files.
        log.error("health check: the store does not answer: %s", exc or "timeout")
        return {"status": Health.UNHEALTHY, "error": "the store does not answer (see the server log)"}
    out: dict[str, Any] = {"status": Health.HEALTHY,
                           "latency_seconds": round(time.perf_counter() - started, 6),
                           "size_bytes": state.store.size_bytes()}
    stats = state.writer.stats
    if state.writer.failing():
        out["status"] = Health.UNHEALTHY
        out["error"] = (f"the last {stats.failures_in_a_row} commits failed since "
                        f"{_iso(stats.failing_since)}: the store cannot write (a full disk or a "
                        "read-only file? see the server log)")
    return out


def _queue_check(state: ServiceState) -> dict[str, Any]:
    writer = state.writer
    queued, limit = writer.queued_rows, writer.max_queue_records
    if not writer.running:
        status = Health.UNHEALTHY
    elif queued > 0.8 * limit:
        status = Health.DEGRADED
    else:
        status = Health.HEALTHY
    return {"status": status, "queued_rows": queued, "limit_rows": limit,
            "commits": writer.stats.commits, "failed_commits": writer.stats.failed_commits,
            "failed_commits_in_a_row": writer.stats.failures_in_a_row,
            "last_commit_seconds": round(writer.stats.last_commit_seconds, 6)}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


@router.get("/health/live", summary="Liveness probe", responses={200: {"model": LiveBody}})
async def live() -> Response:
    return json_response({"status": "alive"})


@router.get("/health/ready", summary="Readiness probe: 200 when the service can take traffic",
            responses={200: {"model": ReadyBody}})
async def ready(request: Request) -> Response:
    state: ServiceState = request.app.state.mm
    store = await _store_check(state)
    ok = store["status"] == Health.HEALTHY and state.writer.running
    if ok:
        return json_response({"status": "ready"})
    reason = store.get("error") or "the ingest writer is not running"
    return json_response({"status": "not_ready", "reason": reason}, 503)


@router.get("/health", summary="Health of every component",
            responses={200: {"model": HealthBody}})
async def health(request: Request) -> Response:
    state: ServiceState = request.app.state.mm
    components: dict[str, Any] = {"store": await _store_check(state), "queue": _queue_check(state)}
    for name, check in state.components.items():
        components[name] = check()
    statuses = {c["status"] for c in components.values()}
    overall = (Health.UNHEALTHY if Health.UNHEALTHY in statuses
               else Health.DEGRADED if Health.DEGRADED in statuses else Health.HEALTHY)
    return json_response({"status": overall, "components": components},
                 503 if overall == Health.UNHEALTHY else 200)


@router.get("/info", summary="Version, uptime and configuration summary",
            responses={200: {"model": InfoBody}, **error_responses(401, 403, 429)})
async def info(request: Request) -> Response:
    state: ServiceState = request.app.state.mm
    if not state.settings.server.public_info:  # with keys: a read key (server.public_info)
        authenticate_request(request, Role.READ)
    return json_response({
        "name": "modelmon",
        "version": modelmon.__version__,
        "started_at": state.started_at.isoformat(),
        "uptime_seconds": round(state.uptime_seconds, 3),
        "config": state.settings.summary(),
        "models": len(state.store.list_models()),
    })

"""The FastAPI application factory: ``create_app(settings)`` builds and wires everything.

Runtime objects (store, group-commit writer, metrics; the scheduler once configured) live on
``app.state.mm`` and are started and stopped in ``lifespan``. Models listed in the settings are
registered (or updated) in the store at start-up; models registered over the API persist in the
store on their own.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import Depends, FastAPI

import modelmon
from modelmon.access.limiter import FailureLimiter
from modelmon.config.inference import complete_spec
from modelmon.config.settings import Settings
from modelmon.dashboard import install_dashboard
from modelmon.exceptions import StoreError
from modelmon.ingest.pool import ValidationPool, default_workers
from modelmon.ingest.warmup import warm_up
from modelmon.ingest.writer import GroupCommitWriter
from modelmon.service.audit import AuditMiddleware
from modelmon.service.auth import require_api_key
from modelmon.service.collectors import register_collectors
from modelmon.service.docs import install_docs
from modelmon.service.errors import install_error_handlers
from modelmon.service.evaluation_hook import (
    start_notifications,
    start_retention,
    start_scheduler,
)
from modelmon.service.fast_lane import ModelmonAPI
from modelmon.service.ingest_metrics import observe_written
from modelmon.service.keyring import KeyRing
from modelmon.service.middleware import RequestMiddleware
from modelmon.service.openapi import install_openapi
from modelmon.service.roles import missing_roles
from modelmon.service.routes import (
    access,
    actions,
    admin,
    alerts,
    backtest,
    evaluation,
    health,
    ingest,
    models,
    notifications,
    prometheus,
    results,
    system,
)
from modelmon.service.state import ServiceState
from modelmon.service.telemetry import ServiceMetrics
from modelmon.store import Backend, create_store

__all__ = ["create_app", "start_validation_workers"]

log = logging.getLogger("modelmon.service")

#: Called with the app's state once the store and writer are running (the scheduler hooks in).
StartupHook = Callable[[ServiceState], Any]


def start_validation_workers(state: ServiceState) -> None:
    """Start-up hook of ``modelmon serve``: the validation workers start (and warm up for every
    model) with the server, not with the first batch. Without it they start on first use."""
    state.pool.start(warm=[m.spec for m in state.store.list_models()])


def create_app(
    settings: Settings,
    *,
    store: Backend | None = None,
    clock: Callable[[], datetime] | None = None,
    startup_hooks: list[StartupHook] | None = None,
) -> FastAPI:
    """Build the service for ``settings`` (pass ``store`` to use an existing one in tests)."""
    metrics = ServiceMetrics()
    metrics.info.labels(modelmon.__version__).set(1)
    the_store = store if store is not None else create_store(settings.store)
    writer = GroupCommitWriter(
        the_store,
        max_commit_records=settings.ingest.max_commit_records,
        max_queue_records=settings.ingest.max_queue_records,
        on_commit=metrics.on_commit,
        on_written=partial(observe_written, metrics),
        max_wait_seconds=settings.ingest.max_commit_wait_ms / 1000,
    )
    state = ServiceState(settings, the_store, writer, metrics)
    failures = settings.server.auth_failures
    state.keyring = KeyRing(settings.server)
    state.auth_limiter = FailureLimiter(failures.limit, failures.window_seconds,
                                        failures.lockout_seconds)
    workers = settings.ingest.validation_workers
    state.pool = ValidationPool(default_workers() if workers is None else workers)
    register_collectors(metrics.registry, state)
    if clock is not None:
        state.clock = clock
    metrics.watch("modelmon_store_size_bytes", "Bytes the store occupies on disk.",
                  the_store.size_bytes)
    if hasattr(the_store, "memory_bytes"):  # DuckDB: its buffer manager, within memory_limit
        metrics.watch("modelmon_store_memory_bytes",
                      "Bytes the embedded store's buffer manager holds (bounded by "
                      "store.memory_limit).", the_store.memory_bytes)
    metrics.watch("modelmon_ingest_queue_rows", "Rows waiting for the next group commit.",
                  lambda: writer.queued_rows)
    metrics.watch("modelmon_ingest_validation_workers",
                  "Validation worker processes running (0: validation in server threads).",
                  lambda: len(state.pool.pids))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(the_store.open)
        state.keyring = await asyncio.to_thread(KeyRing, settings.server,
                                                getattr(the_store, "access", None))
        for spec in settings.models:
            full = await asyncio.to_thread(complete_spec, spec)
            await asyncio.to_thread(the_store.save_model, full, source="config")
        specs = [m.spec for m in the_store.list_models()]
        seconds = await asyncio.to_thread(warm_up, specs, state.clock())
        log.debug("ingest path warmed up for %d models in %.2f s", len(specs), seconds)
        # What start-up created (modules, compiled code, specs) lives as long as the process:
        # out of the collector's sight, a full collection scans only what requests left behind
        # (it scanned about 230,000 objects in 135 ms, a stall for every request in flight).
        gc.freeze()
        writer.start()
        stoppers = []
        for hook in [start_scheduler, start_notifications, start_retention,
                     *(startup_hooks or [])]:
            stop = hook(state)
            if asyncio.iscoroutine(stop):
                stop = await stop
            if stop is not None:
                stoppers.append(stop)
        log.info("modelmon %s serving %d models", modelmon.__version__,
                 len(the_store.list_models()))
        if not state.keyring.required:
            log.warning("no API key configured (server.api_key, server.api_keys, "
                        "MODELMON_API_KEY, modelmon keys create): the /v1 API and the dashboard "
                        "are open to every client that can reach this server (server.host %s)",
                        settings.server.host)
        else:
            log.info("the /v1 API and the dashboard require an API key (%d in the "
                     "configuration, %d in the store)", len(state.keyring.config_keys()),
                     len(state.keyring.stored_ids()))
        try:
            yield
        finally:
            for stop in reversed(stoppers):
                result = stop()
                if asyncio.iscoroutine(result):
                    await result
            await asyncio.to_thread(state.pool.stop)
            await asyncio.to_thread(writer.stop)
            try:
                await asyncio.to_thread(the_store.close)
            except StoreError as exc:  # one clear line, not a traceback (a full disk)
                log.error("shutdown: %s", exc.message)

    app = ModelmonAPI(
        title="modelmon",
        version=modelmon.__version__,
        description="Monitor machine-learning models in production: ingest predictions and "
        "ground truth, evaluate quality and drift per window, judge each model. Errors are "
        '`{"code", "message", "loc"}` with stable codes (see docs/errors.md).',
        lifespan=lifespan,
        docs_url=None,  # served with local assets (install_docs)
        redoc_url=None,
    )
    app.state.mm = state
    install_error_handlers(app)
    auth = [Depends(require_api_key)]
    app.include_router(health.router)
    app.include_router(prometheus.router)
    app.include_router(ingest.router, dependencies=auth)
    app.include_router(models.router, dependencies=auth)
    app.include_router(results.router, dependencies=auth)
    app.include_router(system.router, dependencies=auth)
    app.include_router(evaluation.router, dependencies=auth)
    app.include_router(alerts.router, dependencies=auth)
    app.include_router(notifications.router, dependencies=auth)
    app.include_router(actions.router, dependencies=auth)
    app.include_router(admin.router, dependencies=auth)
    app.include_router(backtest.router, dependencies=auth)
    app.include_router(access.router, dependencies=auth)
    install_openapi(app)
    install_docs(app)
    install_dashboard(app)
    limits: dict[str, Any] = {"metrics": metrics, "max_body": settings.ingest.max_body,
                              "access_log": settings.server.access_log,
                              "body_timeout": settings.server.body_timeout_seconds}
    app.add_middleware(AuditMiddleware, state=state)
    app.add_middleware(RequestMiddleware, **limits)
    app.add_fast_lane(ingest.FAST_LANE, ingest.router,
                      lambda lane: RequestMiddleware(lane, **limits))
    unnamed = missing_roles([(m, p) for p, ops in app.openapi()["paths"].items() for m in
                             (o.upper() for o in ops)])
    if unnamed:  # every route declares its role (modelmon.service.roles)
        raise RuntimeError(f"routes without a role in modelmon.service.roles: {unnamed}")
    return app

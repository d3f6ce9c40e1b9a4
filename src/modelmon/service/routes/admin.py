"""Administration routes: a consistent backup of the store, retention on demand."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from modelmon.exceptions import ConflictError
from modelmon.service.openapi import error_responses
from modelmon.service.responses_ops import RetentionBody
from modelmon.service.routes._body import json_response
from modelmon.service.system_metrics import store_folder

router = APIRouter(prefix="/v1/admin", tags=["admin"])

_ERRORS = error_responses(401, 403, 409, 503)


@router.get("/backup", summary="A consistent copy of the whole store (a DuckDB file), taken "
            "while the service goes on", response_class=Response, responses={
                200: {"content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}}},
                      "description": "the backup file"}, **_ERRORS})
async def backup(request: Request) -> Response:
    state = request.app.state.mm
    if state.settings.store.backend != "duckdb":
        raise ConflictError("a PostgreSQL store is backed up with PostgreSQL's own tools "
                            "(pg_dump, base backups)")
    if state.settings.store.path == ":memory:":
        raise ConflictError("an in-memory store has no file to back up")
    # next to the store: the same disk is sure to have room for what the store holds
    folder = Path(tempfile.mkdtemp(prefix=".modelmon-backup-",
                                   dir=store_folder(state.settings.store.path)))
    target = folder / "backup.duckdb"
    try:
        await asyncio.to_thread(state.store.maintenance.backup, target)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = f"modelmon-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.duckdb"
    return FileResponse(target, media_type="application/octet-stream", filename=name,
                        background=BackgroundTask(shutil.rmtree, folder, True))


@router.post("/retention", summary="Run the retention job now; what it deleted",
             responses={200: {"model": RetentionBody}, **_ERRORS})
async def run_retention(request: Request) -> Response:
    job = request.app.state.mm.retention
    if job is None:
        raise ConflictError("no retention is configured (retention: or a model's retention:)")
    done = await asyncio.to_thread(job.run)
    return json_response({"at": done.at.isoformat(), "errors": done.errors,
                          "models": [{"model": p.model, "predictions": p.predictions,
                                      "actuals": p.actuals, "results": p.results}
                                     for p in done.pruned]})

"""Keys and the audit log: ``/v1/keys`` (create, list, show, revoke) and ``/v1/audit``.

Admin only (see :mod:`modelmon.service.roles`). A created key is in the answer once and never
again: the store keeps its SHA-256. Keys of the configuration file are listed (``source:
config``) but are changed in the file. The audit log is read newest first, filtered and paged,
as JSON, NDJSON or CSV (``format=``).
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from modelmon.access.keys import KeyRecord, Role, hash_key, new_key
from modelmon.exceptions import ConflictError, NotFoundError
from modelmon.service.audit import audit_note
from modelmon.service.auth import principal_of
from modelmon.service.openapi import body_doc, error_responses
from modelmon.service.params import time_range
from modelmon.service.responses_alerts import AuditBody, KeyBody, KeysBody, NewKeyAnswer
from modelmon.service.routes._body import json_response, read_json, require_object, validated

router = APIRouter(prefix="/v1", tags=["access"])

_ERRORS = error_responses(400, 401, 403, 404, 409, 415, 422, 429, 503)


class NewKeyBody(BaseModel):
    """A key to make: its name, role and (optionally) the models it may reach."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
    role: Literal["admin", "read", "ingest"]
    models: list[str] | None = Field(None, min_length=1, max_length=1000)


def _access(request: Request) -> Any:
    return request.app.state.mm.store.access


def create_key(access: Any, name: str, role: str, models: list[str] | None,
               by: str) -> tuple[KeyRecord, str]:
    """Make and store a key; ``(record, key)`` (the key is shown once)."""
    key_id, key = new_key()
    record = KeyRecord(key_id=key_id, name=name, role=Role(role), key_hash=hash_key(key),
                       created_at=datetime.now(UTC), created_by=by,
                       models=tuple(models) if models is not None else None)
    access.insert_key(record)
    return record, key


def _all_keys(request: Request, include_revoked: bool) -> list[dict[str, Any]]:
    ring = request.app.state.mm.keyring
    listed = [{"key_id": p.key_id, "name": p.name, "role": str(p.role),
               "models": sorted(p.models) if p.models is not None else None,
               "created_at": None, "created_by": None, "revoked_at": None, "revoked_by": None,
               "source": "config"} for p in ring.config_keys()]
    stored = _access(request).list_keys(include_revoked=include_revoked)
    return listed + [k.to_dict() for k in stored]


@router.get("/keys", summary="API keys (never the keys themselves): the configuration file's "
            "and the store's", responses={200: {"model": KeysBody}, **_ERRORS})
async def list_keys(request: Request,
                    revoked: bool = Query(False, description="include revoked keys")) -> Response:
    keys = await asyncio.to_thread(_all_keys, request, revoked)
    return json_response({"keys": keys})


@router.post("/keys", summary="Make a key (its value is in this answer only)", status_code=201,
             openapi_extra=body_doc(NewKeyBody),
             responses={201: {"model": NewKeyAnswer}, **_ERRORS})
async def post_key(request: Request) -> Response:
    body = validated(NewKeyBody, require_object(await read_json(request), "a key"))
    state = request.app.state.mm
    record, key = await asyncio.to_thread(create_key, state.store.access, body.name, body.role,
                                          body.models, principal_of(request).key_id)
    await asyncio.to_thread(state.keyring.reload)
    audit_note(request, key_id=record.key_id, name=record.name, role=str(record.role),
               models=body.models)
    return json_response({**record.to_dict(), "key": key}, status=201)


def _stored(request: Request, key_id: str) -> KeyRecord:
    found = _access(request).get_key(key_id)
    if found is None:
        if any(p.key_id == key_id for p in request.app.state.mm.keyring.config_keys()):
            raise ConflictError(f"the key {key_id!r} is written in the configuration file: "
                                "change it there", loc=("key_id",))
        raise NotFoundError(f"no key {key_id!r}", loc=("key_id",))
    return found


@router.get("/keys/{key_id}", summary="One key", responses={200: {"model": KeyBody}, **_ERRORS})
async def get_key(request: Request, key_id: str) -> Response:
    return json_response((await asyncio.to_thread(_stored, request, key_id)).to_dict())


@router.delete("/keys/{key_id}", summary="Revoke a key (at once: its requests and dashboard "
               "sessions end)", responses={200: {"model": KeyBody}, **_ERRORS})
async def revoke_key(request: Request, key_id: str) -> Response:
    state = request.app.state.mm

    def revoke() -> KeyRecord:
        _stored(request, key_id)
        done = state.store.access.revoke_key(key_id, datetime.now(UTC),
                                             principal_of(request).key_id)
        state.keyring.reload()
        return done

    return json_response((await asyncio.to_thread(revoke)).to_dict())


_CSV_FIELDS = ("id", "at", "key_id", "key_name", "role", "client", "method", "path", "action",
               "status", "outcome", "model", "target", "request_id", "details")


def audit_csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS)
    writer.writeheader()
    for e in entries:
        writer.writerow({**e, "details": orjson.dumps(e["details"]).decode()})
    return out.getvalue()


@router.get("/audit", summary="The audit log, newest first: who changed what, when, from where",
            responses={200: {"description": "JSON (format=json), NDJSON or CSV",
                             "model": AuditBody,
                             "content": {
                                         "application/x-ndjson": {"schema": {"type": "string"}},
                                         "text/csv": {"schema": {"type": "string"}}}},
                       **_ERRORS})
async def audit(
    request: Request,
    key_id: str | None = Query(None), model: str | None = Query(None),
    action: str | None = Query(None, description="e.g. 'POST /v1/silences'"),
    start: str | None = Query(None, description="ISO 8601; entries at or after"),
    end: str | None = Query(None, description="ISO 8601; entries before"),
    before: int | None = Query(None, ge=1, description="the cursor of `next` (an entry id)"),
    limit: int = Query(100, ge=1, le=100_000),
    format: Literal["json", "ndjson", "csv"] = Query("json"),
) -> Response:
    lo, hi = time_range(start, end)
    rows = await asyncio.to_thread(_access(request).list_audit, key_id=key_id, model=model,
                                   action=action, start=lo, end=hi, before=before,
                                   limit=limit + 1)
    page = [e.to_dict() for e in rows[:limit]]
    if format == "ndjson":
        return Response(b"".join(orjson.dumps(e) + b"\n" for e in page),
                        media_type="application/x-ndjson")
    if format == "csv":
        return Response(audit_csv(page), media_type="text/csv")
    nxt = None
    if len(rows) > limit:
        url = request.url.include_query_params(before=page[-1]["id"])
        nxt = f"{url.path}?{url.query}"
    return json_response({"entries": page, "next": nxt})

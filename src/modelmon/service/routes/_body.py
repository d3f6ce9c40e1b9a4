"""Reading request bodies: JSON with orjson, and the bulk formats (NDJSON, Arrow IPC, Parquet)."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi import Request, Response
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from modelmon.exceptions import ValidationError

__all__ = ["BULK_TYPES", "json_response", "parse_json", "read_bulk", "read_json", "read_json_body",
           "require_object", "service_state", "validated"]

_Body = TypeVar("_Body", bound=BaseModel)

BULK_TYPES = {
    "application/x-ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/json-lines": "ndjson",
    "application/vnd.apache.arrow.stream": "arrow",
    "application/vnd.apache.arrow.file": "arrow",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response rendered with orjson (datetimes and other values via ``str``; keys that
    are vocabulary enums, such as a :class:`~modelmon.vocabulary.Status`, as their text)."""
    return Response(orjson.dumps(body, default=str, option=orjson.OPT_NON_STR_KEYS),
                    status_code=status,
                    media_type="application/json")


def service_state(request: Request) -> Any:
    """The running service's :class:`~modelmon.service.state.ServiceState`."""
    return request.app.state.mm


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_json(request: Request) -> Any:
    """Parse the body as JSON (415 for another content type, 400 if malformed)."""
    return parse_json(await read_json_body(request))


async def read_json_body(request: Request) -> bytes:
    """The body of a JSON request, unparsed (415 for another content type, 400 if empty)."""
    media = _media_type(request)
    if media and media != "application/json" and not media.endswith("+json"):
        raise ValidationError(
            f"this endpoint takes application/json; got {media!r}",
            code="unsupported_media_type", loc=("header", "content-type"),
        )
    body = await request.body()
    if not body:
        raise ValidationError("the request body is empty; send a JSON object",
                              code="malformed_body", loc=("body",))
    return body


def parse_json(body: bytes) -> Any:
    """``orjson.loads`` with a 400 ``malformed_body`` error."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the request body is not valid JSON: {exc}", code="malformed_body",
                              loc=("body",)) from None


def require_object(data: Any, what: str) -> dict[str, Any]:
    if type(data) is not dict:
        raise ValidationError(f"{what} must be a JSON object; got {type(data).__name__}",
                              code="invalid_type", loc=("body",))
    return data


async def read_bulk(request: Request) -> tuple[str, bytes]:
    """The upload's kind (``"ndjson"``, ``"arrow"`` or ``"parquet"``, from its content type) and
    its bytes, unparsed: a validation worker or a thread reads them, not the event loop."""
    media = _media_type(request)
    kind = BULK_TYPES.get(media)
    if kind is None:
        raise ValidationError(
            f"bulk upload takes one of {sorted(BULK_TYPES)}; got {media or 'no content type'!r}",
            code="unsupported_media_type", loc=("header", "content-type"),
        )
    body = await request.body()
    if not body:
        raise ValidationError("the request body is empty", code="malformed_body", loc=("body",))
    return kind, body


def validated(cls: type[_Body], body: dict[str, Any]) -> _Body:
    """``cls`` from a JSON object, with every problem as ``{"code", "message", "loc"}``."""
    try:
        return cls.model_validate(body)
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors():
            code = "missing_field" if err["type"] == "missing" else (
                "unknown_field" if err["type"] == "extra_forbidden" else "invalid_value")
            problems.append(ValidationError(err["msg"].removeprefix("Value error, "), code=code,
                                            loc=tuple(err["loc"])))
        first = problems[0]
        error = ValidationError(first.message, code=first.code, loc=first.loc)
        error.errors = tuple(problems)
        raise error from None

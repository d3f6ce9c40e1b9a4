"""OpenAPI wiring for bodies that routes parse themselves (see :mod:`modelmon.service.schemas`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from modelmon.service.schemas import ErrorBody

__all__ = ["body_doc", "error_responses", "install_openapi"]

_DOCUMENTED: dict[str, type[BaseModel]] = {"ErrorBody": ErrorBody}


def body_doc(*variants: type[BaseModel], content_types: tuple[str, ...] = ("application/json",),
             binary: bool = False) -> dict[str, Any]:
    """``openapi_extra`` declaring a request body of one of ``variants`` (or a binary upload)."""
    for v in variants:
        _DOCUMENTED[v.__name__] = v
    if binary:
        schema: dict[str, Any] = {"type": "string", "format": "binary"}
    elif len(variants) == 1:
        schema = {"$ref": f"#/components/schemas/{variants[0].__name__}"}
    else:
        schema = {"oneOf": [{"$ref": f"#/components/schemas/{v.__name__}"} for v in variants]}
    return {"requestBody": {"required": True,
                            "content": {ct: {"schema": schema} for ct in content_types}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries documenting error bodies."""
    return {s: {"model": ErrorBody, "description": "Error"} for s in statuses}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        # One schema per model for requests and answers (validation mode): the specs and rules
        # documented as request bodies are answered back as they were sent.
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes, separate_input_output_schemas=False)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _DOCUMENTED.items():
            js = model.model_json_schema(ref_template="#/components/schemas/{model}")
            # pydantic's own schema, also for models an answer names (ModelSpec, AlertRule):
            # FastAPI's copy leaves out the ``null`` defaults of optional fields
            for def_name, definition in js.pop("$defs", {}).items():
                components[def_name] = definition
            components[name] = js
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

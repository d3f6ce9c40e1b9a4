"""A fast lane for the two hottest routes: logging one prediction and a batch of predictions.

A request through FastAPI passes about ten layers (error and telemetry middleware, routing,
dependency solving, exception wrappers) before the endpoint runs; for a one-prediction request
they cost more CPU than validating and storing the prediction. :class:`ModelmonAPI` sends
``POST /v1/predictions`` and ``POST /v1/predictions/batch`` straight to the same endpoint
functions, behind the same request middleware (request id, body limit, metrics, access log), the
same API-key check and the same error responses. Every other request, and the OpenAPI
description of these two, is FastAPI's as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute, APIRouter

from modelmon.exceptions import ModelmonError
from modelmon.service.auth import require_api_key
from modelmon.service.errors import modelmon_error_response, unexpected_error_response
from modelmon.service.middleware import UnreadableBody

__all__ = ["ModelmonAPI"]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]
Endpoint = Callable[[Request], Awaitable[Response]]


class ModelmonAPI(FastAPI):
    """FastAPI, with :meth:`add_fast_lane` routes answered without its routing layers."""

    _lane: ASGIApp | None = None
    _lane_routes: dict[str, tuple[APIRoute, Endpoint]]

    def add_fast_lane(self, endpoints: Mapping[str, Endpoint], router: APIRouter,
                      wrap: Callable[[ASGIApp], ASGIApp]) -> None:
        """Answer ``POST path`` with ``endpoints[path]`` (called with the request only).

        Each path must also be a route of ``router`` (included in this app: the OpenAPI
        description, and the metrics' route label). ``wrap`` puts the request middleware around
        the lane.
        """
        routes = {r.path: r for r in router.routes
                  if isinstance(r, APIRoute) and "POST" in (r.methods or ()) and r.path in endpoints}
        missing = endpoints.keys() - routes.keys()
        if missing:
            raise ValueError(f"fast-lane paths without a FastAPI route: {sorted(missing)}")
        self._lane_routes = {p: (routes[p], fn) for p, fn in endpoints.items()}
        self._lane = wrap(self._answer)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if (self._lane is not None and scope["type"] == "http" and scope["method"] == "POST"
                and scope["path"] in self._lane_routes):
            await self._lane(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Any, send: Any) -> None:
        route, endpoint = self._lane_routes[scope["path"]]
        scope["app"] = self
        scope["route"] = route
        request = Request(scope, receive)
        try:
            await require_api_key(request)
            response = await endpoint(request)
        except ModelmonError as exc:
            response = modelmon_error_response(request, exc)
        except UnreadableBody:
            raise  # the request middleware answers 413 or 408
        except Exception:
            response = unexpected_error_response(request)
        await response(scope, receive, send)

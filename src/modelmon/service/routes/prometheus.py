"""``/metrics`` in the Prometheus exposition format (text, or OpenMetrics when asked for)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client.exposition import choose_encoder

from modelmon.access.keys import Role
from modelmon.service.auth import authenticate_request
from modelmon.service.openapi import error_responses

router = APIRouter(tags=["metrics"])


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse,
            responses={200: {"description": "The Prometheus text exposition format (OpenMetrics "
                             "when the Accept header asks for it).",
                             "content": {"text/plain": {"schema": {"type": "string"}},
                                         "application/openmetrics-text": {
                                             "schema": {"type": "string"}}}},
                       **error_responses(401, 403, 429)})
async def metrics(request: Request) -> Response:
    """With keys, a ``read`` key is needed unless ``server.public_metrics`` (the series name
    models and features and carry their drift)."""
    if not request.app.state.mm.settings.server.public_metrics:
        authenticate_request(request, Role.READ)
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    registry = request.app.state.mm.metrics.registry
    # Collectors read the store at scrape time: render off the event loop.
    body = await asyncio.to_thread(encoder, registry)
    return Response(body, media_type=content_type)

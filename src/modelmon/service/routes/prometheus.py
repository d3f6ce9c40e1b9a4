"""``/metrics`` in the Prometheus exposition format (text, or OpenMetrics when asked for)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client.exposition import choose_encoder

router = APIRouter(tags=["metrics"])


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse,
            responses={200: {"description": "The Prometheus text exposition format (OpenMetrics "
                             "when the Accept header asks for it).",
                             "content": {"text/plain": {"schema": {"type": "string"}},
                                         "application/openmetrics-text": {
                                             "schema": {"type": "string"}}}}})
async def metrics(request: Request) -> Response:
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    registry = request.app.state.mm.metrics.registry
    # Collectors read the store at scrape time: render off the event loop.
    body = await asyncio.to_thread(encoder, registry)
    return Response(body, media_type=content_type)

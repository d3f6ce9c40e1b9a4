"""Shapes of the success answers, for the OpenAPI document (``/docs``) and generated clients.

Routes answer with :func:`~modelmon.service.routes._body.json_response` (orjson), never through
these models: they document the bodies and cost nothing at run time. ``Fixed`` bodies hold
exactly the keys listed (``additionalProperties: false``); ``Open`` ones may hold more (a
component's own facts, a model's feature columns). Numbers computed from data are nullable:
orjson writes NaN and infinities as ``null``.

The models are split by area: :mod:`~modelmon.service.responses_models` (registry, stored data,
ingest side routes), :mod:`~modelmon.service.responses_results` (evaluation results),
:mod:`~modelmon.service.responses_alerts` (alerts, notifications, actions, keys) and
:mod:`~modelmon.service.responses_ops` (health, system, admin, evaluation runs, backtests).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Fixed", "Open"]


class Fixed(BaseModel):
    """A body with exactly these keys."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """A body with at least these keys (more may come)."""

    model_config = ConfigDict(extra="allow")


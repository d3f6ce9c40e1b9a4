"""Structured JSON logs with request-id propagation.

Every line is one JSON object: ``ts``, ``level``, ``logger``, ``message``, plus ``request_id`` and
``model`` when known (set from a context variable by the request middleware and the routes) and
any ``extra=`` fields.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter", "configure_logging", "current_model", "current_request_id"]

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "modelmon_request_id", default=None
)
current_model: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "modelmon_model", default=None
)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = current_request_id.get()
        if rid is not None:
            out["request_id"] = rid
        model = current_model.get()
        if model is not None:
            out["model"] = model
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        rid = current_request_id.get()
        return f"{base} [request_id={rid}]" if rid else base


def configure_logging(level: str = "info", fmt: str = "json", stream: Any = None) -> None:
    """Send modelmon's (and uvicorn's) logs to ``stream`` in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter() if fmt == "json"
        else _TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    for name in ("modelmon", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True

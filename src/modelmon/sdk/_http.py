"""HTTP transport: one keep-alive ``httpx`` client, used by the sender thread only."""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from typing import Any

import httpx
import orjson

from modelmon.sdk._batching import Batch
from modelmon.sdk._transport import SENDER_THREAD, Outcome
from modelmon.sdk._wire import encode_request

__all__ = ["HttpTransport", "classify"]

class _QuietSender(logging.Filter):
    """Drop httpx's INFO line per request when it comes from the SDK's sender thread (one per
    batch, every second: noise in an application's logs); warnings still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or threading.current_thread().name != SENDER_THREAD


logging.getLogger("httpx").addFilter(_QuietSender())

#: Statuses meaning "the server cannot take anything now" rather than "this batch failed".
_UNAVAILABLE = frozenset({408, 429, 502, 503, 504})


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify(status: int, content: bytes, retry_after: str | None = None) -> Outcome:
    """Turn an HTTP answer into an :class:`Outcome`.

    Examples
    --------
    >>> classify(200, b'{"accepted": 2, "duplicates": 1, "replayed": false}').duplicates
    1
    >>> classify(422, b'{"code": "unknown_feature", "message": "m", "loc": ["x"]}').status
    'rejected'
    >>> classify(503, b"", "5").retry_after
    5.0
    """
    try:
        body: Any = orjson.loads(content) if content else {}
    except orjson.JSONDecodeError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if 200 <= status < 300:
        return Outcome("stored", accepted=int(body.get("accepted") or 0),
                       duplicates=int(body.get("duplicates") or 0),
                       replayed=bool(body.get("replayed")), http_status=status)
    code = str(body.get("code") or f"http_{status}")
    message = str(body.get("message") or content[:200].decode("utf-8", "replace") or
                  f"HTTP {status}")
    loc = tuple(body.get("loc") or ())
    if status in _UNAVAILABLE or status >= 500:
        return Outcome("retry", http_status=status, code=code, message=message,
                       retry_after=_retry_after(retry_after), unavailable=status in _UNAVAILABLE)
    errors = body.get("errors")
    return Outcome("rejected", http_status=status, code=code, message=message, loc=loc,
                   errors=tuple(e for e in errors if isinstance(e, dict))
                   if isinstance(errors, list) else ())


class HttpTransport:
    """Sends batches to a modelmon server at ``url``."""

    can_spool = True

    def __init__(self, url: str, *, api_key: str | None, timeout: float, user_agent: str) -> None:
        headers = {"User-Agent": user_agent}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.url = url.rstrip("/")
        # One connection: a single sender thread sends one request at a time.
        self._client = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    def prepare(self, batch: Batch) -> None:
        if batch.request is None:
            batch.request = encode_request(batch)

    def send(self, batch: Batch) -> Outcome:
        self.prepare(batch)
        req = batch.request
        assert req is not None
        try:
            response = self._client.post(
                req.path, content=req.body, params=list(req.params),
                headers={"Content-Type": req.content_type, "Idempotency-Key": batch.key},
            )
        except httpx.TimeoutException as exc:
            return Outcome("retry", code="timeout", message=f"no answer from {self.url}: {exc!r}")
        except httpx.HTTPError as exc:
            return Outcome("retry", code="unreachable",
                           message=f"cannot reach {self.url}: {exc!r}")
        if 300 <= response.status_code < 400:
            where = response.headers.get("location", "?")
            return Outcome("rejected", http_status=response.status_code, code="redirect",
                           message=f"the server redirects to {where}; give Monitor that url")
        return classify(response.status_code, response.content, response.headers.get("retry-after"))

    def close(self) -> None:
        self._client.close()

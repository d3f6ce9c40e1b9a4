"""Sending an action's request: a webhook over HTTP, or a command with the payload on stdin.

A webhook succeeds on a 2xx answer; 408, 425, 429, 5xx, timeouts and connection errors may be
retried (the idempotency key makes a retry the same request to the serving system), other
answers may not. A command succeeds when it exits 0; exit 75 (``EX_TEMPFAIL``) may be
retried. What is kept of the answer is an excerpt with secret values blanked.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from modelmon.actions.request import Prepared

__all__ = ["EXCERPT", "Outcome", "send"]

#: Characters kept of a response body or a command's output.
EXCERPT = 2000
_RETRY_STATUS = frozenset({408, 425, 429})
_EX_TEMPFAIL = 75


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: success, what came back, the error, whether to retry."""

    ok: bool
    response: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    retryable: bool = False


def _excerpt(prepared: Prepared, data: bytes | str | None) -> str:
    if data is None:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return prepared.scrub(text[:EXCERPT])


def _http(prepared: Prepared, timeout: float) -> Outcome:
    assert prepared.url is not None
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            resp = client.request(prepared.method, prepared.url, content=prepared.body,
                                  headers=prepared.headers_at(time.time()))
    except httpx.TimeoutException:
        return Outcome(False, {}, f"no answer within {timeout:g} s", retryable=True)
    except httpx.HTTPError as exc:
        return Outcome(False, {}, prepared.scrub(f"{type(exc).__name__}: {exc}"),
                       retryable=True)
    response = {"status": resp.status_code, "body": _excerpt(prepared, resp.content),
                "content_type": resp.headers.get("content-type")}
    if 200 <= resp.status_code < 300:
        return Outcome(True, response)
    retry = resp.status_code >= 500 or resp.status_code in _RETRY_STATUS
    return Outcome(False, response, f"HTTP {resp.status_code} from the serving system",
                   retryable=retry)


def _command(prepared: Prepared, timeout: float) -> Outcome:
    assert prepared.command is not None
    try:
        done = subprocess.run(prepared.command, input=prepared.body, capture_output=True,
                              timeout=timeout, env=prepared.env, check=False)
    except subprocess.TimeoutExpired as exc:
        return Outcome(False, {"stdout": _excerpt(prepared, exc.stdout),
                               "stderr": _excerpt(prepared, exc.stderr)},
                       f"the command did not finish within {timeout:g} s (killed)")
    except OSError as exc:
        return Outcome(False, {}, f"the command could not start: {exc.strerror}")
    response = {"exit_code": done.returncode, "stdout": _excerpt(prepared, done.stdout),
                "stderr": _excerpt(prepared, done.stderr)}
    if done.returncode == 0:
        return Outcome(True, response)
    return Outcome(False, response, f"the command exited with {done.returncode}",
                   retryable=done.returncode == _EX_TEMPFAIL)


def send(prepared: Prepared, timeout: float) -> Outcome:
    """One attempt at ``prepared`` (a webhook or a command)."""
    return _http(prepared, timeout) if prepared.url is not None else _command(prepared, timeout)


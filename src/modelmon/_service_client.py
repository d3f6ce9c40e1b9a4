"""One request to a running service for the command line: the answer's JSON (or text), or a
one-line error and exit code 2 (unreachable) or 1 (an error answer)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

__all__ = ["call_service"]

_err = Console(stderr=True)


def call_service(url: str, api_key: str | None, method: str, path: str, *,
                 timeout: float = 60, **kw: Any) -> Any:
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout) as client:
            resp = client.request(method, path, **kw)
    except httpx.HTTPError as exc:
        _err.print(f"[bold red]error:[/] cannot reach {url}: {exc}")
        raise typer.Exit(2) from None
    if resp.status_code >= 300:
        try:
            message = resp.json().get("message", resp.text)
        except ValueError:
            message = resp.text
        _err.print(f"[bold red]error:[/] {url} answered {resp.status_code}: {message[:300]}")
        raise typer.Exit(1)
    if resp.headers.get("content-type", "").startswith("application/json"):
        return resp.json()
    return resp.text

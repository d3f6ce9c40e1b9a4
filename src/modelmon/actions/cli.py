"""``modelmon actions list | show | approve | reject`` against a running service."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from modelmon._service_client import call_service

__all__ = ["actions_app"]

actions_app = typer.Typer(help="Actions of a running service: list, show, approve, reject.",
                          no_args_is_help=True)
_console = Console()

UrlOption = Annotated[str, typer.Option(help="The running service.", envvar="MODELMON_URL")]
KeyOption = Annotated[str | None, typer.Option(envvar="MODELMON_API_KEY")]
_DEFAULT_URL = "http://127.0.0.1:8000"


def _what(a: dict[str, Any]) -> str:
    details = a.get("details") or {}
    if a["type"] == "rollback" and details.get("from_version"):
        return f"{details['from_version']} -> {details['to_version']}"
    return a.get("error") or a.get("note") or ""


@actions_app.command("list")
def actions_list(url: UrlOption = _DEFAULT_URL, api_key: KeyOption = None,
                 model: Annotated[str | None, typer.Option()] = None,
                 action: Annotated[str | None, typer.Option(help="An action's name.")] = None,
                 state: Annotated[list[str] | None, typer.Option(
                     help="pending_approval, running, succeeded, failed ... (repeat)")] = None,
                 limit: Annotated[int, typer.Option()] = 50,
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Action records, newest first."""
    params: dict[str, Any] = {"limit": limit}
    for name, value in (("model", model), ("action", action), ("state", state)):
        if value:
            params[name] = value
    actions = call_service(url, api_key, "GET", "/v1/actions", params=params)["actions"]
    if as_json:
        typer.echo(json.dumps(actions, indent=2))
        return
    table = Table("id", "action", "model", "state", "trigger", "created", "what")
    for a in actions:
        trigger = a["trigger"]
        table.add_row(a["id"], a["action"], a["model"] or "-", a["state"],
                      f"{trigger['rule']} {trigger['event']} ({trigger['severity']})",
                      a["created_at"][:19], _what(a))
    _console.print(table)


@actions_app.command("show")
def actions_show(action_id: str, url: UrlOption = _DEFAULT_URL,
                 api_key: KeyOption = None) -> None:
    """One action record as JSON: trigger, request, response, outcome, approval."""
    typer.echo(json.dumps(call_service(url, api_key, "GET", f"/v1/actions/{action_id}"), indent=2))


def _decide(verb: str, action_id: str, by: str, note: str, url: str, api_key: str | None) -> None:
    done = call_service(url, api_key, "POST", f"/v1/actions/{action_id}/{verb}",
                 json={"by": by, "note": note})
    _console.print(f"{action_id}: {done['state']} by {by}")


@actions_app.command("approve")
def actions_approve(action_id: str, by: Annotated[str, typer.Option(help="Who approves.")],
                    note: Annotated[str, typer.Option()] = "", url: UrlOption = _DEFAULT_URL,
                    api_key: KeyOption = None) -> None:
    """Approve an action waiting for approval (it runs at once)."""
    _decide("approve", action_id, by, note, url, api_key)


@actions_app.command("reject")
def actions_reject(action_id: str, by: Annotated[str, typer.Option(help="Who rejects.")],
                   note: Annotated[str, typer.Option()] = "", url: UrlOption = _DEFAULT_URL,
                   api_key: KeyOption = None) -> None:
    """Reject an action waiting for approval (it never runs)."""
    _decide("reject", action_id, by, note, url, api_key)

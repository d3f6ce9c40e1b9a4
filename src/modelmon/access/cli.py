"""``modelmon keys create | list | revoke`` and ``modelmon audit``: through a running service
(``--url``, with an admin key) or on the store file while no service has it open
(``--config``; how the first admin key is made; with a PostgreSQL store, also while servers
run: they read new keys at start-up, so make keys for running servers through ``--url``). Changes made on the file are audited as the
local operator (key id ``cli``)."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from modelmon._service_client import call_service

__all__ = ["audit_command", "keys_app"]

keys_app = typer.Typer(help="API keys with roles (ingest, read, admin): create, list, revoke.",
                       no_args_is_help=True)
_console = Console()
_err = Console(stderr=True)

UrlOption = Annotated[str | None, typer.Option(help="A running service (needs an admin key).",
                                               envvar="MODELMON_URL")]
KeyOption = Annotated[str | None, typer.Option(envvar="MODELMON_API_KEY")]
ConfigOption = Annotated[Path | None, typer.Option(
    "--config", "-c", help="The deployment file: work on its store while no service runs.")]


def _fail(message: str, code: int = 2) -> None:
    _err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@contextmanager
def _store(config: Path | None) -> Iterator[Any]:
    from modelmon.config.settings import load_settings
    from modelmon.exceptions import ModelmonError
    from modelmon.store import create_store

    try:
        settings = load_settings(config)
    except ModelmonError as exc:
        _fail(exc.message)
    store = create_store(settings.store)  # DuckDB's file, or the shared PostgreSQL
    try:
        store.open()
    except Exception as exc:
        _fail(f"cannot open the store ({type(exc).__name__}): if a service has it open, use "
              "--url with an admin key")
    try:
        yield store
    finally:
        store.close()


def _audit_local(store: Any, action: str, target: str | None, details: dict[str, Any]) -> None:
    from modelmon.access.audit import AuditEntry

    method, _, path = action.partition(" ")
    store.access.append_audit(AuditEntry(
        at=datetime.now(UTC), key_id="cli", key_name=f"cli ({getpass.getuser()})", role="admin",
        client="local", method=method, path=path, action=action, status=200, target=target,
        details=details))


def _table(keys: list[dict[str, Any]]) -> Table:
    table = Table("key id", "name", "role", "models", "created", "by", "revoked", "source")
    for k in keys:
        table.add_row(k["key_id"], k["name"], k["role"],
                      ", ".join(k["models"]) if k["models"] else "all",
                      (k["created_at"] or "")[:19], k["created_by"] or "",
                      (k["revoked_at"] or "")[:19], k["source"])
    return table


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key (shown in logs and the "
                                           "audit log).")],
    role: Annotated[str, typer.Option(help="ingest, read or admin.")],
    model: Annotated[list[str] | None, typer.Option(
        help="Limit the key to this model (repeat); every model when absent.")] = None,
    url: UrlOption = None, api_key: KeyOption = None, config: ConfigOption = None,
) -> None:
    """Make a key. It is printed once, on standard output; only its SHA-256 is kept."""
    from modelmon.access.keys import ROLES

    if role not in ROLES:
        _fail(f"--role must be one of {', '.join(ROLES)}; got {role!r}")
    if url:
        body = call_service(url, api_key, "POST", "/v1/keys",
                     json={"name": name, "role": role, "models": model or None})
        key, kid = body["key"], body["key_id"]
    else:
        from modelmon.service.routes.access import create_key

        with _store(config) as store:
            record, key = create_key(store.access, name, role, model or None, "cli")
            _audit_local(store, "POST /v1/keys", record.key_id,
                         {"name": name, "role": role, "models": model or None})
            kid = record.key_id
    _err.print(f"created key {kid} ({role}{', models ' + ', '.join(model) if model else ''}); "
               "store it now, it is not shown again:")
    print(key)


@keys_app.command("list")
def keys_list(url: UrlOption = None, api_key: KeyOption = None, config: ConfigOption = None,
              revoked: Annotated[bool, typer.Option(help="Include revoked keys.")] = False,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The keys (never the keys themselves)."""
    if url:
        keys = call_service(url, api_key, "GET", "/v1/keys", params={"revoked": revoked})["keys"]
    else:
        with _store(config) as store:
            keys = [k.to_dict() for k in store.access.list_keys(include_revoked=revoked)]
    if as_json:
        print(json.dumps(keys, indent=2))
    else:
        _console.print(_table(keys))


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_id).")],
                url: UrlOption = None, api_key: KeyOption = None,
                config: ConfigOption = None) -> None:
    """Revoke a key: its requests and dashboard sessions end at once (through --url; on the
    store file, when the service next starts)."""
    if url:
        call_service(url, api_key, "DELETE", f"/v1/keys/{key_id}")
    else:
        with _store(config) as store:
            if store.access.get_key(key_id) is None:
                _fail(f"no key {key_id!r} in the store")
            store.access.revoke_key(key_id, datetime.now(UTC), "cli")
            _audit_local(store, f"DELETE /v1/keys/{key_id}", key_id, {})
    _console.print(f"revoked {key_id}")


def audit_command(
    url: UrlOption = None, api_key: KeyOption = None, config: ConfigOption = None,
    key_id: Annotated[str | None, typer.Option("--key-id", help="Only this key's entries.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model's entries.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO 8601: entries at or after.")] = None,
    limit: Annotated[int, typer.Option(help="Most entries.")] = 1000,
    fmt: Annotated[str, typer.Option("--format", help="table, ndjson or csv.")] = "table",
) -> None:
    """The audit log, newest first: who changed what, when, from where (export it with
    --format ndjson or csv)."""
    if fmt not in ("table", "ndjson", "csv"):
        _fail("--format must be table, ndjson or csv")
    wire = "ndjson" if fmt == "table" else fmt
    if url:
        params = {k: v for k, v in {"key_id": key_id, "model": model, "start": since,
                                    "limit": limit, "format": wire}.items() if v is not None}
        text = call_service(url, api_key, "GET", "/v1/audit", params=params)
        if fmt != "table":
            print(text, end="")
            return
        entries = [json.loads(line) for line in text.splitlines() if line]
    else:
        start = datetime.fromisoformat(since) if since else None
        with _store(config) as store:
            entries = [e.to_dict() for e in store.access.list_audit(
                key_id=key_id, model=model, start=start, limit=limit)]
        if fmt == "ndjson":
            print("".join(json.dumps(e) + "\n" for e in entries), end="")
            return
        if fmt == "csv":
            from modelmon.service.routes.access import audit_csv

            print(audit_csv(entries), end="")
            return
    table = Table("at", "key", "client", "action", "model", "target", "status")
    for e in entries:
        table.add_row(e["at"][:19], f"{e['key_name']} ({e['key_id']})", e["client"],
                      e["action"], e["model"] or "", e["target"] or "", str(e["status"]))
    _console.print(table)

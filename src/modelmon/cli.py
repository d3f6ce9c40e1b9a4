"""The ``modelmon`` command line: serve, init, models, backfill, backtest, rules, export,
alerts, silences, actions, demo and version.

Run ``modelmon --help`` or ``modelmon COMMAND --help``.
"""

from __future__ import annotations

import importlib.resources
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

import modelmon
from modelmon.exceptions import ModelmonError

app = typer.Typer(
    name="modelmon",
    help="Monitor machine-learning models in production.",
    no_args_is_help=True,
    add_completion=False,
)
models_app = typer.Typer(help="Inspect registered models.", no_args_is_help=True)
app.add_typer(models_app, name="models")
rules_app = typer.Typer(help="Check and test alert rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
export_app = typer.Typer(help="Export rules and configuration for other tools.",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")
alerts_app = typer.Typer(help="Alerts of a running service: list, acknowledge; test a receiver.",
                         no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
silences_app = typer.Typer(help="Silences of a running service: add, list, expire.",
                           no_args_is_help=True)
app.add_typer(silences_app, name="silences")
from modelmon.actions.cli import actions_app  # noqa: E402  (its own module: modelmon actions ...)

app.add_typer(actions_app, name="actions")
from modelmon.access.cli import audit_command, keys_app  # noqa: E402  (modelmon keys ..., audit)

app.add_typer(keys_app, name="keys")
app.command("audit")(audit_command)

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Deployment YAML file (see `modelmon init`).",
                 envvar="MODELMON_CONFIG", exists=False, dir_okay=False),
]


def _fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _settings(config: Path | None, overrides: dict[str, Any] | None = None) -> Any:
    from modelmon.config.settings import load_settings

    try:
        return load_settings(config, overrides=overrides)
    except ModelmonError as exc:
        _fail(exc.message)


def _check_references(settings: Any) -> None:
    """Every model's reference data set exists and reads (its header only: cheap)."""
    from modelmon.config.inference import check_reference

    problems = []
    for model in settings.models:
        if model.reference is not None:
            try:
                check_reference(model.reference.path, model.reference.format,
                                shown=model.reference.path)
            except ModelmonError as exc:
                problems.append(f"  models: {model.name}: {exc.message}")
    if problems:
        _fail("invalid configuration:\n" + "\n".join(problems))


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (1 with DuckDB).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Validate the config and exit.")] = False,
    tls_cert: Annotated[Path | None, typer.Option(
        help="Serve HTTPS with this PEM certificate (chain); with --tls-key.")] = None,
    tls_key: Annotated[Path | None, typer.Option(
        help="The certificate's PEM private key; with --tls-cert.")] = None,
) -> None:
    """Run the monitoring service (HTTP API with docs at /docs, evaluation scheduler, /metrics)."""
    server: dict[str, Any] = {}
    if host is not None:
        server["host"] = host
    if port is not None:
        server["port"] = port
    if workers is not None:
        server["workers"] = workers
    if tls_cert is not None or tls_key is not None:
        server["tls_cert"] = str(tls_cert.resolve()) if tls_cert is not None else None
        server["tls_key"] = str(tls_key.resolve()) if tls_key is not None else None
    settings = _settings(config, {"server": server} if server else None)
    from modelmon.service.tls import check_tls, uvicorn_tls_options

    try:
        check_tls(settings.server)
    except ModelmonError as exc:
        _fail(exc.message)
    if check:
        _check_references(settings)
        console.print(f"[green]configuration OK[/]: {len(settings.models)} models, store "
                      f"{settings.store.backend} at {settings.store.describe()}")
        return
    import uvicorn

    from modelmon.service.allocator import limit_malloc_arenas, use_system_allocator
    from modelmon.service.app import create_app, start_validation_workers
    from modelmon.service.logs import configure_logging
    from modelmon.service.protocol import http_protocol

    limit_malloc_arenas()  # before the server's threads start
    use_system_allocator()
    configure_logging(settings.server.log_level, settings.server.log_format)
    scheme = "https" if settings.server.tls else "http"
    url = f"{scheme}://{settings.server.host}:{settings.server.port}"
    err_console.print(f"modelmon {modelmon.__version__} listening on {url} (API docs: {url}/docs)")
    uvicorn.run(
        create_app(settings, startup_hooks=[start_validation_workers]),
        host=settings.server.host,
        port=settings.server.port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http=http_protocol(settings.server.header_timeout_seconds),
        **uvicorn_tls_options(settings.server),
    )


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter config.")] = Path(
        "modelmon.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter configuration file."""
    if path.exists() and not force:
        _fail(f"{path} exists; use --force to overwrite it")
    text = (importlib.resources.files("modelmon.config") / "templates" / "starter.yaml").read_text()
    path.write_text(text, encoding="utf-8")
    console.print(f"wrote {path}; edit it, then run: modelmon serve --config {path}")


@models_app.command("list")
def models_list(
    config: ConfigOption = None,
    url: Annotated[str | None, typer.Option(help="Ask a running service instead of the store.",
                                            envvar="MODELMON_URL")] = None,
    api_key: Annotated[str | None, typer.Option(envvar="MODELMON_API_KEY")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List registered models (from a running service with --url, else from the config's store)."""
    rows: list[dict[str, Any]]
    if url:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        try:
            resp = httpx.get(f"{url.rstrip('/')}/v1/models", headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            _fail(f"cannot reach {url}: {exc}")
        if resp.status_code != 200:
            _fail(f"{url} answered {resp.status_code}: {resp.text[:300]}")
        rows = resp.json()["models"]
    else:
        settings = _settings(config)
        from modelmon.store import create_store

        store = create_store(settings.store)
        try:
            store.open()
            from modelmon.config.inference import complete_spec

            for spec in settings.models:
                store.save_model(complete_spec(spec), source="config")
            rows = [m.to_dict() for m in store.list_models()]
        except ModelmonError as exc:
            _fail(exc.message)
        finally:
            store.close()
    if as_json:
        import json

        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table("name", "task", "features", "segments", "revision", "updated")
    for m in rows:
        spec = m["spec"]
        table.add_row(m["name"], m["task"], str(len(spec["features"])),
                      ", ".join(spec["segments"]) or "-", str(m["revision"]), m["updated_at"][:19])
    console.print(table)


def _api(url: str, api_key: str | None) -> Any:
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30)


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=err_console)


def _print_history(counts: dict[str, int], status: dict[str, Any], seconds: float | None) -> None:
    table = Table("status", "windows")
    for name, n in counts.items():
        table.add_row(name, str(n))
    console.print(table)
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    console.print(f"judged{took}; status now [bold]{status.get('status')}[/]")
    for r in status.get("reasons", [])[:5]:
        console.print(f"  - {r['severity']}: {r['message']}")


@app.command()
def backfill(
    model: Annotated[str, typer.Argument(help="The model whose history to evaluate.")],
    config: ConfigOption = None,
    url: Annotated[str | None, typer.Option(help="Ask a running service to do it (else the "
                                            "config's store is opened here).",
                                            envvar="MODELMON_URL")] = None,
    api_key: Annotated[str | None, typer.Option(envvar="MODELMON_API_KEY")] = None,
) -> None:
    """Evaluate and judge a model's whole history in event time, with a progress bar.

    Every window of every size gets its metrics, drift and verdict (GET
    /v1/models/MODEL/status/history). With --url a running service does the work while it keeps
    evaluating the other models; without it the config's store is opened here (stop the service
    first: an embedded database has one writer).
    """
    import time

    if url:
        with _api(url, api_key) as client, _progress() as bar:
            resp = client.post(f"/v1/models/{model}/backfill")
            if resp.status_code != 202:
                _fail(f"{url} answered {resp.status_code}: {resp.text[:300]}")
            task = bar.add_task(f"backfill {model}", total=None)
            while True:
                job = client.get(f"/v1/models/{model}/backfill").json()
                bar.update(task, completed=job["windows_done"], total=job["windows_total"] or None)
                if job["state"] != "running":
                    break
                time.sleep(0.5)
            if job["state"] == "failed":
                _fail(f"the backfill failed: {job['error']}")
            status = client.get(f"/v1/models/{model}/status").json()
        _print_history(_history_counts(url, api_key, model), status, job["summary"]["seconds"])
        return
    settings = _settings(config)
    from modelmon.config.inference import complete_spec
    from modelmon.evaluation import Evaluator
    from modelmon.store import create_store

    store: Any = create_store(settings.store)
    try:
        store.open()
        for spec in settings.models:
            store.save_model(complete_spec(spec), source="config")
        evaluator = Evaluator(store)
        with _progress() as bar:
            task = bar.add_task(f"backfill {model}", total=None)
            summary = evaluator.backfill(
                model, progress=lambda done, total: bar.update(task, completed=done, total=total))
        counts: dict[str, int] = {}
        for v in store.verdicts(model, window_size=evaluator.status_scheme(
                store.get_model(model).spec).name, limit=10_000_000):
            counts[v.status] = counts.get(v.status, 0) + 1
        status = store.get_status(model)
        _print_history(counts, status.to_dict() if status else {}, summary.seconds)
    except ModelmonError as exc:
        _fail(exc.message)
    finally:
        store.close()


def _history_counts(url: str, api_key: str | None, model: str) -> dict[str, int]:
    """Verdict counts over every page of a model's status history."""
    counts: dict[str, int] = {}
    with _api(url, api_key) as client:
        next_url: str | None = f"/v1/models/{model}/status/history?limit=10000"
        while next_url:
            page = client.get(next_url).json()
            for name, n in page["counts"].items():
                counts[name] = counts.get(name, 0) + n
            next_url = page.get("next")
    return counts


@app.command()
def backup(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the backup (a "
                                      "DuckDB file; must not exist).")],
    url: Annotated[str | None, typer.Option(help="Ask a running service for it (a "
                                            "consistent copy while it goes on).",
                                            envvar="MODELMON_URL")] = None,
    api_key: KeyOption = None,
    config: ConfigOption = None,
) -> None:
    """A consistent copy of the whole store: from a running service (--url), or from the store
    file itself while no service has it open (--config)."""
    if out.exists():
        _fail(f"{out} exists: choose a new file")
    if url:
        partial = out.with_name(out.name + ".partial")
        with _api(url, api_key) as client, client.stream("GET", "/v1/admin/backup",
                                                         timeout=3600) as resp:
            if resp.status_code != 200:
                resp.read()
                _fail(f"{url} answered {resp.status_code}: {resp.text[:300]}")
            with _progress() as bar, partial.open("wb") as f:
                task = bar.add_task("backup", total=None)
                for chunk in resp.iter_bytes(1 << 20):
                    f.write(chunk)
                    bar.advance(task, len(chunk))
        partial.rename(out)
    else:
        from modelmon.store.duckdb import DuckDBStore

        settings = _settings(config)
        if settings.store.backend != "duckdb":
            _fail("a PostgreSQL store is backed up with PostgreSQL's own tools (pg_dump)")
        store = DuckDBStore(settings.store.path)
        try:
            store.open()
        except Exception as exc:
            _fail(f"cannot open the store ({type(exc).__name__}): if a service has it open, "
                  "use --url")
        try:
            store.maintenance.backup(out)
        finally:
            store.close()
    console.print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB)")


@app.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(help="A backup made by modelmon backup.")],
    config: ConfigOption = None,
) -> None:
    """Put a backup in place of the configured store (stop the service first); the store it
    replaces is kept beside it as <store>.before-restore-<time>."""
    import shutil
    from datetime import UTC, datetime

    import duckdb

    settings = _settings(config)
    if settings.store.backend != "duckdb":
        _fail("a PostgreSQL store is restored with PostgreSQL's own tools (pg_restore)")
    target = Path(settings.store.path)
    if settings.store.path == ":memory:":
        _fail("the configured store is in memory: nothing to restore into")
    try:
        con = duckdb.connect(str(backup_file), read_only=True)
        applied = (con.execute("SELECT max(version) FROM schema_migrations").fetchone()
                   or [None])[0]
        models = (con.execute("SELECT count(*) FROM models").fetchone() or [0])[0]
        con.close()
    except (duckdb.Error, OSError) as exc:
        _fail(f"{backup_file} is not a modelmon backup ({type(exc).__name__})")
    if target.exists():
        try:  # a running service holds the store's lock
            duckdb.connect(str(target)).close()
        except duckdb.Error:
            _fail(f"{target} is in use: stop the service first")
        kept = target.with_name(f"{target.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        target.rename(kept)
        wal = target.with_name(target.name + ".wal")
        if wal.exists():
            wal.rename(kept.with_name(kept.name + ".wal"))
        console.print(f"kept the previous store as {kept}")
    shutil.copyfile(backup_file, target)
    console.print(f"restored {backup_file} to {target}: {models} models, schema version "
                  f"{applied}")


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    directory: Annotated[str, typer.Option(help="Folder for the demo's database and data "
                                           "(recreated on every run).")] = ".modelmon-demo",
    change_after: Annotated[float, typer.Option(help="Seconds until the drift and the latency "
                                                "rise.")] = 60.0,
    recover_after: Annotated[float, typer.Option(help="Seconds (from the start) until the "
                                                 "traffic is as before and the alerts resolve; "
                                                 "0 never recovers.")] = 180.0,
    window: Annotated[str, typer.Option(help="Status window size.")] = "10s",
    rate: Annotated[float, typer.Option(help="Predictions per second per model.")] = 60.0,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds "
                                                   "(default: run until Ctrl-C).")] = None,
    live: Annotated[bool, typer.Option(help="Show the live status table.")] = True,
) -> None:
    """Run the service with three simulated models whose data drifts part-way."""
    from modelmon.demo import DemoOptions, run_demo

    if recover_after and recover_after <= change_after:
        raise typer.BadParameter("must be later than --change-after", param_hint="--recover-after")
    run_demo(DemoOptions(host=host, port=port, directory=directory, change_after=change_after,
                         recover_after=recover_after or None, window=window, rate=rate,
                         duration=duration, live=live))


# --- alert rules -----------------------------------------------------------------------------------

UrlOption = Annotated[str, typer.Option(help="The running service.", envvar="MODELMON_URL")]
KeyOption = Annotated[str | None, typer.Option(envvar="MODELMON_API_KEY")]


@rules_app.command("check")
def rules_check(
    path: Annotated[Path, typer.Argument(help="A rules file (a list, or 'rules:'), or a "
                                              "deployment file (its alerts.rules).")],
) -> None:
    """Validate alert rules: each error names the rule, the field and what was expected."""
    from modelmon.alerts.engine import AlertEngine
    from modelmon.alerts.testing import load_rules

    try:
        rules = load_rules(path)
        checker = AlertEngine(None)
        for rule in rules:
            checker.check_templates(rule)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    console.print(f"[green]{len(rules)} rule(s) OK[/]: {', '.join(r.name for r in rules)}")


@rules_app.command("test")
def rules_test(
    path: Annotated[Path, typer.Argument(help="A rule test file (see docs/alerting.md).")],
) -> None:
    """Run table tests of alert rules against given windows (like promtool test rules)."""
    from modelmon.alerts.testing import run_rule_tests

    try:
        outcomes = run_rule_tests(path)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    failed = [o for o in outcomes if not o.passed]
    for o in outcomes:
        mark = "[green]PASS[/]" if o.passed else "[bold red]FAIL[/]"
        console.print(f"{mark} {o.name}")
        for f in o.failures:
            console.print(f"     {f}")
    console.print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


@export_app.command("prometheus-rules")
def export_prometheus_rules(
    config: ConfigOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the rule file here "
                                             "(default: stdout).")] = None,
    tests: Annotated[Path | None, typer.Option(help="Also write a promtool test file that "
                                               "exercises every exported rule.")] = None,
) -> None:
    """The deployment's alert rules (presets' and configured) as a Prometheus rule file over
    modelmon's /metrics series; `promtool check rules` accepts it."""
    import yaml

    from modelmon.alerts.builtin import builtin_rules
    from modelmon.alerts.engine import AlertEngine
    from modelmon.alerts.promql import prometheus_rules, rule_tests

    settings = _settings(config)

    class _NoStore:
        @staticmethod
        def list_alert_rules() -> list[Any]:
            return []

    engine = AlertEngine(_NoStore(), [(r, "config") for r in settings.alerts.rules],
                         builtin=builtin_rules if settings.alerts.presets else None)
    doc, skipped, exported = prometheus_rules(settings.models, engine.rules_for)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {out}: {sum(len(g['rules']) for g in doc['groups'])} rules")
    if tests is not None:
        tests.write_text(yaml.safe_dump(rule_tests(str(out or "rules.yaml"), exported),
                                        sort_keys=False), encoding="utf-8")
        err_console.print(f"wrote {tests}")
    for s in skipped:
        err_console.print(f"not exported: {s['model']}/{s['rule']}: {s['reason']}")


@export_app.command("alertmanager-config")
def export_alertmanager_config(
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the configuration here "
                                      "(readable by its owner only: it holds the receivers' "
                                      "secrets).")],
    config: ConfigOption = None,
) -> None:
    """The deployment's notification routing (receivers, routes, inhibition, time intervals)
    as an Alertmanager configuration; `amtool check-config` accepts it."""
    import os

    import yaml

    from modelmon.notify.amconfig import alertmanager_config

    settings = _settings(config)
    try:
        doc, skipped = alertmanager_config(settings.notifications,
                                           settings.alerts.external_url or "")
    except ValueError as exc:
        _fail(str(exc))
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(out, 0o600)
    err_console.print(f"wrote {out}: {len(doc['receivers'])} receivers (it holds secrets: "
                      "keep it private)")
    for s in skipped:
        err_console.print(f"not exported: {s}")


@alerts_app.command("test")
def alerts_test(
    receiver: Annotated[str, typer.Argument(help="The receiver's name.")],
    config: ConfigOption = None,
    url: Annotated[str | None, typer.Option(help="Ask a running service to send it instead.",
                                            envvar="MODELMON_URL")] = None,
    api_key: KeyOption = None,
) -> None:
    """Send a test message through each integration of a receiver (from the configuration
    file, or through a running service with --url)."""
    from datetime import UTC, datetime

    if url:
        with _api(url, api_key) as client:
            resp = client.post(f"/v1/receivers/{receiver}/test")
        if resp.status_code != 200:
            _fail(f"{url} answered {resp.status_code}: {resp.text[:300]}")
        results = resp.json()["results"]
    else:
        import httpx

        from modelmon.notify.dispatcher import messages_for
        from modelmon.notify.service import test_notification
        from modelmon.notify.transport import DeliveryError, deliver

        settings = _settings(config)
        if settings.notifications.receiver(receiver) is None:
            _fail(f"no receiver {receiver!r} in notifications.receivers")
        now = datetime.now(UTC)
        n = test_notification(receiver, settings.alerts.external_url or "", now)
        results = []
        with httpx.Client() as client:
            for msg in messages_for(settings.notifications, n):
                try:
                    deliver(settings.notifications, client, msg.receiver, msg.integration,
                            msg.idx, msg.payload, now.timestamp())
                    results.append({"integration": msg.integration, "index": msg.idx,
                                    "delivered": True, "error": None})
                except DeliveryError as exc:
                    results.append({"integration": msg.integration, "index": msg.idx,
                                    "delivered": False, "error": str(exc)})
    for r in results:
        mark = "[green]sent[/]" if r["delivered"] else f"[bold red]failed[/]: {r['error']}"
        console.print(f"{receiver} {r['integration']} #{r['index']}: {mark}")
    if not results:
        _fail(f"receiver {receiver!r} has no integrations")
    if not all(r["delivered"] for r in results):
        raise typer.Exit(1)


@export_app.command("grafana-dashboards")
def export_grafana_dashboards(
    folder: Annotated[Path, typer.Argument(help="Folder to write the dashboards into.",
                                           file_okay=False)],
) -> None:
    """Write Grafana dashboards (overview, model drill-down with $model/$version/$window,
    service and host) as provisioning-ready JSON, with a $datasource variable, and a provider
    file for provisioning/dashboards/."""
    from modelmon.export.grafana import write_dashboards

    for path in write_dashboards(folder):
        console.print(f"wrote {path}")


@alerts_app.command("list")
def alerts_list(url: UrlOption = "http://127.0.0.1:8000", api_key: KeyOption = None,
                model: Annotated[str | None, typer.Option()] = None,
                as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Alerts pending or firing now."""
    with _api(url, api_key) as client:
        resp = client.get("/v1/alerts", params={"model": model} if model else None)
    if resp.status_code != 200:
        _fail(f"{url} answered {resp.status_code}: {resp.text[:300]}")
    alerts = resp.json()["alerts"]
    if as_json:
        import json

        typer.echo(json.dumps(alerts, indent=2))
        return
    table = Table("fingerprint", "alert", "severity", "state", "model", "since", "summary")
    for a in alerts:
        state = a["state"] + (" (silenced)" if a["silenced"] else "") + (
            " (acked)" if a["ack"] else "")
        table.add_row(a["fingerprint"], a["rule"], a["severity"], state, a["model"] or "-",
                      a["started_at"][:19], a["annotations"].get("summary", ""))
    console.print(table)


@alerts_app.command("ack")
def alerts_ack(fingerprint: str, by: Annotated[str, typer.Option(help="Who acknowledges.")],
               note: Annotated[str, typer.Option()] = "", url: UrlOption = "http://127.0.0.1:8000",
               api_key: KeyOption = None) -> None:
    """Acknowledge an active alert."""
    with _api(url, api_key) as client:
        resp = client.post(f"/v1/alerts/{fingerprint}/ack", json={"by": by, "note": note})
    if resp.status_code != 200:
        _fail(f"{url} answered {resp.status_code}: {resp.text[:300]}")
    console.print(f"acknowledged {fingerprint}")


@silences_app.command("add")
def silences_add(
    matchers: Annotated[list[str], typer.Argument(help='Matchers: team=risk alertname=~"Lat.*"')],
    by: Annotated[str, typer.Option(help="Who silences.")],
    duration: Annotated[str, typer.Option(help="How long (e.g. 2h).")] = "1h",
    comment: Annotated[str, typer.Option()] = "",
    url: UrlOption = "http://127.0.0.1:8000", api_key: KeyOption = None,
) -> None:
    """Silence matching alerts for a while."""
    with _api(url, api_key) as client:
        resp = client.post("/v1/silences", json={"matchers": matchers, "duration": duration,
                                                 "created_by": by, "comment": comment})
    if resp.status_code != 201:
        _fail(f"{url} answered {resp.status_code}: {resp.text[:300]}")
    body = resp.json()
    console.print(f"silence {body['id']} until {body['ends_at']}; it silences "
                  f"{len(body['matching_alerts'])} active alert(s)")


@silences_app.command("list")
def silences_list(url: UrlOption = "http://127.0.0.1:8000", api_key: KeyOption = None) -> None:
    """Every silence, newest first."""
    with _api(url, api_key) as client:
        resp = client.get("/v1/silences")
    if resp.status_code != 200:
        _fail(f"{url} answered {resp.status_code}: {resp.text[:300]}")
    table = Table("id", "state", "matchers", "ends", "by", "comment")
    for s in resp.json()["silences"]:
        matchers = " ".join(f'{m["name"]}{m["op"]}"{m["value"]}"' for m in s["matchers"])
        table.add_row(s["id"], s["state"], matchers, s["ends_at"][:19], s["created_by"],
                      s["comment"])
    console.print(table)


@silences_app.command("expire")
def silences_expire(silence_id: str, url: UrlOption = "http://127.0.0.1:8000",
                    api_key: KeyOption = None) -> None:
    """Expire a silence now."""
    with _api(url, api_key) as client:
        resp = client.delete(f"/v1/silences/{silence_id}")
    if resp.status_code != 200:
        _fail(f"{url} answered {resp.status_code}: {resp.text[:300]}")
    console.print(f"expired {silence_id}")


def _read_table(path: Path) -> Any:
    """A Parquet or CSV file as a pyarrow table."""
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    if not path.exists():
        _fail(f"{path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pq.read_table(path)
    if suffix in (".csv", ".txt"):
        return pa_csv.read_csv(path)
    _fail(f"{path}: expected a .parquet or .csv file")


@app.command("backtest")
def backtest_command(
    data: Annotated[Path, typer.Argument(help="Parquet or CSV: one row per date and symbol.")],
    strategy: Annotated[list[str] | None, typer.Option(
        "--strategy", "-s", help="A rule, repeatable: 'threshold:long_above=1%,short_below=-1%', "
        "'threshold:long_above=10%,on=gap', 'top_k:k=10,long_short=true'.")] = None,
    date: Annotated[str, typer.Option(help="Date column.")] = "date",
    symbol: Annotated[str, typer.Option(help="Symbol column.")] = "symbol",
    prediction: Annotated[str, typer.Option(help="Prediction column.")] = "prediction",
    realised: Annotated[str, typer.Option(help="Realised-return column (over the period "
                                          "starting at the row's date).")] = "realised",
    price: Annotated[str | None, typer.Option(help="Reference-price column (rules on=gap).")] = None,
    benchmark: Annotated[str | None, typer.Option(help="Benchmark-return column (one value "
                                                  "per date).")] = None,
    by: Annotated[str | None, typer.Option(help="Run once per value of this column (e.g. the "
                                           "model version) and compare.")] = None,
    sizing: Annotated[str, typer.Option(help="equal | fraction | amount | vol.")] = "equal",
    size: Annotated[str | None, typer.Option(help="The sizing's parameter: gross (equal), "
                                             "fraction of equity, amount, target volatility; "
                                             "'10%' or 0.1.")] = None,
    fees: Annotated[str, typer.Option(help="Fees per trade: '10bp', '0.1%' or 0.001.")] = "0",
    slippage: Annotated[str, typer.Option(help="Slippage per trade, like fees.")] = "0",
    fixed_fee: Annotated[float, typer.Option(help="Money per trade.")] = 0.0,
    max_position: Annotated[str | None, typer.Option(help="Largest position, fraction of "
                                                     "equity.")] = None,
    max_gross: Annotated[str | None, typer.Option(help="Largest gross exposure, fraction of "
                                                  "equity.")] = None,
    borrow: Annotated[bool, typer.Option(help="Allow cash below 0.")] = False,
    rebalance: Annotated[str, typer.Option(help="on_change | every_period.")] = "on_change",
    capital: Annotated[float, typer.Option(help="Starting cash.")] = 1_000_000.0,
    periods_per_year: Annotated[float, typer.Option(help="Annualisation.")] = 252.0,
    risk_free_rate: Annotated[float, typer.Option(help="Annual risk-free rate.")] = 0.0,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples for the Sharpe "
                                           "intervals.")] = 2000,
    train: Annotated[int | None, typer.Option(help="Walk forward: training periods.")] = None,
    test: Annotated[int | None, typer.Option(help="Walk forward: test periods.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for backtest.json, backtest.html and "
                                      "backtest_trades.csv.")] = Path("backtest-report"),
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
) -> None:
    """Backtest strategies on a model's predictions (Parquet/CSV) and compare them.

    Prints a summary table and writes JSON, a trade list and a standalone HTML page with the
    equity curves and drawdowns into --out. With --by VERSION_COLUMN every version runs every
    strategy on the dates they share, and the table says whether a version's edge is real
    (bootstrap interval of its Sharpe ratio minus the first run's). With --train and --test
    the strategies also walk forward (the best on each training window trades the next).
    """
    import numpy as np

    from modelmon import backtest as bt
    from modelmon.backtest.report import summary_rows, write_report

    specs = strategy or ["threshold:long_above=0"]
    try:
        rules = [bt.strategy_from_spec(s) for s in specs]
        sizer = bt.sizer_from_spec(sizing, size)
        options: dict[str, Any] = {
            "sizing": sizer, "capital": capital, "rebalance": rebalance,
            "costs": bt.Costs(fees=fees, slippage=slippage, fixed=fixed_fee),
            "limits": bt.Limits(max_position=max_position, max_gross=max_gross, borrow=borrow),
            "periods_per_year": periods_per_year, "risk_free_rate": risk_free_rate}
        bt.Costs(fees=fees, slippage=slippage).rate  # noqa: B018 (validates now)
        bt.Limits(max_position=max_position, max_gross=max_gross).resolved()
        table = _read_table(data)
        groups = _backtest_groups(table, by)
        panels = {}
        for key, part in groups.items():
            bench = None
            if benchmark is not None:
                bench = dict(zip(np.asarray(part[date].to_numpy()).tolist(),
                                 part[benchmark].to_pylist(), strict=True))
            panels[key] = bt.Panel.from_long(
                dates=part[date].to_numpy(), symbols=part[symbol].to_numpy(zero_copy_only=False),
                predictions=part[prediction].to_numpy(), returns=part[realised].to_numpy(),
                prices=None if price is None else part[price].to_numpy(), benchmark=bench)
        panels = _common_dates(panels)
        runs = []
        walks = []
        walk_names = []
        total = len(panels) * len(rules) + (len(panels) if train and test else 0) + 2
        with _progress() as bar:
            task = bar.add_task("backtest", total=total)
            for key, panel in panels.items():
                for rule in rules:
                    label = rule.name if key is None else f"{key} · {rule.name}"
                    bar.update(task, description=f"backtest {label}")
                    runs.append(bt.backtest(panel, rule, name=label, **options))
                    bar.advance(task)
                if train and test:
                    bar.update(task, description=f"walk forward {key or ''}")
                    walks.append(bt.walk_forward(panel, {r.name: r for r in rules}, train=train,
                                                 test=test, **options))
                    walk_names.append("all" if key is None else str(key))
                    bar.advance(task)
            bar.update(task, description="bootstrap")
            comparison = bt.compare(runs, n_resamples=resamples, random_state=seed)
            bar.advance(task)
            bar.update(task, description="report")
            paths = write_report(comparison, out, walk_forward=walks,
                                 walk_forward_names=walk_names,
                                 title=f"Backtest of {data.name}")
            bar.advance(task)
    except ModelmonError as exc:
        _fail(exc.message)
    rows = summary_rows(comparison)
    shown = ["total", "annual", "vol", "Sharpe", "Sharpe CI", "max DD", "hit rate", "trades",
             "turnover/yr", "ΔSharpe vs base (CI, p)"]
    view = Table("run", *shown)
    for row in rows:
        view.add_row(row["name"], *(row[h] for h in shown))
    console.print(view)
    for wf, name in zip(walks, walk_names, strict=True):
        console.print(f"walk forward {name}: {len(wf.folds)} folds, out-of-sample Sharpe "
                      f"{wf.stats.sharpe:.2f}, total return {100 * wf.stats.total_return:.2f} %")
    console.print(f"wrote {paths['html']}, {paths['json']} and {paths['trades']}")


def _backtest_groups(table: Any, by: str | None) -> dict[Any, Any]:
    if by is None:
        return {None: table}
    if by not in table.column_names:
        _fail(f"the data has no column {by!r}")
    import pyarrow.compute as pc

    values = sorted(set(table[by].to_pylist()), key=str)
    return {v: table.filter(pc.equal(table[by], v)) for v in values}


def _common_dates(panels: dict[Any, Any]) -> dict[Any, Any]:
    """Versions compared side by side run over the dates they all have."""
    if len(panels) < 2:
        return panels
    import numpy as np

    first, *rest = (np.asarray(p.dates) for p in panels.values())
    common = first
    for d in rest:
        common = np.intersect1d(common, d)
    out = {}
    for key, p in panels.items():
        keep = np.isin(np.asarray(p.dates), common)
        idx = np.flatnonzero(keep)
        out[key] = p if keep.all() else type(p)(
            p.predictions[idx], p.returns[idx], p.dates[idx], p.symbols,
            None if p.prices is None else p.prices[idx],
            None if p.benchmark is None else p.benchmark[idx])
    return out


@app.command("report")
def report_command(
    reference: Annotated[Path, typer.Option("--reference", "-r", help="Reference data: Parquet, "
                                            "CSV or Arrow.", dir_okay=False)],
    current: Annotated[Path, typer.Option("--current", help="Current data, same columns.",
                                          dir_okay=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML report to write.",
                                      dir_okay=False)] = Path("report.html"),
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the numbers as "
                                                  "JSON here.", dir_okay=False)] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="A model's YAML (name, "
                                                "task, features, reference.columns, drift, "
                                                "judgement), or a deployment YAML with --model.",
                                                dir_okay=False)] = None,
    model: Annotated[str | None, typer.Option(help="The model of a deployment YAML.")] = None,
    target: Annotated[str | None, typer.Option(help="Target column (default 'target' when "
                                               "present): quality is judged with it.")] = None,
    prediction: Annotated[str | None, typer.Option(help="Model output column (default "
                                                   "'prediction').")] = None,
    score: Annotated[str | None, typer.Option(help="Positive-class score column (default "
                                              "'score').")] = None,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", help="Exit 1 when the report finds drift (a feature, the output or the "
        "joint distribution), degradation (quality, realized or estimated without labels, "
        "worse than the reference beyond its noise) or any finding (status not healthy).")] = None,
) -> None:
    """Judge a current data set against a reference: drift, multivariate drift, data quality and
    quality (realized with a target, estimated without), written as one self-contained HTML file (and JSON); the exit code tells a CI job.

    Exit codes: 0 done (and nothing --fail-on names was found), 1 --fail-on matched, 2 bad
    input.
    """
    import time

    import orjson
    import yaml

    from modelmon.report.build import FAIL_ON, build_offline_report, offline_view, spec_for
    from modelmon.report.html import render_report
    from modelmon.report.inputs import read_table

    if fail_on is not None and fail_on not in FAIL_ON:
        raise typer.BadParameter(f"must be one of {', '.join(FAIL_ON)}", param_hint="--fail-on")
    started = time.perf_counter()
    stages = ["reading", "fitting the reference", "comparing distributions",
              "data quality and distributions", "quality metrics",
              "estimating quality and multivariate drift", "judging", "writing"]
    with _progress() as bar:
        task = bar.add_task("reading", total=len(stages))

        def step(name: str) -> None:
            bar.update(task, completed=stages.index(name), description=name)

        try:
            ref_table = read_table(reference, what="reference")
            cur_table = read_table(current, what="current")
            loaded: dict[str, Any] | None = None
            if config is not None:
                try:
                    loaded = yaml.safe_load(config.read_text(encoding="utf-8"))
                except (OSError, yaml.YAMLError) as exc:
                    _fail(f"cannot read {config}: {exc}")
                if isinstance(loaded, dict) and "models" in loaded:
                    models = loaded.get("models") or []
                    chosen = [m for m in models if model is None or m.get("name") == model]
                    if not chosen:
                        _fail(f"{config} has no model {model!r}" if model else
                              f"{config} lists no models")
                    loaded = chosen[0]
                if not isinstance(loaded, dict):
                    _fail(f"{config} must hold a model (a mapping with name and task)")
            spec = spec_for(ref_table, reference_path=str(reference), config=loaded,
                            target=target, prediction=prediction, score=score)
            result = build_offline_report(ref_table, cur_table, spec,
                                          reference_name=str(reference),
                                          current_name=str(current), step=step)
            step("writing")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(render_report(offline_view(result.report)), encoding="utf-8")
            if json_out is not None:
                json_out.parent.mkdir(parents=True, exist_ok=True)
                json_out.write_bytes(orjson.dumps(result.report, option=orjson.OPT_INDENT_2))
        except ModelmonError as exc:
            _fail(exc.message)
        except ValueError as exc:  # a model YAML that does not validate
            _fail(str(exc).splitlines()[0] if str(exc) else "invalid model configuration")
        bar.update(task, completed=len(stages), description="done")
    report = result.report
    status = report["status"]
    console.print(f"[bold]{status}[/]: {report['drift']['share'] or 0:.0%} of features drifted "
                  f"({sum(f['drifted'] for f in report['drift']['features'])} flagged); "
                  f"{len(report['reasons'])} finding(s) in {time.perf_counter() - started:.1f} s")
    for r in report["reasons"][:8]:
        console.print(f"  - {r['severity']}: {r['message']}")
    console.print(f"wrote {out}" + (f" and {json_out}" if json_out else ""))
    if result.fails(fail_on):
        err_console.print(f"--fail-on {fail_on}: found; exit 1")
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the modelmon version."""
    typer.echo(modelmon.__version__)


def _register_batch() -> None:
    from modelmon.batch.command import evaluate_batch_command

    app.command("evaluate-batch")(evaluate_batch_command)


_register_batch()


def main() -> None:
    """Entry point of the ``modelmon`` script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

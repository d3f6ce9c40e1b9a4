"""Deployment settings: one typed object built from a YAML file and the environment.

Everything configurable lives in :class:`Settings`, which the app factory receives and passes
down; nothing deeper reads the environment. Secrets stay out of files: any string value may be
written as ``${VAR}`` or ``${VAR:-default}`` and is filled from the environment, and
``MODELMON_API_KEY`` sets ``server.api_key`` directly.

A wrong file fails at start-up with :class:`~modelmon.exceptions.ConfigError` naming each key, the
value found and what was expected.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from modelmon.actions.spec import ActionSettings, check_action_refs
from modelmon.alerts.rules import AlertRule
from modelmon.config.models import ModelSpec
from modelmon.exceptions import ConfigError
from modelmon.notify.config import NotificationSettings

__all__ = [
    "ApiKey",
    "IngestSettings",
    "RegistrySettings",
    "SchedulerSettings",
    "ServerSettings",
    "Settings",
    "StoreSettings",
    "load_settings",
    "parse_size",
]

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_size(value: str | int) -> int:
    """Bytes from ``"64MiB"``, ``"2GB"`` or a plain integer.

    >>> parse_size("64MiB")
    67108864
    >>> parse_size(1024)
    1024
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"size must be positive; got {value}")
        return value
    match = _SIZE_RE.match(str(value))
    if not match:
        raise ValueError(f"invalid size {value!r}: expected e.g. '64MiB', '2GB' or a byte count")
    number, unit = float(match.group(1)), (match.group(2) or "b").lower()
    size = int(number * _SIZE_UNITS[unit])
    if size <= 0:
        raise ValueError(f"size must be positive; got {value!r}")
    return size


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Section):
    """Where data lives. ``duckdb`` is embedded: one file, no server, one process. ``postgres``
    is a PostgreSQL database several servers share (``url``; giving a ``postgresql://`` URL
    alone selects it)."""

    backend: Literal["duckdb", "postgres"] = "duckdb"
    path: str = "modelmon.duckdb"
    # PostgreSQL: a libpq URI, e.g. postgresql://modelmon:${PGPASSWORD}@db:5432/modelmon
    url: SecretStr | None = None
    pool_min: int = Field(2, ge=1)
    pool_max: int = Field(10, ge=1)
    # Width of each model's prediction partitions (days); retention drops whole partitions.
    partition_days: int = Field(1, ge=1, le=366)
    # Several servers: how long a server's evaluation lease on a model lasts without renewal
    # (a killed server's models are taken over after at most this long).
    lease_seconds: float = Field(30.0, gt=0)
    memory_limit: str = "2GB"
    # DuckDB worker threads for inserts and queries (null: one per core). One inserts fastest on
    # a small machine under ingest load (measured on 2 cores); raise it for heavy reads.
    threads: int | None = Field(1, ge=1)
    # The store checkpoints (folds the WAL into the database file) between group commits once
    # the WAL reaches checkpoint_threshold or checkpoint_interval_seconds after the last one
    # (0: by size only), with checkpoint_threads (null: one per core), and on shutdown. Commits
    # wait while a checkpoint runs: small thresholds stall ingest more often. Until then DuckDB
    # holds the rows written since the last checkpoint in memory: the interval keeps it flat.
    checkpoint_threads: int | None = Field(None, ge=1)
    checkpoint_threshold: str = "512MB"
    checkpoint_interval_seconds: float = Field(60.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _backend_from_url(cls, data: Any) -> Any:
        url = data.get("url") if isinstance(data, dict) else None
        if (isinstance(url, str) and "backend" not in data
                and url.startswith(("postgresql://", "postgres://"))):
            data = {**data, "backend": "postgres"}
        return data

    @model_validator(mode="after")
    def _sizes(self) -> StoreSettings:
        parse_size(self.memory_limit)
        parse_size(self.checkpoint_threshold)
        if self.backend == "postgres" and self.url is None:
            raise ValueError("store.backend 'postgres' needs store.url "
                             "(postgresql://user@host:port/database)")
        if self.pool_min > self.pool_max:
            raise ValueError("store.pool_min must not exceed store.pool_max")
        return self

    def describe(self) -> str:
        """Where the store is, without a password."""
        if self.backend == "duckdb" or self.url is None:
            return self.path
        return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", self.url.get_secret_value())


class ApiKey(_Section):
    """An API key written in the configuration file, with a role (see
    :mod:`modelmon.access.keys`): ``admin`` may do everything; ``read`` may look (every query
    and the dashboard) but not change anything; ``ingest`` may only send data. ``name`` names
    the key in logs and the audit log (and says who acted when the dashboard is signed in with
    it). Give the key itself (``key``, a secret: ``${MODELMON_READ_KEY}``) or its SHA-256
    (``key_sha256``, hex), so the file never holds it; ``models`` limits the key to those
    models. Keys made with ``modelmon keys create`` live in the store instead."""

    key: SecretStr | None = None
    key_sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")
    role: Literal["admin", "read", "ingest"] = "admin"
    name: str = Field("", max_length=200)
    models: list[str] | None = None

    @field_validator("key")
    @classmethod
    def _not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("an API key must not be empty")
        return value

    @model_validator(mode="after")
    def _one_form(self) -> ApiKey:
        if (self.key is None) == (self.key_sha256 is None):
            raise ValueError("give the key either as 'key' or as 'key_sha256' (one of them)")
        return self


class AuthFailureSettings(_Section):
    """Failed authentication: after ``limit`` failures within ``window_seconds`` from one client
    address (or against one key id), its requests get ``429`` with ``Retry-After`` for
    ``lockout_seconds``."""

    limit: int = Field(20, ge=1)
    window_seconds: float = Field(60.0, gt=0)
    lockout_seconds: float = Field(300.0, gt=0)


class ServerSettings(_Section):
    """The HTTP server."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1)
    api_key: SecretStr | None = None
    # More keys, each with a role (``api_key`` is an admin key beside them).
    api_keys: list[ApiKey] = Field(default_factory=list)
    # Signs the dashboard's session cookies; unset: a random secret per process (sessions end
    # with a restart). Give one (e.g. ${MODELMON_SESSION_SECRET}) for several replicas.
    session_secret: SecretStr | None = None
    session_hours: float = Field(12.0, gt=0, le=24 * 90)
    auth_failures: AuthFailureSettings = Field(default_factory=AuthFailureSettings)
    # With keys: /metrics (per-feature drift, model names) and /info (the configuration's
    # summary) need a read key unless these say they are public (e.g. for a Prometheus that
    # scrapes without credentials).
    public_metrics: bool = False
    public_info: bool = False
    public_url: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = "json"
    access_log: bool = False
    # A request's headers must arrive within header_timeout_seconds of its first byte, and its
    # body within body_timeout_seconds of its headers (408); a connection that trickles bytes
    # would otherwise be held forever.
    header_timeout_seconds: float = Field(10.0, gt=0)
    body_timeout_seconds: float = Field(60.0, gt=0)
    # HTTPS: a PEM certificate (its chain after it) and its private key, both or neither
    # (relative to the config file's folder); plain HTTP is then refused on the port.
    tls_cert: str | None = None
    tls_key: str | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("server.tls_cert and server.tls_key go together: give both or neither")
        return self

    @property
    def tls(self) -> bool:
        """Whether the server speaks HTTPS."""
        return self.tls_cert is not None

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: Any) -> Any:
        # ``api_key: ${MODELMON_API_KEY:-}`` with the variable unset: no key, not the empty key.
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(text, str) and not text.strip() else value

    @field_validator("session_secret", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: Any) -> Any:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(text, str) and not text.strip() else value

    def all_keys(self) -> list[ApiKey]:
        """Every configured key: ``api_key`` (an admin key named ``api_key``) and ``api_keys``."""
        out = list(self.api_keys)
        if self.api_key is not None:
            out.insert(0, ApiKey(key=self.api_key, role="admin", name="api_key", models=None))
        return out

    @property
    def auth(self) -> bool:
        """Whether clients must present a key (some key is configured)."""
        return self.api_key is not None or bool(self.api_keys)


class IngestSettings(_Section):
    """Limits and batching of the ingest path."""

    max_batch_records: int = Field(10_000, ge=1)
    max_bulk_records: int = Field(1_000_000, ge=1)
    max_body_bytes: str = "64MiB"
    # Group commit: requests arriving while a commit runs are written together in the next one.
    max_commit_records: int = Field(50_000, ge=1)
    # ... and while batches are still being validated, a commit waits for them up to this long
    # (or until it holds 10,000 rows): fewer, larger commits cost less CPU per row.
    max_commit_wait_ms: float = Field(50.0, ge=0, le=10_000)
    max_queue_records: int = Field(500_000, ge=1)
    commit_timeout_seconds: float = Field(30.0, gt=0)
    # Processes that decode and validate large JSON batches, Arrow uploads and groups of single
    # predictions beside the server process (its interpreter lock stays free for HTTP and the
    # writer). Unset: one per core, at most four (none on one core); 0: validate in threads of
    # the server process.
    validation_workers: int | None = Field(None, ge=0, le=64)
    # Event times accepted: from max_event_age ago to max_future_skew ahead of the server's
    # clock (timestamp_out_of_range outside: year 1 or epoch 0 is a client's bug).
    max_event_age: str = "3650d"
    max_future_skew: str = "1d"

    @property
    def max_body(self) -> int:
        return parse_size(self.max_body_bytes)

    @model_validator(mode="after")
    def _sizes(self) -> IngestSettings:
        from modelmon.config.durations import parse_duration

        parse_size(self.max_body_bytes)
        parse_duration(self.max_event_age)
        parse_duration(self.max_future_skew)
        return self


class SchedulerSettings(_Section):
    """The evaluation scheduler."""

    enabled: bool = True
    interval_seconds: float = Field(30.0, gt=0)
    max_windows_per_cycle: int = Field(500, ge=1)
    # Concept-drift detector fed with per-prediction errors (any name from modelmon.detectors).
    detector: str = "adwin"
    # Labelled predictions reach the detector once their event time is this old: actuals that
    # arrive later still count in window metrics, not in the detector.
    detector_lateness: str = "5m"

    @model_validator(mode="after")
    def _check(self) -> SchedulerSettings:
        from modelmon.config.durations import parse_duration

        parse_duration(self.detector_lateness)
        return self


class RegistrySettings(_Section):
    """What a model registered over the API (``POST /v1/models``) may ask of the server.

    ``reference_dirs``: the folders whose files such a model may name as its reference data set
    (paths are resolved, ``..`` and symbolic links followed, and must stay inside one of them);
    ``load_settings`` sets the configuration file's folder when none are given. Empty: models
    registered over the API cannot name a reference file. Models in the configuration file may
    name any file.
    """

    reference_dirs: list[str] = Field(default_factory=list)
    max_features: int = Field(1000, ge=1)


class AlertSettings(_Section):
    """Alert rules and where their links point (``docs/alerting.md``).

    ``rules``: rules for every model whose labels their ``match`` selects (a rule named like a
    preset rule replaces it); ``presets``: whether each model gets its preset's rules;
    ``external_url``: the service's address as people reach it (links in annotations), the
    listening address when unset.
    """

    enabled: bool = True
    presets: bool = True
    rules: list[AlertRule] = Field(default_factory=list)
    external_url: str | None = None

    @model_validator(mode="after")
    def _unique(self) -> AlertSettings:
        names = [r.name for r in self.rules]
        dupes = sorted(n for n, k in Counter(names).items() if k > 1)
        if dupes:
            raise ValueError(f"alert rule names must be unique; repeated: {dupes}")
        return self


class RetentionSettings(_Section):
    """Retention for every model without its own ``retention:`` (see
    :class:`~modelmon.config.models.RetentionSpec`), and how often the job runs."""

    predictions: str | None = None
    results: str | None = None
    interval: str = "1h"

    @model_validator(mode="after")
    def _durations(self) -> RetentionSettings:
        from modelmon._durations import parse_duration

        for value in (self.predictions, self.results, self.interval):
            if value is not None:
                parse_duration(value)
        return self


class Settings(_Section):
    """The whole deployment: store, server, ingest limits, scheduler, registry, alerts,
    notifications and models."""

    store: StoreSettings = Field(default_factory=StoreSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    actions: ActionSettings = Field(default_factory=ActionSettings)
    models: list[ModelSpec] = Field(default_factory=list)
    config_path: str | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        names = [m.name for m in self.models]
        dupes = sorted(n for n, k in Counter(names).items() if k > 1)
        if dupes:
            raise ValueError(f"model names must be unique; repeated: {dupes}")
        if self.store.backend == "duckdb" and self.server.workers != 1:
            raise ValueError(
                "store.backend 'duckdb' is embedded in one process: server.workers must be 1"
            )
        return self

    @model_validator(mode="after")
    def _actions_defined(self) -> Settings:
        problems = check_action_refs(self.alerts.rules, self.actions)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def summary(self) -> dict[str, Any]:
        """What ``/info`` shows: no secrets."""
        return {
            "store": {"backend": self.store.backend, "path": self.store.describe()},
            "server": {"host": self.server.host, "port": self.server.port,
                       "workers": self.server.workers, "auth": self.server.auth},
            "models": [m.name for m in self.models],
            "scheduler": {"enabled": self.scheduler.enabled,
                          "interval_seconds": self.scheduler.interval_seconds},
            "notifications": {"receivers": [r.name for r in self.notifications.receivers],
                              "alertmanagers": len(self.notifications.alertmanagers)},
            "config_path": self.config_path,
        }


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand_env(value: Any, env: Mapping[str, str], path: str = "") -> Any:
    if isinstance(value, str):

        def repl(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(
                f"{path or 'config'}: environment variable {name} is not set "
                f"(write ${{{name}:-default}} to give a default)",
                loc=tuple(p for p in path.split(".") if p),
            )

        return _ENV_REF.sub(repl, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, env, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, env, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "config"


def _config_error(exc: PydanticValidationError, source: str, data: Any) -> ConfigError:
    lines = []
    first_loc: tuple[Any, ...] = ()
    for err in exc.errors():
        loc = tuple(err["loc"])
        loc_txt = _loc_text(loc)
        # Models are listed by position; name the model too so the reader finds the right block.
        if len(loc) >= 2 and loc[0] == "models" and isinstance(loc[1], int):
            with contextlib.suppress(KeyError, IndexError, TypeError):
                loc_txt += f" (model {data['models'][loc[1]]['name']!r})"
        got = err.get("input")
        shown = repr(got)
        got_txt = "" if err["type"] == "missing" or len(shown) > 80 else f"; got {shown}"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"  {loc_txt}: {msg}{got_txt}")
        if not first_loc:
            first_loc = loc
    return ConfigError(
        f"invalid configuration in {source}:\n" + "\n".join(lines),
        loc=tuple(str(p) for p in first_loc),
    )


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build :class:`Settings` from a YAML file (optional), the environment and overrides.

    ``overrides`` is a nested mapping applied on top of the file (the CLI's ``--port`` etc.).
    Relative paths in the file (store path, reference data, ``registry.reference_dirs``) are
    resolved against the file's folder, which is also the default of ``registry.reference_dirs``.

    >>> s = load_settings(env={}, overrides={"server": {"port": 9000}})
    >>> s.server.port, s.store.backend
    (9000, 'duckdb')
    """
    env = dict(os.environ if env is None else env)
    data: dict[str, Any] = {}
    source = "defaults"
    base_dir: Path | None = None
    if path is not None:
        p = Path(path)
        source = str(p)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read configuration file {p}: {exc.strerror}") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"configuration file {p} is not valid YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"configuration file {p} must hold a mapping at the top level")
        data = _expand_env(loaded, env)
        base_dir = p.resolve().parent
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    if env.get("MODELMON_API_KEY"):
        data.setdefault("server", {})
        data["server"] = {**data["server"], "api_key": env["MODELMON_API_KEY"]}
    if base_dir is not None:
        _resolve_paths(data, base_dir)
    try:
        settings = Settings.model_validate({**data, "config_path": str(path) if path else None})
    except PydanticValidationError as exc:
        raise _config_error(exc, source, data) from None
    return settings


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    store = data.get("store")
    if (isinstance(store, dict) and isinstance(store.get("path"), str)
            and store["path"] != ":memory:" and not Path(store["path"]).is_absolute()):
        store["path"] = str(base / store["path"])
    server = data.get("server")
    if isinstance(server, dict):
        for key in ("tls_cert", "tls_key"):
            if isinstance(server.get(key), str) and not Path(server[key]).is_absolute():
                server[key] = str(base / server[key])
    for model in data.get("models") or []:
        ref = model.get("reference") if isinstance(model, dict) else None
        if (isinstance(ref, dict) and isinstance(ref.get("path"), str)
                and not Path(ref["path"]).is_absolute()):
            ref["path"] = str(base / ref["path"])
    registry = data.get("registry")
    if registry is None:
        registry = data["registry"] = {}
    if isinstance(registry, dict):
        dirs = registry.get("reference_dirs")
        if dirs is None:
            registry["reference_dirs"] = [str(base)]
        elif isinstance(dirs, list):
            registry["reference_dirs"] = [str(base / d) if isinstance(d, str) else d
                                          for d in dirs]

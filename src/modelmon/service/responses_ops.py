"""Success answers of the health, info, system, admin, evaluation and backtest routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from modelmon.service.responses import Fixed, Open
from modelmon.service.system_metrics import GpuDevice

HealthStatus = Literal["healthy", "degraded", "unhealthy"]

# --- health and info -------------------------------------------------------------------------------


class LiveBody(Fixed):
    status: Literal["alive"]


class ReadyBody(Fixed):
    status: Literal["ready"]


class HealthComponent(Open):
    """One component's check: its status, and facts of its own (queue depth, last cycle...)."""

    status: HealthStatus
    error: str | None = Field(None, description="Why it is not healthy.")


class HealthBody(Fixed):
    status: HealthStatus
    components: dict[str, HealthComponent] = Field(
        description="store, queue, then each background component (scheduler, alerts...).")


class StoreSummary(Fixed):
    backend: str
    path: str


class ServerSummary(Fixed):
    host: str
    port: int
    workers: int
    auth: bool = Field(description="Clients must present a key.")


class SchedulerSummary(Fixed):
    enabled: bool
    interval_seconds: float


class NotificationsSummary(Fixed):
    receivers: list[str]
    alertmanagers: int


class ConfigSummary(Fixed):
    store: StoreSummary
    server: ServerSummary
    models: list[str]
    scheduler: SchedulerSummary
    notifications: NotificationsSummary
    config_path: str | None


class InfoBody(Fixed):
    name: Literal["modelmon"]
    version: str
    started_at: str
    uptime_seconds: float
    config: ConfigSummary
    models: int


# --- system ----------------------------------------------------------------------------------------


class LoadAverage(Fixed):
    one: float = Field(alias="1m")
    five: float = Field(alias="5m")
    fifteen: float = Field(alias="15m")


class CpuInfo(Fixed):
    utilization_ratio: float
    per_core_utilization_ratio: list[float]
    interval_seconds: float
    logical_cores: int | None
    physical_cores: int | None
    load_average: LoadAverage


class MemoryInfo(Fixed):
    total_bytes: int
    available_bytes: int
    used_bytes: int
    used_ratio: float | None


class SwapInfo(Fixed):
    total_bytes: int
    used_bytes: int
    used_ratio: float | None


class DiskIo(Fixed):
    read_bytes: int
    write_bytes: int
    read_count: int
    write_count: int


class DiskInfo(Fixed):
    path: str
    total_bytes: int
    used_bytes: int
    free_bytes: int
    used_ratio: float | None
    io: DiskIo | None = Field(description="None where block devices are hidden (containers).")


class NetworkInfo(Fixed):
    received_bytes: int
    sent_bytes: int
    packets_received: int
    packets_sent: int
    errors_in: int
    errors_out: int
    drops_in: int
    drops_out: int


class ProcessInfo(Fixed):
    pid: int
    rss_bytes: int
    threads: int
    open_files: int | None
    cpu_seconds: float
    started_at: str


class SystemBody(Fixed):
    time: str
    cpu: CpuInfo
    memory: MemoryInfo
    swap: SwapInfo
    disk: DiskInfo
    network: NetworkInfo
    process: ProcessInfo
    gpu_available: bool
    gpu_reason: str | None
    gpu_driver_version: str | None
    gpus: list[GpuDevice]  # the probe's own dataclass: one description of a GPU


# --- admin -----------------------------------------------------------------------------------------


class PrunedModel(Fixed):
    model: str
    predictions: int
    actuals: int
    results: int


class RetentionBody(Fixed):
    at: str
    errors: dict[str, str] = Field(description="Model name -> why its pass failed.")
    models: list[PrunedModel]


# --- evaluation ------------------------------------------------------------------------------------


class ModelCycleBody(Fixed):
    """One model's evaluation in a cycle."""

    model: str
    windows_evaluated: int
    windows_rolled_up: int
    windows_pending: int
    windows_failed: int
    windows_judged: int
    detector_events: int
    status: str | None
    seconds: float
    error: str | None
    skipped: str | None


class CycleBody(Fixed):
    """A cycle's summary."""

    started_at: str
    seconds: float
    windows_evaluated: int
    skipped: str | None = Field(description="Why nothing was evaluated (another server leads).")
    models: list[ModelCycleBody]


class CycleTimeoutBody(Fixed):
    """The cycle did not end in time (it goes on)."""

    status: Literal["timeout"]


class BackfillSummaryBody(Fixed):
    model: str
    windows_evaluated: int
    windows_judged: int
    windows_failed: int
    seconds: float
    status: str | None


class BackfillBody(Fixed):
    model: str
    state: Literal["running", "done", "failed"]
    windows_done: int
    windows_total: int
    started_at: str
    finished_at: str | None
    seconds: float | None
    summary: BackfillSummaryBody | None
    error: str | None


# --- backtests -------------------------------------------------------------------------------------

Number = float | int | str | None


class BootstrapInterval(Fixed):
    statistic: str
    estimate: float | None
    low: float | None
    high: float | None
    level: float
    p_value: float | None
    n_resamples: int
    block_length: int
    excludes_zero: bool


class RunSeries(Fixed):
    date: list[str]
    equity: list[float | None]
    returns: list[float | None]
    drawdown: list[float | None]
    benchmark: list[float | None] | None = None


class BacktestRun(Fixed):
    name: str
    capital: float
    ruined: bool
    settings: dict[str, Any]
    stats: dict[str, Number] = Field(description="Performance statistics by name.")
    series: RunSeries | None = Field(None, description="With series=true.")


class WalkForwardSeries(Fixed):
    date: list[str]
    equity: list[float | None]
    returns: list[float | None]


class WalkForwardBody(Fixed):
    folds: list[dict[str, Any]]
    stats: dict[str, Number]
    series: WalkForwardSeries


class BacktestResultBody(Fixed):
    baseline: str
    table: list[dict[str, Number]] = Field(description="One row per run: name and statistics.")
    sharpe: dict[str, BootstrapInterval]
    differences: dict[str, BootstrapInterval]
    runs: list[BacktestRun]
    walk_forward: dict[str, WalkForwardBody] | None = Field(
        None, description="Per version, with train and test.")

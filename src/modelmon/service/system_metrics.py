"""Infrastructure metrics of the service host: CPU, memory, disk, network and this process
(psutil), and NVIDIA GPUs through NVML when the optional ``nvidia-ml-py`` package (module
``pynvml``) is importable and a driver answers.

:class:`HostMonitor` serves both ``GET /v1/system`` and the host gauges of ``/metrics``. CPU
utilisation is measured between two reads of the kernel's CPU time counters; each
:class:`CpuSampler` keeps its own previous reading, so the API and the Prometheus collector do not
shorten each other's measurement interval (``psutil.cpu_percent(interval=None)`` shares one module
state between all callers).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, NamedTuple

import psutil

from modelmon._results import Result

__all__ = [
    "CpuSample",
    "CpuSampler",
    "GpuDevice",
    "GpuProbe",
    "GpuReport",
    "HostMonitor",
    "cpu_busy_ratio",
    "store_folder",
]

_NO_PYNVML = ("the NVIDIA management library binding is not installed "
              "(pip install nvidia-ml-py to report NVIDIA GPUs)")


def cpu_busy_ratio(before: NamedTuple, after: NamedTuple) -> float:
    """Share of CPU time spent busy between two ``psutil.cpu_times()`` readings, in [0, 1].

    Busy time is total time minus ``idle`` and ``iowait``; on Linux ``guest`` and ``guest_nice``
    are already counted in ``user``/``nice`` and are not added twice (the accounting of
    ``psutil.cpu_percent`` and htop). Returns 0.0 when no time elapsed between the readings.

    Examples
    --------
    >>> import psutil
    >>> times = type(psutil.cpu_times())
    >>> zero = times(*([0.0] * len(times._fields)))
    >>> later = zero._replace(user=3.0, system=1.0, idle=4.0)
    >>> cpu_busy_ratio(zero, later)
    0.5
    """
    def totals(t: NamedTuple) -> tuple[float, float]:
        values = t._asdict()
        total = sum(values.values()) - values.get("guest", 0.0) - values.get("guest_nice", 0.0)
        idle = values.get("idle", 0.0) + values.get("iowait", 0.0)
        return total, total - idle

    total0, busy0 = totals(before)
    total1, busy1 = totals(after)
    elapsed = total1 - total0
    if elapsed <= 0:
        return 0.0
    # rounded: the counters tick in 1/100 s, so digits beyond that are floating-point noise
    return round(min(1.0, max(0.0, (busy1 - busy0) / elapsed)), 6)


@dataclass(frozen=True)
class CpuSample(Result):
    """CPU utilisation over ``interval_seconds``: overall and per logical core (ratios 0..1).

    Examples
    --------
    >>> CpuSample(0.5, (0.25, 0.75), 1.0).to_dict()["per_core_utilization_ratio"]
    [0.25, 0.75]
    """

    utilization_ratio: float
    per_core_utilization_ratio: tuple[float, ...]
    interval_seconds: float


class CpuSampler:
    """Measures CPU utilisation between successive calls of :meth:`sample`.

    Parameters
    ----------
    min_interval : float, default 0.1
        Shortest measurement interval in seconds. A call sooner than that after the previous one
        returns the previous sample (nothing new can be measured); the very first call waits for
        the rest of the interval after construction.
    cpu_times : callable, default psutil.cpu_times
        ``cpu_times(percpu: bool)`` returning psutil's CPU time tuples (replaceable in tests).

    Examples
    --------
    >>> sampler = CpuSampler(min_interval=0.01)
    >>> s = sampler.sample()
    >>> 0.0 <= s.utilization_ratio <= 1.0, len(s.per_core_utilization_ratio) >= 1
    (True, True)
    """

    def __init__(self, min_interval: float = 0.1,
                 cpu_times: Callable[..., Any] = psutil.cpu_times) -> None:
        self.min_interval = min_interval
        self._cpu_times = cpu_times
        self._lock = threading.Lock()
        self._last: CpuSample | None = None
        self._mark = self._read()

    def _read(self) -> tuple[float, NamedTuple, Sequence[NamedTuple]]:
        return time.monotonic(), self._cpu_times(percpu=False), self._cpu_times(percpu=True)

    def sample(self) -> CpuSample:
        """Utilisation since the previous sample (at least ``min_interval`` seconds)."""
        with self._lock:
            elapsed = time.monotonic() - self._mark[0]
            if elapsed < self.min_interval:
                if self._last is not None:
                    return self._last
                time.sleep(self.min_interval - elapsed)
            now = self._read()
            then, self._mark = self._mark, now
            per_core = tuple(cpu_busy_ratio(a, b) for a, b in zip(then[2], now[2], strict=False))
            self._last = CpuSample(cpu_busy_ratio(then[1], now[1]), per_core, now[0] - then[0])
            return self._last


@dataclass(frozen=True)
class GpuDevice(Result):
    """One NVIDIA GPU as NVML reports it; a field NVML does not support for the device is None.

    Ratios are 0..1 (NVML reports percentages), power is in watts (NVML: milliwatts).

    Examples
    --------
    >>> d = GpuDevice(0, "NVIDIA T4", None, 0.37, 0.1, 2 << 30, 16 << 30, 61.0, 35.5, None)
    >>> d.utilization_ratio, d.memory_total_bytes
    (0.37, 17179869184)
    """

    index: int
    name: str
    uuid: str | None
    utilization_ratio: float | None
    memory_utilization_ratio: float | None
    memory_used_bytes: int | None
    memory_total_bytes: int | None
    temperature_celsius: float | None
    power_watts: float | None
    power_limit_watts: float | None


@dataclass(frozen=True)
class GpuReport(Result):
    """Whether GPUs can be reported, why not if so, and each device.

    Examples
    --------
    >>> GpuReport(False, "no NVIDIA driver").to_dict()
    {'available': False, 'reason': 'no NVIDIA driver', 'devices': [], 'driver_version': None}
    """

    available: bool
    reason: str | None
    devices: tuple[GpuDevice, ...] = ()
    driver_version: str | None = None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class GpuProbe:
    """Reads NVIDIA GPUs through NVML; explains why not when it cannot.

    Parameters
    ----------
    nvml : module or None, default None
        The ``pynvml`` module; None imports it on first use (it is optional: without it the
        report says so). Tests pass a stand-in because this machine has no GPU.

    NVML is initialised once, on the first :meth:`read`; a failure (no driver, no device) is
    remembered and reported by every later read without retrying.

    Examples
    --------
    >>> report = GpuProbe().read()
    >>> report.available or bool(report.reason)
    True
    """

    def __init__(self, nvml: ModuleType | None = None) -> None:
        self._nvml = nvml
        self._lock = threading.Lock()
        self._ready = False
        self._failure: str | None = None
        self._driver: str | None = None

    def _start(self) -> Any:
        if self._failure is not None:
            return None
        if self._ready:
            return self._nvml
        nvml: Any = self._nvml
        if nvml is None:
            try:
                import pynvml as nvml  # type: ignore[no-redef]
            except ImportError:
                self._failure = _NO_PYNVML
                return None
        try:
            nvml.nvmlInit()
            self._driver = _text(nvml.nvmlSystemGetDriverVersion())
        except Exception as exc:
            self._failure = f"NVML could not start: {_text(exc) or type(exc).__name__}"
            return None
        self._nvml, self._ready = nvml, True
        return nvml

    def read(self) -> GpuReport:
        """Every device's utilisation, memory, temperature and power."""
        with self._lock:
            nvml = self._start()
            if nvml is None:
                return GpuReport(False, self._failure)
            try:
                count = int(nvml.nvmlDeviceGetCount())
            except Exception as exc:
                return GpuReport(False, f"NVML could not count devices: {_text(exc)}",
                                 driver_version=self._driver)
            if count == 0:
                return GpuReport(False, "NVML is running but reports no GPU",
                                 driver_version=self._driver)
            devices = tuple(self._device(nvml, i) for i in range(count))
            return GpuReport(True, None, devices, self._driver)

    @staticmethod
    def _device(nvml: Any, index: int) -> GpuDevice:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)

        def ask(fn: Callable[[], Any]) -> Any:
            try:
                return fn()
            except Exception:
                return None

        util = ask(lambda: nvml.nvmlDeviceGetUtilizationRates(handle))
        mem = ask(lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
        temp = ask(lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
        power = ask(lambda: nvml.nvmlDeviceGetPowerUsage(handle))  # milliwatts
        limit = ask(lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(handle))
        uuid = ask(lambda: nvml.nvmlDeviceGetUUID(handle))
        return GpuDevice(
            index=index,
            name=_text(ask(lambda: nvml.nvmlDeviceGetName(handle)) or f"GPU {index}"),
            uuid=None if uuid is None else _text(uuid),
            utilization_ratio=None if util is None else util.gpu / 100.0,
            memory_utilization_ratio=None if util is None else util.memory / 100.0,
            memory_used_bytes=None if mem is None else int(mem.used),
            memory_total_bytes=None if mem is None else int(mem.total),
            temperature_celsius=None if temp is None else float(temp),
            power_watts=None if power is None else power / 1000.0,
            power_limit_watts=None if limit is None else limit / 1000.0,
        )


def store_folder(store_path: str) -> str:
    """The folder whose disk holds the store (the working folder for an in-memory store).

    >>> store_folder("/var/lib/modelmon/mm.duckdb")
    '/var/lib/modelmon'
    """
    if store_path == ":memory:":
        return os.getcwd()
    return os.path.dirname(os.path.abspath(store_path))


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


class HostMonitor:
    """Everything ``GET /v1/system`` reports about the machine and this process.

    Parameters
    ----------
    disk_path : str
        Folder whose disk usage is reported (the store's folder, see :func:`store_folder`).
    gpu : GpuProbe or None, default None
        GPU reader; None builds one that imports ``pynvml`` if it can.

    Examples
    --------
    >>> snap = HostMonitor(".").snapshot()
    >>> {"cpu", "memory", "disk", "network", "process", "gpus"} <= set(snap)
    True
    >>> snap["gpu_available"] or snap["gpus"] == []
    True
    """

    def __init__(self, disk_path: str, *, gpu: GpuProbe | None = None) -> None:
        self.disk_path = disk_path
        self.cpu = CpuSampler()
        self.gpu = gpu if gpu is not None else GpuProbe()
        self._process = psutil.Process()

    def memory(self) -> dict[str, Any]:
        """Physical memory and swap: total, used (total minus available) and the used ratio."""
        vm, sw = psutil.virtual_memory(), psutil.swap_memory()
        return {
            "memory": {"total_bytes": vm.total, "available_bytes": vm.available,
                       "used_bytes": vm.total - vm.available,
                       "used_ratio": _ratio(vm.total - vm.available, vm.total)},
            "swap": {"total_bytes": sw.total, "used_bytes": sw.used,
                     "used_ratio": _ratio(sw.used, sw.total)},
        }

    def disk(self) -> dict[str, Any]:
        """Usage of the disk holding ``disk_path``, and the machine's disk I/O counters."""
        usage = psutil.disk_usage(self.disk_path)
        io = psutil.disk_io_counters()
        return {
            "path": self.disk_path, "total_bytes": usage.total, "used_bytes": usage.used,
            "free_bytes": usage.free, "used_ratio": _ratio(usage.used, usage.used + usage.free),
            # None inside containers that hide block devices from /proc/diskstats
            "io": None if io is None else {
                "read_bytes": io.read_bytes, "write_bytes": io.write_bytes,
                "read_count": io.read_count, "write_count": io.write_count,
            },
        }

    @staticmethod
    def network() -> dict[str, Any]:
        """Bytes, packets, errors and drops on all network interfaces since boot."""
        net = psutil.net_io_counters()
        return {"received_bytes": net.bytes_recv, "sent_bytes": net.bytes_sent,
                "packets_received": net.packets_recv, "packets_sent": net.packets_sent,
                "errors_in": net.errin, "errors_out": net.errout,
                "drops_in": net.dropin, "drops_out": net.dropout}

    def process(self) -> dict[str, Any]:
        """This process: resident memory, threads, open files, CPU seconds, start time."""
        p = self._process
        with p.oneshot():
            times = p.cpu_times()
            try:
                open_files: int | None = len(p.open_files())
            except psutil.Error:
                open_files = None
            return {"pid": p.pid, "rss_bytes": p.memory_info().rss, "threads": p.num_threads(),
                    "open_files": open_files, "cpu_seconds": times.user + times.system,
                    "started_at": datetime.fromtimestamp(p.create_time(), UTC).isoformat()}

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready report of CPU, memory, swap, disk, network, process and GPUs."""
        cpu = self.cpu.sample()
        load = psutil.getloadavg()
        gpus = self.gpu.read()
        return {
            "time": datetime.now(UTC).isoformat(),
            "cpu": {
                "utilization_ratio": cpu.utilization_ratio,
                "per_core_utilization_ratio": list(cpu.per_core_utilization_ratio),
                "interval_seconds": round(cpu.interval_seconds, 6),
                "logical_cores": psutil.cpu_count(logical=True),
                "physical_cores": psutil.cpu_count(logical=False),
                "load_average": {"1m": load[0], "5m": load[1], "15m": load[2]},
            },
            **self.memory(),
            "disk": self.disk(),
            "network": self.network(),
            "process": self.process(),
            "gpu_available": gpus.available,
            "gpu_reason": gpus.reason,
            "gpu_driver_version": gpus.driver_version,
            "gpus": [d.to_dict() for d in gpus.devices],
        }

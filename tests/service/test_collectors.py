"""``/metrics`` from stored results and the host: values, naming, promtool, a real Prometheus."""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psutil
import pyarrow as pa
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from modelmon.exceptions import StoreError
from modelmon.service.collectors import HostCollector, ModelResultsCollector
from modelmon.service.system_metrics import (
    CpuSampler,
    GpuProbe,
    HostMonitor,
    cpu_busy_ratio,
    store_folder,
)
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.store.results import WindowResults
from tests.service.test_results_api import HOUR, T0, Synthetic, populate, settings_for
from tests.support.live_server import LiveServer, live_server
from tests.support.prometheus import prometheus, query, wait_for

PROMTOOL = shutil.which("promtool")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def get(found: Samples, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def names_with(found: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (n, labels) in found if n == name]


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Synthetic]]:
    with live_server(settings_for(tmp_path_factory.mktemp("collectors"))) as server:
        yield server, populate(server.state.store)


@pytest.fixture(scope="module")
def scrape(populated: tuple[LiveServer, Synthetic]) -> str:
    resp = httpx.get(populated[0].url + "/metrics", timeout=30)
    assert resp.status_code == 200
    return resp.text


def test_promtool_accepts_the_populated_exposition(scrape: str) -> None:
    assert PROMTOOL, "promtool is missing: make test installs Debian's prometheus package"
    done = subprocess.run([PROMTOOL, "check", "metrics"], input=scrape, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_model_gauges_hold_the_latest_evaluation(populated: tuple[LiveServer, Synthetic],
                                                 scrape: str) -> None:
    server, syn = populated
    found = samples(scrape)
    for model, current in (("fraud", "degraded"), ("price", "healthy"), ("idle", "no_data")):
        states = {s: get(found, "modelmon_model_status", model=model, status=s)
                  for s in ("healthy", "warning", "degraded", "no_data")}
        assert states == {s: float(s == current) for s in states}
    for (version, segment, window, metric), points in syn.points.items():
        if version != "*" or segment != "*":
            continue
        model = "price" if metric in ("mae", "rmse", "r2") else "fraud"
        value = points[-1][2]
        key = ("modelmon_model_metric", tuple(sorted(
            {"model": model, "version": "*", "window": window, "metric": metric}.items())))
        if math.isfinite(value):
            assert found[key] == value
        else:
            assert key not in found  # an undefined value is left out, not exported as NaN
    # the overall series and each version's (segments stay in the API: unbounded labels)
    assert {lab["version"] for lab in names_with(found, "modelmon_model_metric")} == {
        "*", "v3", "v4"}
    v3 = syn.series("accuracy", version="v3")
    if v3:
        assert get(found, "modelmon_model_metric", model="fraud", version="v3", window="1h",
                   metric="accuracy") == pytest.approx(v3[-1][2])
    assert get(found, "modelmon_model_labelled_predictions", model="fraud", window="1h") == \
        syn.series("labelled_count")[-1][2]
    # no labelled_count at 1d: the n beside the quality metric stands in
    assert get(found, "modelmon_model_labelled_predictions", model="fraud", window="1d") == \
        syn.series("accuracy", "1d")[-1][3]
    status = server.state.store.get_status("fraud")
    assert get(found, "modelmon_model_last_evaluation_timestamp_seconds", model="fraud") == \
        pytest.approx(status.updated_at.timestamp())
    assert ("modelmon_model_last_evaluation_timestamp_seconds", (("model", "idle"),)) not in found


def test_feature_gauges_describe_the_newest_smallest_window(
        populated: tuple[LiveServer, Synthetic], scrape: str) -> None:
    _, syn = populated
    found = samples(scrape)
    newest = syn.features[T0 + 47 * HOUR]
    for r in newest:
        assert get(found, "modelmon_feature_drift_score", model="fraud", feature=r["feature"],
                   test=r["test"]) == r["statistic"]
        key = ("modelmon_feature_drifted", (("feature", r["feature"]), ("model", "fraud")))
        if r["drifted"] is None:
            assert key not in found
        else:
            assert found[key] == float(r["drifted"])
    inputs = [r for r in newest if r["feature"] != "prediction" and r["drifted"] is not None]
    assert get(found, "modelmon_model_drift_share_ratio", model="fraud") == pytest.approx(
        sum(r["drifted"] for r in inputs) / len(inputs))
    assert len(names_with(found, "modelmon_feature_drift_score")) == len(newest)


def test_detector_events_are_counters(populated: tuple[LiveServer, Synthetic], scrape: str) -> None:
    _, syn = populated
    found = samples(scrape)
    for kind in ("warning", "drift"):
        assert get(found, "modelmon_detector_events_total", model="fraud", detector="adwin",
                   kind=kind) == sum(e["kind"] == kind for e in syn.events)
    assert "# TYPE modelmon_detector_events_total counter" in scrape


def test_names_units_and_label_cardinality(scrape: str) -> None:
    found = samples(scrape)
    for (name, labels), value in found.items():
        if name.endswith("_ratio"):
            assert 0.0 <= value <= 1.0, (name, labels, value)
        for key, label in labels:
            assert not label.startswith("p") or not label[1:].isdigit(), "a prediction id label"
            assert "=" not in label, f"a segment value in label {key}"
    for needed in ("modelmon_host_cpu_utilization_ratio", "modelmon_host_memory_used_bytes",
                   "modelmon_host_memory_total_bytes", "modelmon_host_disk_used_bytes",
                   "modelmon_host_disk_total_bytes", "modelmon_host_network_received_bytes_total",
                   "modelmon_host_network_sent_bytes_total",
                   "modelmon_results_scrape_duration_seconds"):
        assert any(n == needed for n, _ in found), needed
    assert get(found, "modelmon_host_memory_total_bytes") == psutil.virtual_memory().total
    [disk] = names_with(found, "modelmon_host_disk_total_bytes")
    assert Path(disk["path"]).is_dir()


def test_a_real_prometheus_scrapes_the_service(populated: tuple[LiveServer, Synthetic],
                                               tmp_path: Path) -> None:
    server, syn = populated
    with prometheus(tmp_path, server.port) as (prom, proc):
        expr = 'modelmon_model_metric{model="fraud",metric="accuracy",window="1h",version="*"}'
        result = wait_for(lambda: query(prom, expr), "the first scrape", proc)
        assert float(result[0]["value"][1]) == pytest.approx(syn.series("accuracy")[-1][2],
                                                             rel=1e-12)
        [up] = query(prom, 'up{job="modelmon"}')
        assert up["value"][1] == "1"
        [degraded] = query(prom, 'modelmon_model_status{model="fraud",status="degraded"}')
        assert degraded["value"][1] == "1"
        drifts = query(prom, 'modelmon_detector_events_total{model="fraud",kind="drift"}')
        assert float(drifts[0]["value"][1]) == sum(e["kind"] == "drift" for e in syn.events)


# --- a failing store never fails the scrape --------------------------------------------------------


class FlakyStore(DuckDBStore):
    """A real store whose result reads fail for the models named in ``broken``."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.broken: dict[str, str] = {}

    def list_models(self) -> Any:
        if self.broken.get("*") == "models":
            raise StoreError("disk hiccup")
        return super().list_models()

    def latest_metric_points(self, model: str, **kw: Any) -> Any:
        if self.broken.get(model) == "metrics":
            raise StoreError("disk hiccup")
        return super().latest_metric_points(model, **kw)

    def get_status(self, model: str) -> Any:
        if self.broken.get(model) == "status":
            raise StoreError("disk hiccup")
        return super().get_status(model)

    def feature_results(self, model: str, **kw: Any) -> Any:
        if self.broken.get(model) == "features":
            raise StoreError("disk hiccup")
        return super().feature_results(model, **kw)


@pytest.fixture
def flaky(tmp_path: Path) -> Iterator[FlakyStore]:
    from modelmon.config.inference import complete_spec

    store = FlakyStore(str(tmp_path / "mm.duckdb"))
    store.open()
    for spec in settings_for(tmp_path).models:
        store.save_model(complete_spec(spec))
    populate(store)
    yield store
    store.close()


def test_a_store_failure_skips_that_part_and_is_counted(
        flaky: FlakyStore, caplog: pytest.LogCaptureFixture) -> None:
    registry = CollectorRegistry()
    collector = ModelResultsCollector(flaky)
    registry.register(collector)
    flaky.broken = {"price": "metrics", "idle": "status", "fraud": "features"}
    with caplog.at_level(logging.WARNING, logger="modelmon.service"):
        found = samples(generate_latest(registry).decode())
    assert get(found, "modelmon_model_status", model="price", status="healthy") == 1.0
    assert not [lab for lab in names_with(found, "modelmon_model_metric")
                if lab["model"] == "price"]
    assert [lab for lab in names_with(found, "modelmon_model_metric") if lab["model"] == "fraud"]
    assert not [lab for lab in names_with(found, "modelmon_model_status") if lab["model"] == "idle"]
    assert not names_with(found, "modelmon_feature_drift_score")
    for part in ("metrics", "status", "features"):
        assert get(found, "modelmon_metrics_collection_errors_total", part=part) == 1.0
    assert any("price" in r.getMessage() and "disk hiccup" in r.getMessage()
               for r in caplog.records)
    # the counter keeps counting; a healthy store brings everything back
    flaky.broken = {}
    found = samples(generate_latest(registry).decode())
    assert get(found, "modelmon_metrics_collection_errors_total", part="metrics") == 1.0
    assert names_with(found, "modelmon_feature_drift_score")


def test_a_store_that_cannot_list_models_still_answers_the_scrape(flaky: FlakyStore) -> None:
    registry = CollectorRegistry()
    registry.register(ModelResultsCollector(flaky))
    flaky.broken = {"*": "models"}
    found = samples(generate_latest(registry).decode())
    assert get(found, "modelmon_metrics_collection_errors_total", part="models") == 1.0
    assert not names_with(found, "modelmon_model_status")
    assert ("modelmon_results_scrape_duration_seconds", ()) in found


# --- host metrics ----------------------------------------------------------------------------------

_TIMES = type(psutil.cpu_times())


def _times(**values: float) -> Any:
    return _TIMES(**{f: values.get(f, 0.0) for f in _TIMES._fields})


def test_cpu_busy_ratio_arithmetic() -> None:
    a = _times(user=10, system=5, idle=80, iowait=5)
    b = _times(user=16, system=7, idle=84, iowait=7)  # +8 busy, +6 idle (iowait is idle)
    assert cpu_busy_ratio(a, b) == pytest.approx(8 / 14)
    if "guest" in _TIMES._fields:  # guest time is inside user time on Linux: not counted twice
        c = b._replace(user=b.user + 4, guest=4.0)
        assert cpu_busy_ratio(b, c) == 1.0
    assert cpu_busy_ratio(a, a) == 0.0


def test_cpu_sampler_measures_between_calls() -> None:
    readings = iter([
        (_times(user=0, idle=0), [_times(user=0, idle=0)] * 2),
        (_times(user=3, idle=1), [_times(user=2, idle=0), _times(user=1, idle=1)]),
        (_times(user=3, idle=5), [_times(user=2, idle=2), _times(user=1, idle=3)]),
    ])
    current: list[Any] = []

    def cpu_times(percpu: bool = False) -> Any:
        if not percpu:
            current[:] = list(next(readings))
            return current[0]
        return current[1]

    sampler = CpuSampler(min_interval=0.05, cpu_times=cpu_times)
    first = sampler.sample()  # waits out the interval after construction
    assert first.utilization_ratio == 0.75
    assert first.per_core_utilization_ratio == (1.0, 0.5)
    assert sampler.sample() is first  # too soon: nothing new to measure
    time.sleep(0.06)
    second = sampler.sample()
    assert second.utilization_ratio == 0.0
    assert second.interval_seconds >= 0.05


class FakeNvml(SimpleNamespace):
    """The subset of pynvml the probe calls, for machines without an NVIDIA GPU."""

    NVML_TEMPERATURE_GPU = 0

    def __init__(self, devices: list[dict[str, Any]], fail_init: str | None = None) -> None:
        super().__init__()
        self.devices, self.fail_init, self.inits = devices, fail_init, 0

    def nvmlInit(self) -> None:
        self.inits += 1
        if self.fail_init:
            raise RuntimeError(self.fail_init)

    def nvmlSystemGetDriverVersion(self) -> bytes:
        return b"550.54"

    def nvmlDeviceGetCount(self) -> int:
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> dict[str, Any]:
        return self.devices[i]

    def _field(self, h: dict[str, Any], key: str) -> Any:
        if h.get(key) is None:
            raise RuntimeError("Not Supported")
        return h[key]

    def nvmlDeviceGetName(self, h: dict[str, Any]) -> str:
        return str(self._field(h, "name"))

    def nvmlDeviceGetUUID(self, h: dict[str, Any]) -> str:
        return str(self._field(h, "uuid"))

    def nvmlDeviceGetUtilizationRates(self, h: dict[str, Any]) -> Any:
        return SimpleNamespace(gpu=self._field(h, "util"), memory=h["mem_util"])

    def nvmlDeviceGetMemoryInfo(self, h: dict[str, Any]) -> Any:
        return SimpleNamespace(used=h["used"], total=h["total"], free=h["total"] - h["used"])

    def nvmlDeviceGetTemperature(self, h: dict[str, Any], sensor: int) -> int:
        return int(self._field(h, "temp"))

    def nvmlDeviceGetPowerUsage(self, h: dict[str, Any]) -> int:
        return int(self._field(h, "power_mw"))

    def nvmlDeviceGetEnforcedPowerLimit(self, h: dict[str, Any]) -> int:
        return int(self._field(h, "limit_mw"))


GPUS = [
    {"name": "NVIDIA A100", "uuid": "GPU-1", "util": 37, "mem_util": 20, "used": 2 << 30,
     "total": 40 << 30, "temp": 61, "power_mw": 123_500, "limit_mw": 400_000},
    {"name": "NVIDIA T4", "uuid": "GPU-2", "util": 0, "mem_util": 0, "used": 0,
     "total": 16 << 30, "temp": 35, "power_mw": None, "limit_mw": None},
]


def test_gpu_probe_converts_nvml_units() -> None:
    report = GpuProbe(FakeNvml(GPUS)).read()  # type: ignore[arg-type]
    assert report.available
    assert report.reason is None
    assert report.driver_version == "550.54"
    a100, t4 = report.devices
    assert a100.to_dict() == {
        "index": 0, "name": "NVIDIA A100", "uuid": "GPU-1", "utilization_ratio": 0.37,
        "memory_utilization_ratio": 0.2, "memory_used_bytes": 2 << 30,
        "memory_total_bytes": 40 << 30, "temperature_celsius": 61.0, "power_watts": 123.5,
        "power_limit_watts": 400.0}
    assert t4.power_watts is None
    assert t4.power_limit_watts is None


def test_gpu_probe_says_why_not() -> None:
    nvml = FakeNvml([], fail_init="NVML Shared Library Not Found")
    probe = GpuProbe(nvml)  # type: ignore[arg-type]
    first, again = probe.read(), probe.read()
    assert not first.available
    assert "NVML Shared Library Not Found" in (first.reason or "")
    assert again == first
    assert nvml.inits == 1
    empty = GpuProbe(FakeNvml([])).read()  # type: ignore[arg-type]
    assert not empty.available
    assert empty.reason == "NVML is running but reports no GPU"
    try:
        import pynvml  # noqa: F401
    except ImportError:
        real = GpuProbe().read()
        assert not real.available
        assert "nvidia-ml-py" in (real.reason or "")


def test_host_collector_exports_gpus_and_passes_promtool(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    registry.register(HostCollector(HostMonitor(str(tmp_path), gpu=GpuProbe(FakeNvml(GPUS)))))  # type: ignore[arg-type]
    text = generate_latest(registry).decode()
    found = samples(text)
    assert get(found, "modelmon_gpu_utilization_ratio", gpu="0") == 0.37
    assert get(found, "modelmon_gpu_memory_used_bytes", gpu="0") == 2 << 30
    assert get(found, "modelmon_gpu_memory_total_bytes", gpu="1") == 16 << 30
    assert get(found, "modelmon_gpu_power_watts", gpu="0") == 123.5
    assert ("modelmon_gpu_power_watts", (("gpu", "1"),)) not in found
    assert get(found, "modelmon_host_disk_total_bytes", path=str(tmp_path)) == \
        psutil.disk_usage(str(tmp_path)).total
    assert PROMTOOL
    done = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_store_folder() -> None:
    assert store_folder("/srv/mm/mm.duckdb") == "/srv/mm"
    assert Path(store_folder(":memory:")).is_dir()


def test_samples_are_reread_when_the_status_changes(flaky: FlakyStore) -> None:
    cached = CollectorRegistry()
    cached.register(ModelResultsCollector(flaky, max_age=3600))
    fresh = CollectorRegistry()
    fresh.register(ModelResultsCollector(flaky, max_age=0))

    def mae(registry: CollectorRegistry) -> float:
        return get(samples(generate_latest(registry).decode()), "modelmon_model_metric",
                   model="price", version="*", window="1h", metric="mae")

    before = mae(cached)
    start = T0 + 3 * HOUR
    ts = pa.timestamp("us", tz="UTC")
    points = pa.table({"version": ["*"], "segment": ["*"], "window_size": ["1h"],
                       "window_start": pa.array([start], ts),
                       "window_end": pa.array([start + HOUR], ts), "metric": ["mae"],
                       "value": [before + 1.0], "n": [100]})
    no_features = pa.table({"feature": pa.array([], pa.string())})
    flaky.replace_window_results("price", [WindowResults("1h", start, start + HOUR, points,
                                                         no_features)])
    assert mae(fresh) == before + 1.0
    assert mae(cached) == before  # same status: the earlier samples stand
    flaky.set_status("price", "warning", [], None)  # what an evaluation does after writing
    assert mae(cached) == before + 1.0

"""Prometheus collectors that read the store and the host at scrape time.

:class:`ModelResultsCollector` turns each model's latest evaluation into gauges;
:class:`HostCollector` exports the machine's CPU, memory, disk, network and GPUs. Both follow the
``prometheus_client`` custom-collector pattern: ``describe()`` returns nothing, so registering
them touches neither the store nor the host, and ``collect()`` reads fresh values on each scrape.

Exported families (base units, ratios 0..1, counters end in ``_total``; labels are bounded by
configuration, never by traffic: no prediction ids, no segment values):

==========================================================  =======================================
``modelmon_model_status{model,status}``                     1 for the current status, 0 for the
                                                            others (a state set; ``no_data`` before
                                                            the first evaluation)
``modelmon_model_metric{model,version,window,metric}``      latest value of every stored metric,
                                                            all versions (``"*"``) and each one
``modelmon_model_metric_baseline{model,window,metric}``     baseline (band centre) of each
                                                            judged metric
``modelmon_model_last_prediction_timestamp_seconds{model}`` when the newest prediction came
``modelmon_model_labelled_predictions{model,window}``       labelled sample size of that window
``modelmon_feature_drift_score{model,feature,test}``        drift statistic per feature
``modelmon_feature_drifted{model,feature}``                 1 if the feature drifted, else 0
``modelmon_model_drift_share_ratio{model}``                 share of tested input features that
                                                            drifted
``modelmon_detector_events_total{model,detector,kind}``     stored detector warnings and drifts
``modelmon_model_last_evaluation_timestamp_seconds{model}`` when the status was last set
``modelmon_model_version_created_timestamp_seconds``        when each registered version was
``{model,version,stage}``                                   created (its real name: Grafana's
                                                            version variable reads it)
``modelmon_feature_importance{model,feature}``              each feature's importance in the
                                                            newest logged snapshot
``modelmon_training_last_run_timestamp_seconds``            when the newest training run (or
``{model,kind}``                                            online update) finished
``modelmon_training_run_duration_seconds{model,kind}``      how long the newest one took
``modelmon_training_runs_total{model,kind,status}``         logged runs and online updates
``modelmon_host_*``, ``modelmon_gpu_*``                     see :class:`HostCollector`
==========================================================  =======================================

Why one generic ``modelmon_model_metric`` family with a ``metric`` label instead of a family per
metric (``modelmon_model_accuracy`` ...): which metrics exist depends on the model's task and
configuration (a regression model has ``mae`` and no ``roc_auc``; finance and business metrics are
opt-in) and on metric names the user registers, so families would appear and vanish with
configuration, and dashboards or alert rules could not be written once for every model. The label
takes values from the configured metric names, a bounded set.

Feature gauges describe the newest window of each model's smallest window size (the most current
view). A scrape reads each model's status; the rest of a model's samples is read again only when
its status changed (an evaluation sets it after writing its results) or after ``max_age``
seconds, so a scrape of 20 unchanged models costs 20 small queries, not 80 larger ones. A store
failure never fails the scrape: the part of a model that could not be read is left out, logged,
and counted in ``modelmon_metrics_collection_errors_total``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

import pyarrow as pa
import pyarrow.compute as pc
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from modelmon.service.system_metrics import HostMonitor, store_folder
from modelmon.store.base import Store
from modelmon.store.results import ALL, ResultStore
from modelmon.vocabulary import OUTPUT_FEATURE, STATUSES, Status
from modelmon.windows import window_order

if TYPE_CHECKING:
    from modelmon.service.state import ServiceState

__all__ = [
    "OUTPUT_FEATURE",
    "STATUSES",
    "HostCollector",
    "ModelResultsCollector",
    "ResultBackend",
    "register_collectors",
    "window_seconds",
]

log = logging.getLogger("modelmon.service")


_ONE_US = timedelta(microseconds=1)


class ResultBackend(Store, ResultStore, Protocol):
    """A store that holds both data and evaluation results (every backend does).

    Examples
    --------
    >>> from modelmon.store.duckdb_store import DuckDBStore
    >>> isinstance(DuckDBStore(":memory:"), ResultStore)
    True
    """


def window_seconds(size: str) -> float:
    """Typical seconds in a stored window size, for ordering; row windows and unparseable names
    sort last.

    >>> window_seconds("1h"), window_seconds("not a window")
    (3600.0, inf)
    """
    return window_order(size)


class _ErrorCount:
    """Failures of one collector, exported as a counter (kept across scrapes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_part: dict[str, int] = {}

    def add(self, part: str) -> None:
        with self._lock:
            self.by_part[part] = self.by_part.get(part, 0) + 1


#: One sample of a family: its label values and its value.
_Sample = tuple[tuple[str, ...], float]
_Family = GaugeMetricFamily | CounterMetricFamily


@dataclass
class _Snapshot:
    """A model's samples from its latest evaluation, and the status they belong to."""

    token: datetime | None
    taken: float
    samples: dict[str, list[_Sample]] = field(default_factory=dict)
    complete: bool = True

    def add(self, family: str, labels: tuple[str, ...], value: float) -> None:
        self.samples.setdefault(family, []).append((labels, value))


class ModelResultsCollector(Collector):
    """Per-model gauges from the latest evaluation, read from the store at scrape time.

    Each scrape reads every model's status (one small query per model). The rest of a model's
    samples (metric points, feature results, detector events) is read again only when its
    status changed since the previous scrape, or after ``max_age`` seconds: the evaluation
    engine sets the status after writing a cycle's results, so an unchanged status means
    unchanged results, and ``max_age`` bounds how stale the numbers can be when results are
    written by anything that does not set the status.

    Parameters
    ----------
    store : ResultBackend
        The service's store.
    max_age : float, default 60.0
        Longest time in seconds a model's samples are reused while its status is unchanged;
        0 reads everything at every scrape.
    max_events : int, default 100_000
        Most detector events read per model to count them (the store has no count query; events
        are rare: detector drifts and warnings, not predictions).

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> from modelmon.config import ModelSpec
    >>> from modelmon.store.duckdb_store import DuckDBStore
    >>> store = DuckDBStore(":memory:")
    >>> store.open()
    >>> _ = store.save_model(ModelSpec(name="fraud", task="binary_classification"))
    >>> registry = CollectorRegistry()
    >>> registry.register(ModelResultsCollector(store))
    >>> text = generate_latest(registry).decode()
    >>> 'modelmon_model_status{model="fraud",status="no_data"} 1.0' in text
    True
    >>> store.close()
    """

    def __init__(self, store: ResultBackend, *, max_age: float = 60.0,
                 max_events: int = 100_000) -> None:
        self.store = store
        self.max_age = max_age
        self.max_events = max_events
        self.errors = _ErrorCount()
        self._quality: frozenset[str] | None = None
        self._snapshots: dict[str, _Snapshot] = {}

    def describe(self) -> Iterable[Metric]:
        return []

    def _quality_metrics(self) -> frozenset[str]:
        if self._quality is None:
            from modelmon.metrics.registry import metric_names

            self._quality = frozenset(metric_names())
        return self._quality

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        f = _families()
        try:
            names = [m.name for m in self.store.list_models()]
        except Exception:
            log.warning("metrics scrape: cannot list models", exc_info=True)
            self.errors.add("models")
            names = []
        for name in names:
            snapshot = self._snapshot(name, f)
            for family, samples in snapshot.samples.items():
                for labels, value in samples:
                    f[family].add_metric(labels, value)
        for gone in set(self._snapshots) - set(names):
            self._snapshots.pop(gone, None)
        yield from f.values()
        errors = CounterMetricFamily(
            "modelmon_metrics_collection_errors", "Parts of a scrape skipped because the store "
            "could not be read (see the log).", labels=["part"])
        for part, count in sorted(self.errors.by_part.items()):
            errors.add_metric([part], count)
        yield errors
        yield GaugeMetricFamily("modelmon_results_scrape_duration_seconds",
                                "Time the last scrape spent reading evaluation results.",
                                value=time.perf_counter() - started)

    def _snapshot(self, model: str, f: dict[str, _Family]) -> _Snapshot:
        """The model's samples: reused while its status is unchanged, else read afresh."""
        try:
            status = self.store.get_status(model)
        except Exception as exc:
            self._skipped("status", model, exc)
            token, known = None, False
        else:
            current = Status.NO_DATA if status is None else status.status
            for s in (*STATUSES, *(() if current in STATUSES else (current,))):
                f["status"].add_metric([model, s], 1.0 if s == current else 0.0)
            if status is not None:
                f["evaluated"].add_metric([model], status.updated_at.timestamp())
            token, known = (None if status is None else status.updated_at), True
        now = time.monotonic()
        cached = self._snapshots.get(model)
        if (known and cached is not None and cached.token == token
                and now - cached.taken < self.max_age):
            return cached
        snapshot = _Snapshot(token, now, complete=known)
        for part, read in (("metrics", self._metrics), ("events", self._events),
                           ("baseline", self._baseline), ("training", self._training)):
            try:
                read(model, snapshot)
            except Exception as exc:
                self._skipped(part, model, exc)
                snapshot.complete = False
        if snapshot.complete:
            self._snapshots[model] = snapshot
        else:  # a part is missing: read again at the next scrape
            self._snapshots.pop(model, None)
        return snapshot

    def _baseline(self, model: str, snap: _Snapshot) -> None:
        """The baseline (band centre) of each judged metric, from the latest report, and when
        the model last received a prediction."""
        received = self.store.data_watermarks(model)[0]
        if received is not None:
            snap.add("received", (model,), received.timestamp())
        status = self.store.get_status(model)
        if status is None or status.report_id is None:
            return
        report = self.store.get_report(model, status.report_id)
        window = (report.get("window") or {}).get("size")
        for row in report.get("metrics") or []:
            base = row.get("baseline_mean")
            if window and base is not None and math.isfinite(base):
                snap.add("baseline", (model, window, row["metric"]), float(base))

    def _training(self, model: str, snap: _Snapshot) -> None:
        """Versions, the newest feature-importance snapshot and the training runs."""
        from modelmon.store.base import BatchKind

        for v in self.store.list_versions(model):
            snap.add("version", (model, v.version, v.stage), v.created_at.timestamp())
        importance = self.store.read_table(model, BatchKind.FEATURE_IMPORTANCE)
        if importance.num_rows:
            newest = pc.max(importance["snapshot_time"])
            rows = importance.filter(pc.equal(importance["snapshot_time"], newest)).to_pylist()
            for r in sorted(rows, key=lambda r: r["feature"]):
                if r["importance"] is not None and math.isfinite(r["importance"]):
                    snap.add("importance", (model, r["feature"]), float(r["importance"]))
        runs = self.store.read_table(model, BatchKind.TRAINING_RUNS)
        if runs.num_rows == 0:
            return
        counts: dict[tuple[str, str], int] = {}
        last: dict[str, dict[str, Any]] = {}
        for r in runs.to_pylist():
            kind, status = r["kind"] or "training", r["status"] or "success"
            counts[(kind, status)] = counts.get((kind, status), 0) + 1
            when = r["finished_at"] or r["started_at"]
            if when is not None and status == "success" and (
                    kind not in last or when >= last[kind]["when"]):
                last[kind] = {"when": when, "duration": r["duration_seconds"]}
        for (kind, status), n in sorted(counts.items()):
            snap.add("runs", (model, kind, status), float(n))
        for kind, run in sorted(last.items()):
            snap.add("last_run", (model, kind), run["when"].timestamp())
            if run["duration"] is not None and math.isfinite(run["duration"]):
                snap.add("run_duration", (model, kind), float(run["duration"]))

    def _skipped(self, part: str, model: str, exc: Exception) -> None:
        log.warning("metrics scrape: skipped %s of model %r: %s", part, model, exc)
        self.errors.add(part)

    def _metrics(self, model: str, snap: _Snapshot) -> None:
        latest = self.store.latest_metric_points(model)
        every = latest.filter(pc.equal(latest["segment"], ALL))
        for r in every.filter(pc.not_equal(every["version"], ALL)).to_pylist():
            value = r["value"]
            if value is not None and math.isfinite(value):
                snap.add("metric", (model, r["version"], r["window_size"], r["metric"]), value)
        overall = every.filter(pc.equal(every["version"], ALL))
        rows = overall.to_pylist()
        newest: dict[str, datetime] = {}
        for r in rows:
            value = r["value"]
            if value is not None and math.isfinite(value):
                snap.add("metric", (model, ALL, r["window_size"], r["metric"]), value)
            window = r["window_size"]
            newest[window] = max(newest.get(window, r["window_start"]), r["window_start"])
        # The labelled sample size: the engine's labelled_count, else the n standing beside the
        # quality metrics of the newest window (each quality point's n is its labelled count).
        labelled: dict[str, float] = {}
        beside: dict[str, float] = {}
        quality = self._quality_metrics()
        for r in rows:
            window = r["window_size"]
            if r["metric"] == "labelled_count" and r["value"] is not None:
                labelled[window] = r["value"]
            elif (r["metric"] in quality and r["n"] is not None
                  and r["window_start"] == newest[window]):
                beside[window] = max(beside.get(window, 0.0), float(r["n"]))
        for window in sorted(newest, key=window_seconds):
            value = labelled.get(window, beside.get(window))
            if value is not None:
                snap.add("labelled", (model, window), value)
        if newest:
            window = min(newest, key=window_seconds)
            try:
                self._features(model, window, newest[window], overall, snap)
            except Exception as exc:
                self._skipped("features", model, exc)
                snap.complete = False

    def _features(self, model: str, window: str, start: datetime, points: pa.Table,
                  snap: _Snapshot) -> None:
        rows = self.store.feature_results(model, window_size=window, start=start,
                                          end=start + _ONE_US).to_pylist()
        tested = drifted = 0
        for r in rows:
            if r["statistic"] is not None and math.isfinite(r["statistic"]):
                snap.add("score", (model, r["feature"], r["test"] or "none"), r["statistic"])
            if r["drifted"] is None:
                continue
            snap.add("drifted", (model, r["feature"]), float(bool(r["drifted"])))
            if r["feature"] != OUTPUT_FEATURE:
                tested += 1
                drifted += bool(r["drifted"])
        if tested:
            snap.add("share", (model,), drifted / tested)
            return
        share = points.filter(pc.and_(pc.equal(points["window_size"], window),
                                      pc.equal(points["metric"], "drift_share")))
        value = share["value"][0].as_py() if share.num_rows else None
        if value is not None and math.isfinite(value):
            snap.add("share", (model,), value)

    def _events(self, model: str, snap: _Snapshot) -> None:
        events = self.store.detector_events(model, limit=self.max_events)
        if events.num_rows == 0:
            return
        if events.num_rows >= self.max_events:
            log.warning("metrics scrape: model %r has at least %d detector events; the counts "
                        "are capped there", model, self.max_events)
        counts = events.group_by(["detector", "kind"], use_threads=False).aggregate(
            [("kind", "count")])
        for r in sorted(counts.to_pylist(), key=lambda r: (r["detector"], r["kind"])):
            snap.add("events", (model, r["detector"], r["kind"]), r["kind_count"])


def _families() -> dict[str, _Family]:
    """Empty families of the results collector, by the short keys snapshots use."""
    return {
        "status": GaugeMetricFamily(
            "modelmon_model_status", "Current model status: 1 for the current one, 0 for the "
            "others.", labels=["model", "status"]),
        "metric": GaugeMetricFamily(
            "modelmon_model_metric", "Latest value of each evaluated metric (all versions and "
            "segments when version is '*'); units as the metric defines them.",
            labels=["model", "version", "window", "metric"]),
        "labelled": GaugeMetricFamily(
            "modelmon_model_labelled_predictions", "Predictions with ground truth in the "
            "latest window of each size.", labels=["model", "window"]),
        "score": GaugeMetricFamily(
            "modelmon_feature_drift_score", "Drift statistic of each feature in the newest "
            "window of the smallest size.", labels=["model", "feature", "test"]),
        "drifted": GaugeMetricFamily(
            "modelmon_feature_drifted", "1 if the feature drifted in the newest window of "
            "the smallest size, else 0.", labels=["model", "feature"]),
        "share": GaugeMetricFamily(
            "modelmon_model_drift_share_ratio", "Share of tested input features that drifted "
            "in the newest window of the smallest size.", labels=["model"]),
        "events": CounterMetricFamily(
            "modelmon_detector_events", "Stored concept-drift detector events.",
            labels=["model", "detector", "kind"]),
        "evaluated": GaugeMetricFamily(
            "modelmon_model_last_evaluation_timestamp_seconds", "Unix time the model's "
            "status was last set by an evaluation.", labels=["model"]),
        "baseline": GaugeMetricFamily(
            "modelmon_model_metric_baseline", "Baseline of a judged metric (its band's centre) "
            "for the window size the model's status is judged on.",
            labels=["model", "window", "metric"]),
        "received": GaugeMetricFamily(
            "modelmon_model_last_prediction_timestamp_seconds", "Unix time the model's newest "
            "prediction was received.", labels=["model"]),
        "version": GaugeMetricFamily(
            "modelmon_model_version_created_timestamp_seconds", "Unix time each registered "
            "version of the model was created.", labels=["model", "version", "stage"]),
        "importance": GaugeMetricFamily(
            "modelmon_feature_importance", "Importance of each feature in the model's newest "
            "logged snapshot.", labels=["model", "feature"]),
        "last_run": GaugeMetricFamily(
            "modelmon_training_last_run_timestamp_seconds", "Unix time the newest successful "
            "training run (kind training) or online update (kind online_update) finished.",
            labels=["model", "kind"]),
        "run_duration": GaugeMetricFamily(
            "modelmon_training_run_duration_seconds", "Duration of the newest successful "
            "training run or online update.", labels=["model", "kind"]),
        "runs": CounterMetricFamily(
            "modelmon_training_runs", "Training runs and online updates logged, by status.",
            labels=["model", "kind", "status"]),
    }


class HostCollector(Collector):
    """Host gauges for Prometheus: CPU, memory, the store's disk, network, and NVIDIA GPUs.

    Families: ``modelmon_host_cpu_utilization_ratio``, ``modelmon_host_memory_used_bytes``,
    ``modelmon_host_memory_total_bytes``, ``modelmon_host_disk_used_bytes{path}``,
    ``modelmon_host_disk_total_bytes{path}``, ``modelmon_host_network_received_bytes_total``,
    ``modelmon_host_network_sent_bytes_total`` and, when NVML reports GPUs,
    ``modelmon_gpu_utilization_ratio{gpu}``, ``modelmon_gpu_memory_used_bytes{gpu}``,
    ``modelmon_gpu_memory_total_bytes{gpu}``, ``modelmon_gpu_temperature_celsius{gpu}``,
    ``modelmon_gpu_power_watts{gpu}``. CPU utilisation is measured since the previous scrape.
    Per-process figures come from ``prometheus_client``'s own ``process_*`` collector.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> registry = CollectorRegistry()
    >>> registry.register(HostCollector(HostMonitor(".")))
    >>> b"modelmon_host_memory_total_bytes" in generate_latest(registry)
    True
    """

    def __init__(self, monitor: HostMonitor) -> None:
        self.monitor = monitor
        self.errors = _ErrorCount()

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        for part, read in (("cpu", self._cpu), ("memory", self._memory), ("disk", self._disk),
                           ("network", self._network), ("gpu", self._gpu)):
            try:
                yield from list(read())
            except Exception as exc:
                log.warning("metrics scrape: skipped host %s: %s", part, exc)
                self.errors.add(part)
        errors = CounterMetricFamily(
            "modelmon_host_collection_errors", "Host probes skipped because they failed (see "
            "the log).", labels=["part"])
        for part, count in sorted(self.errors.by_part.items()):
            errors.add_metric([part], count)
        yield errors

    def _cpu(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("modelmon_host_cpu_utilization_ratio",
                                "Share of CPU time busy since the previous scrape, all cores.",
                                value=self.monitor.cpu.sample().utilization_ratio)

    def _memory(self) -> Iterator[Metric]:
        mem = self.monitor.memory()["memory"]
        yield GaugeMetricFamily("modelmon_host_memory_used_bytes",
                                "Memory in use (total minus available).", value=mem["used_bytes"])
        yield GaugeMetricFamily("modelmon_host_memory_total_bytes", "Physical memory.",
                                value=mem["total_bytes"])

    def _disk(self) -> Iterator[Metric]:
        disk = self.monitor.disk()
        used = GaugeMetricFamily("modelmon_host_disk_used_bytes",
                                 "Used space of the disk holding the store.", labels=["path"])
        total = GaugeMetricFamily("modelmon_host_disk_total_bytes",
                                  "Size of the disk holding the store.", labels=["path"])
        used.add_metric([disk["path"]], disk["used_bytes"])
        total.add_metric([disk["path"]], disk["total_bytes"])
        yield used
        yield total

    def _network(self) -> Iterator[Metric]:
        net = self.monitor.network()
        yield CounterMetricFamily("modelmon_host_network_received_bytes",
                                  "Bytes received on all network interfaces since boot.",
                                  value=net["received_bytes"])
        yield CounterMetricFamily("modelmon_host_network_sent_bytes",
                                  "Bytes sent on all network interfaces since boot.",
                                  value=net["sent_bytes"])

    def _gpu(self) -> Iterator[Metric]:
        report = self.monitor.gpu.read()
        if not report.available:
            return
        families = {
            "utilization_ratio": GaugeMetricFamily(
                "modelmon_gpu_utilization_ratio", "Share of time a kernel ran on the GPU.",
                labels=["gpu"]),
            "memory_used_bytes": GaugeMetricFamily(
                "modelmon_gpu_memory_used_bytes", "GPU memory in use.", labels=["gpu"]),
            "memory_total_bytes": GaugeMetricFamily(
                "modelmon_gpu_memory_total_bytes", "GPU memory.", labels=["gpu"]),
            "temperature_celsius": GaugeMetricFamily(
                "modelmon_gpu_temperature_celsius", "GPU core temperature.", labels=["gpu"]),
            "power_watts": GaugeMetricFamily(
                "modelmon_gpu_power_watts", "GPU power draw.", labels=["gpu"]),
        }
        for device in report.devices:
            values = device.to_dict()
            for key, family in families.items():
                if values[key] is not None:
                    family.add_metric([str(device.index)], values[key])
        yield from families.values()


class AlertCollector:
    """``modelmon_alerts{alertname,severity,model,state}``: alerts pending and firing now (the
    alert engine's memory: nothing is read from the store at scrape time)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("modelmon_alerts", "Alerts pending or firing, by rule, "
                                   "severity, model and state (silenced ones included).",
                                   labels=["alertname", "severity", "model", "state"])
        engine = getattr(self.state, "alerts", None)
        counts: dict[tuple[str, str, str, str], int] = {}
        if engine is not None:
            for a in engine.active():
                key = (a.rule, str(a.severity), a.model or "", a.state)
                counts[key] = counts.get(key, 0) + 1
        for key, n in sorted(counts.items()):
            family.add_metric(list(key), n)
        yield family


def register_collectors(registry: CollectorRegistry, state: ServiceState) -> None:
    """Register the results and host collectors of the service in ``state`` on ``registry``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> from modelmon.config.settings import Settings
    >>> from modelmon.store.duckdb_store import DuckDBStore
    >>> store = DuckDBStore(":memory:")
    >>> store.open()
    >>> state = SimpleNamespace(settings=Settings(store={"path": ":memory:"}), store=store)
    >>> registry = CollectorRegistry()
    >>> register_collectors(registry, state)
    >>> b"modelmon_host_cpu_utilization_ratio" in generate_latest(registry)
    True
    >>> store.close()
    """
    registry.register(ModelResultsCollector(cast(ResultBackend, state.store)))
    registry.register(AlertCollector(state))
    registry.register(HostCollector(HostMonitor(store_folder(state.settings.store.path))))

"""``modelmon demo``: the service on an embedded database, three simulated models, a live table.

The traffic goes through the SDK over HTTP like a real model server's would; ground truth is
logged later (a few seconds, as delayed labels are). After ``change_after`` seconds the fraud
model's inputs drift and a new version of it, ``v2``, is deployed on the simulated serving
system (:mod:`~modelmon.demo.serving`); its accuracy falls, and the intent model's latency
rises; the price model stays healthy. When fraud's ``ModelDegraded`` alert turns critical, the
demo's rollback action calls the serving system's rollback webhook: fraud is served by ``v1``
again, the registry shows ``v1`` active, and accuracy recovers while the drift stays. After
``recover_after`` seconds the traffic is as before and the alerts resolve. Alerts and actions
are shown in the live table and printed as they happen. Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import heapq
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from modelmon.config.settings import Settings, load_settings
from modelmon.demo.scenario import DEMO_MODELS, ModelSim, demo_actions, model_specs, simulators
from modelmon.demo.serving import SimulatedServing
from modelmon.vocabulary import Status

__all__ = ["DemoOptions", "DemoRun", "run_demo"]


@dataclass
class DemoOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    directory: str = ".modelmon-demo"
    rate: float = 60.0            # predictions per second per model
    change_after: float = 60.0    # seconds until the drift and the latency rise
    recover_after: float | None = 180.0  # seconds until traffic is as before (None: never)
    window: str = "10s"           # status window (a 1-minute window is evaluated too)
    label_delay: tuple[float, float] = (2.0, 6.0)
    interval: float = 5.0         # evaluation cycle
    duration: float | None = None  # stop after this many seconds (None: until Ctrl-C)
    live: bool = True
    seed: int = 0


@dataclass
class DemoRun:
    """A running demo (the service, the traffic threads, the SDK client)."""

    options: DemoOptions
    settings: Settings
    url: str
    started: float = field(default_factory=time.monotonic)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    server: Any = None
    monitor: Any = None
    sent: dict[str, int] = field(default_factory=dict)
    serving: SimulatedServing | None = None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def changed(self) -> bool:
        """Traffic is in its changed phase (after ``change_after``, before ``recover_after``)."""
        t, o = self.elapsed, self.options
        return t >= o.change_after and (o.recover_after is None or t < o.recover_after)

    @property
    def phase(self) -> str:
        t, o = self.elapsed, self.options
        if t < o.change_after:
            return f"change in {o.change_after - t:.0f} s"
        if o.recover_after is None:
            return "after the change"
        if t < o.recover_after:
            return f"after the change, recovery in {o.recover_after - t:.0f} s"
        return "recovered"


def prepare(options: DemoOptions, serving_url: str) -> Settings:
    """A fresh demo folder with reference data sets and the settings for the service (its
    rollback action calls the simulated serving system at ``serving_url``)."""
    root = Path(options.directory).resolve()
    if root.exists():
        shutil.rmtree(root)
    (root / "reference").mkdir(parents=True)
    for name, sim in simulators(options.seed + 100).items():
        pq.write_table(pa.table(sim.reference(5000)), root / "reference" / f"{name}.parquet")
    baseline = f"{int(options.change_after)}s"
    return load_settings(env={}, overrides={
        "store": {"path": str(root / "demo.duckdb")},
        "server": {"host": options.host, "port": options.port, "log_format": "text",
                   "log_level": "warning"},
        "scheduler": {"interval_seconds": options.interval, "detector_lateness": "10s"},
        "models": model_specs(str(root / "reference"), options.window, baseline),
        **demo_actions(serving_url),
    })


def _traffic(run: DemoRun, name: str, sim: ModelSim, labels: _LabelQueue) -> None:
    opts = run.options
    per_tick = max(1, int(opts.rate / 5))
    rng = np.random.default_rng(opts.seed + hash(name) % 1000)
    while not run.stop.is_set():
        tick = time.monotonic()
        version = run.serving.version(name) if run.serving and name in SERVED else None
        batch = sim.sample(per_tick, run.changed, version or "v1")
        for i in range(per_tick):
            kwargs: dict[str, Any] = {"model": name, "latency": float(batch.latency[i]),
                                      "version": version}
            if batch.scores is not None:
                kwargs["score"] = float(batch.scores[i])
            if batch.probabilities is not None:
                kwargs["probabilities"] = batch.probabilities[i].tolist()
            if batch.segments[i]:
                kwargs["segments"] = batch.segments[i]
            pid = run.monitor.log_prediction(batch.features[i], batch.predictions[i], **kwargs)
            labels.push(time.monotonic() + rng.uniform(*opts.label_delay), name, pid,
                        batch.actuals[i])
        run.sent[name] = run.sent.get(name, 0) + per_tick
        run.stop.wait(max(0.0, 0.2 - (time.monotonic() - tick)))


#: Models the simulated serving system serves by version.
SERVED = {"fraud": "v1"}


def _register(run: DemoRun, model: str, version: str, stage: str = "active") -> None:
    import httpx

    httpx.post(f"{run.url}/v1/models/{model}/versions", json={"version": version, "stage": stage},
               timeout=30).raise_for_status()


def _timeline(run: DemoRun) -> None:
    """Deploy fraud's v2 at the change (on the serving system and in modelmon's registry, as a
    CD pipeline would); at the recovery, put v1 back if no rollback did."""
    opts, serving = run.options, run.serving
    assert serving is not None
    if run.stop.wait(opts.change_after):
        return
    serving.deploy("fraud", "v2")
    _register(run, "fraud", "v2")
    if opts.recover_after is None or run.stop.wait(max(0.0, opts.recover_after - run.elapsed)):
        return
    if serving.version("fraud") == "v2":
        serving.deploy("fraud", "v1")
        _register(run, "fraud", "v2", "retired")
        _register(run, "fraud", "v1")


class _LabelQueue:
    """Ground truth waiting for its delay to pass."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, str, Any]] = []
        self._lock = threading.Lock()
        self._n = 0

    def push(self, due: float, model: str, pid: str, actual: Any) -> None:
        with self._lock:
            self._n += 1
            heapq.heappush(self._heap, (due, self._n, model, pid, actual))

    def due(self) -> list[tuple[str, str, Any]]:
        now = time.monotonic()
        out = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                _, _, model, pid, actual = heapq.heappop(self._heap)
                out.append((model, pid, actual))
        return out


def _labels(run: DemoRun, labels: _LabelQueue) -> None:
    while not run.stop.is_set():
        for model, pid, actual in labels.due():
            run.monitor.log_actual(pid, actual, model=model)
        run.stop.wait(0.2)


def start(options: DemoOptions) -> DemoRun:
    """Start the service and the traffic; return the running demo."""
    from modelmon.sdk import Monitor
    from modelmon.service.background import BackgroundServer

    serving = SimulatedServing(dict(SERVED), host=options.host).start()
    settings = prepare(options, serving.url)
    server = BackgroundServer(settings).start()
    run = DemoRun(options, settings, server.url, server=server, serving=serving)
    run.monitor = Monitor(server.url, batch_size=500, flush_interval=0.5)
    for model, version in SERVED.items():  # registered before their first prediction
        _register(run, model, version)
    labels = _LabelQueue()
    for name, sim in simulators(options.seed).items():
        t = threading.Thread(target=_traffic, args=(run, name, sim, labels), daemon=True,
                             name=f"demo-{name}")
        run.threads.append(t)
    run.threads.append(threading.Thread(target=_labels, args=(run, labels), daemon=True,
                                        name="demo-labels"))
    run.threads.append(threading.Thread(target=_timeline, args=(run,), daemon=True,
                                        name="demo-timeline"))
    for t in run.threads:
        t.start()
    return run


def shutdown(run: DemoRun) -> None:
    """Stop traffic, flush the SDK, stop the service."""
    run.stop.set()
    for t in run.threads:
        t.join(5)
    if run.monitor is not None:
        run.monitor.close(timeout=10)
    if run.server is not None:
        run.server.stop()
    if run.serving is not None:
        run.serving.stop()


def statuses(run: DemoRun) -> dict[str, Any]:
    """Current status and reasons per demo model, read from the running service."""
    store = run.server.state.store
    out = {}
    for name in DEMO_MODELS:
        st = store.get_status(name)
        out[name] = st.to_dict() if st is not None else {"status": Status.NO_DATA, "reasons": []}
    return out


def _recovery(options: DemoOptions) -> str:
    if options.recover_after is None:
        return ""
    return (f"\n  After {int(options.recover_after)} s the traffic is as before: the models "
            "recover and\n  the alerts resolve.")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM both stop the demo cleanly, even when it was started in a
    way that ignores SIGINT (a background job of a script)."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def run_demo(options: DemoOptions) -> None:
    """Run until Ctrl-C (or ``options.duration``), showing a live status table."""
    from rich.console import Console

    from modelmon.demo.live import alert_lines, live_table

    console = Console()
    _stop_on_signals()
    console.print("[bold]modelmon demo[/]: starting the service with three simulated models ...")
    run = start(options)
    url = run.url
    console.print(f"""
  dashboard:          {url}/ui/
  API and docs:       {url}/docs
  overview (JSON):    {url}/v1/overview
  a model's status:   {url}/v1/models/fraud/status
  latest report:      {url}/v1/models/fraud/reports/latest
  drift by feature:   {url}/v1/models/fraud/drift?window={options.window}
  Prometheus metrics: {url}/metrics

  alerts:             {url}/v1/alerts
  alert history:      {url}/v1/alerts/history
  actions:            {url}/v1/actions
  fraud's versions:   {url}/v1/models/fraud/versions
  serving system:     {run.serving.url if run.serving else "-"}/models/fraud (simulated)

  In about {int(options.change_after)} s the fraud model's inputs drift and a new version of it,
  v2, is deployed: its accuracy falls. The intent model slows down; the price
  model stays healthy. Alerts fire (drift, accuracy drop, latency) and are
  listed here as they fire and resolve. When fraud's alert turns critical,
  modelmon rolls fraud back to v1 through the serving system's webhook: its
  accuracy recovers, the drift stays.{_recovery(options)}
  The dashboard shows the same story (open {url}/ui/models/fraud/drift as it
  drifts). Press Ctrl-C to stop.
""")
    try:
        if options.live:
            live_table(run, console)
        else:
            alert_lines(run, console)
    except KeyboardInterrupt:
        console.print("\nstopping ...")
    finally:
        shutdown(run)
        console.print("demo stopped; its data is in " + str(Path(options.directory).resolve()))

"""Nothing acknowledged is lost, nothing is stored twice: ``modelmon serve`` killed with SIGKILL
mid-load, three times, and started again.

Clients write all the while: two send single predictions, one sends batches of 200 with an
Idempotency-Key, and the SDK sends through its spool. Every client retries what was not
acknowledged (the same id, the same key) until it is, as a careful client does. At the end the
store file is read directly (no deduplication at read): every acknowledged id is there exactly
once, no id twice, every batch whole or absent, and everything the SDK was given arrived. The
killed server's worker processes go with it. About 30 s.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psutil
import pytest
import yaml

from modelmon.sdk import Monitor
from tests.support.live_server import free_port
from tests.support.models import INGEST_MODELS

pytestmark = pytest.mark.integration

CYCLES = 3
LOAD_SECONDS = 3.0
BATCH = 200
MODELMON = str(Path(sys.executable).with_name("modelmon"))


def features(i: int) -> dict[str, Any]:
    return {"amount": float(i % 997), "country": "DE" if i % 3 else "FR", "online": i % 2 == 0,
            "score_in": 0.5}


def record(pid: str, i: int) -> dict[str, Any]:
    return {"prediction_id": pid, "features": features(i), "score": 0.3, "latency_ms": 4.0}


class Serve:
    """``modelmon serve --config`` in a child process of its own session."""

    def __init__(self, config: Path, port: int) -> None:
        self.config, self.url = config, f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.proc = subprocess.Popen([MODELMON, "serve", "--config", str(self.config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "modelmon serve exited during start-up"
            try:
                if httpx.get(self.url + "/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError("modelmon serve did not become ready")

    def kill(self) -> list[psutil.Process]:
        """SIGKILL the server; its child processes (validation workers) as they were."""
        assert self.proc is not None
        children = psutil.Process(self.proc.pid).children(recursive=True)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        return children

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class Writer(threading.Thread):
    """Sends records until told to stop, each one again until acknowledged."""

    def __init__(self, url: str, name: str, batch: int) -> None:
        super().__init__(name=name, daemon=True)
        self.url, self.prefix, self.batch = url, name, batch
        self.stop = threading.Event()
        self.acked: list[str] = []
        self.sent: set[str] = set()  # every id ever sent (acknowledged or not)
        self.batches: list[list[str]] = []
        self.refused: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as c:
            n = 0
            while not self.stop.is_set():
                ids = [f"{self.prefix}-{n}-{i}" for i in range(self.batch)]
                self.sent.update(ids)
                if self.batch == 1:
                    path, body, headers = "/v1/predictions", {"model": "fraud",
                                                              **record(ids[0], n)}, {}
                else:
                    self.batches.append(ids)
                    path = "/v1/predictions/batch"
                    body = {"model": "fraud", "records": [record(p, n + i) for i, p in enumerate(ids)]}
                    headers = {"Idempotency-Key": f"{self.prefix}-{n}"}
                while True:  # the same request until it is acknowledged
                    try:
                        r = c.post(path, json=body, headers=headers)
                    except httpx.TransportError:
                        time.sleep(0.05)
                        continue
                    if r.status_code == 200:
                        self.acked.extend(ids)
                        break
                    if r.status_code != 503:
                        self.refused.append(r.text)
                        return
                    time.sleep(0.05)
                n += 1


def stored_ids(db: Path) -> dict[str, int]:
    """Each prediction id in the store file with how many rows carry it."""
    with duckdb.connect(str(db), read_only=True) as con:
        (model_id,) = con.execute("SELECT model_id FROM models WHERE name = 'fraud'").fetchone()  # type: ignore[misc]
        rows = con.execute(f"SELECT prediction_id, count(*) FROM pred_{model_id} GROUP BY 1").fetchall()
    return {pid: n for pid, n in rows}


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    port = free_port()
    config = tmp_path / "mm.yaml"
    config.write_text(yaml.safe_dump({
        "store": {"path": str(tmp_path / "mm.duckdb")}, "models": INGEST_MODELS,
        "server": {"host": "127.0.0.1", "port": port}, "scheduler": {"enabled": False}}))
    server = Serve(config, port)
    try:
        yield server
    finally:
        server.stop()


def test_sigkill_under_load_loses_and_duplicates_nothing(serve: Serve, tmp_path: Path) -> None:
    serve.start()
    writers = [Writer(serve.url, "s1", 1), Writer(serve.url, "s2", 1), Writer(serve.url, "b", BATCH)]
    sdk = Monitor(serve.url, model="fraud", batch_size=250, flush_interval=0.05, max_retries=2,
                  retry_backoff=0.05, retry_backoff_max=0.3, timeout=5,
                  spool_dir=tmp_path / "spool")
    sdk_ids: list[str] = []
    sdk_stop = threading.Event()

    def sdk_load() -> None:
        i = 0
        while not sdk_stop.is_set():
            sdk_ids.append(sdk.log_prediction(features(i), 1, score=0.7, prediction_id=f"k-{i}"))
            i += 1
            if i % 20 == 0:  # about 2,000 a second
                time.sleep(0.01)

    sdk_thread = threading.Thread(target=sdk_load, daemon=True)
    for w in writers:
        w.start()
    sdk_thread.start()
    acked_before = 0
    try:
        for _ in range(CYCLES):
            time.sleep(LOAD_SECONDS)
            acked = sum(len(w.acked) for w in writers)
            assert acked > acked_before, "no request was acknowledged during the cycle"
            acked_before = acked
            children = serve.kill()
            _, alive = psutil.wait_procs(children, timeout=15)
            assert not alive, f"the killed server's children live on: {alive}"
            time.sleep(0.3)  # clients find the server gone
            serve.start()
        time.sleep(1.0)
    finally:
        for w in writers:
            w.stop.set()
        sdk_stop.set()
        for w in writers:
            w.join(60)
        sdk_thread.join(10)
    assert sdk.flush(60)  # sent, or spooled while the server was away
    sdk.replay_spool(timeout=60)
    assert sdk.close(30)
    assert (sdk.stats.dropped, sdk.stats.rejected, sdk.stats.spool_records) == (0, 0, 0)
    assert sdk.stats.spooled > 0  # the spool was used: the server was away while it sent
    assert all(not w.refused for w in writers), [w.refused[:1] for w in writers]
    assert not any(w.is_alive() for w in writers)
    serve.stop()

    stored = stored_ids(Path(str(serve.config).replace("mm.yaml", "mm.duckdb")))
    twice = {pid: n for pid, n in stored.items() if n > 1}
    assert not twice, f"{len(twice)} ids stored more than once, e.g. {list(twice.items())[:5]}"
    acked = [pid for w in writers for pid in w.acked]
    assert len(acked) == len(set(acked))
    missing = [pid for pid in acked if pid not in stored]
    assert not missing, f"{len(missing)} acknowledged ids not stored, e.g. {missing[:5]}"
    assert set(sdk_ids) <= stored.keys(), "the SDK's predictions did not all arrive"
    sent = set(sdk_ids).union(*(w.sent for w in writers))
    assert stored.keys() <= sent
    for ids in writers[2].batches:  # all-or-nothing
        assert sum(pid in stored for pid in ids) in (0, len(ids))
    # the load was real: tens of thousands of rows over the kills
    assert len(acked) > 5_000 and len(sdk_ids) > 1_000, (len(acked), len(sdk_ids))

"""Backups and retention: `modelmon backup` takes a consistent copy from a running service while
it ingests (whole batches only), `modelmon restore` puts it back and a service serves it; the
store in use is refused; retention deletes old predictions and results by model, keeps what the
status points to, counts what it deleted, and runs on demand over the API."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import yaml

from modelmon.config import load_settings
from modelmon.config.models import ModelSpec
from modelmon.evaluation.retention import RetentionJob
from modelmon.ingest.predictions import predictions_from_table
from modelmon.store import BatchKind, WriteBatch
from modelmon.store.duckdb_store import DuckDBStore
from tests.support.live_server import LiveServer

EXE = str(Path(sys.executable).parent / "modelmon")
MODEL = {"name": "price", "task": "regression", "features": [{"name": "area",
                                                              "type": "numeric"}]}
BATCH = 500


def _config(path: Path, store: Path, **extra: Any) -> Path:
    path.write_text(yaml.safe_dump({"store": {"path": str(store)},
                                    "scheduler": {"enabled": False}, "models": [MODEL],
                                    **extra}))
    return path


def _batch(i: int) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"model": "price", "records": [
        {"prediction_id": f"b{i}-{k}", "features": {"area": float(k)}, "prediction": 1.0,
         "timestamp": now} for k in range(BATCH)]}


def test_a_backup_while_ingesting_restores_whole_batches(tmp_path: Path) -> None:
    cfg = _config(tmp_path / "mm.yaml", tmp_path / "live.duckdb")
    server = LiveServer(load_settings(cfg, env={}))
    server.start()
    acked: list[int] = []
    stop = threading.Event()

    def ingest() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            i = 0
            while not stop.is_set():
                c.post("/v1/predictions/batch", json=_batch(i)).raise_for_status()
                acked.append(i)
                i += 1

    t = threading.Thread(target=ingest)
    t.start()
    try:
        while len(acked) < 5:
            stop.wait(0.05)
        before = len(acked)
        done = subprocess.run([EXE, "backup", "--url", server.url, "--out", "copy.duckdb"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
        after = len(acked)
        assert done.returncode == 0, done.stdout + done.stderr
        in_use = subprocess.run([EXE, "backup", "-c", str(cfg), "--out", "x.duckdb"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert in_use.returncode != 0 and "use --url" in in_use.stderr
    finally:
        stop.set()
        t.join()
        server.stop()
    con = duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True)
    [(table,)] = con.execute("SELECT 'pred_' || model_id FROM models WHERE name = 'price'"
                             ).fetchall()
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
    con.close()
    assert rows % BATCH == 0 and before * BATCH <= rows <= (after + 1) * BATCH  # whole batches
    restored = _config(tmp_path / "restored.yaml", tmp_path / "restored.duckdb")
    done = subprocess.run([EXE, "restore", "copy.duckdb", "-c", str(restored)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "1 models" in done.stdout, done.stdout + done.stderr
    again = LiveServer(load_settings(restored, env={}))
    again.start()
    try:
        with httpx.Client(base_url=again.url) as c:
            counts = c.get("/v1/models/price/counts").json()
            assert counts["predictions"] == rows
            c.post("/v1/predictions/batch", json=_batch(10**6)).raise_for_status()  # writable
        busy = subprocess.run([EXE, "restore", "copy.duckdb", "-c", str(restored)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert busy.returncode != 0 and "in use: stop the service first" in busy.stderr
    finally:
        again.stop()
    assert list(tmp_path.glob("restored.duckdb.before-restore-*")) == []  # nothing was there


def _old_data(store: DuckDBStore, spec: ModelSpec, now: datetime) -> None:
    times = [now - timedelta(days=d + 0.5) for d in range(100)]  # clear of the cutoff
    table = pa.table({"prediction_id": [f"p{d}" for d in range(100)],
                      "timestamp": pa.array(times, pa.timestamp("us", tz="UTC")),
                      "area": [float(d) for d in range(100)], "prediction": [1.0] * 100})
    store.write([WriteBatch(BatchKind.PREDICTIONS, "price",
                            predictions_from_table(spec, table, now=now))])


def test_retention_deletes_old_rows_and_results_and_counts_them(tmp_path: Path) -> None:
    from modelmon.config.inference import complete_spec
    from modelmon.evaluation import Evaluator

    now = datetime.now(UTC)
    store = DuckDBStore(str(tmp_path / "r.duckdb"))
    store.open()
    try:
        spec = complete_spec(ModelSpec.model_validate({
            **MODEL, "windows": ["1d"], "retention": {"predictions": "30d"}}))
        store.save_model(spec)
        _old_data(store, spec, now)
        Evaluator(store, clock=lambda: now).backfill("price", chunk=200)
        windows_before = len(store.window_starts("price", "1d"))
        status_report = store.get_status("price").report_id  # type: ignore[union-attr]
        pruned: list[Any] = []
        job = RetentionJob(store, lambda: now, results="60d", observe=pruned.append)
        job.run()
        assert store.count("price") == 30                   # the 30 younger than 30 days
        assert {(p.predictions, p.results > 0) for p in pruned} == {(70, False), (0, True)}
        kept = store.window_starts("price", "1d")
        assert 0 < len(kept) < windows_before
        assert min(s for s, _ in kept) >= now - timedelta(days=61)
        assert store.get_status("price").report_id == status_report  # type: ignore[union-attr]
        events = [e for e in store.list_events("price") if e.kind == "data_deleted"]
        assert events and events[0].details["reason"] == "retention"
    finally:
        store.close()


def test_retention_over_the_api_and_its_metrics(tmp_path: Path) -> None:
    cfg = _config(tmp_path / "mm.yaml", tmp_path / "api.duckdb",
                  retention={"predictions": "30d", "interval": "1h"})
    server = LiveServer(load_settings(cfg, env={}))
    server.start()
    try:
        spec = server.state.store.get_model("price").spec
        _old_data(server.state.store, spec, datetime.now(UTC))
        with httpx.Client(base_url=server.url) as c:
            done = c.post("/v1/admin/retention").json()
            assert done["models"] == [{"model": "price", "predictions": 70, "actuals": 0,
                                       "results": 0}]
            metrics = c.get("/metrics").text
            assert 'modelmon_retention_deleted_rows_total{kind="predictions",model="price"} ' \
                   "70.0" in metrics
    finally:
        server.stop()

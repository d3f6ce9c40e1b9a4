"""The command line: init writes a valid config, serve --check validates, serve runs the service
(stopped cleanly by Ctrl-C), models list reads the store or a running service, errors are clear."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from modelmon.ingest.pool import default_workers
from tests.support.live_server import free_port

EXE = str(Path(sys.executable).parent / "modelmon")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = run("--help", cwd=tmp_path).stdout
    for command in ("serve", "init", "models", "backfill", "demo", "version"):
        assert command in out


def test_init_check_and_models_list(tmp_path: Path) -> None:
    assert run("init", "mm.yaml", cwd=tmp_path).returncode == 0
    again = run("init", "mm.yaml", cwd=tmp_path)
    assert again.returncode != 0 and "exists" in again.stderr
    ok = run("serve", "--config", "mm.yaml", "--check", cwd=tmp_path)
    assert ok.returncode == 0 and "configuration OK" in ok.stdout
    listed = run("models", "list", "--config", "mm.yaml", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [m["name"] for m in json.loads(listed.stdout)] == ["fraud", "house_price"]


def test_check_fails_on_a_missing_or_unreadable_reference(tmp_path: Path) -> None:
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "bad.parquet").write_text("not parquet")
    (tmp_path / "mm.yaml").write_text(
        "models:\n"
        "  - {name: a, task: regression, features: [{name: x, type: numeric}],\n"
        "     reference: {path: refs/missing.parquet}}\n"
        "  - {name: b, task: regression, features: [{name: x, type: numeric}],\n"
        "     reference: {path: refs/bad.parquet}}\n")
    done = run("serve", "--config", "mm.yaml", "--check", cwd=tmp_path)
    assert done.returncode == 2, done.stdout
    err = "".join(done.stderr.split())  # rich wraps long paths anywhere
    assert "a:referencedataset" in err and "missing.parquet'doesnotexist" in err
    assert "b:referencedataset" in err and "bad.parquet'cannotbereadasparquet" in err
    assert "Traceback" not in done.stderr and "configuration OK" not in done.stdout


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("models:\n  - {name: x, task: clustering}\n")
    done = run("serve", "--config", "bad.yaml", "--check", cwd=tmp_path)
    assert done.returncode == 2
    assert "models[0].task" in done.stderr and "clustering" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_runs_until_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "mm.yaml").write_text(
        "store: {path: data/mm.duckdb}\nscheduler: {enabled: false}\n"
        "models:\n  - {name: m, task: regression, features: [{name: x, type: numeric}]}\n")
    proc = subprocess.Popen([EXE, "serve", "--config", "mm.yaml", "--port", str(port)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        # The validation workers start with the server, before any batch arrives.
        expected = f"modelmon_ingest_validation_workers {float(default_workers())}"
        while time.monotonic() < deadline and expected not in httpx.get(f"{url}/metrics").text:
            time.sleep(0.1)
        assert expected in httpx.get(f"{url}/metrics").text
        r = httpx.post(f"{url}/v1/predictions", json={"model": "m", "features": {"x": 1.0},
                                                      "prediction": 2.0})
        assert r.status_code == 200
        listed = subprocess.run([EXE, "models", "list", "--url", url], capture_output=True,
                                text=True, timeout=60)
        assert listed.returncode == 0 and "regression" in listed.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert (tmp_path / "data" / "mm.duckdb").exists()


def test_backfill_in_process_judges_the_whole_history(tmp_path: Path) -> None:
    from datetime import timedelta

    import numpy as np
    import pyarrow as pa

    from modelmon.ingest.actuals import actuals_from_table
    from modelmon.ingest.predictions import predictions_from_table
    from modelmon.store import BatchKind, WriteBatch
    from modelmon.store.duckdb_store import DuckDBStore
    from tests.evaluation.scenario import FRAUD, NOW, hour_table

    (tmp_path / "mm.yaml").write_text(
        f"store: {{path: {tmp_path / 'mm.duckdb'}}}\n"
        "models:\n  - " + json.dumps({**FRAUD.model_dump(mode="json", exclude_defaults=True),
                                      "windows": ["1h"]}) + "\n")
    store = DuckDBStore(str(tmp_path / "mm.duckdb"))
    store.open()
    store.save_model(FRAUD)
    rng = np.random.default_rng(0)
    for h in range(20):
        table, y = hour_table(rng, h, 300, drift=h >= 15, start=NOW - timedelta(hours=20))
        acts = pa.table({"prediction_id": table.column("prediction_id"), "actual": y.astype(str)})
        store.write([WriteBatch(BatchKind.PREDICTIONS, "fraud",
                                predictions_from_table(FRAUD, table, now=NOW)),
                     WriteBatch(BatchKind.ACTUALS, "fraud", actuals_from_table(FRAUD, acts, now=NOW))])
    store.close()
    done = run("backfill", "fraud", "--config", "mm.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "status now degraded" in done.stdout
    assert "degraded" in done.stdout and "healthy" in done.stdout  # the verdict counts
    assert "backfill fraud" in done.stderr  # the progress bar
    missing = run("backfill", "nope", "--config", "mm.yaml", cwd=tmp_path)
    assert missing.returncode != 0 and "nope" in missing.stderr

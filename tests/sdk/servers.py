"""The real modelmon service for SDK tests: in a thread (restartable on its port) or a process.

``make_server(...)`` builds a :class:`ThreadServer` (uvicorn in a background thread, a temporary
DuckDB file); stopping and starting it again keeps the port and the data, so a test can take the
server away and bring it back. :class:`ProcessServer` runs the same service in a child process so
a test can kill it with SIGKILL mid-stream.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from modelmon.config.settings import load_settings
from modelmon.service.app import create_app

WIDE_FEATURES = [f"f{i}" for i in range(25)]

MODELS: list[dict[str, Any]] = [
    {
        "name": "fraud",
        "task": "binary_classification",
        "features": [
            {"name": "amount", "type": "numeric"},
            {"name": "merchant", "type": "categorical"},
            {"name": "is_new", "type": "boolean"},
        ],
        "prediction": {"classes": ["0", "1"], "score": True},
        "segments": ["region"],
    },
    {
        "name": "price",
        "task": "regression",
        "features": [{"name": "size", "type": "numeric"}, {"name": "rooms", "type": "numeric"}],
    },
    {
        "name": "wide",
        "task": "binary_classification",
        "features": [{"name": f, "type": "numeric"} for f in WIDE_FEATURES],
        "prediction": {"classes": ["0", "1"], "score": True},
    },
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(db: Path, port: int, api_key: str | None = None,
              ingest: dict[str, Any] | None = None) -> Any:
    overrides: dict[str, Any] = {"store": {"path": str(db)}, "models": MODELS,
                                 "server": {"port": port}, "ingest": ingest or {},
                                 # The evaluation scheduler is not under test here.
                                 "scheduler": {"enabled": False}}
    if api_key is not None:
        overrides["server"]["api_key"] = api_key
    return load_settings(env={}, overrides=overrides)


class _Client:
    """Reads through the public API (what the tests check)."""

    url: str
    api_key: str | None

    def get(self, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return httpx.get(self.url + path, headers=headers, timeout=30)

    def counts(self, model: str) -> dict[str, Any]:
        r = self.get(f"/v1/models/{model}/counts")
        r.raise_for_status()
        return r.json()

    def prediction(self, model: str, prediction_id: str) -> dict[str, Any] | None:
        r = self.get(f"/v1/models/{model}/predictions/{prediction_id}")
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.json()

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a Prometheus counter's samples whose labels include ``labels``."""
        total = 0.0
        for line in self.get("/metrics").text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            head, _, value = line.rpartition(" ")
            if all(f'{k}="{v}"' in head for k, v in labels.items()):
                total += float(value)
        return total


class ThreadServer(_Client):
    """The service in a background thread; ``stop()`` then ``start()`` keeps port and data."""

    def __init__(self, db: Path, port: int | None = None, api_key: str | None = None,
                 ingest: dict[str, Any] | None = None) -> None:
        self.db = db
        self.port = port or free_port()
        self.api_key = api_key
        self.ingest = ingest
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 30.0) -> ThreadServer:
        app = create_app(_settings(self.db, self.port, self.api_key, self.ingest))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", log_config=None, access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="sdk-test-server",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the server thread died during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
        self._server = self._thread = None


class ProcessServer(_Client):
    """The service in a child process (``kill()`` sends SIGKILL: no graceful shutdown)."""

    def __init__(self, db: Path, port: int | None = None) -> None:
        self.db = db
        self.port = port or free_port()
        self.api_key = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ProcessServer:
        config = json.dumps({"db": str(self.db), "port": self.port, "models": MODELS})
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_serve.py")), config],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"the server process exited during start-up:\n{err}")
            try:
                if httpx.get(self.url + "/health/live", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the server process did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


def fraud_features(i: int) -> dict[str, Any]:
    return {"amount": float(i), "merchant": f"m{i % 7}", "is_new": i % 2 == 0}

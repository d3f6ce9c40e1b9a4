"""The demo's simulated serving system: an HTTP server in the demo process that says which
version of each model serves traffic, and takes the rollback webhook modelmon's rollback
action calls.

- ``GET /models/{model}``: ``{"model", "version", "deployments": [...]}``;
- ``POST /models/{model}/rollback``: the webhook (modelmon's payload): serve
  ``rollback.to_version``; a request with an ``Idempotency-Key`` already answered gets the same
  answer again and changes nothing.

The demo itself deploys a version with :meth:`SimulatedServing.deploy` (what a CD pipeline
would do), and its traffic asks :meth:`SimulatedServing.version` which version answers.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["SimulatedServing"]


class SimulatedServing:
    """Versions served per model, changed by deployments and by the rollback webhook."""

    def __init__(self, versions: dict[str, str], host: str = "127.0.0.1", port: int = 0) -> None:
        self._versions = dict(versions)
        self._log: dict[str, list[dict[str, Any]]] = {m: [] for m in versions}
        self._answered: dict[str, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="demo-serving", daemon=True)

    def start(self) -> SimulatedServing:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def version(self, model: str) -> str:
        with self._lock:
            return self._versions[model]

    def deploy(self, model: str, version: str, *, by: str = "deployment") -> None:
        with self._lock:
            self._versions[model] = version
            self._log[model].append({"version": version, "by": by})

    def describe(self, model: str) -> dict[str, Any] | None:
        with self._lock:
            if model not in self._versions:
                return None
            return {"model": model, "version": self._versions[model],
                    "deployments": list(self._log[model])}

    def rollback(self, model: str, key: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        """The webhook: serve the version modelmon names (once per idempotency key)."""
        with self._lock:
            if key and key in self._answered:
                return self._answered[key]
            target = (body or {}).get("rollback", {}).get("to_version") \
                if isinstance(body, dict) else None
            if model not in self._versions:
                answer = (404, {"error": f"no model {model!r} is served here"})
            elif not target:
                answer = (422, {"error": "rollback.to_version is missing"})
            else:
                previous = self._versions[model]
                self._versions[model] = target
                self._log[model].append({"version": target, "by": "modelmon rollback",
                                         "from": previous})
                answer = (200, {"model": model, "version": target, "previous": previous})
            if key:
                self._answered[key] = answer
            return answer


def _handler(serving: SimulatedServing) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _model(self, suffix: str = "") -> str | None:
            parts = self.path.split("?")[0].strip("/").split("/")
            want = 3 if suffix else 2
            if len(parts) != want or parts[0] != "models" or (suffix and parts[2] != suffix):
                return None
            return parts[1]

        def do_GET(self) -> None:
            model = self._model()
            found = serving.describe(model) if model else None
            if found is None:
                self._answer(404, {"error": "not found"})
            else:
                self._answer(200, found)

        def do_POST(self) -> None:
            model = self._model("rollback")
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            if model is None:
                self._answer(404, {"error": "not found"})
                return
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self._answer(400, {"error": "the body is not JSON"})
                return
            self._answer(*serving.rollback(model, self.headers.get("Idempotency-Key"), body))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler

"""Keys with roles, model-limited keys, the audit log and the failed-authentication limit, on a
real server: a walk over the whole OpenAPI description checks that every route refuses a request
without a key (401) and a key of the wrong role (403)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from modelmon.access.keys import Role, hash_key
from modelmon.cli import app as cli
from modelmon.config import load_settings
from modelmon.service.roles import ROUTE_ROLES
from tests.support.live_server import LiveServer, live_server

ADMIN, READ, INGEST, SCOPED = "adm-key-1", "read-key-2", "ingest-key-3", "scoped-key-4"
HASHED = "hashed-key-5"

MODEL = {"name": "m1", "task": "binary_classification",
         "features": [{"name": "x", "type": "numeric"}]}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("access")
    (root / "mm.yaml").write_text(f"""
store: {{path: mm.duckdb}}
scheduler: {{enabled: false}}
server:
  api_keys:
    - {{key: {ADMIN}, role: admin, name: ops}}
    - {{key: {READ}, role: read, name: viewer}}
    - {{key: {INGEST}, role: ingest, name: pipeline}}
    - {{key: {SCOPED}, role: ingest, name: m1-only, models: [m1]}}
    - {{key_sha256: {hash_key(HASHED)}, role: read, name: hashed}}
  auth_failures: {{limit: 1000}}
""")
    return root


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[LiveServer]:
    with live_server(load_settings(root / "mm.yaml", env={})) as s:
        httpx.post(f"{s.url}/v1/models", json=MODEL, headers={"X-API-Key": ADMIN},
                   timeout=30).raise_for_status()
        httpx.post(f"{s.url}/v1/models", json={**MODEL, "name": "m2"},
                   headers={"X-API-Key": ADMIN}, timeout=30).raise_for_status()
        yield s


def call(server: LiveServer, method: str, path: str, key: str | None = None,
         **kw: Any) -> httpx.Response:
    headers = {"X-API-Key": key} if key else {}
    return httpx.request(method, server.url + path, headers=headers, timeout=30, **kw)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "m1" if m.group(0) == "{model}" else "x", path)


def test_every_route_refuses_a_missing_key_and_the_wrong_role(server: LiveServer) -> None:
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    walked = set()
    keys = {Role.ADMIN: ADMIN, Role.READ: READ, Role.INGEST: INGEST}
    for path, ops in spec["paths"].items():
        for method in ops:
            m = method.upper()
            if not path.startswith("/v1/"):
                continue
            walked.add((m, path))
            needed, _ = ROUTE_ROLES[(m, path)]
            url = _concrete(path)
            got = call(server, m, url, json={})
            assert got.status_code == 401, (m, path, got.status_code)
            assert got.json()["code"] == "unauthorized"
            for role, key in keys.items():
                if role is Role.ADMIN or role is needed:
                    continue
                got = call(server, m, url, key, json={})
                assert got.status_code == 403, (m, path, role, got.status_code, got.text)
                assert got.json()["code"] == "forbidden"
    assert walked == set(ROUTE_ROLES)  # the table names exactly the served routes
    # /metrics and /info need a read key (not public by default when keys exist)
    for path in ("/metrics", "/info"):
        assert call(server, "GET", path).status_code == 401
        assert call(server, "GET", path, INGEST).status_code == 403
        assert call(server, "GET", path, READ).status_code == 200
        assert call(server, "GET", path, HASHED).status_code == 200   # a key given as its hash
    assert call(server, "GET", "/health").status_code == 200          # probes stay open


def test_roles_allow_what_they_name(server: LiveServer) -> None:
    record = {"model": "m1", "features": {"x": 1.0}, "prediction": 1, "score": 0.7}
    assert call(server, "POST", "/v1/predictions", INGEST, json=record).status_code == 200
    assert call(server, "GET", "/v1/models/m1/counts", READ).status_code == 200
    assert call(server, "GET", "/v1/models/m1/counts", ADMIN).status_code == 200
    assert call(server, "POST", "/v1/predictions", ADMIN, json=record).status_code == 200
    # a key limited to m1 writes to m1, not to m2, and reaches no cross-model route
    assert call(server, "POST", "/v1/predictions", SCOPED, json=record).status_code == 200
    other = call(server, "POST", "/v1/predictions", SCOPED, json={**record, "model": "m2"})
    assert other.status_code == 403 and "m2" in other.json()["message"]
    batch = call(server, "POST", "/v1/predictions/batch", SCOPED,
                 json={"model": "m2", "records": [{k: v for k, v in record.items()
                                                   if k != "model"}]})
    assert batch.status_code == 403
    assert call(server, "POST", "/v1/models/m2/training-runs", SCOPED,
                json={"status": "succeeded"}).status_code == 403
    counts = call(server, "GET", "/v1/models/m2/counts", ADMIN).json()
    assert counts["predictions"] == 0  # nothing of the refused writes was stored


def test_stored_keys_audit_log_and_revocation(server: LiveServer) -> None:
    made = call(server, "POST", "/v1/keys", ADMIN,
                json={"name": "grafana", "role": "read", "models": ["m1"]})
    assert made.status_code == 201, made.text
    body = made.json()
    key, kid = body["key"], body["key_id"]
    assert key.startswith(f"mmk_{kid}_") and body["models"] == ["m1"]
    listed = call(server, "GET", "/v1/keys", ADMIN).json()["keys"]
    assert {k["name"] for k in listed} >= {"ops", "viewer", "grafana"}
    assert all("key" not in k and "key_hash" not in k for k in listed)
    assert call(server, "GET", "/v1/models/m1/status", key).status_code == 200
    assert call(server, "GET", "/v1/models/m2/status", key).status_code == 403
    assert [m["name"] for m in call(server, "GET", "/v1/models", key).json()["models"]] == ["m1"]
    assert [m["model"] for m in call(server, "GET", "/v1/overview", key).json()["models"]] \
        == ["m1"]
    assert call(server, "GET", "/v1/alerts", key).status_code == 403  # spans every model
    # a read key trying an admin route is audited too
    assert call(server, "POST", "/v1/silences", READ, json={}).status_code == 403
    assert call(server, "POST", "/v1/models/m1/versions", READ, json={}).status_code == 403
    assert call(server, "DELETE", f"/v1/keys/{kid}", ADMIN).status_code == 200
    assert call(server, "GET", "/v1/models/m1/status", key).status_code == 401  # at once
    assert call(server, "DELETE", "/v1/keys/ops", ADMIN).status_code == 409   # the file's key
    audit = call(server, "GET", "/v1/audit", ADMIN, params={"limit": 1000}).json()["entries"]
    actions = [(e["action"], e["key_name"], e["status"]) for e in audit]
    assert ("POST /v1/keys", "ops", 201) in actions
    assert ("DELETE /v1/keys/{key_id}", "ops", 200) in actions
    assert ("POST /v1/silences", "viewer", 403) in actions
    assert ("POST /v1/models", "ops", 201) in actions
    created = next(e for e in audit if e["action"] == "POST /v1/keys")
    assert created["details"]["key_id"] == kid and created["client"] == "127.0.0.1"
    assert key not in str(audit)                                   # never the key
    assert not any(e["action"].startswith("POST /v1/predictions") for e in audit)
    # paging and export
    first = call(server, "GET", "/v1/audit", ADMIN, params={"limit": 2}).json()
    assert len(first["entries"]) == 2 and first["next"]
    second = call(server, "GET", first["next"], ADMIN).json()
    assert second["entries"][0]["id"] < first["entries"][-1]["id"]
    csv = call(server, "GET", "/v1/audit", ADMIN, params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("id,at,key_id")
    nd = call(server, "GET", "/v1/audit", ADMIN, params={"format": "ndjson", "model": "m1"})
    assert nd.text and all('"model":"m1"' in line for line in nd.text.splitlines())


def test_failed_authentication_is_rate_limited(root: Path) -> None:
    settings = load_settings(root / "mm.yaml", env={}, overrides={"server": {"auth_failures": {
        "limit": 5, "window_seconds": 60, "lockout_seconds": 2}}})
    with live_server(settings) as server:
        for _ in range(5):
            assert call(server, "GET", "/v1/models", "wrong").status_code == 401
        locked = call(server, "GET", "/v1/models", READ)  # even a good key, from this address
        assert locked.status_code == 429 and locked.json()["code"] == "rate_limited"
        assert 1 <= int(locked.headers["Retry-After"]) <= 2
        # another address is not locked out
        other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        with other:
            assert other.get(f"{server.url}/v1/models", headers={"X-API-Key": READ}
                             ).status_code == 200
        time.sleep(2.1)
        assert call(server, "GET", "/v1/models", READ).status_code == 200
        failures = _failures(server)
        assert failures["invalid"] == 5 and failures["rate_limited"] >= 1
        # the burst is what the built-in rule reads (refusals in the last 5 minutes)
        assert server.app.state.mm.auth_limiter.recent(300) >= 6


def _failures(server: LiveServer) -> dict[str, float]:
    text = call(server, "GET", "/metrics", READ).text
    return {m.group(1): float(m.group(2)) for m in re.finditer(
        r'^modelmon_auth_failures_total\{reason="(\w+)"\} (\S+)$', text, re.M)}


def test_keys_cli_on_the_store_file_then_the_service(tmp_path: Path) -> None:
    (tmp_path / "mm.yaml").write_text("store: {path: mm.duckdb}\nscheduler: {enabled: false}\n")
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "--name", "first admin", "--role", "admin",
                               "-c", str(tmp_path / "mm.yaml")])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("mmk_")
    assert key not in (tmp_path / "mm.duckdb").read_bytes().decode("latin-1")  # only the hash
    with live_server(load_settings(tmp_path / "mm.yaml", env={})) as s:
        assert call(s, "GET", "/v1/models").status_code == 401    # a stored key locks the API
        assert call(s, "GET", "/v1/models", key).status_code == 200
        read = runner.invoke(cli, ["keys", "create", "--name", "ci", "--role", "read",
                                   "--url", s.url, "--api-key", key])
        assert read.exit_code == 0, read.output
        read_key = read.stdout.strip().splitlines()[-1]
        assert call(s, "GET", "/v1/models", read_key).status_code == 200
        listed = runner.invoke(cli, ["keys", "list", "--url", s.url, "--api-key", key, "--json"])
        assert listed.exit_code == 0 and '"ci"' in listed.stdout
        kid = read_key.split("_")[1]
        gone = runner.invoke(cli, ["keys", "revoke", kid, "--url", s.url, "--api-key", key])
        assert gone.exit_code == 0, gone.output
        assert call(s, "GET", "/v1/models", read_key).status_code == 401
        refused = runner.invoke(cli, ["keys", "list", "--url", s.url, "--api-key", read_key])
        assert refused.exit_code == 1 and "401" in refused.output
        audit = runner.invoke(cli, ["audit", "--url", s.url, "--api-key", key,
                                    "--format", "ndjson"])
        assert audit.exit_code == 0 and "DELETE /v1/keys/{key_id}" in audit.stdout
    # the file's own audit log has the first key, made locally
    local = runner.invoke(cli, ["audit", "-c", str(tmp_path / "mm.yaml"), "--format", "csv"])
    assert local.exit_code == 0, local.output
    assert ",cli," in local.stdout and "POST /v1/keys" in local.stdout
    assert datetime.now(UTC).isoformat()[:4] in local.stdout

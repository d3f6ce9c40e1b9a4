"""HTTPS: ``modelmon serve --tls-cert FILE --tls-key FILE`` (and ``server.tls_cert/tls_key`` in
the config file) with a self-signed certificate made at test time. HTTPS answers, plain HTTP on
the same port gets no answer, the dashboard's session cookie is ``Secure``, and a bad pair is a
one-line error before anything listens."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from modelmon.config import load_settings
from modelmon.config.settings import ServerSettings
from modelmon.exceptions import ConfigError
from modelmon.service.tls import check_tls
from tests.support.certificates import self_signed
from tests.support.live_server import free_port, live_server

pytestmark = pytest.mark.integration

MODELMON = str(Path(sys.executable).with_name("modelmon"))


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


@pytest.fixture
def https_serve(tmp_path: Path, pair: tuple[Path, Path]) -> Iterator[str]:
    """``modelmon serve --tls-cert --tls-key`` in a child process; its https:// URL."""
    port = free_port()
    config = tmp_path / "mm.yaml"
    config.write_text(yaml.safe_dump({"store": {"path": "mm.duckdb"},
                                      "scheduler": {"enabled": False}}))
    cert, key = pair
    proc = subprocess.Popen([MODELMON, "serve", "--config", str(config), "--port", str(port),
                             "--tls-cert", str(cert), "--tls-key", str(key)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                httpx.get(url + "/health/live", verify=trusting(cert), timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "modelmon serve did not start"
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def test_serve_speaks_https_and_refuses_plain_http(https_serve: str,
                                                   pair: tuple[Path, Path]) -> None:
    cert, _ = pair
    with httpx.Client(base_url=https_serve, verify=trusting(cert), timeout=10) as c:
        assert c.get("/health/live").json() == {"status": "alive"}
        r = c.post("/v1/models", json={"name": "m", "task": "regression",
                                       "features": [{"name": "x", "type": "numeric"}]})
        assert r.status_code == 201, r.text
    plain = https_serve.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        httpx.get(plain + "/health/live", timeout=5)
    # and a client that does not trust the certificate does not talk to it
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(https_serve + "/health/live", timeout=5)


def test_config_file_tls_and_a_secure_session_cookie(tmp_path: Path,
                                                    pair: tuple[Path, Path]) -> None:
    cert, _ = pair
    (tmp_path / "mm.yaml").write_text(yaml.safe_dump({
        "store": {"path": "mm.duckdb"}, "scheduler": {"enabled": False},
        # relative to the config file's folder
        "server": {"api_key": "sesame", "tls_cert": "cert.pem", "tls_key": "key.pem"}}))
    settings = load_settings(tmp_path / "mm.yaml", env={})
    assert settings.server.tls and settings.server.tls_cert == str(cert)
    with live_server(settings) as s, httpx.Client(base_url=s.url, verify=trusting(cert),
                                                  timeout=10) as c:
        assert s.url.startswith("https://")
        r = c.post("/ui/signin", data={"key": "sesame", "next": "/ui/"})
        assert r.status_code == 303, r.text
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("modelmon_session=")
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_plain_http_server_sets_no_secure_cookie(tmp_path: Path) -> None:
    settings = load_settings(env={}, overrides={
        "store": {"path": str(tmp_path / "mm.duckdb")}, "scheduler": {"enabled": False},
        "server": {"api_key": "sesame"}})
    with live_server(settings) as s, httpx.Client(base_url=s.url, timeout=10) as c:
        cookie = c.post("/ui/signin", data={"key": "sesame", "next": "/ui/"}).headers["set-cookie"]
        assert "Secure" not in cookie


def test_bad_pairs_are_refused_before_serving(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    cert, key = pair
    (tmp_path / "other").mkdir()
    other_cert, _ = self_signed(tmp_path / "other")

    def server(**tls: str) -> ServerSettings:
        return load_settings(env={}, overrides={"server": tls}).server

    with pytest.raises(ConfigError, match="go together"):
        load_settings(env={}, overrides={"server": {"tls_cert": str(cert)}})
    with pytest.raises(ConfigError, match="does not exist"):
        check_tls(server(tls_cert=str(tmp_path / "gone.pem"), tls_key=str(key)))
    with pytest.raises(ConfigError, match="do not load as a PEM pair"):
        check_tls(server(tls_cert=str(other_cert), tls_key=str(key)))
    check_tls(server(tls_cert=str(cert), tls_key=str(key)))
    done = subprocess.run([MODELMON, "serve", "--check", "--tls-cert", str(other_cert),
                           "--tls-key", str(key)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode != 0
    assert "do not load as a PEM pair" in " ".join((done.stderr + done.stdout).split())
    assert "Traceback" not in done.stderr

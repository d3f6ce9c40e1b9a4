"""``/docs`` works offline (Swagger UI's assets come from the service, not a CDN) and the OpenAPI
document describes ``/metrics`` as text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.test_ingest_api import settings_for
from tests.support.live_server import live_server


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    path: Path = tmp_path_factory.mktemp("docs")
    with live_server(settings_for(path, server={"api_key": "k"})) as s, \
            httpx.Client(base_url=s.url, timeout=30) as c:
        yield c


def test_docs_load_every_asset_from_the_service(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    urls = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    urls += re.findall(r"""url: ['"]([^'"]+)['"]""", page.text)
    assert urls and all(u.startswith("/") for u in urls), urls  # nothing from another host
    assert "/openapi.json" in urls
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"] and "SwaggerUIBundle" in js.text
    assert "text/css" in client.get("/docs/assets/swagger-ui.css").headers["content-type"]
    assert client.get("/docs/assets/../../../etc/passwd").status_code == 404
    assert client.get("/docs/assets/swagger-editor-bundle.js").status_code == 404
    assert client.get("/redoc").status_code == 404  # ReDoc loads from a CDN: not offered


def test_metrics_is_documented_as_text(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"text/plain", "application/openmetrics-text"}
    r = client.get("/metrics", headers={"X-API-Key": "k"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")

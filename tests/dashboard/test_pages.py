"""The dashboard over HTTP on a live service with keys: every page answers, sign-in and its
cookie, read-only sessions, CSRF, error pages, assets, and the HTML report of a window."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.dashboard import ADMIN_KEY, READ_KEY, dashboard_server
from tests.support.live_server import LiveServer

PAGES = ["/ui/", "/ui/models/fraud", "/ui/models/fraud/drift", "/ui/models/fraud/quality",
         "/ui/models/fraud/fairness", "/ui/models/fraud/importance", "/ui/models/fraud/reports",
         "/ui/alerts", "/ui/system"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with dashboard_server(tmp_path_factory.mktemp("pages"), keys=True) as s:
        yield s


@contextmanager
def _signed_in(server: LiveServer, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        r = client.post("/ui/signin", data={"key": key, "next": "/ui/alerts"})
        assert r.status_code == 303 and r.headers["location"] == "/ui/alerts"
        yield client


def test_pages_need_signing_in_and_the_cookie_is_httponly_and_samesite(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as c:
        for page in PAGES:
            r = c.get(page)
            assert r.status_code == 303, page
            assert r.headers["location"].startswith("/ui/signin?next=")
        assert c.get("/ui/signin").status_code == 200
        wrong = c.post("/ui/signin", data={"key": "nope", "next": "/ui/"})
        assert wrong.status_code == 401 and "not valid" in wrong.text
        ok = c.post("/ui/signin", data={"key": ADMIN_KEY, "next": "https://evil.example/x"})
        assert ok.status_code == 303 and ok.headers["location"] == "/ui/"  # no open redirect
        cookie = ok.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
        assert "secure" not in cookie.lower()  # plain HTTP on loopback
        assert ADMIN_KEY not in cookie
        tampered = httpx.Client(base_url=server.url, cookies={
            "modelmon_session": c.cookies["modelmon_session"][:-3] + "abc"})
        assert tampered.get("/ui/").status_code == 303
        tampered.close()


def test_every_page_renders_for_a_signed_in_person(server: LiveServer) -> None:
    with _signed_in(server, ADMIN_KEY) as c:
        for page in PAGES:
            r = c.get(page)
            assert r.status_code == 200, (page, r.text[:500])
            assert r.headers["content-type"].startswith("text/html")
            assert "alice (admin)" in r.text
            # every script and style comes from this server (no CDN)
            for src in re.findall(r'(?:src|href)="([^"]+)"', r.text):
                assert not src.startswith(("http://", "https://", "//")), (page, src)
        for view in ("executive", "operations", "science"):
            assert c.get(f"/ui/?view={view}").status_code == 200
            assert c.get(f"/ui/models/fraud?view={view}").status_code == 200
        model = c.get("/ui/models/fraud").text
        assert 'id="history"' in model and "accuracy" in model
        drift = c.get("/ui/models/fraud/drift").text
        assert 'data-feature="amount"' in drift and 'id="heatmap"' in drift


def test_views_select_components_of_the_same_page(server: LiveServer) -> None:
    with _signed_in(server, ADMIN_KEY) as c:
        ops = c.get("/ui/?view=operations").text
        execs = c.get("/ui/?view=executive").text
        assert "latency p95" in ops and "latency p95" not in execs
        assert "Business metrics" in execs and "Business metrics" not in ops
        science = c.get("/ui/models/fraud?view=science").text
        assert "<h2>Quality</h2>" in science and "<h2>Operations</h2>" not in science


def test_a_read_only_session_sees_no_forms_and_cannot_silence(server: LiveServer) -> None:
    with _signed_in(server, READ_KEY) as c:
        page = c.get("/ui/alerts").text
        assert "viewer (read)" in page and 'id="silence-form"' not in page
        csrf = "anything"
        r = c.post("/ui/silences", data={"matchers": 'model="fraud"', "csrf": csrf})
        assert r.status_code == 403 and "read-only" in r.text
    with httpx.Client(base_url=server.url, headers={"x-api-key": READ_KEY}) as api:
        assert api.get("/v1/alerts").status_code == 200
        r = api.post("/v1/silences", json={"matchers": ['model="fraud"'], "created_by": "x"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_forms_need_the_sessions_csrf_token(server: LiveServer) -> None:
    with _signed_in(server, ADMIN_KEY) as c:
        page = c.get("/ui/alerts").text
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        bad = c.post("/ui/silences", data={"matchers": 'model="fraud"', "csrf": "forged"})
        assert bad.status_code == 403 and "security token" in bad.text
        ok = c.post("/ui/silences", data={"matchers": 'model="fraud"\nalertname="FeatureDrift"',
                                          "duration": "2h", "comment": "looking", "csrf": token})
        assert ok.status_code == 303 and "silence" in ok.headers["location"]
        silences = c.get("/v1/silences", headers={"x-api-key": ADMIN_KEY}).json()["silences"]
        made = next(s for s in silences if s["comment"] == "looking")
        assert made["created_by"] == "alice" and made["state"] == "active"
        invalid = c.post("/ui/silences", data={"matchers": "not a matcher", "csrf": token})
        assert invalid.status_code == 303 and "error=" in invalid.headers["location"]
        expired = c.post(f"/ui/silences/{made['id']}/expire", data={"csrf": token})
        assert expired.status_code == 303
        assert c.get("/v1/silences", headers={"x-api-key": ADMIN_KEY}).json()["silences"][0][
            "state"] == "expired"


def test_errors_are_pages_that_name_the_problem(server: LiveServer) -> None:
    with _signed_in(server, ADMIN_KEY) as c:
        missing = c.get("/ui/models/nope")
        assert missing.status_code == 404 and "model_not_found" in missing.text
        bad = c.get("/ui/models/fraud?window=7y")
        assert bad.status_code == 422 and "unknown_window" in bad.text
        page = c.get("/ui/models/fraud/drift?page=99")
        assert page.status_code == 422 and "page" in page.text
        assert c.get("/ui/models/fraud?days=abc").status_code == 422
        assert c.get("/ui/models/fraud/drift?feature=ghost").status_code == 422


def test_assets_are_cached_by_content_and_served_from_the_package(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as c:
        page = c.get("/ui/signin").text
        url = re.search(r'src="(/ui/assets/charts\.js\?v=[0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
        r = c.get(url)
        assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
        assert r.headers["content-type"].startswith("text/javascript")
        again = c.get(url, headers={"if-none-match": r.headers["etag"]})
        assert again.status_code == 304
        assert c.get("/ui/assets/../../settings.py").status_code == 404
        assert c.get("/ui/assets/vendor/uPlot.iife.min.js").status_code == 200


def test_a_window_report_as_html_and_as_json(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, headers={"x-api-key": ADMIN_KEY}) as c:
        latest = c.get("/v1/models/fraud/reports/latest").json()
        html = c.get(f"/v1/models/fraud/reports/{latest['id']}", headers={"accept": "text/html"})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "<script>" in html.text and "uPlot" in html.text and 'id="drift"' in html.text
        assert not re.search(r'(?:src|href)="https?://', html.text)
        assert c.get("/v1/models/fraud/reports/latest",
                     headers={"accept": "text/html"}).text.count("fraud: window") >= 1
        missing = c.get("/v1/models/fraud/reports/nope", headers={"accept": "text/html"})
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_the_root_leads_to_the_dashboard(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as c:
        r = c.get("/")
        assert r.status_code == 307 and r.headers["location"] == "/ui/"


def test_an_open_service_needs_no_sign_in(tmp_path: Path) -> None:
    with dashboard_server(tmp_path) as s, httpx.Client(base_url=s.url) as c:
        r = c.get("/ui/")
        assert r.status_code == 200 and 'data-model="fraud"' in r.text
        assert "sign out" not in r.text
        page = c.get("/ui/alerts").text
        assert 'id="silence-form"' in page
        ok = c.post("/ui/silences", data={"matchers": 'model="fraud"', "by": "bob"})
        assert ok.status_code == 303
        assert c.get("/v1/silences").json()["silences"][0]["created_by"] == "bob"


def test_stored_keys_sign_in_revocation_ends_the_session_and_forms_are_audited(
        server: LiveServer) -> None:
    admin = {"x-api-key": ADMIN_KEY}
    with httpx.Client(base_url=server.url, timeout=60) as api:
        made = api.post("/v1/keys", headers=admin, json={"name": "bob", "role": "admin"}).json()
        ingest = api.post("/v1/keys", headers=admin, json={"name": "etl", "role": "ingest"}
                          ).json()
        refused = api.post("/ui/signin", data={"key": ingest["key"], "next": "/ui/"})
        assert refused.status_code == 403 and "ingest key may only send data" in refused.text
        with _signed_in(server, made["key"]) as c:
            page = c.get("/ui/alerts").text
            assert "bob (admin)" in page
            token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            done = c.post("/ui/silences", data={"matchers": 'model="fraud"', "duration": "1h",
                                                "comment": "bob's", "csrf": token})
            assert done.status_code == 303
            api.delete(f"/v1/keys/{made['key_id']}", headers=admin).raise_for_status()
            assert c.get("/ui/alerts").status_code == 303  # revoked: signed out at once
        entries = api.get("/v1/audit", headers=admin, params={"key_id": made["key_id"]}
                          ).json()["entries"]
        assert [(e["action"], e["status"], e["key_name"]) for e in entries] == [
            ("POST /ui/silences", 303, "bob")]


def test_the_model_page_charts_estimates_beside_realized_quality_and_multivariate_drift(
        server: LiveServer) -> None:
    with _signed_in(server, READ_KEY) as c:
        page = c.get("/ui/models/fraud").text
    assert '"label": "estimated accuracy"' in page or '"label":"estimated accuracy"' in page
    assert "multivariate drift: PCA reconstruction error" in page

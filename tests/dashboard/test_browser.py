"""The dashboard in a real browser (Debian's Chromium through Playwright): every page renders
with no console error and charts that hold data, navigation, signing in, a silence created and
expired from the page, an acknowledgement, a read-only session, and a report file opened from
disk with the network blocked. Screenshots go to ``MODELMON_SCREENSHOTS`` (or a temporary
folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from modelmon.cli import app
from tests.support.browser import chromium, screenshot_dir, watch_console
from tests.support.dashboard import ADMIN_KEY, READ_KEY, dashboard_server
from tests.support.live_server import LiveServer

#: Every page, with the charts it must draw with data.
PAGES = {
    "overview": ("/ui/", []),
    "model": ("/ui/models/fraud", ["history", "quality-1", "ops-1", "drift-1"]),
    "drift": ("/ui/models/fraud/drift", ["distribution", "heatmap"]),
    "data-quality": ("/ui/models/fraud/quality", ["dq-1"]),
    "fairness": ("/ui/models/fraud/fairness", ["groups-1", "fair-1-1"]),
    "importance": ("/ui/models/fraud/importance", ["importance"]),
    "reports": ("/ui/models/fraud/reports", []),
    "alerts": ("/ui/alerts", []),
    "actions": ("/ui/actions", []),
    "system": ("/ui/system", ["live"]),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with dashboard_server(tmp_path_factory.mktemp("browser"), keys=True) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _sign_in(browser: Any, server: LiveServer, key: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server.url + "/ui/")
    assert "/ui/signin" in page.url
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/ui/")
    return page


@pytest.fixture(scope="module")
def admin(browser: Any, server: LiveServer) -> Iterator[Any]:
    page = _sign_in(browser, server, ADMIN_KEY)
    yield page
    page.context.close()


def _points(page: Any) -> dict[str, int]:
    return page.eval_on_selector_all(
        ".mm-chart", "els => Object.fromEntries(els.map(e => "
        "[e.id, parseInt(e.getAttribute('data-points') || '-1')]))")


def test_every_page_renders_without_errors_with_charts_that_hold_data(
        admin: Any, server: LiveServer, tmp_path: Path) -> None:
    shots = screenshot_dir(tmp_path)
    for name, (path, charts) in PAGES.items():
        problems = watch_console(admin)
        admin.goto(server.url + path)
        admin.wait_for_load_state("networkidle")
        # charts out of view are drawn a few per frame after the page shows
        admin.wait_for_function("Array.from(document.querySelectorAll('.mm-chart'))"
                                ".every(e => e.hasAttribute('data-points'))")
        if name == "system":  # its live chart fills from /ui/system/sample
            admin.wait_for_function("document.getElementById('live')"
                                    ".getAttribute('data-points') > 0", timeout=15_000)
        points = _points(admin)
        for chart in charts:
            assert points.get(chart, 0) > 0, (name, chart, points)
        assert all(n >= 0 for n in points.values()), (name, points)  # every chart was drawn
        assert not problems, (name, problems)
        admin.screenshot(path=str(shots / f"dashboard-{name}.png"), full_page=True)
    admin.goto(server.url + "/ui/")
    sparks = admin.eval_on_selector_all("svg.spark polyline",
                                        "els => els.map(e => e.getAttribute('points'))")
    assert sparks and all(len(p.split()) > 10 for p in sparks)


def test_navigation_from_the_overview_to_a_features_distribution(admin: Any,
                                                                 server: LiveServer) -> None:
    admin.goto(server.url + "/ui/")
    admin.click("a[href='/ui/models/fraud']")
    admin.wait_for_url("**/ui/models/fraud")
    assert admin.inner_text("#status").strip() == "degraded"
    admin.click(".tabs >> text=Drift")
    admin.wait_for_url("**/drift")
    first = admin.inner_text("#ranking tbody tr:first-child td:nth-child(2) a")
    assert first == "amount"  # the feature that drifts most comes first
    admin.click("#ranking a:text('age')")
    admin.wait_for_url("**feature=age**")
    assert "age: reference vs current" in admin.inner_text("h2 >> nth=1")
    box = admin.locator("#heatmap canvas").bounding_box()
    admin.mouse.click(box["x"] + box["width"] - 5, box["y"] + 8)  # amount, newest window
    admin.wait_for_url("**at=**")
    assert "amount: reference vs current" in admin.content()
    admin.click("header >> text=Operations")
    assert "view=operations" in admin.url


def test_a_silence_created_and_expired_from_the_page(admin: Any, server: LiveServer) -> None:
    admin.goto(server.url + "/ui/alerts")
    admin.fill("#silence-form textarea[name=matchers]", 'model="fraud"\nalertname="AccuracyDrop"')
    admin.fill("#silence-form input[name=duration]", "2h")
    admin.fill("#silence-form input[name=comment]", "browser test")
    admin.click("#silence-form button[type=submit]")
    admin.wait_for_selector("#flash")
    assert "created" in admin.inner_text("#flash")
    row = admin.locator("#silences tr", has_text="browser test")
    assert row.get_attribute("data-state") == "active"
    row.locator("button:text('expire')").click()
    admin.wait_for_selector("#flash")
    assert "expired" in admin.inner_text("#flash")
    assert admin.locator("#silences tr", has_text="browser test").get_attribute(
        "data-state") == "expired"


def test_an_alert_acknowledged_from_the_page(admin: Any, server: LiveServer) -> None:
    admin.goto(server.url + "/ui/alerts")
    row = admin.locator("#active tr", has=admin.locator("form.ack-form")).first
    fingerprint = row.get_attribute("data-fingerprint")
    row.locator("input[name=note]").fill("on it")
    row.locator("button:text('ack')").click()
    admin.wait_for_selector("#flash")
    acked = admin.locator(f"#active tr[data-fingerprint='{fingerprint}']")
    assert "alice" in acked.inner_text() and "on it" in acked.inner_text()


def test_a_read_only_key_looks_but_cannot_silence(browser: Any, server: LiveServer) -> None:
    page = _sign_in(browser, server, READ_KEY)
    try:
        page.goto(server.url + "/ui/alerts")
        assert page.locator("#silence-form").count() == 0
        assert page.locator("form.ack-form").count() == 0
        assert "viewer (read)" in page.inner_text("header")
        page.click("header >> text=sign out")
        page.wait_for_url("**/ui/signin")
        page.goto(server.url + "/ui/")
        assert "/ui/signin" in page.url
    finally:
        page.context.close()


def _frames(folder: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    n = 4000
    out = []
    for name, shift in (("ref", 0.0), ("cur", 1.0)):
        x = rng.normal(shift, 1, n)
        y = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
        score = 1 / (1 + np.exp(-(x - shift)))
        table = pa.table({"x": x, "z": rng.normal(0, 1, n),
                          "plan": rng.choice(["a", "b", "c"], n), "target": y, "score": score,
                          "prediction": (score > 0.5).astype(int)})
        path = folder / f"{name}.parquet"
        pq.write_table(table, path)
        out.append(path)
    return out[0], out[1]


def test_a_report_file_opens_from_disk_without_a_network(browser: Any, tmp_path: Path) -> None:
    ref, cur = _frames(tmp_path)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--reference", str(ref), "--current", str(cur),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    requests: list[str] = []
    context.route("**/*", lambda route: (requests.append(route.request.url),
                                         route.abort() if not route.request.url.startswith(
                                             "file:") else route.continue_()))
    page = context.new_page()
    problems = watch_console(page)
    page.goto(out.as_uri())
    page.wait_for_load_state("load")
    points = _points(page)
    assert len(points) == 4 and all(n > 0 for n in points.values()), points
    assert page.inner_text("#verdict").strip() in {"degraded", "warning"}
    assert "x" in page.inner_text("#drift")
    assert not problems, problems
    assert all(u.startswith("file:") for u in requests), requests
    page.screenshot(path=str(screenshot_dir(tmp_path) / "report.png"), full_page=True)
    context.close()

"""Debian's Chromium driven by Playwright (never a downloaded browser): one browser per test
module, with the flags that keep it off the network."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (fails the test with what to install when it is missing)."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is missing: `make test` installs it "
                    "(scripts/install-system-deps.sh; apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: pip install -e '.[test]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def watch_console(page: Any) -> list[str]:
    """Console errors and uncaught exceptions of ``page`` (the list fills as they come)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    return problems


def screenshot_dir(tmp: Path) -> Path:
    """Where screenshots go: ``MODELMON_SCREENSHOTS`` (docs/images for the docs), else ``tmp``."""
    folder = Path(os.environ.get("MODELMON_SCREENSHOTS") or tmp)
    folder.mkdir(parents=True, exist_ok=True)
    return folder

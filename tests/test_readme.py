"""The README's Python examples run as written (the SDK example needs a server: it runs against
a real one on a loopback port)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelmon.config import load_settings
from tests.support.live_server import live_server

README = Path(__file__).resolve().parents[1] / "README.md"
STARTER = README.parent / "src" / "modelmon" / "config" / "templates" / "starter.yaml"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("code", [b for b in BLOCKS if "Monitor(" not in b],
                         ids=lambda c: c.splitlines()[1][:40] if len(c.splitlines()) > 1 else c)
def test_library_examples_run(code: str) -> None:
    exec(compile(code, str(README), "exec"), {})


def test_sdk_example_runs_against_the_starter_config(tmp_path: Path) -> None:
    """``modelmon init``, ``modelmon serve``, then the README's SDK example: no API key in the
    environment means no authentication, and the example's record fits the starter's model."""
    [code] = [b for b in BLOCKS if "Monitor(" in b]
    (tmp_path / "modelmon.yaml").write_text(STARTER.read_text())
    settings = load_settings(tmp_path / "modelmon.yaml", env={},
                             overrides={"scheduler": {"enabled": False}})
    assert settings.server.api_key is None
    with live_server(settings) as server:
        code = code.replace("http://127.0.0.1:8000", server.url)
        scope: dict[str, object] = {}
        exec(compile(code, str(README), "exec"), scope)  # asserts that flush() succeeded
        monitor = scope["monitor"]
        assert monitor.stats.rejected == 0  # type: ignore[attr-defined]
        monitor.close()  # type: ignore[attr-defined]
        store = server.state.store
        assert store.count("fraud") == 1
        row = store.get_prediction("fraud", scope["pid"])
        assert row is not None and row["actual_label"] == "0" and row["version"] == "v3"

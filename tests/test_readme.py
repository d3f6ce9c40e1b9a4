"""The README's Python examples run as written (the SDK example needs a server: it runs against
a real one on a loopback port)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelmon.config import load_settings
from tests.support.live_server import live_server

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("code", [b for b in BLOCKS if "Monitor(" not in b],
                         ids=lambda c: c.splitlines()[1][:40] if len(c.splitlines()) > 1 else c)
def test_library_examples_run(code: str) -> None:
    exec(compile(code, str(README), "exec"), {})


def test_sdk_example_runs_against_a_real_server(tmp_path: Path) -> None:
    [code] = [b for b in BLOCKS if "Monitor(" in b]
    settings = load_settings(env={}, overrides={
        "store": {"path": str(tmp_path / "r.duckdb")}, "scheduler": {"enabled": False},
        "models": [{"name": "fraud", "task": "binary_classification",
                    "features": [{"name": "amount", "type": "numeric"},
                                 {"name": "country", "type": "categorical"}],
                    "prediction": {"classes": [0, 1], "score": True}}]})
    with live_server(settings) as server:
        code = code.replace("http://127.0.0.1:8000", server.url)
        scope: dict[str, object] = {}
        exec(compile(code, str(README), "exec"), scope)
        monitor = scope["monitor"]
        assert monitor.flush(30)  # type: ignore[attr-defined]
        monitor.close()  # type: ignore[attr-defined]
        store = server.state.store
        assert store.count("fraud") == 1
        row = store.get_prediction("fraud", scope["pid"])
        assert row is not None and row["actual_label"] == "0" and row["version"] == "v3"

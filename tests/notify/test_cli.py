"""`modelmon alerts test RECEIVER` sends a test message from the configuration file and fails
(exit 1) when an integration fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.receivers import Receiver

EXE = str(Path(sys.executable).parent / "modelmon")


def test_alerts_test_sends_through_each_integration(tmp_path: Path) -> None:
    hook = Receiver()
    try:
        (tmp_path / "mm.yaml").write_text(f"""
notifications:
  receivers:
    - name: team
      webhook: [{{url: "{hook.url}/hook"}}, {{url: "http://127.0.0.1:9/nothing-here"}}]
  route: {{receiver: team}}
""")
        done = subprocess.run([EXE, "alerts", "test", "team", "-c", "mm.yaml"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "team webhook #0: sent" in done.stdout
        assert "team webhook #1: failed: could not connect" in done.stdout
        [msg] = hook.requests
        assert msg.json()["alerts"][0]["labels"]["alertname"] == "ModelmonTest"
        missing = subprocess.run([EXE, "alerts", "test", "nobody", "-c", "mm.yaml"],
                                 cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert missing.returncode != 0 and "no receiver 'nobody'" in missing.stderr
    finally:
        hook.close()

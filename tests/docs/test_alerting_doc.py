"""docs/alerting.md stays true: every worked example (a ``modelmon rules test`` file) passes,
the deployment example validates, and the page covers each seed-style rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from modelmon.alerts.testing import run_rule_tests
from modelmon.config.settings import AlertSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "alerting.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
EXAMPLES = [b for b in BLOCKS if "\ntests:" in b]


def test_the_page_has_a_worked_example_for_each_seed_rule() -> None:
    rules = [yaml.safe_load(b)["rules"][0] for b in EXAMPLES]
    conditions = [(r["condition"]["kind"], r["condition"].get("metric") or
                   r["condition"].get("test") or r["condition"].get("check")) for r in rules]
    assert conditions == [("metric", "accuracy"), ("metric", "f1"),
                          ("metric", "latency_p95_seconds"), ("metric", "error_rate"),
                          ("drift", "psi"), ("metric", "mape"), ("service", "cpu"),
                          ("change", "accuracy")]


@pytest.mark.parametrize("block", EXAMPLES, ids=[yaml.safe_load(b)["rules"][0]["name"]
                                                 for b in EXAMPLES])
def test_each_worked_example_passes(block: str, tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(block, encoding="utf-8")
    outcomes = run_rule_tests(path)
    assert outcomes and all(o.passed for o in outcomes), [(o.name, o.failures) for o in outcomes]


def test_the_deployment_example_validates() -> None:
    [deploy] = [b for b in BLOCKS if b.startswith("alerts:")]
    settings = AlertSettings.model_validate(yaml.safe_load(deploy)["alerts"])
    assert [r.name for r in settings.rules] == ["AccuracyLow"]

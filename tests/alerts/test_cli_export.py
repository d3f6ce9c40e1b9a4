"""Alert rules on the command line: check, table tests, and the Prometheus export that promtool
accepts and whose generated unit tests pass (Debian's prometheus package gives promtool)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

EXE = str(Path(sys.executable).parent / "modelmon")
PROMTOOL = shutil.which("promtool")

CONFIG = """
models:
  - {name: fraud, task: binary_classification, windows: [1h], labels: {team: risk},
     owner: risk-ml, prediction: {classes: [0, 1], score: true},
     features: [{name: amount, type: numeric}]}
  - {name: price, task: regression, windows: [1h, 1d], preset: basic,
     features: [{name: x, type: numeric}]}
alerts:
  rules:
    - name: AccuracyLow
      match: [team=risk]
      condition: {kind: metric, metric: accuracy, op: "<", warning: 0.85, critical: 0.8}
      for: 3
      keep_firing_for: 30m
      labels: {page: "true"}
      annotations: {runbook_url: "https://wiki/runbooks/accuracy"}
      description: accuracy of the newest hourly window
    - name: MapeHigh
      match: [model=price]
      condition: {kind: metric, metric: mape, op: ">", value: "15%"}
    - name: MissingAmount
      match: [model=fraud]
      condition: {kind: data_quality, feature: amount, value: 0.2}
"""

TESTS = """
rules:
  - {name: AccuracyLow, condition: {kind: metric, metric: accuracy, op: "<", value: 0.8}, for: 2,
     keep_firing_for: 1h}
  - {name: Degraded, condition: {kind: verdict}, severity: critical}
model: {name: fraud, task: binary_classification, labels: {team: risk}}
interval: 1h
tests:
  - name: two low windows fire it; keep_firing_for holds it one window
    windows:
      - {metrics: {accuracy: 0.9}}
      - {metrics: {accuracy: 0.7}}
      - {metrics: {accuracy: 0.7}, status: degraded,
         reasons: [{kind: quality, severity: critical, message: accuracy fell}]}
      - {metrics: {accuracy: 0.9}}
      - {metrics: {accuracy: 0.9}}
    expect:
      - {after: 2, pending: [{alertname: AccuracyLow}], firing: []}
      - {after: 3, firing: [{alertname: AccuracyLow, team: risk}, {alertname: Degraded}]}
      - {after: 4, firing: [{alertname: AccuracyLow}]}
      - {after: 5, firing: []}
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_rules_check_names_the_rule_and_the_field(tmp_path: Path) -> None:
    (tmp_path / "mm.yaml").write_text(CONFIG)
    ok = run("rules", "check", "mm.yaml", cwd=tmp_path)
    assert ok.returncode == 0 and "3 rule(s) OK" in ok.stdout, ok.stderr
    (tmp_path / "bad.yaml").write_text(
        "rules:\n  - {name: Fine, condition: {kind: verdict}}\n"
        "  - {name: Broken, condition: {kind: metric, metric: accuracy}}\n")
    bad = run("rules", "check", "bad.yaml", cwd=tmp_path)
    assert bad.returncode != 0 and "rule 'Broken'" in bad.stderr and "condition.metric" in bad.stderr
    (tmp_path / "tmpl.yaml").write_text(
        "- {name: T, condition: {kind: verdict}, annotations: {summary: '{{ model '}}\n")
    broken = run("rules", "check", "tmpl.yaml", cwd=tmp_path)
    assert broken.returncode != 0 and "annotation 'summary'" in broken.stderr


def test_rules_test_runs_table_tests_and_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(TESTS)
    ok = run("rules", "test", "t.yaml", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 passed, 0 failed" in ok.stdout
    (tmp_path / "wrong.yaml").write_text(TESTS.replace("{after: 5, firing: []}",
                                                       "{after: 5, firing: [{alertname: X}]}"))
    wrong = run("rules", "test", "wrong.yaml", cwd=tmp_path)
    assert wrong.returncode == 1 and "FAIL" in wrong.stdout and "expected firing" in wrong.stdout


def test_prometheus_export_passes_promtool_check_and_its_own_unit_tests(tmp_path: Path) -> None:
    assert PROMTOOL is not None, "promtool comes with Debian's prometheus package (make test " \
        "installs it: scripts/install-system-deps.sh)"
    (tmp_path / "mm.yaml").write_text(CONFIG)
    done = run("export", "prometheus-rules", "--config", "mm.yaml", "--out", "rules.yaml",
               "--tests", "rules_test.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "not exported: fraud/MissingAmount" in done.stderr  # said, with the reason
    doc = yaml.safe_load((tmp_path / "rules.yaml").read_text())
    fraud = next(g for g in doc["groups"] if g["name"] == "modelmon-fraud")
    low = [r for r in fraud["rules"] if r["alert"] == "AccuracyLow"]
    assert [r["labels"]["severity"] for r in low] == ["critical", "warning"]
    assert low[0]["for"] == "2h" and low[0]["keep_firing_for"] == "30m"
    assert "unless" in low[1]["expr"]  # the warning tier stops where the critical one starts
    assert low[0]["annotations"]["runbook_url"] == "https://wiki/runbooks/accuracy"
    price = next(g for g in doc["groups"] if g["name"] == "modelmon-price")
    mape = next(r for r in price["rules"] if r["alert"] == "MapeHigh")
    assert mape["expr"].endswith("> 0.15")  # "15%" is a fraction in /metrics
    assert {r["alert"] for r in price["rules"]} >= {"ModelDegraded", "HighErrorRate",
                                                    "ModelSilent"}
    assert subprocess.run([PROMTOOL, "check", "rules", "rules.yaml"], cwd=tmp_path,
                          capture_output=True, text=True).returncode == 0
    tested = subprocess.run([PROMTOOL, "test", "rules", "rules_test.yaml"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    tests = yaml.safe_load((tmp_path / "rules_test.yaml").read_text())["tests"]
    assert len(tests) >= 2 * 10  # each exported rule fires once and stays quiet once

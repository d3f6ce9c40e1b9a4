"""``modelmon report``: the HTML file, the JSON with the same numbers, the exit codes for CI,
the input formats, a model config, and its judgement (drift, degradation, a stable pair)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from modelmon.cli import app
from modelmon.dashboard.render import fmt_number
from modelmon.drift import compare

N = 5000


def frame(rng: np.random.Generator, *, shift: float = 0.0, broken: bool = False) -> pa.Table:
    """A binary model's inputs, output and target; ``shift`` moves x, ``broken`` makes the
    model's output unrelated to the target (its quality falls)."""
    x = rng.normal(shift, 1, N)
    z = rng.normal(0, 1, N)
    plan = rng.choice(["basic", "plus", "premium"], N, p=[0.5, 0.3, 0.2])
    p_true = 1 / (1 + np.exp(-2 * x))
    y = (rng.random(N) < p_true).astype(np.int64)
    score = rng.random(N) if broken else 1 / (1 + np.exp(-2 * x))
    return pa.table({"x": x, "z": z, "plan": plan, "score": score,
                     "prediction": (score >= 0.5).astype(np.int64), "target": y})


def write(table: pa.Table, path: Path) -> Path:
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    elif path.suffix == ".csv":
        pcsv.write_csv(table, path)
    else:
        feather.write_feather(table, path)
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["report", *args])


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    return (write(frame(rng), tmp_path / "ref.parquet"),
            write(frame(rng, shift=0.8), tmp_path / "cur.parquet"))


def test_drift_is_reported_in_html_and_json_with_the_same_numbers(pair: tuple[Path, Path],
                                                                   tmp_path: Path) -> None:
    ref, cur = pair
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    result = run("--reference", str(ref), "--current", str(cur), "--out", str(out),
                 "--json", str(js))
    assert result.exit_code == 0, result.output
    report = json.loads(js.read_text())
    html = out.read_text()
    features = {f["feature"]: f for f in report["drift"]["features"]}
    assert features["x"]["drifted"] and not features["z"]["drifted"]
    # the numbers are the drift library's own
    direct = {r.feature: r for r in compare(pq.read_table(ref).select(["x", "z", "plan"]),
                                            pq.read_table(cur).select(["x", "z", "plan"]))}
    for name in ("x", "z", "plan"):
        assert features[name]["statistic"] == pytest.approx(direct[name].statistic, rel=1e-12)
        row = re.search(rf'<tr data-feature="{name}">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
        assert fmt_number(features[name]["statistic"]) in row
    assert set(report["distributions"]) >= {"x", "z", "plan", "prediction"}
    assert report["inputs"]["reference_rows"] == N and report["kind"] == "offline"
    assert any(r["kind"] == "drift" and r["feature"] == "x" for r in report["reasons"])
    # one file that opens without a network, far below the size limit
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "uPlot" in html and out.stat().st_size < 2_000_000


def test_exit_codes_for_ci(pair: tuple[Path, Path], tmp_path: Path) -> None:
    ref, cur = pair
    out = str(tmp_path / "r.html")
    assert run("-r", str(ref), "--current", str(cur), "-o", out, "--fail-on", "drift"
               ).exit_code == 1
    assert run("-r", str(ref), "--current", str(ref), "-o", out, "--fail-on", "any"
               ).exit_code == 0
    bad = run("-r", str(ref), "--current", str(cur), "-o", out, "--fail-on", "everything")
    assert bad.exit_code == 2 and "--fail-on" in bad.output


def test_a_model_whose_quality_fell_fails_on_degradation(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    ref = write(frame(rng), tmp_path / "ref.parquet")
    cur = write(frame(rng, broken=True), tmp_path / "cur.parquet")
    js = tmp_path / "r.json"
    result = run("-r", str(ref), "--current", str(cur), "-o", str(tmp_path / "r.html"),
                 "--json", str(js), "--fail-on", "degradation")
    assert result.exit_code == 1, result.output
    report = json.loads(js.read_text())
    assert report["status"] == "degraded"
    worse = {r["metric"] for r in report["reasons"] if r["kind"] == "quality"}
    assert "roc_auc" in worse
    auc = next(m for m in report["metrics"] if m["metric"] == "roc_auc")
    assert auc["value"] < 0.6 < auc["reference_value"] and auc["finding"]


def test_a_stable_pair_is_healthy(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ref = write(frame(rng), tmp_path / "ref.parquet")
    cur = write(frame(rng), tmp_path / "cur.parquet")
    js = tmp_path / "r.json"
    result = run("-r", str(ref), "--current", str(cur), "-o", str(tmp_path / "r.html"),
                 "--json", str(js), "--fail-on", "any")
    assert result.exit_code == 0, result.output
    report = json.loads(js.read_text())
    assert report["status"] == "healthy" and not report["reasons"]
    assert report["inputs"]["quality_chunks"] >= 4  # quality was judged, not skipped


@pytest.mark.parametrize("suffix", [".csv", ".arrow"])
def test_csv_and_arrow_inputs_give_the_parquet_numbers(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(4)
    ref_t, cur_t = frame(rng), frame(rng, shift=0.5)
    numbers = []
    for ext in (".parquet", suffix):
        js = tmp_path / f"r{ext}.json"
        result = run("-r", str(write(ref_t, tmp_path / f"ref{ext}")), "--current",
                     str(write(cur_t, tmp_path / f"cur{ext}")), "-o",
                     str(tmp_path / f"r{ext}.html"), "--json", str(js))
        assert result.exit_code == 0, result.output
        numbers.append({f["feature"]: f["statistic"]
                        for f in json.loads(js.read_text())["drift"]["features"]})
    assert numbers[0].keys() == numbers[1].keys()
    for name, value in numbers[0].items():
        assert numbers[1][name] == pytest.approx(value, rel=1e-9), name


def test_a_model_config_names_the_features_and_columns(pair: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    ref, cur = pair
    config = tmp_path / "model.yaml"
    config.write_text(
        "name: churn\ntask: binary_classification\n"
        "features:\n  - {name: z, type: numeric}\n  - {name: plan, type: categorical}\n"
        "prediction: {classes: ['0', '1'], score: true}\n"
        "reference:\n  columns: {target: target, score: score, prediction: prediction}\n")
    js = tmp_path / "r.json"
    result = run("-r", str(ref), "--current", str(cur), "-c", str(config), "-o",
                 str(tmp_path / "r.html"), "--json", str(js), "--fail-on", "drift")
    report = json.loads(js.read_text())
    assert report["model"] == "churn"
    assert {f["feature"] for f in report["drift"]["features"]} == {"z", "plan", "prediction"}
    assert result.exit_code == 1  # the model's output drifts with x


def test_bad_inputs_are_errors_not_tracebacks(pair: tuple[Path, Path], tmp_path: Path) -> None:
    ref, cur = pair
    missing = run("-r", str(tmp_path / "nope.parquet"), "--current", str(cur))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    (tmp_path / "data.xlsx").write_text("x")
    wrong = run("-r", str(tmp_path / "data.xlsx"), "--current", str(cur))
    assert wrong.exit_code == 2 and ".parquet" in wrong.output
    write(pa.table({"other": [1.0, 2.0]}), tmp_path / "other.parquet")
    columns = run("-r", str(ref), "--current", str(tmp_path / "other.parquet"),
                  "-o", str(tmp_path / "x.html"))
    assert columns.exit_code == 2 and "no column" in columns.output


def _scored(rng: np.random.Generator, n: int, scale: float, *, correlated: bool = True,
            labelled: bool = True) -> tuple[pa.Table, np.ndarray]:
    """A calibrated binary model on x (z follows x when ``correlated``); its labels are
    returned beside the table even when the table leaves them out."""
    x = rng.normal(0, scale, n)
    z = x + rng.normal(0, 0.3 * scale, n) if correlated else rng.normal(0, 1.044 * scale, n)
    p = 1 / (1 + np.exp(-2 * x))
    y = (rng.random(n) < p).astype(np.int64)
    cols: dict[str, Any] = {"x": x, "z": z, "score": p, "prediction": (p >= 0.5).astype(np.int64)}
    if labelled:
        cols["target"] = y
    return pa.table(cols), y


def test_quality_is_estimated_when_the_current_data_has_no_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ref = write(_scored(rng, 20_000, 2.0)[0], tmp_path / "ref.parquet")
    # inputs move where the model is unsure: accuracy falls, and no label says so
    table, y = _scored(rng, 3_000, 0.4, labelled=False)
    cur = write(table, tmp_path / "cur.parquet")
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    result = run("-r", str(ref), "--current", str(cur), "--out", str(out), "--json", str(js),
                 "--fail-on", "degradation")
    assert result.exit_code == 1, result.output
    report = json.loads(js.read_text())
    rows = {m["metric"]: m for m in report["metrics"]}
    acc = rows["accuracy"]
    assert acc["value"] is None and acc["finding"]
    truth = float(((table.column("score").to_numpy() >= 0.5) == y).mean())
    # the estimate lies within 3 standard errors of the accuracy the hidden labels give
    assert abs(acc["estimated"] - truth) < 3 * acc["estimated_standard_error"] + 0.01
    assert acc["estimated"] < 0.75 < rows["accuracy"]["baseline_mean"]
    kinds = {r["kind"] for r in report["reasons"]}
    assert "estimated_quality" in kinds
    assert "estimated accuracy" in out.read_text()


def test_a_broken_correlation_is_multivariate_drift_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    ref = write(_scored(rng, 20_000, 2.0)[0], tmp_path / "ref.parquet")
    cur = write(_scored(rng, 3_000, 2.0, correlated=False, labelled=False)[0],
                tmp_path / "cur.parquet")
    stable = write(_scored(rng, 3_000, 2.0, labelled=False)[0], tmp_path / "stable.parquet")
    js = tmp_path / "r.json"
    result = run("-r", str(ref), "--current", str(cur), "--out", str(tmp_path / "r.html"),
                 "--json", str(js), "--fail-on", "drift")
    assert result.exit_code == 1, result.output
    report = json.loads(js.read_text())
    assert not any(f["drifted"] for f in report["drift"]["features"])  # each feature alone: same
    [mv] = report["multivariate"]
    assert mv["metric"] == "reconstruction_error" and mv["finding"] and mv["sigmas"] > 10
    assert {c["feature"] for c in mv["contributors"]} == {"x", "z"}
    assert [r["kind"] for r in report["reasons"]] == ["multivariate_drift"]
    quiet = run("-r", str(ref), "--current", str(stable), "--out", str(tmp_path / "s.html"),
                "--json", str(js), "--fail-on", "any")
    assert quiet.exit_code == 0, quiet.output
    assert json.loads(js.read_text())["status"] == "healthy"


def test_equal_bins_count_as_searchsorted_does() -> None:
    from modelmon.report.distributions import _counts

    rng = np.random.default_rng(0)
    for _ in range(300):
        x = rng.normal(rng.normal(), rng.uniform(0.1, 10), rng.integers(1, 3000))
        x[rng.random(x.size) < 0.01] = np.nan
        lo, hi = np.sort(rng.normal(0, 3, 2))
        edges = np.linspace(lo, hi, rng.integers(2, 30))
        x = np.concatenate([x, edges, [np.inf, -np.inf]])  # values exactly on every edge
        finite = x[np.isfinite(x)]
        expected = np.bincount(np.searchsorted(edges, finite, side="right"),
                               minlength=edges.size + 1)
        assert (_counts(x, edges) == expected).all()

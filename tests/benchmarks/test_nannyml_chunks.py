"""The harness side of NannyML's per-chunk runs (benchmarks/peers/nannyml_chunks.py and the
result shaping in run_nannyml_chunks.py). NannyML itself is not installed here: the runner is
replaced by a stand-in script, and the shaping is fed frames of NannyML's result layout."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import benchmarks.peers.nannyml_chunks as nc
import numpy as np
import pyarrow.parquet as pq
import pytest

from benchmarks import public_data

PEERS_DIR = Path(nc.__file__).resolve().parent


@pytest.fixture
def runner_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # The runner imports its sibling ``_runner_io`` as a top-level module, as its own interpreter
    # does when it runs the script.
    monkeypatch.syspath_prepend(str(PEERS_DIR))
    return importlib.import_module("run_nannyml_chunks")


def _chunk(
    period: str, index: int, drift: dict[str, bool], perf: dict[str, bool]
) -> dict[str, Any]:
    return {
        "period": period,
        "index": index,
        "key": f"[{index * 10}:{index * 10 + 9}]",
        "start": index * 10,
        "end": index * 10 + 10,
        "start_date": None,
        "end_date": None,
        "univariate_drift": {
            f: {"method": "jensen_shannon", "value": 0.1, "alert": a} for f, a in drift.items()
        },
        "performance": {m: {"value": 0.9, "alert": a} for m, a in perf.items()},
    }


DOCUMENT = {
    "tool": "chunks",
    "chunks": [
        _chunk("reference", 0, {"a": False, "b": False}, {"roc_auc": False}),
        _chunk("reference", 1, {"a": True, "b": False}, {"roc_auc": False}),
        _chunk("analysis", 0, {"a": False, "b": False}, {"roc_auc": False}),
        _chunk("analysis", 1, {"a": True, "b": True}, {"roc_auc": True}),
        _chunk("analysis", 2, {"a": False, "b": True}, {"roc_auc": True}),
    ],
}


def test_alert_summary() -> None:
    summary = nc.alert_summary(DOCUMENT)
    assert summary["univariate_drift"]["a"] == {
        "first_analysis_alert": 1,
        "analysis_alerts": [1],
        "reference_alerts": [1],
    }
    assert summary["univariate_drift"]["b"]["analysis_alerts"] == [1, 2]
    assert summary["performance"]["roc_auc"]["first_analysis_alert"] == 1
    assert "estimated_performance" not in summary
    assert summary["features_alerting"] == {"reference": [0, 1], "analysis": [0, 2, 1]}


def test_chunk_table() -> None:
    rows = nc.chunk_table(DOCUMENT)
    assert [r["drift_alerts"] for r in rows] == [0, 1, 0, 2, 1]
    assert rows[3]["drifting"] == "a, b"
    assert rows[3]["realized_roc_auc"] == 0.9
    assert rows[3]["realized_alerts"] == "roc_auc"
    assert rows[0]["rows"] == 10


def test_result_path_is_keyed_by_set_chunking_and_version(tmp_path: Path) -> None:
    assert nc.nannyml_version() == public_data.NANNYML_VERSION
    a = nc.result_path("titanic", 100, None, tmp_path)
    assert a.parent == tmp_path / ".data" / "nannyml-chunks"
    assert "titanic" in a.name and "size100" in a.name and "nannyml0.13.1" in a.name
    assert nc.result_path("titanic", 50, None, tmp_path) != a
    assert "periodM" in nc.result_path("titanic", None, "M", tmp_path).name


def test_parse_document_takes_the_last_result_line() -> None:
    out = 'noise\n{"tool": "chunks", "n": 1}\n{"other": 1}\n{"tool": "chunks", "n": 2}\nbye\n'
    assert nc.parse_document(out) == {"tool": "chunks", "n": 2}
    assert nc.parse_document("nothing\n{broken") is None


def _fake_runner(tmp_path: Path, fail: bool = False) -> Path:
    script = tmp_path / "fake_runner.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import json, sys
            spec = json.load(open(sys.argv[1]))
            print("library chatter")
            with open({str(tmp_path / "calls.txt")!r}, "a") as fh:
                fh.write("call\\n")
            doc = {{"peer": "nannyml", "tool": "chunks", "version": "0.13.1", "spec": spec,
                    "chunks": [], "errors": {{}}, "error": {"'boom'" if fail else "None"}}}
            print(json.dumps(doc))
            """
        )
    )
    return script


def test_run_writes_inputs_runs_once_and_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nc, "ensure_env", lambda peer, root: Path(sys.executable))
    monkeypatch.setattr(nc, "RUNNER", _fake_runner(tmp_path))
    doc = nc.run("titanic", root=tmp_path)
    assert doc["cached"] is False and doc["error"] is None and doc["wall_seconds"] > 0
    spec = doc["spec"]
    ds = public_data.load("titanic")
    assert spec["chunk_size"] == ds.chunk_size and spec["chunk_period"] is None
    assert spec["numeric"] == ds.numeric and spec["categorical"] == ds.categorical
    assert (spec["target"], spec["prediction"], spec["score"]) == ("Survived", None, None)
    assert pq.read_table(spec["reference"]).equals(ds.reference)
    assert pq.read_table(spec["analysis"]).equals(ds.analysis)
    again = nc.run("titanic", root=tmp_path)
    assert again["cached"] is True and again["spec"] == spec
    assert (tmp_path / "calls.txt").read_text().count("call") == 1
    refreshed = nc.run("titanic", root=tmp_path, refresh=True)
    assert refreshed["cached"] is False
    monthly = nc.run("modified_california_housing", chunk_period="M", root=tmp_path)
    assert monthly["spec"]["chunk_period"] == "M" and monthly["spec"]["chunk_size"] is None
    assert monthly["spec"]["timestamp"] == "timestamp"


def test_failed_runs_are_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nc, "ensure_env", lambda peer, root: Path(sys.executable))
    monkeypatch.setattr(nc, "RUNNER", _fake_runner(tmp_path, fail=True))
    assert nc.run("titanic", root=tmp_path)["error"] == "boom"
    assert nc.run("titanic", root=tmp_path)["cached"] is False
    monkeypatch.setattr(nc, "RUNNER", tmp_path / "missing.py")
    doc = nc.run("titanic", root=tmp_path)
    assert doc["error"].startswith("runner exited with")


# --- shaping NannyML's result frames (pandas, no NannyML) -------------------------------------------


def _nannyml_like_frames() -> tuple[Any, Any]:
    pd = pytest.importorskip("pandas")
    chunk_cols = [
        "key",
        "chunk_index",
        "start_index",
        "end_index",
        "start_date",
        "end_date",
        "period",
    ]
    chunks = [
        ["[0:9]", 0, 0, 9, pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-02"), "reference"],
        ["[0:4]", 0, 0, 4, pd.Timestamp("2020-02-01"), pd.NaT, "analysis"],
    ]
    drift = pd.DataFrame(
        [[*c, 0.1, 0.2, None, np.False_, 0.3, 0.2, None, np.True_] for c in chunks],
        columns=pd.MultiIndex.from_tuples(
            [("chunk", "chunk", c) for c in chunk_cols]
            + [
                (f, "jensen_shannon", k)
                for f in ("b", "a")
                for k in ("value", "upper_threshold", "lower_threshold", "alert")
            ]
        ),
    )
    perf = pd.DataFrame(
        [[*c, 0.01, 0.9, 0.95, 0.85, False] for c in chunks],
        columns=pd.MultiIndex.from_tuples(
            [("chunk", c) for c in chunk_cols]
            + [
                ("roc_auc", k)
                for k in ("sampling_error", "value", "upper_threshold", "lower_threshold", "alert")
            ]
        ),
    )
    return drift, perf


def test_chunk_rows_and_merge(runner_module: ModuleType) -> None:
    drift, perf = _nannyml_like_frames()
    tables = {
        "univariate_drift": runner_module.chunk_rows(drift),
        "performance": runner_module.chunk_rows(perf),
    }
    merged = runner_module.merge_chunks(tables)
    assert [(c["period"], c["index"], c["start"], c["end"]) for c in merged] == [
        ("reference", 0, 0, 10),
        ("analysis", 0, 0, 5),
    ]
    assert merged[0]["start_date"] == "2020-01-01T00:00:00"
    assert merged[1]["end_date"] is None
    assert merged[1]["univariate_drift"]["a"] == {
        "method": "jensen_shannon",
        "value": 0.3,
        "upper_threshold": 0.2,
        "lower_threshold": None,
        "alert": True,
    }
    assert merged[0]["performance"]["roc_auc"]["alert"] is False
    json.dumps(merged, allow_nan=False)  # plain JSON: no NumPy scalars, no NaN
    tables["performance"] = tables["performance"][:1]
    with pytest.raises(RuntimeError, match="chunked the data differently"):
        runner_module.merge_chunks(tables)


def test_runner_main_reports_errors_as_json(
    runner_module: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"dataset": "x"}))

    def broken(_: dict[str, Any]) -> dict[str, Any]:
        print("chatter that must not reach stdout")
        raise ValueError("nope")

    assert runner_module.main([str(spec)], run_spec=broken) == 1
    out = capsys.readouterr().out
    assert "chatter" not in out
    assert nc.parse_document(out) == {
        "peer": "nannyml",
        "tool": "chunks",
        "dataset": "x",
        "error": "ValueError: nope",
    }

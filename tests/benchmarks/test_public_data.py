"""The public data sets read from NannyML's wheel (benchmarks/public_data.py): shapes, column roles
and types, the analysis-target join, chunking, the per-chunk check behind the recorded known
changes, and the once-only, atomic wheel download. The first test to load a set downloads the
23 MB wheel from PyPI into benchmarks/.data/nannyml-wheel/ (once; later runs reuse it)."""

from __future__ import annotations

import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import benchmarks.public_data as pdata
import numpy as np
import pyarrow as pa
import pytest
from benchmarks.public_data import DATASETS, PublicDataset, chunk_bounds, load, roc_auc, summarize

# name: (reference rows, analysis rows, numeric, categorical, target, prediction, score,
#        timestamp, identifier, chunk size)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "synthetic_binary_classification": (
        50_000,
        50_000,
        ["distance_from_office", "gas_price_per_litre", "public_transportation_cost", "tenure"],
        ["salary_range", "wfh_prev_workday", "workday"],
        "work_home_actual",
        "y_pred",
        "y_pred_proba",
        "timestamp",
        "id",
        5000,
    ),
    "modified_california_housing": (
        5_832,
        8_232,
        [
            "MedInc",
            "HouseAge",
            "AveRooms",
            "AveBedrms",
            "Population",
            "AveOccup",
            "Latitude",
            "Longitude",
        ],
        [],
        "clf_target",
        "y_pred",
        "y_pred_proba",
        "timestamp",
        "id",
        729,
    ),
    "us_census_ma_employment": (
        68_785,
        208_892,
        ["AGEP"],
        [
            "SCHL",
            "MAR",
            "RELP",
            "DIS",
            "ESP",
            "CIT",
            "MIG",
            "MIL",
            "ANC",
            "NATIVITY",
            "DEAR",
            "DEYE",
            "DREM",
            "SEX",
            "RAC1P",
        ],
        "employed",
        "prediction",
        "predicted_probability",
        None,
        "id",
        5000,
    ),
    "titanic": (
        891,
        418,
        ["Age", "SibSp", "Parch", "Fare"],
        ["Pclass", "Name", "Sex", "Ticket", "Cabin", "Embarked"],
        "Survived",
        None,
        None,
        None,
        "PassengerId",
        100,
    ),
    "synthetic_multiclass": (
        60_000,
        60_000,
        ["app_behavioral_score", "requested_credit_limit", "credit_bureau_score", "stated_income"],
        ["acq_channel", "app_channel", "is_customer"],
        "y_true",
        "y_pred",
        {
            "prepaid_card": "y_pred_proba_prepaid_card",
            "highstreet_card": "y_pred_proba_highstreet_card",
            "upmarket_card": "y_pred_proba_upmarket_card",
        },
        "timestamp",
        "id",
        6000,
    ),
    "synthetic_car_price": (
        60_000,
        60_000,
        ["car_age", "km_driven", "price_new", "accident_count", "door_count"],
        ["fuel", "transmission"],
        "y_true",
        "y_pred",
        None,
        "timestamp",
        "id",
        6000,
    ),
}


def test_every_set_is_described() -> None:
    assert set(EXPECTED) == set(DATASETS)


@pytest.mark.parametrize("name", DATASETS)
def test_shapes_and_roles(name: str) -> None:
    ref_rows, ana_rows, numeric, categorical, target, prediction, score, ts, ident, size = EXPECTED[
        name
    ]
    ds = load(name)
    assert isinstance(ds, PublicDataset)
    assert ds.name == name
    assert (ds.reference.num_rows, ds.analysis.num_rows) == (ref_rows, ana_rows)
    assert ds.numeric == numeric
    assert ds.categorical == categorical
    assert ds.features == numeric + categorical
    assert (ds.target, ds.prediction, ds.score) == (target, prediction, score)
    assert (ds.timestamp, ds.identifier, ds.chunk_size) == (ts, ident, size)
    assert ds.task in ("binary_classification", "multiclass_classification", "regression")
    assert ds.description and ds.docs_chunking


@pytest.mark.parametrize("name", DATASETS)
def test_column_types_and_order(name: str) -> None:
    ds = load(name)
    assert ds.reference.schema == ds.analysis.schema
    names = ds.reference.column_names
    scores = list(ds.score.values()) if isinstance(ds.score, dict) else [ds.score]
    expected = [ds.identifier, ds.timestamp, *ds.features, *ds.extra, ds.target, ds.prediction]
    assert names == [c for c in [*expected, *scores] if c]
    schema = ds.reference.schema
    for column in ds.numeric:
        assert schema.field(column).type == pa.float64()
    for column in ds.categorical:
        assert schema.field(column).type == pa.string()
    if ds.timestamp:
        assert schema.field(ds.timestamp).type == pa.timestamp("us")
        for table in (ds.reference, ds.analysis):
            stamps = table.column(ds.timestamp).to_numpy()
            assert np.all(stamps[1:] >= stamps[:-1])  # time order, which chunking relies on
        assert (
            ds.reference.column(ds.timestamp)[-1].as_py()
            <= ds.analysis.column(ds.timestamp)[0].as_py()
        )


@pytest.mark.parametrize("name", DATASETS)
def test_analysis_targets_are_joined(name: str) -> None:
    ds = load(name)
    for table in (ds.reference, ds.analysis):
        assert table.column(ds.target).null_count == 0
        ids = table.column(ds.identifier).to_numpy()
        assert len(np.unique(ids)) == len(ids)
    ref_ids = set(ds.reference.column(ds.identifier).to_pylist())
    assert not ref_ids & set(ds.analysis.column(ds.identifier).to_pylist())


def test_label_values() -> None:
    binary = load("synthetic_binary_classification")
    for table in (binary.reference, binary.analysis):
        assert set(table.column("work_home_actual").to_pylist()) == {0, 1}
        assert set(table.column("y_pred").to_pylist()) == {0, 1}
        assert set(table.column("wfh_prev_workday").to_pylist()) == {"True", "False"}
    mc = load("synthetic_multiclass")
    assert mc.classes == ["prepaid_card", "highstreet_card", "upmarket_card"]
    assert mc.positive_class is None
    assert isinstance(mc.score, dict)
    for table in (mc.reference, mc.analysis):
        assert set(table.column("y_true").to_pylist()) == set(mc.classes)
        total = sum(table.column(col).to_numpy() for col in mc.score.values())
        np.testing.assert_allclose(total, 1.0, atol=0.011)  # scores are rounded to 2 places
    census = load("us_census_ma_employment")
    assert census.extra == ["year"]
    assert set(census.reference.column("year").to_pylist()) == {2015}
    assert set(census.analysis.column("year").to_pylist()) == {2016, 2017, 2018}
    assert "17" in set(census.reference.column("RELP").to_pylist())
    titanic = load("titanic")
    assert titanic.reference.column("Pclass").to_pylist()[:3] == ["3", "1", "3"]
    # Empty CSV fields are nulls, as pandas reads them (the missing-values tutorial counts them).
    assert titanic.reference.column("Age").null_count == 177
    assert titanic.analysis.column("Fare").null_count == 1
    assert titanic.reference.column("Cabin").null_count > 600


def test_california_predictions_follow_the_documented_threshold() -> None:
    ds = load("modified_california_housing")
    for table in (ds.reference, ds.analysis):
        score = table.column("y_pred_proba").to_numpy()
        np.testing.assert_array_equal(table.column("y_pred").to_numpy(), score >= 0.8)


def test_load_is_cached_and_rejects_unknown_names() -> None:
    assert load("titanic") is load("titanic")
    with pytest.raises(ValueError, match="Unknown data set"):
        load("iris")


# --- chunks and the check ---------------------------------------------------------------------------


def test_chunk_bounds_by_size_keep_the_remainder() -> None:
    table = pa.table({"x": np.arange(12)})
    assert chunk_bounds(table, 5) == [(0, 5), (5, 10), (10, 12)]
    assert chunk_bounds(table, 4) == [(0, 4), (4, 8), (8, 12)]
    assert chunk_bounds(table.slice(0, 0), 4) == []
    with pytest.raises(ValueError):
        chunk_bounds(table)


def test_chunk_bounds_by_month() -> None:
    ds = load("modified_california_housing")
    ref = ds.chunks("reference", chunk_period="M")
    assert [b - a for a, b in ref] == [744, 720, 744, 744, 672, 744, 720, 744]  # Oct .. May
    ana = ds.chunks("analysis", chunk_period="M")
    assert len(ana) == 12 and ana[-1] == (8232 - 216, 8232)  # 9 days of May 2022
    assert ds.chunks("reference") == [(i * 729, (i + 1) * 729) for i in range(8)]
    with pytest.raises(ValueError, match="time order"):
        chunk_bounds(
            ds.reference.take(np.arange(ds.reference.num_rows)[::-1]), None, "M", "timestamp"
        )


def test_roc_auc_matches_scikit_learn() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 500)
    score = np.round(rng.random(500) + 0.3 * y, 1)  # many ties
    assert roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert np.isnan(roc_auc(np.ones(4), np.arange(4.0)))


@pytest.mark.parametrize("name", DATASETS)
def test_known_changes_are_what_the_check_finds(name: str) -> None:
    ds = load(name)
    rows = summarize(ds)
    analysis_chunks = len(ds.chunks("analysis"))
    assert len(rows) == len(ds.chunks("reference")) + analysis_chunks
    for change in ds.known_changes:
        found = pdata.moved_chunks(rows, change.columns)
        assert tuple(found) == change.chunks, change
        assert change.first_chunk == (found[0] if found else None)
        assert set(change.columns) <= set(ds.features)
        assert change.documented and change.measured
    placed = [c for c in ds.known_changes if c.rows is not None]
    if placed:
        fine = summarize(ds, chunk_size=1000)
        n = ds.analysis.num_rows
        for change in placed:
            assert change.rows is not None
            start, end = change.rows
            moved = set(pdata.moved_chunks(fine, change.columns))
            assert start // 1000 in moved and start // 1000 - 1 not in moved, change
            if end < n:
                assert (end - 1) // 1000 in moved and end // 1000 not in moved, change


def test_synthetic_binary_shift_is_in_the_second_half() -> None:
    ds = load("synthetic_binary_classification")
    rows = {(r["period"], r["chunk"]): r for r in summarize(ds)}
    for i in range(5):
        assert rows["analysis", i]["features_moved"] <= 1
    for i in range(5, 10):
        assert rows["analysis", i]["features_moved"] == 4
        assert rows["analysis", i]["roc_auc"] < 0.964
    # Reference chunks define the bands; the check rarely fires on them.
    assert sum(r["features_moved"] for k, r in rows.items() if k[0] == "reference") <= 2


def test_cli_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    text = pdata.main(["titanic"])
    assert text in capsys.readouterr().out
    assert "| reference | 0 | 100 |" in text
    assert "target_rate" in text
    text = pdata.main(["modified_california_housing", "--chunk-period", "M"])
    assert "| analysis | 3 | 720 | 2021-09-01 00:00:00 | 2021-09-30 23:00:00 |" in text


# --- the wheel download ----------------------------------------------------------------------------


def _fake_pip(tmp_path: Path, payload: Path | None) -> tuple[Path, Any]:
    """A stand-in for ``pip download``: waits a little, counts its runs, copies ``payload`` (or
    writes junk) into the destination folder."""
    counter = tmp_path / "runs.txt"
    script = tmp_path / "fake_pip.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import shutil, sys, time
            time.sleep(0.3)
            with open({str(counter)!r}, "a") as fh:
                fh.write("run\\n")
            dest = sys.argv[1] + "/{pdata.WHEEL_NAME}"
            if {str(payload) if payload else ""!r}:
                shutil.copyfile({str(payload)!r}, dest)
            else:
                open(dest, "wb").write(b"not a wheel")
            """
        )
    )
    return counter, lambda dest: [sys.executable, str(script), str(dest)]


def test_concurrent_callers_download_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pdata.WHEEL_ENV, raising=False)
    real = pdata.ensure_wheel()
    counter, command = _fake_pip(tmp_path, real)
    monkeypatch.setattr(pdata, "_download_command", command)
    cache = tmp_path / "cache"
    results: list[Path] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            results.append(pdata.ensure_wheel(cache))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [cache / pdata.WHEEL_NAME] * 4
    assert counter.read_text().count("run") == 1
    assert sorted(p.name for p in cache.iterdir()) == [".lock", pdata.WHEEL_NAME]
    assert pdata.load("titanic", cache_dir=cache).reference.num_rows == 891


def test_a_bad_download_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(pdata.WHEEL_ENV, raising=False)
    _, command = _fake_pip(tmp_path, None)
    monkeypatch.setattr(pdata, "_download_command", command)
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="SHA-256"):
        pdata.ensure_wheel(cache)
    assert sorted(p.name for p in cache.iterdir()) == [".lock"]


def test_a_failing_pip_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pdata.WHEEL_ENV, raising=False)
    monkeypatch.setattr(
        pdata,
        "_download_command",
        lambda dest: [sys.executable, "-c", "import sys; sys.exit('no index here')"],
    )
    with pytest.raises(RuntimeError, match="no index here"):
        pdata.ensure_wheel(tmp_path / "cache")


def test_wheel_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = pdata.ensure_wheel()
    monkeypatch.setenv(pdata.WHEEL_ENV, str(real))
    assert pdata.ensure_wheel(tmp_path / "unused") == real
    assert not (tmp_path / "unused").exists()
    junk = tmp_path / "junk.whl"
    junk.write_bytes(b"junk")
    monkeypatch.setenv(pdata.WHEEL_ENV, str(junk))
    with pytest.raises(RuntimeError, match="SHA-256"):
        pdata.ensure_wheel()

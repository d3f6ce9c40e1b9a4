"""log_batch / log_actuals: pandas, polars, Arrow and plain rows as Arrow IPC bulk uploads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from modelmon.sdk import DeliveryFailure, Monitor
from modelmon.sdk._frames import actuals_table, chunks, predictions_table, to_table
from modelmon.sdk._ids import new_id, new_ids
from tests.sdk.servers import ThreadServer

MakeMonitor = Callable[..., Monitor]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "amount": rng.gamma(2.0, 30.0, n),
        "merchant": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "is_new": rng.random(n) < 0.3,
        "region": rng.choice(["eu", "us"], n),
        "score": rng.random(n),
        "prediction": rng.integers(0, 2, n),
    })


@pytest.mark.integration
def test_pandas_frame(server: ThreadServer, monitors: MakeMonitor) -> None:
    df = _frame(3000, 1)
    before = server.counts("fraud")["predictions"]
    m = monitors(server.url)
    ids = m.log_batch(df)
    assert m.flush(30)
    assert len(set(ids)) == 3000
    assert server.counts("fraud")["predictions"] - before == 3000
    row = server.prediction("fraud", ids[11])
    assert row is not None
    assert row["feature.amount"] == pytest.approx(df["amount"][11])
    assert row["feature.merchant"] == df["merchant"][11]
    assert row["feature.is_new"] == bool(df["is_new"][11])
    assert row["segment.region"] == df["region"][11]
    assert row["label"] == str(df["prediction"][11])
    assert (m.stats.sent, m.stats.rejected) == (3000, 0)


@pytest.mark.integration
def test_polars_frame_with_ids_and_times(server: ThreadServer, monitors: MakeMonitor) -> None:
    t0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    df = pl.from_pandas(_frame(500, 2)).with_columns(
        pl.Series("prediction_id", [f"pl-{i}" for i in range(500)]),
        pl.Series("timestamp", [t0 + timedelta(seconds=i) for i in range(500)]),
    )
    m = monitors(server.url)
    ids = m.log_batch(df, version="polars-v1")
    assert ids[:2] == ["pl-0", "pl-1"]
    assert m.flush(30)
    row = server.prediction("fraud", "pl-7")
    assert row is not None
    assert row["version"] == "polars-v1"
    assert datetime.fromisoformat(row["event_time"]) == t0 + timedelta(seconds=7)


@pytest.mark.integration
def test_arrow_table_renamed_columns_and_actuals(
    server: ThreadServer, monitors: MakeMonitor
) -> None:
    n = 400
    table = pa.table({
        "size": np.linspace(20, 200, n), "rooms": np.arange(n) % 5 + 1,
        "y_hat": np.linspace(1e5, 9e5, n),
    })
    m = monitors(server.url, model="price")
    ids = m.log_batch(table, columns={"y_hat": "prediction"})
    queued = m.log_actuals(pd.DataFrame({"prediction_id": ids[:100], "actual": np.arange(100.0)}))
    queued += m.log_actuals({ids[100]: 5.0, ids[101]: 6.0})
    queued += m.log_actuals([(ids[102], 7.0), (ids[103], 8.0, datetime.now(UTC))])
    assert queued == 104
    assert m.flush(30)
    row = server.prediction("price", ids[3])
    assert row is not None
    assert row["value"] == pytest.approx(table["y_hat"][3].as_py())
    assert row["actual_value"] == 3.0
    last = server.prediction("price", ids[103])
    assert last is not None
    assert last["actual_value"] == 8.0
    assert m.stats.sent == n + 104


@pytest.mark.integration
def test_list_of_records_with_nested_features(server: ThreadServer, monitors: MakeMonitor) -> None:
    rows = [{"features": {"amount": 1.0 * i, "merchant": "z", "is_new": True},
             "segments": {"region": "eu"}, "prediction": "1", "score": 0.9} for i in range(50)]
    m = monitors(server.url)
    ids = m.log_batch(rows)
    assert m.flush(10)
    row = server.prediction("fraud", ids[49])
    assert row is not None
    assert (row["feature.amount"], row["segment.region"]) == (49.0, "eu")


@pytest.mark.integration
def test_whole_float_labels_read_as_classes(server: ThreadServer, monitors: MakeMonitor) -> None:
    df = _frame(20, 3)
    df["prediction"] = df["prediction"].astype(float)
    df.loc[3, "prediction"] = np.nan  # pandas: an int column with a gap becomes float
    m = monitors(server.url)
    ids = m.log_batch(df)
    assert m.flush(10)
    row = server.prediction("fraud", ids[0])
    assert row is not None
    assert row["label"] in ("0", "1")
    assert m.stats.rejected == 0


@pytest.mark.integration
def test_bad_frame_is_rejected_and_counted(server: ThreadServer, monitors: MakeMonitor) -> None:
    failures: list[DeliveryFailure] = []
    m = monitors(server.url, on_error=failures.append)
    df = _frame(30, 4).assign(colour="red")
    m.log_batch(df)
    assert not m.flush(10)
    assert (m.stats.rejected, m.stats.sent) == (30, 0)
    assert [(f.code, f.loc, f.records) for f in failures] == [
        ("unknown_feature", ("columns", "colour"), 30)]
    assert m.log_batch(object()) == []
    assert m.stats.rejected == 31
    assert failures[-1].code == "invalid_type"


def test_to_table_normalises_types() -> None:
    df = pd.DataFrame({"c": pd.Categorical(["x", "y"]), "prediction": [1.0, np.nan],
                       "probabilities": [[0.2, 0.8], [0.5, 0.5]]})
    t = to_table(df)
    assert t.schema.field("c").type == pa.string()
    assert t.schema.field("prediction").type == pa.int64()
    assert t.column("prediction").to_pylist() == [1, None]
    assert pa.types.is_list(t.schema.field("probabilities").type)
    assert to_table(pl.DataFrame({"s": ["a", None]})).schema.field("s").type == pa.string()
    assert to_table({"a": [1, 2]}).num_rows == 2
    with pytest.raises(TypeError, match="expected a pandas or polars DataFrame"):
        to_table(42)


def test_predictions_table_fills_ids_and_times() -> None:
    t = predictions_table(pa.table({"prediction_id": ["a", None, "c"], "x": [1, 2, 3]}))
    ids = t.column("prediction_id").to_pylist()
    assert ids[0] == "a"
    assert ids[2] == "c"
    assert len(ids[1]) == 32
    assert t.column("timestamp").type == pa.timestamp("us", tz="UTC")
    assert predictions_table(pa.table({"prediction_id": [1, 2]})).column(
        "prediction_id").to_pylist() == ["1", "2"]


def test_actuals_table_shapes() -> None:
    assert actuals_table({"a": 1, "b": 0}).column_names == ["prediction_id", "actual", "timestamp"]
    mixed = actuals_table([("a", 1), ("b", 0, datetime(2026, 1, 1, tzinfo=UTC))])
    assert mixed.column("timestamp").null_count == 0
    with pytest.raises(TypeError, match="tuples"):
        actuals_table([("a", 1), ("b", 1, 2, 3)])


def test_chunks_bound_bytes_and_rows() -> None:
    t = pa.table({"x": np.zeros(600_000), "y": np.ones(600_000)})
    parts = chunks(t)
    assert sum(p.num_rows for p in parts) == 600_000
    assert max(p.num_rows for p in parts) <= 250_000
    assert all(p.nbytes <= 8 << 20 for p in parts)
    assert chunks(t.slice(0, 0)) == []


def test_ids_are_uuid7_and_unique() -> None:
    import uuid

    one = [new_id() for _ in range(20_000)]
    many = new_ids(20_000).to_pylist()
    for ids in (one, many):
        assert len(set(ids)) == len(ids)
        u = uuid.UUID(hex=ids[0])
        assert (u.version, u.variant) == (7, uuid.RFC_4122)
        assert all(len(i) == 32 and i == i.lower() for i in ids[:100])
    ms = int(one[0][:12], 16)
    assert abs(ms / 1000 - datetime.now(UTC).timestamp()) < 60
    assert [i[:12] for i in one] == sorted(i[:12] for i in one)  # time-ordered
    assert uuid.UUID(hex=many[5]).version == 7

"""The DuckDB store checkpoints itself between writes, never inside a commit."""

from __future__ import annotations

from pathlib import Path

from tests.store.test_contract import SPEC, preds

from modelmon.store.duckdb_store import DuckDBStore


def _threads(store: DuckDBStore) -> int:
    with store._cursor() as cur:
        return int(cur.execute("SELECT current_setting('threads')").fetchall()[0][0])


def test_maintain_checkpoints_past_the_threshold_and_keeps_the_data(tmp_path: Path) -> None:
    store = DuckDBStore(str(tmp_path / "c.duckdb"), checkpoint_threshold="256KB",
                        checkpoint_threads=2)
    store.open()
    store.save_model(SPEC, source="test")
    assert _threads(store) == 1  # the default: one thread inserts fastest on small machines
    store.maintain()
    below = store.wal_bytes()
    assert below < 256 * 1024  # nothing to do yet
    for k in range(20):
        store.write([preds([f"p{k}-{i}" for i in range(300)])])
    # A commit past the threshold did not checkpoint (the log keeps growing until maintain).
    grown = store.wal_bytes()
    assert grown > 256 * 1024
    store.maintain()
    assert store.wal_bytes() < grown / 4
    assert _threads(store) == 1  # back to the write setting after the checkpoint
    assert store.count("fraud") == 6000
    store.close()
    again = DuckDBStore(str(tmp_path / "c.duckdb"))
    again.open()
    assert again.count("fraud") == 6000
    again.close()


def test_in_memory_and_closed_stores_have_nothing_to_maintain() -> None:
    store = DuckDBStore(":memory:")
    store.maintain()  # closed: nothing happens
    store.open()
    store.maintain()
    store.close()


def test_threads_none_keeps_duckdbs_default(tmp_path: Path) -> None:
    import os

    store = DuckDBStore(str(tmp_path / "d.duckdb"), threads=None)
    store.open()
    assert _threads(store) == (os.cpu_count() or 1)
    store.close()


def test_prediction_reads_run_parallel_and_switch_back(tmp_path: Path) -> None:
    store = DuckDBStore(str(tmp_path / "r.duckdb"), checkpoint_threads=2)
    store.open()
    store.save_model(SPEC, source="test")
    store.write([preds([f"p{i}" for i in range(50)])])
    seen: list[int] = []
    original = store._set_threads

    def spy(n: int) -> None:
        seen.append(n)
        original(n)

    store._set_threads = spy  # type: ignore[method-assign]
    assert store.read_predictions("fraud").num_rows == 50
    assert seen == [2, 1] and _threads(store) == 1
    store.close()


def test_maintain_checkpoints_a_small_log_once_the_interval_passed(tmp_path: Path) -> None:
    # steady, moderate ingest: the log would take long to reach the threshold, and DuckDB holds
    # the rows written since the last checkpoint in memory until then
    store = DuckDBStore(str(tmp_path / "i.duckdb"), checkpoint_threshold="1GB",
                        checkpoint_interval_seconds=60)
    store.open()
    store.save_model(SPEC, source="test")
    store.write([preds([f"p{i}" for i in range(300)])])
    logged = store.wal_bytes()
    assert logged > 0
    store.maintain()
    assert store.wal_bytes() == logged  # the interval has not passed
    store._checkpointed_at -= 61  # a minute later
    store.maintain()
    assert store.wal_bytes() < logged
    store.maintain()  # nothing written since: nothing to do
    store.write([preds(["late"])])
    store.maintain()
    assert store.wal_bytes() > 0  # the new minute has just begun
    assert store.count("fraud") == 301
    store.close()


def test_an_interval_of_zero_checkpoints_by_size_only(tmp_path: Path) -> None:
    store = DuckDBStore(str(tmp_path / "z.duckdb"), checkpoint_threshold="1GB",
                        checkpoint_interval_seconds=0)
    store.open()
    store.save_model(SPEC, source="test")
    store.write([preds([f"p{i}" for i in range(300)])])
    logged = store.wal_bytes()
    store._checkpointed_at -= 10**6
    store.maintain()
    assert store.wal_bytes() == logged
    store.close()

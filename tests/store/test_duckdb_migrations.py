"""Schema migrations of the DuckDB store: a database written by an older modelmon opens and is
brought up to date, keeping its data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from modelmon.config import ModelSpec
from modelmon.ingest.predictions import predictions_from_records
from modelmon.store import BatchKind, WriteBatch
from modelmon.store._duckdb_migrations import MIGRATIONS, apply_migrations
from modelmon.store.duckdb_store import DuckDBStore

SPEC = ModelSpec.model_validate({"name": "fraud", "task": "regression",
                                 "features": [{"name": "x", "type": "numeric"}]})


def test_keys_stored_before_request_hashes_still_replay(tmp_path: Path) -> None:
    path = str(tmp_path / "old.duckdb")
    con = duckdb.connect(path)
    apply_migrations(con, [m for m in MIGRATIONS if m.version <= 2])
    con.close()
    store = DuckDBStore(path)
    store.open()
    try:
        store.save_model(SPEC)
        table = predictions_from_records(SPEC, [{"features": {"x": 1.0}, "prediction": 2.0}],
                                         now=datetime.now(UTC))
        store._conn.execute("INSERT INTO ingest_batches VALUES ('fraud:predictions:k', 1, "
                            "'predictions', 1, now()::TIMESTAMP, NULL)")
        [r] = store.write([WriteBatch(BatchKind.PREDICTIONS, "fraud", table,
                                      "fraud:predictions:k", fingerprint="f")])
        assert r.replayed and not r.conflict
        versions = {v for (v,) in store._conn.execute(
            "SELECT version FROM schema_migrations").fetchall()}
        assert versions == {m.version for m in MIGRATIONS}
    finally:
        store.close()

"""Bulk uploads: the rows a payload declares are checked against the limit before it is decoded
(a 437 KB Parquet upload once decoded to 100 million rows, +840 MB, before the limit was
checked)."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmon.exceptions import ValidationError
from modelmon.ingest.bulk import read_table

LIMIT = 1000


def _parquet(row_groups: int, rows: int) -> bytes:
    sink = io.BytesIO()
    table = pa.table({"x": pa.array([7] * rows, pa.int64())})
    with pq.ParquetWriter(sink, table.schema) as writer:
        for _ in range(row_groups):
            writer.write_table(table)
    return sink.getvalue()


def _ipc(batches: list[pa.RecordBatch], file: bool = False) -> bytes:
    sink = io.BytesIO()
    new = pa.ipc.new_file if file else pa.ipc.new_stream
    with new(sink, batches[0].schema) as writer:
        for b in batches:
            writer.write_batch(b)
    return sink.getvalue()


def _refused(kind: str, body: bytes, monkeypatch: pytest.MonkeyPatch) -> ValidationError:
    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("decoded before the row limit was checked")

    monkeypatch.setattr(pq.ParquetFile, "read", never)
    monkeypatch.setattr(pa.ipc, "open_stream", never)
    monkeypatch.setattr(pa.ipc, "open_file", never)
    with pytest.raises(ValidationError) as info:
        read_table(kind, body, LIMIT)
    return info.value


def test_parquet_rows_come_from_the_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    body = _parquet(row_groups=20, rows=100_000)  # 2 million rows in a few KB
    assert len(body) < 100_000
    err = _refused("parquet", body, monkeypatch)
    assert err.code == "batch_too_large" and "2000000" in err.message


@pytest.mark.parametrize("file", [False, True], ids=["stream", "file"])
def test_arrow_rows_come_from_the_batch_headers(monkeypatch: pytest.MonkeyPatch,
                                                file: bool) -> None:
    batch = pa.record_batch({"x": pa.nulls(600)})  # no buffers: 600 rows in a few bytes
    err = _refused("arrow", _ipc([batch, batch], file), monkeypatch)
    assert err.code == "batch_too_large" and "1200" in err.message


def test_an_arrow_dictionary_larger_than_the_limit_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    values = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()),
                                            pa.array([str(i) for i in range(LIMIT + 1)]))
    err = _refused("arrow", _ipc([pa.record_batch({"c": values})]), monkeypatch)
    assert err.code == "batch_too_large"


@pytest.mark.parametrize("file", [False, True], ids=["stream", "file"])
def test_payloads_within_the_limit_are_read(file: bool) -> None:
    batch = pa.record_batch({"x": pa.array(range(400)),
                             "c": pa.array(["a", "b"] * 200).dictionary_encode()})
    assert read_table("arrow", _ipc([batch, batch], file), LIMIT).num_rows == 800
    assert read_table("parquet", _parquet(2, 500), LIMIT).num_rows == 1000


@pytest.mark.parametrize("body", [b"ARROW1\x00\x00garbage", b"\xff\xff\xff\xff\x10\x00",
                                  b"not arrow at all"])
def test_garbage_is_malformed(body: bytes) -> None:
    with pytest.raises(ValidationError) as info:
        read_table("arrow", body, LIMIT)
    assert info.value.code == "malformed_body"

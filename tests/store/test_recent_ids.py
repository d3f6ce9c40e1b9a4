"""The recent-id index answers like a set of every id added, until capacity evicts the oldest."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from modelmon.store.recent_ids import RecentIdIndex, hash_ids


@given(batches=st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=40), max_size=30),
       probe=st.lists(st.integers(0, 2**64 - 1), max_size=50),
       buffer_size=st.sampled_from([1, 4, 16, 64]))
def test_behaves_like_a_set_without_eviction(batches: list[list[int]], probe: list[int],
                                             buffer_size: int) -> None:
    # Batches below, across and above the buffer size; the hash 0 (a free slot of the buffer's
    # hash set) and 2**64 - 1 (the last directory bucket) included by hypothesis.
    idx = RecentIdIndex(capacity=10_000, buffer_size=buffer_size)
    seen: set[int] = set()
    for b in batches:
        idx.add(np.asarray(b, dtype=np.uint64))
        seen.update(b)
    queries = probe + [x for b in batches for x in b][:50]
    got = idx.contains(np.asarray(queries, dtype=np.uint64)).tolist()
    assert got == [q in seen for q in queries]
    assert idx.covers_everything


def test_eviction_drops_the_oldest_and_keeps_the_newest() -> None:
    idx = RecentIdIndex(capacity=800, buffer_size=50)
    values = np.arange(5_000, dtype=np.uint64)
    for lo in range(0, 5_000, 50):
        idx.add(values[lo:lo + 50])
    assert not idx.covers_everything and len(idx) <= 800
    assert idx.contains(values[-700:]).all()      # at least 7/8 of capacity is kept
    assert not idx.contains(values[:1000]).any()


def test_id_hashes_do_not_collide_on_structured_ids() -> None:
    # DuckDB's hash() gives ~920k distinct values for these 1M ids; every collision cost an
    # exact lookup in the table, and ingest slowed down as the table grew.
    ids = pa.array([f"{n:010d}-{i:05d}" for n in range(1000) for i in range(1000)])
    assert len(np.unique(hash_ids(ids))) == len(ids)


@given(st.lists(st.text(max_size=30), min_size=1, max_size=60), st.integers(0, 59), st.integers(0, 60))
def test_id_hashes_depend_only_on_the_text(values: list[str], start: int, length: int) -> None:
    arr = pa.array(values, pa.string())
    part = arr.slice(min(start, len(values)), length)
    expected = hash_ids(pa.array(part.to_pylist(), pa.string()))  # fresh buffers, no offset
    assert hash_ids(part).tolist() == expected.tolist()
    assert hash_ids(part.cast(pa.large_string())).tolist() == expected.tolist()
    chunked = pa.chunked_array([arr.slice(0, 2), arr.slice(2)])
    assert hash_ids(chunked).tolist() == hash_ids(arr).tolist()
    same = {v: h for v, h in zip(values, hash_ids(arr).tolist(), strict=True)}
    assert all(same[v] == h for v, h in zip(values, hash_ids(arr).tolist(), strict=True))


def test_uniform_hashes_of_many_generations() -> None:
    rng = np.random.default_rng(3)
    idx = RecentIdIndex(capacity=1_000_000, buffer_size=1_000)
    added = [rng.integers(0, 2**64 - 1, 700, dtype=np.uint64, endpoint=True) for _ in range(300)]
    for batch in added:
        idx.add(batch)
    assert len(idx._generations) > 3 and idx.covers_everything
    present = np.concatenate(added)
    assert idx.contains(present).all()
    absent = np.setdiff1d(rng.integers(0, 2**64 - 1, 50_000, dtype=np.uint64, endpoint=True),
                          present)
    assert not idx.contains(absent).any()

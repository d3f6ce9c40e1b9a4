"""The recent-id index answers like a set of every id added, until capacity evicts the oldest."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from modelmon.store.recent_ids import RecentIdIndex


@given(batches=st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=40), max_size=30),
       probe=st.lists(st.integers(0, 2**64 - 1), max_size=50))
def test_behaves_like_a_set_without_eviction(batches: list[list[int]], probe: list[int]) -> None:
    idx = RecentIdIndex(capacity=10_000, buffer_size=16)
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

"""A bounded in-memory index of recently stored prediction ids, as 64-bit hashes.

Why: DuckDB's primary-key index (ART) cuts bulk-insert throughput by a factor of three to four,
and idempotent ingest needs "was this id stored already?" for every row. This index answers it in
microseconds per batch. A hash hit is only a *candidate* duplicate: the store confirms candidates
against the table by exact id, so a hash collision can never drop a prediction.

Layout (like a log-structured merge tree): new hashes go to a small unsorted buffer; a full buffer
is sorted into a generation; the oldest generations are dropped once ``capacity`` is exceeded. The
index therefore covers at least the last ``7/8 * capacity`` ids (the *deduplication horizon*);
once it has evicted anything, the store deduplicates at read time as well.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pyarrow as pa
from numba import njit
from numpy.typing import NDArray

__all__ = ["RecentIdIndex", "hash_ids"]


@njit(cache=True, nogil=True)
def _fnv1a_fmix(offsets: NDArray[np.int64], data: NDArray[np.uint8]) -> NDArray[np.uint64]:
    n = len(offsets) - 1
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        h = np.uint64(0xCBF29CE484222325)
        for j in range(offsets[i], offsets[i + 1]):
            h = (h ^ np.uint64(data[j])) * np.uint64(0x100000001B3)
        # MurmurHash3's 64-bit finaliser: FNV-1a alone mixes its last bytes poorly.
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
        out[i] = h
    return out


def hash_ids(ids: pa.Array | pa.ChunkedArray) -> NDArray[np.uint64]:
    """64-bit hashes of a string column (FNV-1a with a MurmurHash3 finaliser; nulls hash as "").

    Not DuckDB's ``hash()``: that one collides for about one in ten structured ids such as
    ``"0000000123-00045"``, and every collision costs an exact lookup in the table.
    """
    if isinstance(ids, pa.ChunkedArray):
        parts = [hash_ids(chunk) for chunk in ids.chunks]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        ids = ids.cast(pa.string())
    if len(ids) == 0:
        return np.empty(0, dtype=np.uint64)
    _, offsets_buf, data_buf = ids.buffers()
    width = np.int64 if pa.types.is_large_string(ids.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=width)[ids.offset: ids.offset + len(ids) + 1]
    data = (np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None
            else np.empty(0, dtype=np.uint8))
    return _fnv1a_fmix(offsets.astype(np.int64), data)


class RecentIdIndex:
    """Membership test for recent 64-bit id hashes.

    Parameters
    ----------
    capacity : int
        Most hashes kept; the oldest generations are evicted beyond it.
    buffer_size : int
        Hashes collected before they are sorted into a generation.

    Examples
    --------
    >>> idx = RecentIdIndex(capacity=1000, buffer_size=4)
    >>> idx.add(np.array([5, 9, 2], dtype=np.uint64))
    >>> idx.contains(np.array([9, 3], dtype=np.uint64)).tolist()
    [True, False]
    """

    def __init__(self, capacity: int = 10_000_000, buffer_size: int = 65_536) -> None:
        self.capacity = capacity
        self.buffer_size = buffer_size
        self._generations: deque[NDArray[np.uint64]] = deque()
        self._buffer: list[NDArray[np.uint64]] = []
        self._buffer_set: set[int] = set()
        self._buffered = 0
        self._size = 0
        self._evicted = False

    def __len__(self) -> int:
        return self._size

    @property
    def covers_everything(self) -> bool:
        """True while nothing has been evicted (the index holds every id ever added)."""
        return not self._evicted

    def contains(self, hashes: NDArray[np.uint64]) -> NDArray[np.bool_]:
        """Boolean mask: which of ``hashes`` are (probably) present."""
        hit = np.zeros(len(hashes), dtype=bool)
        if not len(hashes) or not self._size:
            return hit
        if self._generations:
            # Sorted keys make the binary searches walk each generation in order (cache
            # friendly: several times faster than random keys on generations of millions).
            order = np.argsort(hashes)
            keys = hashes[order]
            found = np.zeros(len(keys), dtype=bool)
            for gen in self._generations:
                pos = np.searchsorted(gen, keys)
                pos[pos == len(gen)] = len(gen) - 1
                found |= gen[pos] == keys
            hit[order] = found
        if self._buffer_set:
            # A set answers in O(1) per hash; np.isin would sort the whole buffer every call.
            buf = self._buffer_set
            hit |= np.fromiter(map(buf.__contains__, hashes.tolist()), dtype=bool,
                               count=len(hashes))
        return hit

    def add(self, hashes: NDArray[np.uint64]) -> None:
        """Record ``hashes`` as stored."""
        if not len(hashes):
            return
        arr = np.asarray(hashes, dtype=np.uint64).copy()
        self._buffer.append(arr)
        self._buffer_set.update(arr.tolist())
        self._buffered += len(hashes)
        self._size += len(hashes)
        if self._buffered >= self.buffer_size:
            self._seal()
        while self._size > self.capacity and self._generations:
            dropped = self._generations.popleft()
            self._size -= len(dropped)
            self._evicted = True

    def clear(self) -> None:
        """Forget everything."""
        self._generations.clear()
        self._buffer.clear()
        self._buffer_set.clear()
        self._buffered = self._size = 0
        self._evicted = False

    def _seal(self) -> None:
        merged = np.sort(np.concatenate(self._buffer))
        self._buffer.clear()
        self._buffer_set.clear()
        self._buffered = 0
        # Merge small trailing generations so lookups stay O(log n) over few arrays, but keep each
        # generation under an eighth of the capacity so eviction drops at most that much at once.
        limit = max(self.buffer_size, self.capacity // 8)
        while (
            self._generations
            and len(self._generations[-1]) <= len(merged)
            and len(self._generations[-1]) + len(merged) <= limit
        ):
            merged = np.sort(np.concatenate([self._generations.pop(), merged]), kind="stable")
        self._generations.append(merged)

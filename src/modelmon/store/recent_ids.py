"""A bounded in-memory index of recently stored prediction ids, as 64-bit hashes.

Why: DuckDB's primary-key index (ART) cuts bulk-insert throughput by a factor of three to four,
and idempotent ingest needs "was this id stored already?" for every row. This index answers it in
microseconds per batch. A hash hit is only a *candidate* duplicate: the store confirms candidates
against the table by exact id, so a hash collision can never drop a prediction.

Layout (like a log-structured merge tree): new hashes go to a small buffer (an open-addressing
hash set); a full buffer is sorted into a generation; the oldest generations are dropped once
``capacity`` is exceeded. The index therefore covers at least the last ``7/8 * capacity`` ids (the
*deduplication horizon*); once it has evicted anything, the store deduplicates at read time as
well.

Lookups are compiled (numba). Hashes are uniform, so each generation keeps a directory of where
each value of the top bits starts: a lookup reads one directory entry and binary-searches a
bucket of about eight hashes. Searching each generation of a million hashes with NumPy's
``searchsorted`` instead cost 14 ms per 10,000 ids once 6,000,000 were stored (0.14 of a core at
100,000 predictions/s).
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


_EMPTY = np.uint64(0)  # a free slot of the buffer's hash set (the hash 0 is kept apart)


@njit(cache=True, nogil=True)
def _set_add(table: NDArray[np.uint64], keys: NDArray[np.uint64]) -> None:
    mask = np.uint64(len(table) - 1)
    for k in keys:
        if k == _EMPTY:
            continue
        slot = k & mask
        while table[slot] != _EMPTY and table[slot] != k:
            slot = (slot + np.uint64(1)) & mask
        table[slot] = k


@njit(cache=True, nogil=True)
def _set_contains(table: NDArray[np.uint64], keys: NDArray[np.uint64],
                  out: NDArray[np.bool_]) -> None:
    mask = np.uint64(len(table) - 1)
    for i in range(len(keys)):
        k = keys[i]
        if out[i] or k == _EMPTY:
            continue
        slot = k & mask
        while table[slot] != _EMPTY:
            if table[slot] == k:
                out[i] = True
                break
            slot = (slot + np.uint64(1)) & mask


@njit(cache=True, nogil=True)
def _sorted_contains(gen: NDArray[np.uint64], directory: NDArray[np.int64], shift: int,
                     keys: NDArray[np.uint64], out: NDArray[np.bool_]) -> None:
    sh = np.uint64(shift)
    for i in range(len(keys)):
        if out[i]:
            continue
        k = keys[i]
        b = np.int64(k >> sh)
        lo = directory[b]
        hi = directory[b + 1]
        while lo < hi:
            mid = (lo + hi) >> 1
            if gen[mid] < k:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(gen) and gen[lo] == k:
            out[i] = True


class _Generation:
    """Sorted hashes and, per value of their top ``bits`` bits, where that bucket starts."""

    __slots__ = ("directory", "hashes", "shift")

    def __init__(self, hashes: NDArray[np.uint64]) -> None:
        self.hashes = hashes
        bits = int(min(24, max(1, np.log2(max(len(hashes), 1) / 8))))
        self.shift = 64 - bits
        starts = np.arange(1 << bits, dtype=np.uint64) << np.uint64(self.shift)
        self.directory = np.append(np.searchsorted(hashes, starts), len(hashes)).astype(np.int64)

    def __len__(self) -> int:
        return len(self.hashes)

    def contains(self, keys: NDArray[np.uint64], out: NDArray[np.bool_]) -> None:
        _sorted_contains(self.hashes, self.directory, self.shift, keys, out)


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
        self._generations: deque[_Generation] = deque()
        self._buffer: list[NDArray[np.uint64]] = []
        # At most half full: buffer_size hashes in at least twice as many slots.
        self._table = np.zeros(1 << int(2 * buffer_size - 1).bit_length(), dtype=np.uint64)
        self._buffer_zero = False  # the hash 0 is in the buffer (0 marks a free slot)
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
        keys = np.ascontiguousarray(hashes, dtype=np.uint64)
        hit = np.zeros(len(keys), dtype=bool)
        if not len(keys) or not self._size:
            return hit
        if self._buffered:
            _set_contains(self._table, keys, hit)
            if self._buffer_zero:
                hit |= keys == 0
        if self._generations:
            # In ascending order the searches walk each generation front to back: far fewer
            # cache and TLB misses than random keys on generations of millions.
            order = np.argsort(keys)
            sorted_keys = keys[order]
            found = hit[order]
            for gen in reversed(self._generations):  # newest first: re-sent ids are mostly recent
                gen.contains(sorted_keys, found)
            hit[order] = found
        return hit

    def add(self, hashes: NDArray[np.uint64]) -> None:
        """Record ``hashes`` as stored."""
        if not len(hashes):
            return
        arr = np.array(hashes, dtype=np.uint64)  # a copy: the caller's array may change
        if self._buffered + len(arr) > self.buffer_size:
            self._seal()  # the buffer's hash set stays at most half full
        if len(arr) >= self.buffer_size:  # a large write is a generation of its own
            self._push(np.sort(arr))
        else:
            self._buffer.append(arr)
            _set_add(self._table, arr)
            self._buffer_zero = self._buffer_zero or bool((arr == 0).any())
            self._buffered += len(arr)
        self._size += len(arr)
        while self._size > self.capacity and self._generations:
            dropped = self._generations.popleft()
            self._size -= len(dropped)
            self._evicted = True

    def clear(self) -> None:
        """Forget everything."""
        self._generations.clear()
        self._clear_buffer()
        self._size = 0
        self._evicted = False

    def _clear_buffer(self) -> None:
        self._buffer.clear()
        self._table[:] = 0
        self._buffer_zero = False
        self._buffered = 0

    def _seal(self) -> None:
        if not self._buffered:
            return
        merged = np.sort(np.concatenate(self._buffer))
        self._clear_buffer()
        self._push(merged)

    def _push(self, merged: NDArray[np.uint64]) -> None:
        # Merge small trailing generations so lookups stay O(log n) over few arrays, but keep each
        # generation under an eighth of the capacity so eviction drops at most that much at once.
        limit = max(self.buffer_size, self.capacity // 8)
        while (
            self._generations
            and len(self._generations[-1]) <= len(merged)
            and len(self._generations[-1]) + len(merged) <= limit
        ):
            merged = np.sort(np.concatenate([self._generations.pop().hashes, merged]),
                             kind="stable")
        self._generations.append(_Generation(merged))

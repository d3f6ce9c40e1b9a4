"""CPython's ``random.Random.sample`` in numba, draw for draw.

River's KSWIN draws its reference sample with ``random.Random(seed).sample(range(n), k)``. To
make the same draws in a compiled loop this module ports, from CPython 3.11:

* ``genrand_uint32`` of ``Modules/_randommodule.c`` (MT19937; the generator's state is the
  624-word array and the index of ``random.Random.getstate()``, so seeding is left to Python);
* ``getrandbits(k)`` for ``k <= 32`` (the top ``k`` bits of one 32-bit draw);
* ``Random._randbelow_with_getrandbits`` (rejection sampling on ``n.bit_length()`` bits);
* both branches of ``Random.sample``: the pool-based one, taken when ``n`` is at most the
  "set size" ``21 + 4 ** ceil(log(3k, 4))`` (for ``k > 5``), and the set-based one otherwise.
  The branch is chosen in Python with CPython's own expression
  (``modelmon.detectors.kswin.sample_uses_pool``).

Words are held in int64 arrays; every operation keeps them below 2**32.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import inline_kernel, kernel

_N = 624
_M = 397
_MATRIX_A = 0x9908B0DF
_UPPER = 0x80000000
_LOWER = 0x7FFFFFFF


@kernel
def _twist(mt: NDArray[np.int64]) -> None:
    for kk in range(_N - _M):
        y = (mt[kk] & _UPPER) | (mt[kk + 1] & _LOWER)
        mt[kk] = mt[kk + _M] ^ (y >> 1) ^ (_MATRIX_A if y & 1 else 0)
    for kk in range(_N - _M, _N - 1):
        y = (mt[kk] & _UPPER) | (mt[kk + 1] & _LOWER)
        mt[kk] = mt[kk + (_M - _N)] ^ (y >> 1) ^ (_MATRIX_A if y & 1 else 0)
    y = (mt[_N - 1] & _UPPER) | (mt[0] & _LOWER)
    mt[_N - 1] = mt[_M - 1] ^ (y >> 1) ^ (_MATRIX_A if y & 1 else 0)


@inline_kernel
def genrand_uint32(mt: NDArray[np.int64], index: int) -> tuple[int, int]:
    """Next 32-bit output and the new index (``mt`` is twisted in place when exhausted)."""
    if index >= _N:
        _twist(mt)
        index = 0
    y = mt[index]
    index += 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y, index


@inline_kernel
def randbelow(mt: NDArray[np.int64], index: int, n: int) -> tuple[int, int]:
    """``Random._randbelow_with_getrandbits(n)`` for ``0 < n < 2**32``; returns (value, index)."""
    k = 0
    m = n
    while m:
        k += 1
        m >>= 1
    y, index = genrand_uint32(mt, index)
    r = y >> (32 - k)
    while r >= n:
        y, index = genrand_uint32(mt, index)
        r = y >> (32 - k)
    return r, index


@kernel
def sample(
    mt: NDArray[np.int64],
    index: int,
    n: int,
    k: int,
    use_pool: bool,
    out: NDArray[np.int64],
    pool: NDArray[np.int64],
    marks: NDArray[np.uint8],
) -> int:
    """``Random.sample(range(n), k)`` into ``out[:k]``; returns the generator's new index.

    ``pool`` (size ``n``) is scratch for the pool branch, ``marks`` (size ``n``, all zero on
    entry and on return) for the set branch.
    """
    if use_pool:
        for j in range(n):
            pool[j] = j
        for i in range(k):
            j, index = randbelow(mt, index, n - i)
            out[i] = pool[j]
            pool[j] = pool[n - i - 1]
    else:
        for i in range(k):
            j, index = randbelow(mt, index, n)
            while marks[j]:
                j, index = randbelow(mt, index, n)
            marks[j] = 1
            out[i] = j
        for i in range(k):
            marks[out[i]] = 0
    return index

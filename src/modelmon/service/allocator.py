"""How the server process allocates: Arrow buffers with the system allocator, and glibc with at
most two arenas.

pyarrow's default pool (mimalloc) keeps memory it freed for reuse. In the soak benchmark
(docs/benchmarks.md: 10 minutes of 1,000 single predictions/s, batches, queries and evaluations)
the server's RSS outside DuckDB's buffer pool grew about 13 MB a minute with it and about half
as fast, from a level about 40 MB lower, with the system allocator, at the same latency (single
predictions p95 52 ms against 58 ms). An ``ARROW_DEFAULT_MEMORY_POOL`` set in the environment
still decides.

glibc gives each thread that allocates an arena of its own (up to eight per core), and memory freed
in one arena serves only that arena's threads: with the event loop, the writer, DuckDB's and the
evaluation threads, freed memory piled up unused. Two arenas (``MALLOC_ARENA_MAX=2``) cut the RSS
slope outside DuckDB's buffer pool in the same soak from about 14 MB to about 3 MB a minute, with
single predictions' p95 still under 80 ms. A ``MALLOC_ARENA_MAX`` set in the environment still
decides.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

import pyarrow as pa

__all__ = ["limit_malloc_arenas", "use_system_allocator"]

_M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (for threads created from now on) unless ``MALLOC_ARENA_MAX``
    is set; whether the cap is in force (False off glibc)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return True  # glibc read it at start-up
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return False
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))


def use_system_allocator() -> str:
    """Make the system allocator Arrow's default pool unless the environment chose one; the
    pool's name."""
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        pa.set_memory_pool(pa.system_memory_pool())
    return pa.default_memory_pool().backend_name

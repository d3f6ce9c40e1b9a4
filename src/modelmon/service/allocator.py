"""The server process allocates Arrow buffers with the system allocator.

pyarrow's default pool (mimalloc) keeps memory it freed for reuse. In the soak benchmark
(docs/benchmarks.md: 10 minutes of 1,000 single predictions/s, batches, queries and evaluations)
the server's RSS outside DuckDB's buffer pool grew about 13 MB a minute with it and about half
as fast, from a level about 40 MB lower, with the system allocator, at the same latency (single
predictions p95 52 ms against 58 ms). An ``ARROW_DEFAULT_MEMORY_POOL`` set in the environment
still decides.
"""

from __future__ import annotations

import os

import pyarrow as pa

__all__ = ["use_system_allocator"]


def use_system_allocator() -> str:
    """Make the system allocator Arrow's default pool unless the environment chose one; the
    pool's name."""
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        pa.set_memory_pool(pa.system_memory_pool())
    return pa.default_memory_pool().backend_name

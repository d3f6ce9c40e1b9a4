"""The one numba decorator every detector kernel uses.

``cache=True`` keeps compiled machine code on disk, so compilation happens once per machine.
``error_model="numpy"`` gives IEEE semantics for division by zero (inf/NaN instead of an
exception), as in River's Python and Rust code.
"""

from __future__ import annotations

from numba import njit

kernel = njit(cache=True, error_model="numpy", nogil=True)

# For small helpers called from a kernel's inner loop: inlined at numba IR level.
inline_kernel = njit(cache=True, error_model="numpy", nogil=True, inline="always")

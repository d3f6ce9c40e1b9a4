"""A call to the C library's ``pow`` that the compiler cannot hoist out of a branch.

River computes some square roots as ``x ** 0.5``, which CPython evaluates with libm's ``pow``;
it differs from ``sqrt`` in the last bit for about 1 value in 1000, so exact parity needs the same
``pow``. numba lowers ``x ** y`` to LLVM's ``llvm.pow`` intrinsic, which LLVM may execute
speculatively, computing it on every pass through a loop even when it sits in a rarely taken
branch. :func:`libm_pow` emits a plain call to the external ``pow`` function instead (the very
function CPython calls), which stays where it is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _pow(typingctx: Any, x: Any, y: Any) -> Any:
    signature = types.float64(types.float64, types.float64)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        function_type = ir.FunctionType(ir.DoubleType(), [ir.DoubleType(), ir.DoubleType()])
        function = cgutils.get_or_insert_function(builder.module, function_type, "pow")
        return builder.call(function, args)

    return signature, codegen


#: ``pow(x, y)`` of the C library, for float64 arguments (callable from compiled code only).
libm_pow = cast(Callable[[float, float], float], intrinsic(_pow))

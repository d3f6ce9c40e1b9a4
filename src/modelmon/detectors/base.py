"""Base classes of the streaming change detectors.

The shape follows River's ``river/base/drift_detector.py``: a detector stores its constructor
arguments as given, (re)builds its state in ``_reset()``, ``update(x)`` returns ``self``, and
``drift_detected`` / ``warning_detected`` are read-only properties. Detectors with a warning zone
and detectors of binary (error) streams get their own base classes::

    DriftDetector                       real-valued input, drift signal only
    ├── DriftAndWarningDetector         ... plus a warning zone
    └── BinaryDriftDetector             input is 0/1 (1 = error)
        └── BinaryDriftAndWarningDetector

modelmon adds :meth:`DriftDetector.update_many`, which consumes a whole array in one compiled
call and returns where the detector fired. It gives exactly the result of calling ``update`` in a
loop, and leaves exactly the same state, because both go through the same compiled kernel: the
state lives in NumPy arrays (``_state`` holds the drift flag at index 0 and the warning flag at
index 1), and ``update(x)`` runs the kernel on a one-element array.

Input policy (every detector): values must be finite real numbers, and 0 or 1 for binary
detectors (``True``/``False`` accepted). Anything else raises
:class:`~modelmon.exceptions.ValidationError` naming the argument and, for ``update_many``, the
position of the first offending value. The check runs before any value is consumed, so a rejected
call leaves the detector unchanged. Drop or impute missing values before feeding a detector.
"""

from __future__ import annotations

import abc
import importlib
import inspect
import math
import numbers
from types import ModuleType
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import as_1d_float
from modelmon.detectors.result import DetectionResult
from modelmon.exceptions import ValidationError

__all__ = [
    "BinaryDriftAndWarningDetector",
    "BinaryDriftDetector",
    "DriftAndWarningDetector",
    "DriftDetector",
]

_KERNELS: dict[str, ModuleType] = {}


def load_kernels(name: str) -> ModuleType:
    """Import ``modelmon.detectors._kernels.<name>`` on first use (this is what imports numba)."""
    module = _KERNELS.get(name)
    if module is None:
        module = importlib.import_module(f"modelmon.detectors._kernels.{name}")
        _KERNELS[name] = module
    return module


class DriftDetector(abc.ABC):
    """Base class of the streaming change detectors (real-valued input, drift signal only).

    Subclasses implement ``_reset()`` (validate parameters, build the state arrays: ``_state``
    with the drift flag at index 0 and the warning flag at index 1) and ``_run(values, drifts,
    warnings)``, which calls the detector's compiled kernel on a float64 array.
    """

    #: Name under which the detector is registered (``make_detector(name)``).
    name: ClassVar[str] = ""
    #: Whether the input is a binary error stream (values 0 or 1).
    binary: ClassVar[bool] = False

    _state: NDArray[np.float64]

    # ----------------------------------------------------------------------------- public API
    @property
    def drift_detected(self) -> bool:
        """Whether a drift was detected by the last update."""
        return bool(self._state[0] != 0.0)

    def update(self, x: float) -> Self:
        """Update the detector with one value and return ``self``.

        Parameters
        ----------
        x : float
            The next value of the stream (0 or 1 for binary detectors, 1 meaning an error).

        Returns
        -------
        self
        """
        value = self._check_value(x)
        buffers = self.__dict__.get("_one_value")
        if buffers is None:
            buffers = (np.empty(1), np.empty(1, dtype=np.int64), np.empty(1, dtype=np.int64))
            self.__dict__["_one_value"] = buffers
        buffers[0][0] = value
        self._run(*buffers)
        return self

    def update_many(self, values: ArrayLike) -> DetectionResult:
        """Update the detector with every value of ``values``, in order, in one compiled call.

        The result and the detector's final state are exactly those of calling
        :meth:`update` on each value in turn, so ``update_many`` and ``update`` can be mixed
        freely and splitting an array into chunks changes nothing.

        Parameters
        ----------
        values : array-like of shape (n,)
            The next values of the stream.

        Returns
        -------
        DetectionResult
            Positions (indices into ``values``) of drift and warning signals, and ``n``.
        """
        arr = self._check_values(values)
        n = int(arr.shape[0])
        if n == 0:
            empty = np.empty(0, dtype=np.int64)
            return DetectionResult(self.name, 0, empty, empty.copy())
        # np.empty only reserves address space: pages are touched only where positions land.
        drifts = np.empty(n, dtype=np.int64)
        warnings = np.empty(n, dtype=np.int64)
        n_drifts, n_warnings = self._run(arr, drifts, warnings)
        return DetectionResult(
            self.name, n, drifts[:n_drifts].copy(), warnings[:n_warnings].copy()
        )

    def reset(self) -> Self:
        """Forget everything seen so far: the detector is as if newly constructed."""
        self._reset()
        return self

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters as given (like scikit-learn's ``get_params``).

        >>> from modelmon.detectors import ADWIN
        >>> ADWIN(delta=0.01).get_params()["delta"]
        0.01
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def __repr__(self) -> str:
        shown = []
        signature = inspect.signature(type(self).__init__)
        for name in self._param_names():
            value = getattr(self, name)
            default = signature.parameters[name].default
            try:
                same = value is default or bool(value == default)
            except (TypeError, ValueError):
                same = False
            if not same:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # -------------------------------------------------------------------- subclass interface
    @abc.abstractmethod
    def _reset(self) -> None:
        """Validate the parameters and (re)build the state arrays."""

    @abc.abstractmethod
    def _run(
        self,
        values: NDArray[np.float64],
        drifts: NDArray[np.int64],
        warnings: NDArray[np.int64],
    ) -> tuple[int, int]:
        """Feed ``values`` to the kernel; write positions; return (n_drifts, n_warnings)."""

    # --------------------------------------------------------------------------- validation
    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p for p in signature.parameters if p != "self"]

    def _check_value(self, x: Any) -> float:
        owner = f"{type(self).__name__}.update"
        if not isinstance(x, numbers.Real | np.bool_):
            raise ValidationError(
                f"The 'x' argument of {owner} must be a real number. Got {x!r} instead.",
                code="invalid_type",
                loc=("x",),
            )
        value = float(x)
        if self.binary:
            if value != 0.0 and value != 1.0:
                raise ValidationError(
                    f"The 'x' argument of {owner} must be 0 or 1 (1 = error). Got {x!r} instead.",
                    loc=("x",),
                )
        elif not math.isfinite(value):
            raise ValidationError(
                f"The 'x' argument of {owner} must be finite. Got {x!r} instead.",
                loc=("x",),
            )
        return value

    def _check_values(self, values: ArrayLike) -> NDArray[np.float64]:
        owner = f"{type(self).__name__}.update_many"
        arr = as_1d_float(values, "values", owner, allow_nan=True, allow_inf=True)
        if arr.shape[0] == 0:
            return arr
        position = int(load_kernels("common").first_invalid(arr, self.binary))
        if position < 0:
            return arr
        bad = float(arr[position])
        if self.binary:
            message = f"must contain only 0 and 1 (1 = error). Got {bad!r} at position {position}."
        elif math.isnan(bad):
            message = f"contains NaN at position {position}. Drop or impute missing values first."
        else:
            message = f"contains infinity at position {position}."
        raise ValidationError(
            f"The 'values' argument of {owner} {message}", loc=("values", position)
        )


class DriftAndWarningDetector(DriftDetector):
    """Base class of detectors that also signal a warning zone before a drift."""

    @property
    def warning_detected(self) -> bool:
        """Whether the last update put the detector in its warning zone."""
        return bool(self._state[1] != 0.0)


class BinaryDriftDetector(DriftDetector):
    """Base class of detectors of binary error streams (1 = error, 0 = correct)."""

    binary: ClassVar[bool] = True


class BinaryDriftAndWarningDetector(BinaryDriftDetector, DriftAndWarningDetector):
    """Base class of detectors of binary error streams with a warning zone."""

"""Base pieces for result objects: small frozen dataclasses with ``to_dict()``.

Results of the numerical layers are plain data. ``to_dict()`` turns NumPy scalars and arrays into
Python numbers and lists (JSON-ready, NaN kept as ``float('nan')``); a sequence of results turns
into a data frame with :func:`to_frame` when pandas is installed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["Result", "to_frame", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays, dataclasses and containers into plain Python values."""
    if isinstance(value, Result):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


class Result:
    """Mixin for frozen result dataclasses.

    Subclasses are ``@dataclass(frozen=True)``; ``to_dict`` converts every field with
    :func:`to_jsonable`.
    """

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a dict of plain Python values."""
        assert dataclasses.is_dataclass(self)
        return {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


def to_frame(results: Iterable[Result]) -> Any:
    """Return a pandas DataFrame with one row per result (requires pandas)."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise ImportError("to_frame() needs pandas: pip install pandas") from exc
    rows = [r.to_dict() for r in results]
    return pd.DataFrame.from_records(rows)


def is_nan(value: Any) -> bool:
    """True for float NaN (and NumPy NaN), False for anything else."""
    return isinstance(value, float | np.floating) and math.isnan(value)

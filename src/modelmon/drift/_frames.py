"""Input adapters: read columns of pandas / polars frames, Arrow tables and dicts of arrays.

A :class:`Column` gives what the drift layer needs from one column, computed with the input's
own machinery and without importing pandas, polars or pyarrow unless the caller passed such an
object:

* ``floats()`` — float64 values with NaN for missing (a view when the data already is float64);
* ``category_summary()`` — category counts. NumPy string arrays and Arrow string arrays are
  counted by a compiled hash kernel straight from their buffers; pandas categoricals and Arrow
  dictionaries by their codes; plain object arrays by :class:`collections.Counter`.
"""

from __future__ import annotations

import collections
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelmon.drift.summaries import CategoricalSummary, make_categorical
from modelmon.exceptions import SchemaError, ValidationError

__all__ = ["Column", "column_from_array", "frame_columns"]

# kinds: "float", "int", "bool", "string", "category", "object", "null"


def _module(obj: Any) -> str:
    return type(obj).__module__.split(".", 1)[0]


def _py(value: Any) -> Any:
    """A NumPy / Arrow scalar as a plain Python value."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    try:  # pandas.NA, pandas.NaT
        return bool(value != value)
    except (TypeError, ValueError):
        return type(value).__name__ in ("NAType", "NaTType")


def _unsupported(label: str, dtype: Any) -> ValidationError:
    return ValidationError(
        f"{label} has dtype {dtype}, which drift tests do not support; convert it to numbers "
        "or strings, or leave it out with columns=.",
        code="invalid_type",
    )


def _int_counts(arr: NDArray[Any]) -> tuple[list[Any], NDArray[np.int64]]:
    if arr.size == 0:
        return [], np.empty(0, dtype=np.int64)
    lo, hi = int(arr.min()), int(arr.max())
    if hi - lo < 1 << 22:
        counts = np.bincount((arr - lo).astype(np.intp, copy=False), minlength=hi - lo + 1)
        present = np.flatnonzero(counts)
        return [lo + int(k) for k in present], counts[present].astype(np.int64)
    values, counts = np.unique(arr, return_counts=True)
    return values.tolist(), counts.astype(np.int64)


def _int_distinct_at_most(arr: NDArray[Any], limit: int) -> bool:
    if arr.size == 0:
        return True
    if np.unique(arr[:4096]).size > limit:
        return False
    return len(_int_counts(arr)[0]) <= limit


class Column(ABC):
    """One column of an input frame (see the module docstring)."""

    kind: str = "object"

    def __init__(self, data: Any, label: str) -> None:
        self.data = data
        self.label = label

    def __len__(self) -> int:
        return len(self.data)

    @abstractmethod
    def floats(self) -> NDArray[np.float64]:
        """Float64 values, NaN where missing."""

    @abstractmethod
    def category_summary(self) -> CategoricalSummary:
        """Category counts."""

    def infer_type(self, max_int_categories: int) -> str:
        """``"numeric"`` or ``"categorical"`` by the documented rule."""
        if self.kind in ("float", "null"):
            return "numeric"
        if self.kind == "int":
            return "categorical" if self.int_distinct_at_most(max_int_categories) else "numeric"
        return "categorical"

    @abstractmethod
    def int_distinct_at_most(self, limit: int) -> bool:
        """Whether an integer column has at most ``limit`` distinct non-missing values."""

    def _not_numeric(self) -> ValidationError:
        return SchemaError(
            f"{self.label} must hold numbers for a numeric feature. Got {self.kind} values "
            "instead; declare it categorical with feature_types=.",
            code="invalid_feature_type",
        )


class NumpyColumn(Column):
    """A 1-D NumPy array."""

    def __init__(self, data: NDArray[Any], label: str) -> None:
        super().__init__(data, label)
        k = data.dtype.kind
        if k == "f":
            self.kind = "float"
        elif k in "iu":
            self.kind = "int"
        elif k == "b":
            self.kind = "bool"
        elif k in "US":
            self.kind = "string"
        elif k == "O":
            self.kind = self._object_kind()
        else:
            raise _unsupported(label, data.dtype)

    def _object_kind(self) -> str:
        for value in self.data[:1000]:
            if _is_missing(value):
                continue
            if isinstance(value, bool | np.bool_):
                return "bool"
            if isinstance(value, int | float | np.number):
                return "float"
            return "object"
        return "object" if len(self.data) else "null"

    def floats(self) -> NDArray[np.float64]:
        a = self.data
        if a.dtype == np.float64:
            return a
        if self.kind == "string":
            raise self._not_numeric()
        try:
            return np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError):
            raise self._not_numeric() from None

    def int_distinct_at_most(self, limit: int) -> bool:
        return _int_distinct_at_most(self.data, limit)

    def category_summary(self) -> CategoricalSummary:
        a = self.data
        k = a.dtype.kind
        if k == "b":
            n_true = int(np.count_nonzero(a))
            return make_categorical([False, True], np.array([a.size - n_true, n_true]), 0)
        if k in "iu":
            labels, counts = _int_counts(a)
            return make_categorical(labels, counts, 0)
        if k == "f":
            valid = a[~np.isnan(a)]
            values, counts = np.unique(valid, return_counts=True)
            return make_categorical(values.tolist(), counts, a.size - valid.size)
        if k in "US":
            return _fixed_width_counts(a)
        return _object_counts(a, self.label)


def _fixed_width_counts(a: NDArray[Any]) -> CategoricalSummary:
    from modelmon.drift import _kernels

    a = np.ascontiguousarray(a)
    unit = 4 if a.dtype.kind == "U" else 1
    width = a.dtype.itemsize // unit
    if a.size == 0:
        return make_categorical([], np.empty(0, dtype=np.int64), 0)
    if width == 0:
        return make_categorical([a[0].item()], np.array([a.size]), 0)
    mat = a.reshape(-1).view(np.uint32 if unit == 4 else np.uint8).reshape(a.size, width)
    for capacity in _capacities(a.size):
        first, counts, k = _kernels.count_fixed_width(mat, capacity)
        if k >= 0:
            break
    labels = [_decode(a[i].item()) for i in first[:k]]
    return make_categorical(labels, counts[:k], 0)


def _capacities(n: int) -> tuple[int, ...]:
    """Hash-table sizes to try: small (cache-resident) first, then one that always fits."""
    return (min(n, 4096), n) if n > 4096 else (max(n, 1),)


def _decode(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _object_counts(a: NDArray[Any], label: str) -> CategoricalSummary:
    try:
        counter = collections.Counter(a.tolist())
    except TypeError:
        raise ValidationError(
            f"{label} holds unhashable values; categorical features need hashable values.",
            code="invalid_type",
        ) from None
    labels: list[Any] = []
    counts: list[int] = []
    merged: dict[Any, int] = {}
    n_missing = 0
    for value, count in counter.items():
        if _is_missing(value):
            n_missing += count
            continue
        key = _decode(_py(value))
        merged[key] = merged.get(key, 0) + count
    labels = list(merged)
    counts = list(merged.values())
    return make_categorical(labels, np.asarray(counts, dtype=np.int64), n_missing)


class ArrowColumn(Column):
    """A pyarrow ChunkedArray (also used for polars series, which convert without copying)."""

    def __init__(self, data: Any, label: str) -> None:
        import pyarrow as pa

        if isinstance(data, pa.Array):
            data = pa.chunked_array([data], type=data.type)
        super().__init__(data, label)
        t = data.type
        types = pa.types
        if types.is_floating(t) or types.is_decimal(t):
            self.kind = "float"
        elif types.is_integer(t):
            self.kind = "int"
        elif types.is_boolean(t):
            self.kind = "bool"
        elif types.is_dictionary(t):
            self.kind = "category"
        elif types.is_null(t):
            self.kind = "null"
        elif (
            types.is_string(t)
            or types.is_large_string(t)
            or types.is_binary(t)
            or types.is_large_binary(t)
            or getattr(types, "is_string_view", lambda _: False)(t)
        ):
            self.kind = "string"
        else:
            raise _unsupported(label, t)

    def floats(self) -> NDArray[np.float64]:
        import pyarrow as pa
        import pyarrow.compute as pc

        col = self.data
        if self.kind in ("string", "category"):
            raise self._not_numeric()
        if self.kind == "null":
            return np.full(len(col), np.nan)
        if col.type != pa.float64():
            col = pc.cast(col, pa.float64())
        out: NDArray[np.float64] = col.to_numpy()
        return out

    def int_distinct_at_most(self, limit: int) -> bool:
        return _int_distinct_at_most(self.data.drop_null().to_numpy(), limit)

    def category_summary(self) -> CategoricalSummary:
        import pyarrow as pa
        import pyarrow.compute as pc

        col = self.data
        t = col.type
        n_missing = col.null_count
        if self.kind == "bool":
            n_true = int(pc.sum(col).as_py() or 0)
            return make_categorical(
                [False, True], np.array([len(col) - n_missing - n_true, n_true]), n_missing
            )
        if self.kind == "int":
            labels, counts = _int_counts(col.drop_null().to_numpy())
            return make_categorical(labels, counts, n_missing)
        if self.kind in ("float", "null"):
            return NumpyColumn(self.floats(), self.label).category_summary()
        if self.kind == "category":
            return _dictionary_counts(col)
        if not (pa.types.is_large_string(t) or pa.types.is_string(t)):
            # views and binary columns: one cast to a buffer layout the kernel reads
            col = pc.cast(col, pa.large_binary() if "binary" in str(t) else pa.large_string())
        return _arrow_string_counts(col)


def _arrow_string_counts(col: Any) -> CategoricalSummary:
    from modelmon.drift import _kernels

    merged: dict[Any, int] = {}
    n_missing = 0
    for chunk in col.chunks:
        if len(chunk) == 0:
            continue
        validity, offsets_buf, data_buf = chunk.buffers()[:3]
        off_type = np.int32 if chunk.type in (_pa().string(), _pa().binary()) else np.int64
        offsets = np.frombuffer(offsets_buf, dtype=off_type)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        data = (
            np.frombuffer(data_buf, dtype=np.uint8)
            if data_buf is not None and data_buf.size
            else np.zeros(1, np.uint8)
        )
        if chunk.null_count and validity is not None:
            bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
            valid = bits[chunk.offset : chunk.offset + len(chunk)]
        else:
            valid = np.empty(0, dtype=np.uint8)
        for capacity in _capacities(len(chunk)):
            first, counts, k, missing = _kernels.count_var_width(offsets, data, valid, capacity)
            if k >= 0:
                break
        n_missing += int(missing)
        for i, c in zip(first[:k].tolist(), counts[:k].tolist()):
            key = bytes(data[offsets[i] : offsets[i + 1]]).decode("utf-8", "replace")
            merged[key] = merged.get(key, 0) + c
    return make_categorical(
        list(merged), np.fromiter(merged.values(), np.int64, len(merged)), n_missing
    )


def _pa() -> Any:
    import pyarrow as pa

    return pa


def _dictionary_counts(col: Any) -> CategoricalSummary:
    merged: dict[Any, int] = {}
    n_missing = col.null_count
    for chunk in col.chunks:
        if len(chunk) == 0:
            continue
        idx = chunk.indices.drop_null().to_numpy()
        dictionary = [_decode(v) for v in chunk.dictionary.to_pylist()]
        counts = np.bincount(idx.astype(np.intp, copy=False), minlength=len(dictionary))
        for label, c in zip(dictionary, counts.tolist()):
            if c and label is not None:
                merged[label] = merged.get(label, 0) + c
            elif c:
                n_missing += c
    return make_categorical(
        list(merged), np.fromiter(merged.values(), np.int64, len(merged)), n_missing
    )


class PandasColumn(Column):
    """A pandas Series."""

    def __init__(self, data: Any, label: str) -> None:
        super().__init__(data, label)
        dtype = data.dtype
        name = type(dtype).__name__
        if name == "CategoricalDtype":
            self.kind = "category"
        elif self._arrow_backed():
            self._arrow = ArrowColumn(data.array.__arrow_array__(), label)
            self.kind = self._arrow.kind
        elif dtype.kind == "f":
            self.kind = "float"
        elif dtype.kind in "iu":
            self.kind = "int"
        elif dtype.kind == "b":
            self.kind = "bool"
        elif dtype.kind == "O":
            self.kind = (
                "string"
                if name == "StringDtype"
                else NumpyColumn(data.to_numpy()[:1000], label).kind
            )
        else:
            raise _unsupported(label, dtype)

    def _arrow_backed(self) -> bool:
        dtype = self.data.dtype
        name = type(dtype).__name__
        if name == "ArrowDtype":
            return True
        return name == "StringDtype" and getattr(dtype, "storage", "") == "pyarrow"

    def floats(self) -> NDArray[np.float64]:
        s = self.data
        if self.kind in ("string", "category"):
            raise self._not_numeric()
        if s.dtype == np.float64:
            out: NDArray[np.float64] = s.to_numpy()
            return out
        try:
            return np.asarray(s.to_numpy(dtype=np.float64, na_value=np.nan))
        except (TypeError, ValueError):
            raise self._not_numeric() from None

    def int_distinct_at_most(self, limit: int) -> bool:
        return _int_distinct_at_most(self.data.dropna().to_numpy(), limit)

    def category_summary(self) -> CategoricalSummary:
        s = self.data
        if self.kind == "category":
            codes = s.cat.codes.to_numpy()
            cats = [_py(c) for c in s.cat.categories]
            valid = codes[codes >= 0]
            counts = np.bincount(valid.astype(np.intp, copy=False), minlength=len(cats))
            return make_categorical(cats, counts, codes.size - valid.size)
        if hasattr(self, "_arrow"):
            return self._arrow.category_summary()
        if type(s.dtype).__module__.startswith("pandas"):  # nullable Int / boolean / Float
            present = s.dropna().to_numpy()
            out = NumpyColumn(present, self.label).category_summary()
            return CategoricalSummary(
                out.categories, out.counts, out.n_missing + len(s) - len(present)
            )
        return NumpyColumn(s.to_numpy(), self.label).category_summary()


def column_from_array(x: Any, label: str) -> Column:
    """Wrap one column-like object (array, list, pandas/polars series, Arrow array)."""
    mod = _module(x)
    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            x = x.reshape(-1) if x.ndim == 2 and 1 in x.shape else x
        if x.ndim != 1:
            raise ValidationError(
                f"{label} must be 1-dimensional. Got an array of shape {x.shape} instead.",
                code="invalid_shape",
            )
        return NumpyColumn(x, label)
    if mod == "pandas" and type(x).__name__ == "Series":
        return PandasColumn(x, label)
    if mod == "polars" and type(x).__name__ == "Series":
        return ArrowColumn(x.to_arrow(), label)
    if mod == "pyarrow" and hasattr(x, "type") and hasattr(x, "null_count"):
        return ArrowColumn(x, label)
    scalar = ValidationError(
        f"{label} must be 1-dimensional. Got a scalar instead.", code="invalid_shape"
    )
    if isinstance(x, str | bytes):
        raise scalar
    try:
        arr = np.asarray(x)
    except ValueError:  # ragged nested sequences: keep the items as objects
        arr = np.empty(len(x), dtype=object)
        arr[:] = list(x)
    if arr.ndim == 0:
        raise scalar
    return column_from_array(arr, label)


def frame_columns(frame: Any, which: str, owner: str) -> tuple[dict[str, Any], int]:
    """Map column name -> lazily wrapped column; return it with the number of rows.

    The values are callables returning a :class:`Column`, so unused columns cost nothing.
    """
    mod = _module(frame)
    kind = type(frame).__name__

    def label(name: str) -> str:
        return f"Feature {name!r} of the {which} data"

    if mod == "pandas" and kind == "DataFrame":
        names = [str(c) for c in frame.columns]
        _check_unique(names, which, owner)
        originals = dict(zip(names, frame.columns))
        return (
            {n: (lambda n=n: PandasColumn(frame[originals[n]], label(n))) for n in names},
            len(frame),
        )
    if mod == "polars" and kind == "DataFrame":
        return (
            {
                n: (lambda n=n: ArrowColumn(frame.get_column(n).to_arrow(), label(n)))
                for n in frame.columns
            },
            frame.height,
        )
    if mod == "polars" and kind == "LazyFrame":
        raise ValidationError(
            f"The {which!r} argument of {owner} is a polars LazyFrame; call .collect() first.",
            code="invalid_type",
        )
    if mod == "pyarrow" and kind in ("Table", "RecordBatch"):
        names = list(frame.schema.names)
        _check_unique(names, which, owner)
        return (
            {
                n: (lambda i=i, n=n: ArrowColumn(frame.column(i), label(n)))
                for i, n in enumerate(names)
            },
            frame.num_rows,
        )
    if isinstance(frame, Mapping):
        names = [str(k) for k in frame]
        _check_unique(names, which, owner)
        cols = {n: column_from_array(v, label(n)) for n, v in zip(names, frame.values())}
        lengths = {len(c) for c in cols.values()}
        if len(lengths) > 1:
            detail = ", ".join(f"{n}={len(c)}" for n, c in cols.items())
            raise ValidationError(
                f"Found columns of inconsistent lengths in the {which} data of {owner}: {detail}.",
                code="length_mismatch",
                loc=(which,),
            )
        return ({n: (lambda c=c: c) for n, c in cols.items()}, lengths.pop() if lengths else 0)
    also = " or a Reference" if which == "reference" else ""
    raise ValidationError(
        f"The {which!r} argument of {owner} must be a pandas or polars DataFrame, a pyarrow "
        f"Table or a dict of arrays{also}. Got {type(frame).__name__} instead.",
        code="invalid_type",
        loc=(which,),
    )


def _check_unique(names: list[str], which: str, owner: str) -> None:
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValidationError(
            f"The {which} data of {owner} has duplicate column names: {dup}.",
            code="invalid_value",
            loc=(which,),
        )

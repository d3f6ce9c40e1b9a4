"""Input features as one float matrix for tree models (direct loss estimation, the domain
classifier): numbers as they are, categories as codes learned on the reference (unseen and
missing categories are missing values)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_option
from modelmon.drift._frames import ArrowColumn, Column, NumpyColumn, PandasColumn, frame_columns
from modelmon.exceptions import ValidationError

__all__ = ["FeatureEncoder"]

_KINDS = ("numeric", "categorical")


def _object_values(col: Column) -> NDArray[Any]:
    """The column as a NumPy object array of category texts, None where missing."""
    if isinstance(col, PandasColumn):
        s = col.data
        values = s.astype(object).to_numpy()
        mask = s.isna().to_numpy()
    else:
        values = np.asarray(col.data)
        if values.dtype.kind == "f":
            mask = np.isnan(values)
        elif values.dtype.kind == "O":
            mask = np.array([v is None or (isinstance(v, float) and v != v) for v in values],
                            dtype=bool)
        else:
            mask = np.zeros(values.shape, dtype=bool)
    out = np.empty(values.shape, dtype=object)
    if values.dtype.kind == "b":
        out[:] = np.where(values, "true", "false")
    else:
        out[:] = [v if isinstance(v, str) else ("true" if v is True else "false" if v is False
                                                  else str(v)) for v in values.tolist()]
    out[mask] = None
    return out


def _categories_of(col: Column) -> list[str]:
    if isinstance(col, ArrowColumn):
        import pyarrow as pa
        import pyarrow.compute as pc

        text = col.data if col.kind == "string" else col.data.cast(pa.string())
        return sorted(v for v in pc.unique(text).to_pylist() if v is not None)
    values = _object_values(col)
    return sorted({v for v in values.tolist() if v is not None})


def _codes(col: Column, categories: Sequence[str]) -> NDArray[np.float64]:
    """Each row's index into ``categories`` (NaN for missing or unseen values)."""
    if isinstance(col, ArrowColumn):
        import pyarrow as pa
        import pyarrow.compute as pc

        text = col.data.cast(pa.string()) if col.kind != "string" else col.data
        idx = pc.index_in(text, value_set=pa.array(list(categories), pa.string()))
        out = np.asarray(idx.to_numpy(zero_copy_only=False), dtype=np.float64)
        return out  # nulls come through as NaN
    values = _object_values(col)
    present = np.array([v is not None for v in values.tolist()], dtype=bool)
    out = np.full(values.shape, np.nan)
    if present.any():
        uniq, inverse = np.unique(values[present].astype(str), return_inverse=True)
        lookup = {c: i for i, c in enumerate(categories)}
        mapped = np.array([lookup.get(u, np.nan) for u in uniq.tolist()], dtype=np.float64)
        out[present] = mapped[inverse]
    return out


def _is_categorical(col: Column) -> bool:
    return col.kind in ("string", "category", "object", "bool")


@dataclass(frozen=True)
class FeatureEncoder:
    """The features a loss model reads and how each is encoded."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def fit(cls, features: Any, owner: str,
            feature_types: Mapping[str, str] | None = None) -> tuple[FeatureEncoder, NDArray[np.float64]]:
        """Learn the encoding of ``features`` (a frame or a dict of arrays) and return it with
        the encoded reference matrix."""
        getters, n = frame_columns(features, "reference", owner)
        names, kinds, cats = [], [], {}
        for name, get in getters.items():
            col = get()
            chosen = (feature_types or {}).get(name)
            if chosen is not None:
                check_option(chosen, "feature_types", owner, _KINDS)
            kind = chosen or ("categorical" if _is_categorical(col) else "numeric")
            names.append(name)
            kinds.append(kind)
            if kind == "categorical":
                cats[name] = tuple(_categories_of(col))
        enc = cls(tuple(names), tuple(kinds), cats)
        return enc, enc._matrix(getters, n)

    def transform(self, features: Any, owner: str) -> NDArray[np.float64]:
        """The encoded matrix of ``features`` (columns matched by name)."""
        getters, n = frame_columns(features, "current", owner)
        missing = [f for f in self.names if f not in getters]
        if missing:
            raise ValidationError(
                f"The features given to {owner} lack {missing}, which the reference had.",
                code="missing_feature", loc=(missing[0],))
        return self._matrix(getters, n)

    def _matrix(self, getters: Mapping[str, Any], n: int) -> NDArray[np.float64]:
        x = np.empty((n, len(self.names)), dtype=np.float64)
        for j, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)):
            col = getters[name]()
            if kind == "categorical":
                x[:, j] = _codes(col, self.categories[name])
            elif isinstance(col, NumpyColumn | ArrowColumn | PandasColumn) and _is_categorical(col):
                raise ValidationError(
                    f"Feature {name!r} was numeric in the reference but holds {col.kind} values.",
                    code="invalid_feature_type", loc=(name,))
            else:
                x[:, j] = col.floats()
        x[~np.isfinite(x)] = np.nan
        return x

    @property
    def categorical_indices(self) -> list[int]:
        return [j for j, k in enumerate(self.kinds) if k == "categorical"]

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "kinds": list(self.kinds),
                "categories": {k: list(v) for k, v in self.categories.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureEncoder:
        return cls(tuple(data["names"]), tuple(data["kinds"]),
                   {k: tuple(v) for k, v in data["categories"].items()})

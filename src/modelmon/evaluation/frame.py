"""A window's predictions as NumPy columns, decoded once from the store's Arrow table.

The store returns logical columns (``feature.<name>``, ``segment.<name>``, ``actual_label`` ...);
:class:`EvalFrame` turns them into what metrics and drift tests take: labels as class indices,
scores, probability matrices, regression values, and a mask of labelled rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from modelmon.config.models import FeatureType, ModelSpec, Task
from modelmon.store.base import FEATURE_PREFIX, SEGMENT_PREFIX

__all__ = ["EvalFrame", "needed_columns"]


def needed_columns(spec: ModelSpec, *, ids: bool = False) -> list[str]:
    """Columns the evaluator reads (no more: fetching is the main cost of a window)."""
    cols = (["prediction_id"] if ids else []) + ["version", "event_time", "latency_seconds",
                                                  "status"]
    if spec.task is Task.REGRESSION:
        cols.append("value")
    else:
        cols += ["label", "score"]
        if spec.task is Task.MULTICLASS and spec.prediction.probabilities:
            cols.append("probabilities")
    cols += [SEGMENT_PREFIX + s for s in spec.segments]
    cols += [FEATURE_PREFIX + f.name for f in spec.features]
    return cols


def _np(col: pa.ChunkedArray | pa.Array, dtype: Any = None) -> np.ndarray:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    out = arr.to_numpy(zero_copy_only=False)
    return np.asarray(out, dtype=dtype) if dtype is not None else out


def _strings(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A text column as a NumPy object array; one repeated value (a window of one version)
    as a read-only view of that one string, without a Python object per row."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if len(arr) and arr.null_count == 0:
        distinct = pc.unique(arr)
        if len(distinct) == 1:
            return np.broadcast_to(np.array([distinct[0].as_py()], dtype=object), (len(arr),))
    return _np(arr)


def _class_index(labels: pa.ChunkedArray | pa.Array, classes: list[str]) -> NDArray[np.int64]:
    """Class index of each label (-1 for null or unknown labels)."""
    idx = pc.index_in(labels, value_set=pa.array(classes, pa.string()))
    return _np(idx.fill_null(-1), np.int64)


def _probability_matrix(col: pa.ChunkedArray, k: int) -> NDArray[np.float64] | None:
    """An (n, k) matrix; rows without probabilities (or of the wrong length) are NaN."""
    arr = col.combine_chunks()
    n = len(arr)
    lengths = _np(pc.list_value_length(arr).fill_null(0), np.int64)
    good = lengths == k
    if not good.any():
        return None
    mat = np.full((n, k), np.nan)
    flat = _np(pc.list_flatten(arr.filter(pa.array(good))), np.float64)
    mat[good] = flat.reshape(-1, k)
    return mat


@dataclass
class EvalFrame:
    """The rows of one window (or a slice of it), as NumPy arrays.

    ``classes`` maps class index to label text (classification); ``y_pred``/``y_true`` are class
    indices (-1 when unknown) or regression values (NaN when unknown). ``labelled`` marks rows
    with an actual and a successful prediction.
    """

    spec: ModelSpec
    n: int
    classes: list[str]
    version: NDArray[Any]
    event_time: NDArray[Any]
    latency: NDArray[np.float64]
    is_error: NDArray[np.bool_]
    y_pred: NDArray[Any]
    y_true: NDArray[Any]
    labelled: NDArray[np.bool_]
    score: NDArray[np.float64] | None = None
    proba: NDArray[np.float64] | None = None
    #: numeric features as float64 arrays (NaN = missing); categorical and boolean features as
    #: Arrow string arrays (null = missing).
    features: dict[str, Any] = field(default_factory=dict)
    #: segment columns as integer codes into ``segment_labels``
    segments: dict[str, NDArray[np.int32]] = field(default_factory=dict)
    segment_labels: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_arrow(cls, spec: ModelSpec, table: pa.Table, classes: list[str] | None = None) -> EvalFrame:
        n = table.num_rows
        is_error = _np(pc.equal(table.column("status"), "error").fill_null(False), np.bool_)
        latency = _np(table.column("latency_seconds").cast(pa.float64()), np.float64)
        features: dict[str, Any] = {}
        for f in spec.features:
            col = table.column(FEATURE_PREFIX + f.name)
            if f.type is FeatureType.NUMERIC:
                features[f.name] = _np(col.cast(pa.float64()), np.float64)
            elif f.type is FeatureType.BOOLEAN:
                # Booleans compare as categories ("true"/"false"); missing stays null.
                features[f.name] = pc.if_else(col, "true", "false").combine_chunks()
            else:
                # Categorical columns stay Arrow: dictionary encoding beats NumPy object arrays.
                features[f.name] = col.combine_chunks()
        segments: dict[str, NDArray[np.int32]] = {}
        segment_labels: dict[str, list[str]] = {}
        for s in spec.segments:
            encoded = table.column(SEGMENT_PREFIX + s).fill_null("(missing)").combine_chunks() \
                .dictionary_encode()
            segments[s] = _np(encoded.indices, np.int32)
            segment_labels[s] = [str(v) for v in encoded.dictionary.to_pylist()]
        common: dict[str, Any] = dict(
            spec=spec, n=n, version=_strings(table.column("version")),
            event_time=_np(table.column("event_time").cast(pa.int64()), np.int64),
            latency=latency, is_error=is_error, features=features, segments=segments,
            segment_labels=segment_labels,
        )
        if spec.task is Task.REGRESSION:
            y_pred = _np(table.column("value").cast(pa.float64()), np.float64)
            y_true = (_np(table.column("actual_value").cast(pa.float64()), np.float64)
                      if "actual_value" in table.column_names else np.full(n, np.nan))
            labelled = np.isfinite(y_true) & np.isfinite(y_pred) & ~is_error
            return cls(classes=[], y_pred=y_pred, y_true=y_true, labelled=labelled, **common)
        known = list(classes or spec.prediction.classes or [])
        labels = table.column("label")
        actual = table.column("actual_label") if "actual_label" in table.column_names else pa.nulls(n, pa.string())
        if not spec.prediction.classes:
            # Classes learned from data: keep a stable, sorted order extended by new labels.
            seen = set(pc.unique(labels).to_pylist()) | set(pc.unique(actual).to_pylist())
            known = sorted(set(known) | {s for s in seen if s is not None})
        y_pred = _class_index(labels, known)
        y_true = _class_index(actual, known)
        labelled = (y_true >= 0) & (y_pred >= 0) & ~is_error
        score = None
        if spec.task is Task.BINARY:
            raw = _np(table.column("score").cast(pa.float64()), np.float64)
            score = raw if np.isfinite(raw).any() else None
        proba = None
        if "probabilities" in table.column_names and n:
            proba = _probability_matrix(table.column("probabilities"), len(known))
        return cls(classes=known, y_pred=y_pred, y_true=y_true, labelled=labelled, score=score,
                   proba=proba, **common)

    def feature_table(self) -> pa.Table:
        """The features as an Arrow table (what the drift library takes fastest)."""
        return pa.table({k: (v if isinstance(v, pa.Array) else pa.array(v))
                         for k, v in self.features.items()})

    def subset(self, mask: NDArray[np.bool_] | NDArray[np.int64], *,
               features: bool = True) -> EvalFrame:
        """The rows where ``mask`` is true, or the rows at the indices ``mask`` (repeats
        allowed: a bootstrap sample), without the feature columns unless ``features``."""
        def take(a: Any) -> Any:
            return None if a is None else a[mask]

        rows = int(mask.sum()) if mask.dtype == np.bool_ else int(mask.size)
        if features and mask.dtype != np.bool_:
            raise ValueError("an index sample of an evaluation frame has no feature columns")
        return EvalFrame(
            spec=self.spec, n=rows, classes=self.classes, version=self.version[mask],
            event_time=self.event_time[mask], latency=self.latency[mask],
            is_error=self.is_error[mask], y_pred=self.y_pred[mask], y_true=self.y_true[mask],
            labelled=self.labelled[mask], score=take(self.score), proba=take(self.proba),
            features=({k: (v.filter(pa.array(mask)) if isinstance(v, pa.Array) else v[mask])
                       for k, v in self.features.items()} if features else {}),
            segments={k: v[mask] for k, v in self.segments.items()},
            segment_labels=self.segment_labels,
        )

    @property
    def positive_index(self) -> int:
        """Class index of the positive class (binary)."""
        pos = self.spec.positive_class
        return self.classes.index(pos) if pos in self.classes else len(self.classes) - 1

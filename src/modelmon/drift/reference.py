"""The fitted reference: one summary per feature, computed once, stored, compared many times.

``Reference.fit(frame)`` scans the reference data once and keeps, per feature, what every test
needs (:class:`~modelmon.drift.NumericSummary` / :class:`~modelmon.drift.CategoricalSummary`).
``reference.compare(current)`` then scans only the current data. :func:`modelmon.drift.compare`
is literally ``Reference.fit(reference).compare(current)``, so a stored reference gives exactly
the results of comparing the raw frames.

Exactness: a numeric column with at most ``max_exact`` distinct values (default 100 000) is
stored exactly — sorted distinct values with counts — and every test on it gives the same
numbers as on the raw column. Above that the column is stored as a quantile sketch of
``sketch_size`` points (default 10 000) with exact count, moments, range and quantile-bin
counts; the KS statistic, Wasserstein and energy distances computed from the sketch differ from
the exact ones by at most the stored ``ks_error``, ``wasserstein_error`` and ``energy_error``
(measured at fit time, typically ~1e-4 and far below any drift threshold). Categorical columns
are always exact.
"""

from __future__ import annotations

import functools
import io
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from modelmon._validation import check_int, check_option, check_real
from modelmon.drift._frames import Column, frame_columns
from modelmon.drift.summaries import (
    DEFAULT_BINS,
    DEFAULT_MAX_EXACT,
    DEFAULT_SKETCH_SIZE,
    CategoricalSummary,
    Note,
    NumericSummary,
    summarize_numeric,
)
from modelmon.exceptions import ParameterError, SchemaError, ValidationError

if TYPE_CHECKING:
    from modelmon.drift.registry import DriftTest

__all__ = ["DEFAULT_MAX_INT_CATEGORIES", "FEATURE_TYPES", "Reference"]

FEATURE_TYPES = ("numeric", "categorical")
#: Integer columns with at most this many distinct reference values are inferred categorical.
DEFAULT_MAX_INT_CATEGORIES = 10
#: Below this many cells (rows x features) the work runs in the calling thread.
_PARALLEL_MIN_CELLS = 2_000_000

_FORMAT = "modelmon.drift.Reference"
_VERSION = 1

T = TypeVar("T")
Summary = NumericSummary | CategoricalSummary


def resolve_n_jobs(n_jobs: int | None, n_cells: int, n_tasks: int, owner: str) -> int:
    """Threads to use: ``None`` picks 1 for small inputs, else the CPU count (at most 8)."""
    if n_jobs is None:
        if n_cells < _PARALLEL_MIN_CELLS:
            return 1
        return max(1, min(os.cpu_count() or 1, 8, n_tasks))
    return check_int(n_jobs, "n_jobs", owner, low=1)


def run_tasks(tasks: Sequence[Callable[[], T]], n_jobs: int) -> list[T]:
    """Run tasks in order, in ``n_jobs`` threads (NumPy sorts and the kernels release the GIL)."""
    if n_jobs <= 1 or len(tasks) <= 1:
        return [t() for t in tasks]
    with ThreadPoolExecutor(max_workers=min(n_jobs, len(tasks))) as pool:
        return list(pool.map(lambda t: t(), tasks))


def select_columns(
    available: Mapping[str, Any], columns: Sequence[str] | None, which: str, owner: str
) -> list[str]:
    """Names to use, in order; every requested one must exist."""
    if columns is None:
        return list(available)
    if isinstance(columns, str):
        raise ParameterError(
            f"The 'columns' parameter of {owner} must be a sequence of column names. "
            f"Got the string {columns!r} instead.",
            loc=("columns",),
        )
    names = [str(c) for c in columns]
    missing = [n for n in names if n not in available]
    if missing:
        raise SchemaError(
            f"The {which} data of {owner} has no column(s) {missing}.",
            code="missing_feature",
            loc=(which, missing[0]),
        )
    return names


class Reference:
    """A reference data set summarised for drift tests.

    Build it with :meth:`fit`; compare current data with :meth:`compare`; store it with
    :meth:`to_dict` (JSON) or :meth:`to_bytes` (compact NumPy archive). Index it by feature name
    to get a column summary that every test function accepts.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.drift import Reference
    >>> rng = np.random.default_rng(0)
    >>> ref = Reference.fit({"x": rng.normal(size=2000), "c": rng.choice(["a", "b", "c"], 2000)})
    >>> ref.feature_types
    {'x': 'numeric', 'c': 'categorical'}
    >>> res = ref.compare({"x": rng.normal(0.5, 1, size=2000), "c": rng.choice(["a", "b", "c"], 2000)})
    >>> res.drifted_features
    ['x']
    >>> Reference.from_bytes(ref.to_bytes()).compare({"x": rng.normal(size=50), "c": ["a"] * 50}).n_features
    2
    """

    def __init__(
        self,
        summaries: Mapping[str, Summary],
        *,
        n_rows: int,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self._summaries: dict[str, Summary] = dict(summaries)
        self.n_rows = int(n_rows)
        self.params: dict[str, Any] = dict(params or {})

    # ------------------------------------------------------------------ building

    @classmethod
    def fit(
        cls,
        frame: Any,
        *,
        feature_types: Mapping[str, str] | None = None,
        columns: Sequence[str] | None = None,
        bins: int = DEFAULT_BINS,
        max_exact: int = DEFAULT_MAX_EXACT,
        sketch_size: int = DEFAULT_SKETCH_SIZE,
        max_int_categories: int = DEFAULT_MAX_INT_CATEGORIES,
        n_jobs: int | None = None,
    ) -> Reference:
        """Summarise a reference data set.

        Parameters
        ----------
        frame : pandas or polars DataFrame, pyarrow Table or dict of arrays
            The reference data.
        feature_types : mapping of str to {"numeric", "categorical"}, optional
            Override the inferred type of some features. Inference: floats are numeric;
            booleans, strings, categoricals and Arrow dictionaries are categorical; integers are
            categorical when they take at most ``max_int_categories`` distinct values in the
            reference, else numeric; object columns follow their first non-missing value.
        columns : sequence of str, optional
            Features to keep (default: every column).
        bins : int, default 10
            Reference-quantile bins stored for PSI, Jensen–Shannon, KL, Hellinger, TV.
        max_exact : int, default 100000
            Numeric columns with at most this many distinct values are stored exactly; larger
            ones as a quantile sketch (must be at least 10 000, so exact small-sample p-values
            always see exact data).
        sketch_size : int, default 10000
            Points in a sketch.
        max_int_categories : int, default 10
            Integer columns with at most this many distinct values are categorical.
        n_jobs : int, optional
            Threads (default: one for small frames, one per CPU for large ones).

        Returns
        -------
        Reference
        """
        owner = "Reference.fit"
        check_int(bins, "bins", owner, low=2)
        check_int(max_exact, "max_exact", owner, low=10_000)
        check_int(sketch_size, "sketch_size", owner, low=10)
        check_int(max_int_categories, "max_int_categories", owner, low=0)
        getters, n_rows = frame_columns(frame, "reference", owner)
        names = select_columns(getters, columns, "reference", owner)
        types = _check_feature_types(feature_types, names, owner)
        cols = [getters[n]() for n in names]
        jobs = resolve_n_jobs(n_jobs, n_rows * len(names), len(names), owner)

        def task(col: Column, declared: str | None) -> tuple[Summary, list[Note]]:
            notes: list[Note] = []
            ftype = declared or col.infer_type(max_int_categories)
            if ftype == "numeric":
                summary: Summary = summarize_numeric(
                    col.floats(),
                    max_exact=max_exact,
                    sketch_size=sketch_size,
                    bins=bins,
                    label=col.label,
                    _notes=notes,
                )
            else:
                summary = col.category_summary()
            return summary, notes

        results = run_tasks(
            [functools.partial(task, c, types.get(n)) for c, n in zip(cols, names)], jobs
        )
        from modelmon.drift._common import emit

        emit([note for _, notes in results for note in notes], stacklevel=3)
        params = {
            "bins": bins,
            "max_exact": max_exact,
            "sketch_size": sketch_size,
            "max_int_categories": max_int_categories,
        }
        return cls({n: s for n, (s, _) in zip(names, results)}, n_rows=n_rows, params=params)

    # ------------------------------------------------------------------ access

    @property
    def features(self) -> list[str]:
        """Feature names, in order."""
        return list(self._summaries)

    @property
    def feature_types(self) -> dict[str, str]:
        """``{name: "numeric" | "categorical"}``."""
        return {n: s.feature_type for n, s in self._summaries.items()}

    def __getitem__(self, feature: str) -> Summary:
        try:
            return self._summaries[feature]
        except KeyError:
            raise KeyError(f"The reference has no feature {feature!r}.") from None

    def __contains__(self, feature: object) -> bool:
        return feature in self._summaries

    def __iter__(self) -> Iterator[str]:
        return iter(self._summaries)

    def __len__(self) -> int:
        return len(self._summaries)

    def __repr__(self) -> str:
        return f"Reference(n_rows={self.n_rows}, features={self.features})"

    # ------------------------------------------------------------------ comparing

    def compare(
        self,
        current: Any,
        *,
        tests: str | DriftTest | Mapping[str, Any] | None = None,
        thresholds: Mapping[str, float] | None = None,
        correction: str = "none",
        drift_share: float = 0.5,
        columns: Sequence[str] | None = None,
        n_jobs: int | None = None,
    ) -> Any:
        """Compare current data with this reference; see :func:`modelmon.drift.compare`."""
        from modelmon.drift.compare import compare_to_reference

        return compare_to_reference(
            self,
            current,
            tests=tests,
            thresholds=thresholds,
            correction=correction,
            drift_share=drift_share,
            columns=columns,
            n_jobs=n_jobs,
        )

    # ------------------------------------------------------------------ storage

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (:func:`json.dumps` accepts it; floats round-trip exactly)."""
        return {
            **self._header(),
            "features": {n: s.to_dict() for n, s in self._summaries.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        """Rebuild a reference from :meth:`to_dict` output."""
        _check_header(data)
        summaries: dict[str, Summary] = {}
        for name, item in dict(data.get("features", {})).items():
            if item.get("feature_type") == "numeric":
                summaries[name] = NumericSummary.from_dict(item)
            elif item.get("feature_type") == "categorical":
                summaries[name] = CategoricalSummary.from_dict(item)
            else:
                raise ValidationError(
                    f"Feature {name!r} of the stored reference has an unknown feature_type "
                    f"{item.get('feature_type')!r}.",
                    code="invalid_feature_type",
                    loc=("features", name),
                )
        return cls(summaries, n_rows=int(data.get("n_rows", 0)), params=data.get("params"))

    def to_bytes(self) -> bytes:
        """A compact binary form: a NumPy ``.npz`` archive with a JSON header (no pickle)."""
        features: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        for i, (name, summary) in enumerate(self._summaries.items()):
            item = summary.to_dict(arrays=False)
            keys: tuple[str, ...] = ("counts",)
            if isinstance(summary, NumericSummary):
                keys = ("values", "counts", "bin_edges", "bin_counts")
            for key in keys:
                value = getattr(summary, key)
                if value is None:
                    item[key] = None
                else:
                    arrays[f"{i}.{key}"] = np.asarray(value)
                    item[key] = f"@{i}.{key}"
            features[name] = item
        header = {**self._header(), "features": features}
        arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    def _header(self) -> dict[str, Any]:
        """The fields of :meth:`to_dict` other than the features."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "n_rows": self.n_rows,
            "params": dict(self.params),
        }

    @classmethod
    def from_bytes(cls, data: bytes) -> Reference:
        """Rebuild a reference from :meth:`to_bytes` output."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                header = json.loads(bytes(archive["header"]).decode("utf-8"))
                for item in header.get("features", {}).values():
                    for key, value in list(item.items()):
                        if isinstance(value, str) and value.startswith("@"):
                            item[key] = archive[value[1:]]
        except (OSError, ValueError, KeyError) as exc:
            raise ValidationError(
                f"Cannot read a stored reference: {exc}.", code="invalid_value"
            ) from None
        return cls.from_dict(header)


def _check_header(data: Mapping[str, Any]) -> None:
    if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
        raise ValidationError(
            "This is not a stored modelmon drift reference (missing format marker).",
            code="invalid_value",
        )
    if data.get("version") != _VERSION:
        raise ValidationError(
            f"Unsupported stored reference version {data.get('version')!r}; expected {_VERSION}.",
            code="invalid_value",
        )


def _check_feature_types(
    feature_types: Mapping[str, str] | None, names: Sequence[str], owner: str
) -> dict[str, str]:
    if feature_types is None:
        return {}
    if not isinstance(feature_types, Mapping):
        raise ParameterError(
            f"The 'feature_types' parameter of {owner} must be a mapping of column name to "
            f"'numeric' or 'categorical'. Got {type(feature_types).__name__} instead.",
            loc=("feature_types",),
        )
    out: dict[str, str] = {}
    for name, ftype in feature_types.items():
        if name not in names:
            raise ParameterError(
                f"The 'feature_types' parameter of {owner} names {name!r}, which is not a "
                "compared column.",
                loc=("feature_types", str(name)),
            )
        check_option(ftype, f"feature_types[{name!r}]", owner, FEATURE_TYPES)
        out[str(name)] = ftype
    return out


def check_drift_share(value: Any, owner: str) -> float:
    """``drift_share`` must be in (0, 1]."""
    return check_real(value, "drift_share", owner, low=0.0, high=1.0, closed="right")

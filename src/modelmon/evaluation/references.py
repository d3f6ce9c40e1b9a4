"""The reference a model's windows are compared with: fitted once per spec revision and stored.

A :class:`ReferenceProfile` holds everything the judgement needs from the reference:

- the drift summary (:class:`~modelmon.drift.Reference`) of every feature and of the model's
  output (``prediction``);
- the drift bands (:class:`~modelmon.drift.DriftBands`): each statistic's noise, simulated from
  the summary and measured over the reference's own chunks;
- the quality of the reference's chunks when the reference holds the true outcome (a file with
  a ``target`` column), from which the quality bands are drawn;
- the performance estimator fitted on the reference's labelled rows, which estimates every
  window's quality without labels (:mod:`~modelmon.evaluation.estimation`);
- the multivariate drift models and their statistics over the reference's chunks
  (:mod:`~modelmon.evaluation.multivariate`).

Source, in order: the model's ``reference`` file (its columns mapped by ``reference.columns``;
chunked by its timestamp into the model's status windows when it has one, else into
``reference.chunks`` row chunks); else the baseline period of stored predictions
(``baseline: {start, end}``, ``{first: 7d}``, or the first ``judgement.baseline_windows``
windows of the status window size), chunked into those windows.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.config.durations import parse_duration
from modelmon.config.inference import read_reference
from modelmon.config.models import ModelSpec, ReferenceColumns
from modelmon.drift import DriftBands, Reference
from modelmon.evaluation.estimation import fit_estimator, load_estimator
from modelmon.evaluation.frame import EvalFrame, needed_columns
from modelmon.evaluation.multivariate import MultivariateModels, fit_multivariate
from modelmon.evaluation.operational import operational_metrics
from modelmon.evaluation.presets import quality_metric_names
from modelmon.evaluation.quality import quality_metrics
from modelmon.exceptions import ConfigError, ModelmonError
from modelmon.store.base import FEATURE_PREFIX, FIRST_USABLE_TIME
from modelmon.vocabulary import OUTPUT_FEATURE, Task
from modelmon.windows import RowWindows, WindowScheme

if TYPE_CHECKING:
    from modelmon.store.backend import Backend

__all__ = ["ReferenceManager", "ReferenceProfile", "baseline_period", "output_column"]

log = logging.getLogger("modelmon.evaluation")

#: Profiles stored in an older format are fitted again (version 2 added the estimator and the
#: multivariate drift models).
_FORMAT = "modelmon.ReferenceProfile/2"


def output_column(frame: EvalFrame) -> Any:
    """The model output compared with the reference's ``prediction`` summary: the score of a
    binary model that sends one, the value of a regression model, else the predicted label."""
    if frame.spec.task is Task.REGRESSION:
        return frame.y_pred
    if frame.spec.task is Task.BINARY and frame.score is not None:
        return frame.score
    labels = np.asarray([*frame.classes, None], dtype=object)[frame.y_pred]
    return pa.array(labels.tolist(), pa.string())


def _output_type(frame: EvalFrame) -> str:
    if frame.spec.task is Task.REGRESSION or (frame.spec.task is Task.BINARY
                                              and frame.score is not None):
        return "numeric"
    return "categorical"


@dataclass
class ReferenceProfile:
    """The fitted reference of one model (see the module docstring).

    ``quality``: per quality metric, ``[value, labelled rows]`` of each reference chunk (empty
    without a target in the reference). ``noise``: per metric, its values over bootstrap
    samples of ``noise_n`` labelled rows (a chunk's size) drawn from the reference: its sampling
    noise, known far more precisely than from a dozen chunks. ``source``: ``"file"`` or
    ``"baseline:START/END"`` (no server paths). ``window``: the window size the reference was
    chunked by (None: row chunks). ``unjudged``: quality metrics the judgement must leave alone,
    with why (MAPE when the targets come close to zero, see :func:`unjudged_metrics`).
    ``estimator``: the JSON state of the performance estimator (None without labels, or for a
    model that sends no score); ``multivariate``: the multivariate drift state.
    """

    reference: Reference
    bands: DriftBands
    source: str
    n_rows: int
    chunks: int
    window: str | None = None
    quality: dict[str, list[list[float]]] = field(default_factory=dict)
    noise: dict[str, list[float]] = field(default_factory=dict)
    noise_n: int = 0
    unjudged: dict[str, str] = field(default_factory=dict)
    estimator: dict[str, Any] | None = None
    multivariate: dict[str, Any] = field(default_factory=dict)
    _built: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def estimator_model(self) -> Any:
        """The fitted performance estimator (built once), or None."""
        if "estimator" not in self._built:
            self._built["estimator"] = load_estimator(self.estimator)
        return self._built["estimator"]

    def multivariate_models(self) -> Any:
        """The multivariate drift models (built once), or None when there are none."""
        if "multivariate" not in self._built:
            self._built["multivariate"] = MultivariateModels(self.multivariate) \
                if self.multivariate else None
        return self._built["multivariate"]

    def to_bytes(self) -> bytes:
        header = {"format": _FORMAT, "source": self.source, "n_rows": self.n_rows,
                  "chunks": self.chunks, "window": self.window, "quality": self.quality,
                  "noise": self.noise, "noise_n": self.noise_n, "unjudged": self.unjudged,
                  "bands": self.bands.to_dict(), "estimator": self.estimator,
                  "multivariate": self.multivariate}
        head = json.dumps(header).encode()
        return len(head).to_bytes(8, "little") + head + self.reference.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> ReferenceProfile:
        size = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + size])
        if header.get("format") != _FORMAT:
            raise ValueError("not a stored reference profile")
        return cls(Reference.from_bytes(data[8 + size:]), DriftBands.from_dict(header["bands"]),
                   header["source"], int(header["n_rows"]), int(header["chunks"]),
                   header.get("window"), header.get("quality") or {},
                   header.get("noise") or {}, int(header.get("noise_n") or 0),
                   header.get("unjudged") or {}, header.get("estimator"),
                   header.get("multivariate") or {})


#: Share of targets within 1 % of the median magnitude of zero from which MAPE is not judged.
_NEAR_ZERO_SHARE = 0.001


def unjudged_metrics(task: Task, y_true: np.ndarray, labelled: np.ndarray) -> dict[str, str]:
    """Quality metrics whose window values the judgement cannot band, with why.

    MAPE divides by the target: when targets come near zero (returns, changes, anything that
    crosses zero; at least 0.1 % of them within 1 % of the median magnitude of zero) a
    window's MAPE is ruled by its one smallest target and has no finite mean, so no reference
    sample tells how far it can stray. It is still computed and shown, not judged.

    >>> rng = np.random.default_rng(0)
    >>> returns, prices = rng.normal(0, 0.02, 5000), rng.lognormal(3, 0.5, 5000)
    >>> list(unjudged_metrics(Task.REGRESSION, returns, np.isfinite(returns)))
    ['mape']
    >>> unjudged_metrics(Task.REGRESSION, prices, np.isfinite(prices))
    {}
    """
    if task is not Task.REGRESSION or int(labelled.sum()) < 30:
        return {}
    magnitude = np.abs(np.asarray(y_true, dtype=np.float64)[labelled])
    scale = float(np.median(magnitude))
    if scale > 0 and float(np.mean(magnitude < 0.01 * scale)) < _NEAR_ZERO_SHARE:
        return {}
    return {"mape": "targets come close to zero: a window's MAPE is ruled by its smallest "
                    "target"}


def _feature_types(spec: ModelSpec) -> dict[str, str]:
    return {f.name: ("numeric" if f.type.value == "numeric" else "categorical")
            for f in spec.features}


def _as_category(col: pa.ChunkedArray | pa.Array) -> Any:
    """Booleans are compared as the categories "true"/"false", as in evaluation frames."""
    if pa.types.is_boolean(col.type):
        return pc.if_else(col, "true", "false")
    return col


def baseline_period(spec: ModelSpec, scheme: WindowScheme, first: datetime | None,
                    windows: int) -> tuple[datetime, datetime] | None:
    """``(start, end)`` of the baseline period for a time scheme, or None when unknown yet.

    ``baseline: {start, end}`` when given; ``{first: 7d}`` from the first prediction; else the
    first ``windows`` windows of ``scheme`` from the one holding the first prediction.
    """
    b = spec.baseline
    if b is not None and b.start and b.end:
        return (datetime.fromisoformat(b.start.replace("Z", "+00:00")),
                datetime.fromisoformat(b.end.replace("Z", "+00:00")))
    if first is None or isinstance(scheme, RowWindows):
        return None
    if b is not None and b.first:
        return first, first + parse_duration(b.first)
    w = scheme.containing(first)
    start = w.start
    for _ in range(windows):
        w = scheme.after(w)
    return start, w.start


def _mapped(table: pa.Table, mapping: ReferenceColumns, name: str | None,
            fallback: str) -> pa.ChunkedArray | None:
    column = name or (fallback if fallback in table.column_names else None)
    if column is None:
        return None
    if column not in table.column_names:
        raise ConfigError(f"the reference has no column {column!r} (reference.columns)",
                          loc=("reference", "columns"))
    return table.column(column)


def reference_frame(spec: ModelSpec, table: pa.Table) -> EvalFrame | None:
    """The reference file's rows as an evaluation frame (outputs and target mapped by
    ``reference.columns``), or None when it holds no model output."""
    assert spec.reference is not None
    m = spec.reference.columns
    n = table.num_rows
    cols: dict[str, Any] = {"version": pa.nulls(n, pa.string()).fill_null("reference"),
                            "event_time": pa.array(np.zeros(n, np.int64)).cast(
                                pa.timestamp("us", tz="UTC")),
                            "latency_seconds": pa.nulls(n, pa.float64()),
                            "status": pa.nulls(n, pa.string())}
    for f in spec.features:
        cols[FEATURE_PREFIX + f.name] = (table.column(f.name) if f.name in table.column_names
                                         else pa.nulls(n, pa.float64() if f.type.value == "numeric"
                                                       else pa.string()))
    for s in spec.segments:
        cols["segment." + s] = pa.nulls(n, pa.string())
    prediction = _mapped(table, m, m.prediction, "prediction")
    target = _mapped(table, m, m.target, "target")
    if spec.task is Task.REGRESSION:
        if prediction is None:
            return None
        cols["value"] = prediction.cast(pa.float64())
        if target is not None:
            cols["actual_value"] = target.cast(pa.float64())
    else:
        score = _mapped(table, m, m.score, "score") if spec.task is Task.BINARY else None
        if prediction is None and score is None:
            return None
        if prediction is not None:
            cols["label"] = _label_text(prediction)
        else:
            assert score is not None
            classes = spec.prediction.classes or ["0", "1"]
            pos = spec.positive_class
            neg = next((c for c in classes if c != pos), "0")
            above = pc.greater_equal(score.cast(pa.float64()), spec.prediction.threshold)
            cols["label"] = pc.if_else(above, pos, neg)
        cols["score"] = (score.cast(pa.float64()) if score is not None
                         else pa.nulls(n, pa.float64()))
        if m.probabilities:
            mat = np.column_stack([table.column(c).to_numpy(zero_copy_only=False)
                                   for c in m.probabilities]).astype(np.float64)
            cols["probabilities"] = pa.array(list(mat))
        if target is not None:
            cols["actual_label"] = _label_text(target)
    wanted = [c for c in needed_columns(spec) if c in cols]
    extra = [c for c in ("actual_label", "actual_value") if c in cols]
    built = pa.table({c: cols[c] for c in [*wanted, *extra]})
    for c in needed_columns(spec):
        if c not in built.column_names:
            kind = (pa.list_(pa.float64()) if c == "probabilities"
                    else pa.string() if c == "label" else pa.float64())
            built = built.append_column(c, pa.nulls(n, kind))
    return EvalFrame.from_arrow(spec, built)


def _label_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Labels as the text the store keeps (``1`` -> ``"1"``, ``True`` -> ``"true"``)."""
    if pa.types.is_boolean(col.type):
        return pc.if_else(col, "true", "false")
    if pa.types.is_floating(col.type):
        values = col.to_numpy(zero_copy_only=False)
        whole = np.isfinite(values) & (values == np.round(values))
        if whole.all():
            return pc.cast(col.cast(pa.int64()), pa.string())
    return pc.cast(col, pa.string())


def _chunk_masks(n: int, times: np.ndarray | None, scheme: WindowScheme | None,
                 chunks: int) -> list[np.ndarray]:
    """Index arrays of the reference's chunks: its status windows when it has times and a time
    scheme (and that makes three or more), else ``chunks`` equal row chunks (or chunks of the
    row scheme's size)."""
    if times is not None and scheme is not None and scheme.kind == "time" and n:
        order = np.argsort(times, kind="stable")
        starts = np.array([scheme.containing(datetime.fromtimestamp(t / 1e6, tz=UTC)).start
                           .timestamp() for t in times[order]])
        _, first = np.unique(starts, return_index=True)
        groups = np.split(order, first[1:])
        if len(groups) >= 3:
            return groups
    if isinstance(scheme, RowWindows) and n >= 3 * scheme.rows:
        return [np.arange(i, min(i + scheme.rows, n)) for i in range(0, n, scheme.rows)
                if min(i + scheme.rows, n) - i == scheme.rows]
    k = max(1, min(chunks, n))
    return list(np.array_split(np.arange(n), k))


def _noise(frame: EvalFrame, masks: Sequence[np.ndarray], *, samples: int = 200,
           seed: int = 0) -> tuple[dict[str, list[float]], int]:
    """Quality and operational metrics over bootstrap samples of a chunk's size from the
    reference's labelled rows (empty without labels)."""
    labelled = np.flatnonzero(frame.labelled)
    sizes = [int(frame.labelled[idx].sum()) for idx in masks]
    n = int(np.median(sizes)) if sizes else 0
    if labelled.size < 30 or n < 30:
        return {}, 0
    names = quality_metric_names(frame.spec)
    rng = np.random.default_rng(seed)
    out: dict[str, list[float]] = {}
    every = np.arange(frame.n)
    for _ in range(samples):
        pick = rng.choice(labelled, size=n, replace=True)
        sub = frame.subset(pick, features=False)
        values = quality_metrics(sub, names)
        if np.isfinite(frame.latency).any():
            values.update(operational_metrics(frame.subset(rng.choice(every, size=n),
                                                           features=False), 0.0))
        for metric, (value, _) in values.items():
            if math.isfinite(value):
                out.setdefault(str(metric), []).append(float(value))
    return {k: v for k, v in out.items() if len(v) >= samples // 2}, n


def _quality_of_chunks(frame: EvalFrame, masks: Sequence[np.ndarray]) -> dict[str, list[list[float]]]:
    names = quality_metric_names(frame.spec)
    out: dict[str, list[list[float]]] = {}
    for idx in masks:
        mask = np.zeros(frame.n, dtype=bool)
        mask[idx] = True
        values = quality_metrics(frame.subset(mask, features=False), names)
        for metric, (value, n) in values.items():
            if n and math.isfinite(value):
                out.setdefault(metric, []).append([float(value), int(n)])
    return out


class ReferenceManager:
    """Fits, stores and caches each model's :class:`ReferenceProfile`.

    ``errors[model]`` says (without server paths) why a model's reference could not be read.
    """

    def __init__(self, store: Backend) -> None:
        self.store = store
        self._cache: dict[str, tuple[int, ReferenceProfile]] = {}
        self.errors: dict[str, str] = {}

    def get(self, model: str, now: datetime, scheme: WindowScheme,
            windows: int) -> ReferenceProfile | None:
        """The model's profile (fitted now if due); None while its baseline is not complete."""
        info = self.store.get_model(model)
        cached = self._cache.get(model)
        if cached is not None and cached[0] == info.revision:
            return cached[1]
        stored = self.store.get_reference(model)
        if stored is not None and stored[0] == info.revision:
            try:
                profile = ReferenceProfile.from_bytes(stored[2])
            except (ValueError, KeyError, ModelmonError):
                profile = None  # an older format: fitted again below
            if profile is not None:
                self._cache[model] = (info.revision, profile)
                return profile
        try:
            fitted = self._fit(info.spec, now, scheme, windows)
        except ConfigError as exc:
            self.errors[model] = str(exc)
            return None
        except Exception as exc:  # a baseline that cannot be fitted never stops the windows
            log.exception("fitting the reference of %s failed", model)
            self.errors[model] = (f"its baseline could not be fitted ({type(exc).__name__}; see "
                                  f"the server log)")
            return None
        self.errors.pop(model, None)
        if fitted is None:
            return None
        self.store.save_reference(model, info.revision, fitted.source, fitted.n_rows,
                                  fitted.to_bytes())
        self._cache[model] = (info.revision, fitted)
        log.info("fitted the reference of %s from %s (%d rows, %d chunks)", model,
                 fitted.source, fitted.n_rows, fitted.chunks)
        return fitted

    def forget(self, model: str) -> None:
        self._cache.pop(model, None)

    # --- fitting ---------------------------------------------------------------------------------
    def _fit(self, spec: ModelSpec, now: datetime, scheme: WindowScheme,
             windows: int) -> ReferenceProfile | None:
        if spec.reference is not None:
            return self._fit_file(spec, scheme)
        return self._fit_baseline(spec, now, scheme, windows)

    def _fit_file(self, spec: ModelSpec, scheme: WindowScheme) -> ReferenceProfile:
        assert spec.reference is not None
        table = read_reference(spec.reference.path, spec.reference.format)
        m = spec.reference.columns
        bools = {f.name for f in spec.features if f.type.value == "boolean"}
        types = _feature_types(spec)
        cols = {name: _as_category(table.column(name)) if name in bools else table.column(name)
                for name in types if name in table.column_names}
        frame = reference_frame(spec, table)
        if frame is not None:
            cols[OUTPUT_FEATURE] = pa.array(output_column(frame))
            types = {**types, OUTPUT_FEATURE: _output_type(frame)}
        data = pa.table(cols)
        times = None
        stamp = m.timestamp
        if stamp is not None:
            if stamp not in table.column_names:
                raise ConfigError(f"the reference has no column {stamp!r} (reference.columns)",
                                  loc=("reference", "columns", "timestamp"))
            col = table.column(stamp)
            if not pa.types.is_timestamp(col.type):
                col = pc.cast(col, pa.timestamp("us"))
            times = np.asarray(pc.cast(col.cast(pa.timestamp("us")), pa.int64())
                               .to_numpy(zero_copy_only=False), dtype=np.int64)
        masks = _chunk_masks(data.num_rows, times, scheme, spec.reference.chunks)
        reference = Reference.fit(data, feature_types={k: types[k] for k in cols})
        chunks = [data.take(pa.array(idx)) for idx in masks]
        bands = DriftBands.fit(reference, chunks=chunks, tests=_band_tests(spec, reference))
        labelled = frame is not None and bool(frame.labelled.any())
        quality = _quality_of_chunks(frame, masks) if frame is not None and labelled else {}
        noise, noise_n = _noise(frame, masks) if frame is not None and labelled else ({}, 0)
        window = scheme.name if times is not None and len(masks) >= 3 else None
        estimator = fit_estimator(frame) if frame is not None and labelled else None
        multivariate = fit_multivariate(
            spec, {f.name: data.column(f.name) for f in spec.features
                   if f.name in data.column_names}, masks)
        return ReferenceProfile(reference, bands, "file", data.num_rows, len(masks), window,
                                quality, noise, noise_n,
                                unjudged_metrics(spec.task, frame.y_true, frame.labelled)
                                if frame is not None else {}, estimator, multivariate)

    def _fit_baseline(self, spec: ModelSpec, now: datetime, scheme: WindowScheme,
                      windows: int) -> ReferenceProfile | None:
        first = self._first_prediction(spec.name)
        period = baseline_period(spec, scheme, first, windows)
        if period is None or now < period[1]:
            return None
        start, end = period
        table = self.store.read_predictions(spec.name, start=start, end=end,
                                            columns=needed_columns(spec), with_actuals=True)
        if table.num_rows == 0:
            return None
        frame = EvalFrame.from_arrow(spec, table)
        types = _feature_types(spec)
        cols: dict[str, Any] = {name: frame.features[name] for name in types}
        cols[OUTPUT_FEATURE] = output_column(frame)
        types = {**types, OUTPUT_FEATURE: _output_type(frame)}
        data = pa.table({k: (v if isinstance(v, pa.Array | pa.ChunkedArray) else pa.array(v))
                         for k, v in cols.items()})
        reference = Reference.fit(data, feature_types=types)
        masks = _chunk_masks(data.num_rows, frame.event_time, scheme, 10)
        chunks = [data.take(pa.array(idx)) for idx in masks]
        bands = DriftBands.fit(reference, chunks=chunks, tests=_band_tests(spec, reference))
        noise, noise_n = _noise(frame, masks)
        estimator = fit_estimator(frame) if frame.labelled.any() else None
        multivariate = fit_multivariate(spec, frame.features, masks)
        return ReferenceProfile(reference, bands, f"baseline:{start.isoformat()}/{end.isoformat()}",
                                data.num_rows, len(masks), scheme.name, {}, noise, noise_n,
                                unjudged_metrics(spec.task, frame.y_true, frame.labelled),
                                estimator, multivariate)

    def _first_prediction(self, model: str) -> datetime | None:
        # From year 1 on: a row stored before event times were checked may lie before it
        # (year 0 in UTC), where no Python datetime reaches.
        table = self.store.read_predictions(model, start=FIRST_USABLE_TIME,
                                            columns=["event_time"], with_actuals=False, limit=1)
        return table.column("event_time")[0].as_py() if table.num_rows else None


def _band_tests(spec: ModelSpec, reference: Reference) -> dict[str, str]:
    """The statistic of each feature: the band test of its type unless the spec chose a
    distance of its own (a p-value test or a fixed threshold means no band is used)."""
    from modelmon.drift.bands import BAND_TESTS, NULL_EXPONENT

    out = {}
    for f in reference.features:
        chosen = spec.drift.tests.get(f)
        out[f] = chosen if chosen in NULL_EXPONENT else BAND_TESTS[reference[f].feature_type]
    return out

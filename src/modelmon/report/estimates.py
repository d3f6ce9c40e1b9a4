"""Quality without labels and multivariate drift in the offline report, as the service computes
them for a window (:mod:`modelmon.evaluation.estimation`, :mod:`modelmon.evaluation.multivariate`).

- When the reference holds the target and the model's scores (or, for regression, its
  predictions), the estimator is fitted on the reference once and the current data set gets
  ``estimated_<metric>`` with its standard error; when the current data holds the target too,
  the realized-vs-estimated gaps (a sign of concept drift). The judgement's rules then read them
  as for a service window: an estimate outside the realized metric's band while labels are few,
  a gap beyond its sampling error.
- The PCA reconstruction error (``standard``/``advanced`` presets, or ``drift.multivariate``)
  fitted on a sample of the reference, its band from reference chunks the size of the current
  sample, and the features contributing most.

Both read random samples of each side (at most :data:`MAX_ROWS` rows for estimation,
:data:`MAX_MULTIVARIATE_ROWS` for multivariate drift), so a 1,000,000-row report stays within
seconds: the estimates' standard errors are those of the sample, and the realized-vs-estimated
gap compares both on the same sampled rows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.evaluation.estimation import fit_estimator, load_estimator, window_estimates
from modelmon.evaluation.multivariate import (
    MultivariateModels,
    fit_multivariate,
    methods_of,
    multivariate_bands,
    window_multivariate,
)
from modelmon.evaluation.presets import quality_metric_names
from modelmon.evaluation.quality import quality_metrics
from modelmon.evaluation.references import reference_frame
from modelmon.exceptions import ModelmonWarning
from modelmon.judgement.bands import MetricBand
from modelmon.vocabulary import Metric, Task

__all__ = ["MAX_ROWS", "current_spec", "offline_estimates", "offline_multivariate"]

#: Rows read per side for estimation.
MAX_ROWS = 100_000
#: Rows read per side for multivariate drift (a mean reconstruction error over 50,000 rows
#: varies far less than the reference's chunks do).
MAX_MULTIVARIATE_ROWS = 50_000
_CHUNKS = 20


def _sample(table: pa.Table, rows: int, rng: np.random.Generator) -> pa.Table:
    if table.num_rows <= rows:
        return table
    return table.take(pa.array(np.sort(rng.choice(table.num_rows, rows, replace=False))))


def current_spec(spec: ModelSpec, current: pa.Table) -> ModelSpec:
    """``spec`` for reading the current data set: without a target column it is unlabelled
    (what quality estimation is for), not an error."""
    assert spec.reference is not None
    target = spec.reference.columns.target or "target"
    if target in current.column_names or not spec.reference.columns.target:
        return spec
    data = spec.model_dump()
    data["reference"]["columns"]["target"] = None
    return ModelSpec.model_validate(data)


def _frame_spec(spec: ModelSpec, with_features: bool) -> ModelSpec:
    if with_features:
        return spec
    return ModelSpec.model_validate({**spec.model_dump(), "features": [], "segments": []})


def offline_estimates(spec: ModelSpec, reference: pa.Table, current: pa.Table, *,
                      seed: int = 0) -> dict[str, tuple[float, int]]:
    """The current data set's estimates (and gaps on the same rows, when it is labelled) and
    its labelled count, from samples of at most :data:`MAX_ROWS` rows of each side; empty
    when the reference cannot fit an estimator."""
    rng = np.random.default_rng(seed)
    frame_spec = _frame_spec(spec, spec.task is Task.REGRESSION)  # DLE reads the features
    ref = reference_frame(frame_spec, _sample(reference, MAX_ROWS, rng))
    sample = _sample(current, MAX_ROWS, rng)
    cur = reference_frame(current_spec(frame_spec, sample), sample)
    if ref is None or cur is None or not ref.labelled.any():
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        estimator = load_estimator(fit_estimator(ref))
        realized = (quality_metrics(cur, quality_metric_names(spec)) if cur.labelled.any()
                    else {})
        out = window_estimates(cur, estimator, realized)
    if out:
        out[Metric.LABELLED_COUNT] = (float(cur.labelled.sum()), cur.n)
    return out


def offline_multivariate(spec: ModelSpec, reference: pa.Table, current: pa.Table, *,
                         seed: int = 0) -> tuple[dict[str, tuple[float, int]],
                                                 dict[str, MetricBand]]:
    """The current sample's multivariate statistics (with the top contributions) and their
    reference bands; empty when the model asks for none or the data sets are too small."""
    if not methods_of(spec) or len(spec.features) < 2:
        return {}, {}
    rng = np.random.default_rng(seed)
    ref = _sample(reference, MAX_MULTIVARIATE_ROWS, rng)
    cur_table = _sample(current, MAX_MULTIVARIATE_ROWS, rng)
    size = min(cur_table.num_rows, ref.num_rows // 4)
    if size < 100:
        return {}, {}
    k = min(_CHUNKS, ref.num_rows // size)
    order = rng.permutation(ref.num_rows)
    masks = [np.sort(order[i * size:(i + 1) * size]) for i in range(k)]
    features = {f.name: ref.column(f.name) for f in spec.features
                if f.name in ref.column_names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        state = fit_multivariate(spec, features, masks, seed=seed)
        frame = reference_frame(current_spec(spec, cur_table), cur_table)
        if not state or frame is None:
            return {}, {}
        values = window_multivariate(frame, MultivariateModels(state))
    return values, multivariate_bands(state)

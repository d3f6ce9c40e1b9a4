"""Multivariate drift in the service: per window, how far the inputs' joint distribution moved.

Per-feature drift tests see each marginal distribution alone; a change in how the features move
together passes them by. Fitted once with the reference (:func:`fit_multivariate`):

- ``pca_reconstruction`` (the ``standard`` and ``advanced`` presets' default, with two or more
  features): the PCA reconstruction error of the inputs
  (:class:`~modelmon.drift.PCAReconstructionDrift`), categorical features replaced by their
  category's frequency in the reference as NannyML does (unseen and missing values by the
  mean); each window's mean error is a
  ``reconstruction_error`` point, judged against a band from the reference's chunks (their mean
  errors, and the error's sampling noise by bootstrap from the reference's rows), and the five
  features whose residuals rose most are stored as ``reconstruction_error.<feature>`` points
  (their share of the rise);
- ``domain_classifier`` (an option, ``drift.multivariate``): the cross-validated ROC AUC of a
  classifier telling the window from a reference sample
  (:class:`~modelmon.drift.DomainClassifierDrift`), a ``domain_classifier_auc`` point judged
  against the same statistic for reference chunks against the rest of the reference.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from modelmon._features import FeatureEncoder
from modelmon.config.models import ModelSpec, Preset
from modelmon.drift import DomainClassifierDrift, PCAReconstructionDrift
from modelmon.evaluation.frame import EvalFrame
from modelmon.exceptions import ModelmonError, ModelmonWarning
from modelmon.judgement.bands import MetricBand
from modelmon.vocabulary import Metric, contribution_metric

__all__ = ["MULTIVARIATE_METHODS", "MultivariateModels", "fit_multivariate", "methods_of",
           "multivariate_bands", "window_multivariate"]

log = logging.getLogger("modelmon.evaluation")

#: The multivariate drift methods a model may ask for (``drift.multivariate``).
MULTIVARIATE_METHODS = ("pca_reconstruction", "domain_classifier")
#: Features named per window (largest share of the rise first).
TOP_FEATURES = 5
_MIN_ROWS = 100
_OWNER = "multivariate drift"


def methods_of(spec: ModelSpec) -> list[str]:
    """The model's multivariate methods: its ``drift.multivariate`` list, else PCA
    reconstruction for the ``standard`` and ``advanced`` presets."""
    chosen = spec.drift.multivariate
    if chosen is not None:
        return list(chosen)
    return ["pca_reconstruction"] if spec.preset in (Preset.STANDARD, Preset.ADVANCED) else []


def _chunk_values(values: Sequence[float], sizes: Sequence[int]) -> list[list[float]]:
    return [[float(v), int(n)] for v, n in zip(values, sizes, strict=True) if math.isfinite(v)]


def fit_multivariate(spec: ModelSpec, features: Mapping[str, Any],
                     masks: Sequence[np.ndarray], *, seed: int = 0) -> dict[str, Any]:
    """The multivariate state of the reference: per method, the fitted model and the values of
    its statistic over the reference's chunks (``masks``: row indices of each chunk).
    ``features``: the reference's feature columns (NumPy arrays or Arrow arrays)."""
    out: dict[str, Any] = {}
    n = len(next(iter(features.values()))) if features else 0
    if n < _MIN_ROWS:
        return out
    methods = methods_of(spec)
    rng = np.random.default_rng(seed)
    names = [f.name for f in spec.features if f.name in features]
    types = {f.name: ("numeric" if f.type.value == "numeric" else "categorical")
             for f in spec.features}
    if "pca_reconstruction" in methods and len(names) >= 2:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ModelmonWarning)
                encoder, x = FeatureEncoder.fit({f: features[f] for f in names}, _OWNER, types)
                frequencies = {}
                for j in encoder.categorical_indices:
                    codes = x[:, j]
                    seen = np.isfinite(codes)
                    counts = np.bincount(codes[seen].astype(np.intp),
                                         minlength=len(encoder.categories[encoder.names[j]]))
                    frequencies[encoder.names[j]] = (counts / max(int(seen.sum()), 1)).tolist()
                columns = _encoded(encoder, frequencies, x)
                model = PCAReconstructionDrift.fit(columns)
                errors = model.reconstruction_error(columns)
        except (ModelmonError, ValueError) as exc:
            log.warning("no PCA reconstruction drift for %s: %s", spec.name, exc)
        else:
            sizes = [len(idx) for idx in masks]
            size = int(np.median(sizes)) if sizes else n
            boot = [float(errors[rng.integers(0, n, size)].mean()) for _ in range(200)]
            out["pca_reconstruction"] = {
                "model": model.to_dict(), "encoder": encoder.to_dict(),
                "frequencies": frequencies,
                "chunks": _chunk_values([float(errors[idx].mean()) for idx in masks], sizes),
                "noise": boot, "noise_n": size}
    if "domain_classifier" in methods and names:
        try:
            test = DomainClassifierDrift.fit({f: features[f] for f in names},
                                             feature_types=types, random_state=seed)
            chunks = []
            for idx in list(masks)[:10]:
                rest = np.ones(n, dtype=bool)
                rest[idx] = False
                part = DomainClassifierDrift.fit(
                    {f: _take(features[f], np.flatnonzero(rest)) for f in names},
                    feature_types=types, random_state=seed)
                got = part.compare({f: _take(features[f], idx) for f in names})
                chunks.append([got.statistic, len(idx)])
        except (ModelmonError, ValueError) as exc:
            log.warning("no domain classifier for %s: %s", spec.name, exc)
        else:
            out["domain_classifier"] = {"model": test.to_dict(),
                                        "chunks": [c for c in chunks if math.isfinite(c[0])]}
    return out


def _encoded(encoder: FeatureEncoder, frequencies: Mapping[str, Sequence[float]],
             x: np.ndarray) -> dict[str, np.ndarray]:
    """Columns for the PCA: numbers as they are, categories as their reference frequency."""
    out = {}
    for j, name in enumerate(encoder.names):
        col = x[:, j]
        if name in frequencies:
            freq = np.asarray(frequencies[name], dtype=np.float64)
            seen = np.isfinite(col)
            col = np.full(col.shape, np.nan)
            col[seen] = freq[x[seen, j].astype(np.intp)]
        out[name] = col
    return out


def _take(column: Any, idx: np.ndarray) -> Any:
    if isinstance(column, np.ndarray):
        return column[idx]
    import pyarrow as pa

    return column.take(pa.array(idx))


def multivariate_bands(state: Mapping[str, Any] | None) -> dict[str, MetricBand]:
    """The reference bands of the multivariate statistics (``{metric: band}``)."""
    out: dict[str, MetricBand] = {}
    if not state:
        return out
    pca = state.get("pca_reconstruction")
    if pca:
        band = MetricBand.fit(Metric.RECONSTRUCTION_ERROR, [v for v, _ in pca["chunks"]],
                              [n for _, n in pca["chunks"]], source="reference",
                              noise=pca.get("noise", ()), noise_n=float(pca.get("noise_n", 0)))
        if band is not None:
            out[Metric.RECONSTRUCTION_ERROR] = band
    domain = state.get("domain_classifier")
    if domain:
        band = MetricBand.fit(Metric.DOMAIN_CLASSIFIER_AUC, [v for v, _ in domain["chunks"]],
                              [n for _, n in domain["chunks"]], source="reference",
                              floor=0.01)
        if band is not None:
            out[Metric.DOMAIN_CLASSIFIER_AUC] = band
    return out


class MultivariateModels:
    """The fitted models of a multivariate state, built once per reference profile."""

    def __init__(self, state: Mapping[str, Any] | None) -> None:
        self.pca: PCAReconstructionDrift | None = None
        self.encoder: FeatureEncoder | None = None
        self.frequencies: dict[str, list[float]] = {}
        self.domain: DomainClassifierDrift | None = None
        if not state:
            return
        try:
            pca = state.get("pca_reconstruction")
            if pca:
                self.pca = PCAReconstructionDrift.from_dict(pca["model"])
                self.encoder = FeatureEncoder.from_dict(pca["encoder"])
                self.frequencies = dict(pca["frequencies"])
            if state.get("domain_classifier"):
                self.domain = DomainClassifierDrift.from_dict(
                    state["domain_classifier"]["model"])
        except (ModelmonError, ValueError, KeyError) as exc:
            log.warning("stored multivariate drift model unreadable: %s", exc)


def window_multivariate(frame: EvalFrame, models: MultivariateModels | None
                        ) -> dict[str, tuple[float, int]]:
    """The window's multivariate statistics (see the module docstring)."""
    out: dict[str, tuple[float, int]] = {}
    if models is None or frame.n == 0:
        return out
    rows = frame.subset(~frame.is_error) if frame.is_error.any() else frame
    if rows.n == 0:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        pca, encoder = models.pca, models.encoder
        if pca is not None and encoder is not None and all(c in rows.features
                                                           for c in encoder.names):
            x = encoder.transform({c: rows.features[c] for c in encoder.names}, _OWNER)
            result = pca.compare(_encoded(encoder, models.frequencies, x))
            if math.isfinite(result.statistic):
                out[Metric.RECONSTRUCTION_ERROR] = (result.statistic, result.n_current)
                for feature, share in result.contributions[:TOP_FEATURES]:
                    out[contribution_metric(feature)] = (share, result.n_current)
        if models.domain is not None and all(c in rows.features for c in models.domain.columns):
            got = models.domain.compare({c: rows.features[c] for c in models.domain.columns})
            if math.isfinite(got.statistic):
                out[Metric.DOMAIN_CLASSIFIER_AUC] = (got.statistic, got.n_current)
    return out

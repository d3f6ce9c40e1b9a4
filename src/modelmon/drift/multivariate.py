"""Multivariate drift: PCA reconstruction error (the method of NannyML's data reconstruction).

Per-feature tests see each marginal distribution alone; a change in how features move together
(a correlation that flips, a new combination of otherwise normal values) passes them by. Here
the numeric reference features are standardised, principal components keeping
``variance_explained`` of the variance are fitted, and each row's *reconstruction error* — the
Euclidean distance between the standardised row and its projection back from the components —
measures how well it fits the reference's correlation structure. Rows that break that structure
reconstruct badly, so the mean error over the current data rises.

Decision: under no drift the current mean error is near the reference mean ``mu`` with standard
error ``sigma / sqrt(m)`` (``sigma`` the reference rows' error spread, ``m`` current rows) — the
analytic form of NannyML's ``mean ± 3 std`` band over reference chunks of the current size.
Drift is flagged when ``|z| > z_threshold`` (default 3) **and** the mean error moved by at least
``min_relative_change`` (default 10 %), so huge windows do not flag immaterial changes.

Missing values are imputed with the reference mean (0 after standardising), as NannyML does.

Which features: the squared reconstruction error is a sum over features, so each feature's
mean squared residual can be compared with the reference's; ``contributions`` ranks the
features by their share of the rise (the features whose usual relation to the others broke).

References
----------
NannyML (2022). Data reconstruction with PCA. https://nannyml.readthedocs.io (multivariate drift
detection). Jolliffe, I. T. (2002). Principal Component Analysis, 2nd ed., Springer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelmon._results import Result
from modelmon._validation import check_real, undefined
from modelmon.drift._frames import frame_columns
from modelmon.drift.reference import select_columns
from modelmon.exceptions import ParameterError, ValidationError

__all__ = ["MultivariateDriftResult", "PCAReconstructionDrift"]

_CHUNK = 65_536


@dataclass(frozen=True)
class MultivariateDriftResult(Result):
    """Outcome of a multivariate drift check.

    Attributes
    ----------
    method : str
        ``"pca_reconstruction"``.
    statistic : float
        Mean reconstruction error of the current rows.
    reference_mean, reference_std : float
        Mean and standard deviation of the reference rows' errors.
    z : float
        ``(statistic - reference_mean) / (reference_std / sqrt(n_current))``.
    p_value : float
        Two-sided normal p-value of ``z`` (for information; large windows make it tiny).
    relative_change : float
        ``(statistic - reference_mean) / reference_mean``.
    drifted : bool
        ``|z| > z_threshold and |relative_change| >= min_relative_change``.
    n_components : int
        Principal components kept.
    n_reference, n_current : int
        Rows used.
    z_threshold, min_relative_change : float
        The decision settings.
    contributions : tuple of (str, float)
        Features whose mean squared residual rose above the reference's, with their share of
        the total rise, largest first (empty when nothing rose).
    """

    method: str
    statistic: float
    reference_mean: float
    reference_std: float
    z: float
    p_value: float
    relative_change: float
    drifted: bool
    n_components: int
    n_reference: int
    n_current: int
    z_threshold: float
    min_relative_change: float
    contributions: tuple[tuple[str, float], ...] = ()


class PCAReconstructionDrift:
    """Fitted PCA reconstruction-error model of a reference data set.

    Build it with :meth:`fit` on reference data; :meth:`compare` checks current data.

    Examples
    --------
    Two features with identical marginals whose correlation flips from +0.9 to -0.9:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> def frame(rho, n):
    ...     x = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    ...     return {"a": x[:, 0], "b": x[:, 1]}
    >>> model = PCAReconstructionDrift.fit(frame(0.9, 5000))
    >>> model.compare(frame(0.9, 2000)).drifted, model.compare(frame(-0.9, 2000)).drifted
    (False, True)
    """

    def __init__(
        self,
        *,
        columns: Sequence[str],
        mean: NDArray[np.float64],
        scale: NDArray[np.float64],
        components: NDArray[np.float64],
        reference_mean: float,
        reference_std: float,
        n_reference: int,
        z_threshold: float = 3.0,
        min_relative_change: float = 0.1,
        reference_feature_error: Sequence[float] | None = None,
    ) -> None:
        self.columns = list(columns)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.components = np.asarray(components, dtype=np.float64)
        self.reference_mean = float(reference_mean)
        self.reference_std = float(reference_std)
        self.n_reference = int(n_reference)
        self.z_threshold = float(z_threshold)
        self.min_relative_change = float(min_relative_change)
        #: mean squared residual of each feature over the reference rows
        self.reference_feature_error = (
            np.zeros(len(self.columns)) if reference_feature_error is None
            else np.asarray(reference_feature_error, dtype=np.float64))

    @classmethod
    def fit(
        cls,
        frame: Any,
        *,
        columns: Sequence[str] | None = None,
        variance_explained: float = 0.65,
        z_threshold: float = 3.0,
        min_relative_change: float = 0.1,
    ) -> PCAReconstructionDrift:
        """Fit on reference data.

        Parameters
        ----------
        frame : pandas/polars DataFrame, pyarrow Table or dict of arrays
            Reference data.
        columns : sequence of str, optional
            Numeric features to use (default: every numeric column by the
            :meth:`Reference.fit` inference rule). At least two.
        variance_explained : float, default 0.65
            Keep the fewest components explaining at least this share of the variance
            (NannyML's default), and at most ``n_features - 1`` so something is left to
            reconstruct.
        z_threshold : float, default 3.0
            Standard errors the mean error must move (NannyML's 3-sigma band).
        min_relative_change : float, default 0.1
            Smallest relative change of the mean error that counts as drift.

        Returns
        -------
        PCAReconstructionDrift
        """
        owner = "PCAReconstructionDrift.fit"
        check_real(
            variance_explained, "variance_explained", owner, low=0.0, high=1.0, closed="right"
        )
        check_real(z_threshold, "z_threshold", owner, low=0.0, closed="neither")
        check_real(min_relative_change, "min_relative_change", owner, low=0.0)
        getters, _ = frame_columns(frame, "reference", owner)
        if columns is None:
            names = [n for n, g in getters.items() if g().infer_type(10) == "numeric"]
        else:
            names = select_columns(getters, columns, "reference", owner)
        if len(names) < 2:
            raise ParameterError(
                f"{owner} needs at least two numeric columns. Got {names}.", loc=("columns",)
            )
        x = _matrix(getters, names)
        if x.shape[0] < 2:
            raise ValidationError(
                f"{owner} needs at least two reference rows. Got {x.shape[0]}.",
                code="empty_input",
                loc=("reference",),
            )
        mean = np.nanmean(x, axis=0) if np.isnan(x).any() else x.mean(axis=0)
        mean = np.where(np.isnan(mean), 0.0, mean)
        scale = np.sqrt(np.nanmean(np.square(x - mean), axis=0))
        scale = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
        z = _standardise(x, mean, scale)
        cov = z.T @ z / z.shape[0]
        eigval, eigvec = np.linalg.eigh(cov)
        order = np.argsort(eigval)[::-1]
        eigval, eigvec = np.clip(eigval[order], 0, None), eigvec[:, order]
        total = eigval.sum()
        ratio = np.cumsum(eigval) / total if total > 0 else np.ones_like(eigval)
        k = int(np.searchsorted(ratio, variance_explained - 1e-12) + 1)
        k = max(1, min(k, len(names) - 1))
        components = eigvec[:, :k].T
        errors, per_feature = _errors(z, components)
        return cls(
            columns=names,
            mean=mean,
            scale=scale,
            components=components,
            reference_mean=float(errors.mean()),
            reference_std=float(errors.std()),
            n_reference=z.shape[0],
            z_threshold=z_threshold,
            min_relative_change=min_relative_change,
            reference_feature_error=per_feature / max(z.shape[0], 1),
        )

    def reconstruction_error(self, frame: Any) -> NDArray[np.float64]:
        """Per-row reconstruction errors of ``frame`` (standardised Euclidean distance)."""
        return self._errors(frame)[0]

    def _errors(self, frame: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        getters, _ = frame_columns(frame, "current", "PCAReconstructionDrift")
        names = select_columns(getters, self.columns, "current", "PCAReconstructionDrift")
        return _errors(
            _standardise(_matrix(getters, names), self.mean, self.scale), self.components
        )

    def contributions(self, feature_error: NDArray[np.float64]) -> tuple[tuple[str, float], ...]:
        """Features ranked by their share of the rise of the mean squared residual, given the
        current data's per-feature mean squared residuals."""
        rise = np.asarray(feature_error, dtype=np.float64) - self.reference_feature_error
        total = float(rise[rise > 0].sum())
        if not total > 0:
            return ()
        order = np.argsort(-rise, kind="stable")
        return tuple((self.columns[j], float(rise[j] / total)) for j in order if rise[j] > 0)

    def compare(self, current: Any) -> MultivariateDriftResult:
        """Check current data against the fitted reference.

        An empty current frame gives NaN statistics, ``drifted=False`` and an
        :class:`~modelmon.exceptions.UndefinedMetricWarning`.
        """
        from scipy import stats

        errors, per_feature = self._errors(current)
        m = errors.size
        mu, sigma = self.reference_mean, self.reference_std
        if m == 0:
            nan = undefined(
                "Multivariate drift is undefined: the current data has no rows.", stacklevel=3
            )
            return self._result(nan, nan, nan, nan, False, 0)
        stat = float(errors.mean())
        diff = stat - mu
        se = sigma / math.sqrt(m)
        if se > 0:
            z = diff / se
        else:
            z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        if mu > 0:
            rel = diff / mu
        else:
            rel = 0.0 if diff == 0 else math.inf
        p = float(2.0 * stats.norm.sf(abs(z)))
        drifted = abs(z) > self.z_threshold and abs(rel) >= self.min_relative_change
        return self._result(stat, z, p, rel, drifted, m, self.contributions(per_feature / m))

    def _result(
        self, stat: float, z: float, p: float, rel: float, drifted: bool, m: int,
        contributions: tuple[tuple[str, float], ...] = (),
    ) -> MultivariateDriftResult:
        return MultivariateDriftResult(
            method="pca_reconstruction",
            statistic=stat,
            reference_mean=self.reference_mean,
            reference_std=self.reference_std,
            z=z,
            p_value=p,
            relative_change=rel,
            drifted=bool(drifted),
            n_components=int(self.components.shape[0]),
            n_reference=self.n_reference,
            n_current=m,
            z_threshold=self.z_threshold,
            min_relative_change=self.min_relative_change,
            contributions=contributions,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return {
            "method": "pca_reconstruction",
            "columns": list(self.columns),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "components": self.components.tolist(),
            "reference_mean": self.reference_mean,
            "reference_std": self.reference_std,
            "n_reference": self.n_reference,
            "z_threshold": self.z_threshold,
            "min_relative_change": self.min_relative_change,
            "reference_feature_error": self.reference_feature_error.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PCAReconstructionDrift:
        """Rebuild from :meth:`to_dict` output."""
        try:
            return cls(**{k: v for k, v in data.items() if k != "method"})
        except TypeError as exc:
            raise ValidationError(f"Cannot read a PCA drift model: {exc}.") from None


def _matrix(getters: Mapping[str, Any], names: Sequence[str]) -> NDArray[np.float64]:
    cols = [getters[n]().floats() for n in names]
    x = np.column_stack(cols) if cols else np.empty((0, 0))
    x = np.asarray(x, dtype=np.float64)
    x[~np.isfinite(x)] = np.nan
    return x


def _standardise(
    x: NDArray[np.float64], mean: NDArray[np.float64], scale: NDArray[np.float64]
) -> NDArray[np.float64]:
    z = (x - mean) / scale
    z[np.isnan(z)] = 0.0  # reference-mean imputation
    return z


def _errors(
    z: NDArray[np.float64], components: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each row's reconstruction error, and each feature's sum of squared residuals."""
    out = np.empty(z.shape[0])
    per_feature = np.zeros(z.shape[1])
    for start in range(0, z.shape[0], _CHUNK):
        block = z[start : start + _CHUNK]
        residual = block - (block @ components.T) @ components
        squared = residual * residual
        per_feature += squared.sum(axis=0)
        out[start : start + _CHUNK] = np.sqrt(squared.sum(axis=1))
    return out, per_feature

"""Two-sample drift tests and data-set drift comparison.

Compare a current data set with a reference, feature by feature::

    from modelmon.drift import compare, Reference
    result = compare(reference_frame, current_frame)        # one shot
    ref = Reference.fit(reference_frame)                     # or: summarise once ...
    result = ref.compare(current_frame)                      # ... compare many windows
    ref_bytes = ref.to_bytes()                               # ... and store it

Every test is also a function on two samples (arrays or fitted column summaries):
:func:`ks_test`, :func:`cramer_von_mises_test`, :func:`anderson_darling_test`,
:func:`mean_shift_z_test`, :func:`variance_f_test`, :func:`chi_square_test`,
:func:`proportions_z_test`, and the distances :func:`wasserstein_distance`,
:func:`energy_distance`, :func:`population_stability_index`, :func:`jensen_shannon_distance`,
:func:`kl_divergence`, :func:`hellinger_distance`, :func:`total_variation_distance`.
Thresholds from the reference's own noise instead of fixed numbers: :class:`DriftBands`.
Multivariate drift: :class:`PCAReconstructionDrift` and, with a gradient-boosted classifier,
:class:`DomainClassifierDrift`. Methods, defaults and sources are described
in ``docs/drift.md``.
"""

from __future__ import annotations

from modelmon.drift.bands import BAND_TESTS, DriftBands, StatisticBand, sigma_for
from modelmon.drift.categorical import chi_square_test, proportions_z_test
from modelmon.drift.compare import compare
from modelmon.drift.correction import CORRECTIONS, adjust_p_values
from modelmon.drift.distances import (
    energy_distance,
    hellinger_distance,
    jensen_shannon_distance,
    kl_divergence,
    population_stability_index,
    total_variation_distance,
    wasserstein_distance,
)
from modelmon.drift.domain import DomainClassifierDrift, DomainClassifierResult
from modelmon.drift.multivariate import MultivariateDriftResult, PCAReconstructionDrift
from modelmon.drift.numeric import (
    anderson_darling_test,
    cramer_von_mises_test,
    ks_test,
    mean_shift_z_test,
    variance_f_test,
)
from modelmon.drift.reference import Reference
from modelmon.drift.registry import (
    DriftTest,
    TestRegistry,
    available_tests,
    default_registry,
    get_test,
    register_test,
)
from modelmon.drift.results import DatasetDriftResult, FeatureDriftResult, TestResult
from modelmon.drift.selection import SIZE_CUTOVER, choose_test
from modelmon.drift.summaries import (
    CategoricalSummary,
    NumericSummary,
    summarize_categorical,
    summarize_numeric,
)

__all__ = [
    "BAND_TESTS",
    "CORRECTIONS",
    "SIZE_CUTOVER",
    "CategoricalSummary",
    "DatasetDriftResult",
    "DomainClassifierDrift",
    "DomainClassifierResult",
    "DriftBands",
    "DriftTest",
    "FeatureDriftResult",
    "MultivariateDriftResult",
    "NumericSummary",
    "PCAReconstructionDrift",
    "Reference",
    "StatisticBand",
    "TestRegistry",
    "TestResult",
    "adjust_p_values",
    "anderson_darling_test",
    "available_tests",
    "chi_square_test",
    "choose_test",
    "compare",
    "cramer_von_mises_test",
    "default_registry",
    "energy_distance",
    "get_test",
    "hellinger_distance",
    "jensen_shannon_distance",
    "kl_divergence",
    "ks_test",
    "mean_shift_z_test",
    "population_stability_index",
    "proportions_z_test",
    "register_test",
    "sigma_for",
    "summarize_categorical",
    "summarize_numeric",
    "total_variation_distance",
    "variance_f_test",
    "wasserstein_distance",
]

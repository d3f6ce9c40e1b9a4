"""Is a model getting worse than its baseline?

Arrays of per-window metric values in, small result objects out:

* :class:`Baseline` — summary of a metric over a reference period (stored by the service).
* Two-sample tests of current against baseline values: :func:`welch_t_test`,
  :func:`mann_whitney_u_test`; the level against the baseline: :func:`z_score`.
* Trends: :func:`linear_trend`, :func:`mann_kendall_test`, :func:`sens_slope`.
* Change points: :func:`cusum_change_point` (one change), :func:`pelt` (exact segmentation).
* :class:`DirectionRegistry` — which way each metric gets better.
* The voting ensemble: :class:`DegradationDetector`, :func:`detect_degradation`, giving a
  :class:`DegradationReport` of :class:`MetricDegradation` verdicts with their evidence.

>>> import numpy as np
>>> from modelmon import degradation
>>> rng = np.random.default_rng(0)
>>> base = degradation.Baseline.from_values(rng.normal(0.02, 0.005, 60))
>>> report = degradation.detect_degradation({"error_rate": rng.normal(0.05, 0.005, 24)},
...                                         {"error_rate": base})
>>> report["error_rate"].verdict
'degraded'
"""

from __future__ import annotations

from modelmon.degradation.baseline import Baseline
from modelmon.degradation.cusum import CusumResult, cusum_change_point
from modelmon.degradation.directions import (
    Direction,
    DirectionRegistry,
    MetricDirection,
    default_directions,
)
from modelmon.degradation.ensemble import METHODS, DegradationDetector, detect_degradation
from modelmon.degradation.pelt import ChangePointResult, pelt
from modelmon.degradation.result import (
    VERDICTS,
    DegradationReport,
    MethodVote,
    MetricDegradation,
)
from modelmon.degradation.trend import (
    LinearTrendResult,
    MannKendallResult,
    linear_trend,
    mann_kendall_test,
    sens_slope,
)
from modelmon.degradation.two_sample import TwoSampleResult, mann_whitney_u_test, welch_t_test
from modelmon.degradation.zscore import ZScoreResult, z_score

__all__ = [
    "METHODS",
    "VERDICTS",
    "Baseline",
    "ChangePointResult",
    "CusumResult",
    "DegradationDetector",
    "DegradationReport",
    "Direction",
    "DirectionRegistry",
    "LinearTrendResult",
    "MannKendallResult",
    "MethodVote",
    "MetricDegradation",
    "MetricDirection",
    "TwoSampleResult",
    "ZScoreResult",
    "cusum_change_point",
    "default_directions",
    "detect_degradation",
    "linear_trend",
    "mann_kendall_test",
    "mann_whitney_u_test",
    "pelt",
    "sens_slope",
    "welch_t_test",
    "z_score",
]

"""Streaming change detectors: DDM, EDDM, ADWIN, Page-Hinkley, HDDM_A, HDDM_W, KSWIN, CUSUM.

Each detector is fed one value at a time with ``update(x)`` (returns the detector; read
``drift_detected`` / ``warning_detected`` after it) or a whole array at once with
``update_many(values)``, which returns the positions where it fired and leaves the detector in
exactly the state the loop of ``update`` calls would. With default parameters the detectors that
River 0.26.1 also has report the same signals at the same positions.

>>> import numpy as np
>>> from modelmon.detectors import ADWIN
>>> rng = np.random.default_rng(0)
>>> stream = np.concatenate([rng.normal(0.0, 1.0, 2000), rng.normal(1.0, 1.0, 2000)])
>>> ADWIN().update_many(stream).drifts
array([2047])

Binary detectors (DDM, EDDM, HDDM_A, HDDM_W) take an error stream: 1 for a wrong prediction,
0 for a right one. Detectors are also available by name, for configuration files:
:func:`make_detector`.
"""

from __future__ import annotations

from modelmon.detectors.adwin import ADWIN
from modelmon.detectors.base import (
    BinaryDriftAndWarningDetector,
    BinaryDriftDetector,
    DriftAndWarningDetector,
    DriftDetector,
)
from modelmon.detectors.cusum import CUSUM
from modelmon.detectors.ddm import DDM
from modelmon.detectors.eddm import EDDM
from modelmon.detectors.hddm_a import HDDM_A
from modelmon.detectors.hddm_w import HDDM_W
from modelmon.detectors.kswin import KSWIN
from modelmon.detectors.page_hinkley import PageHinkley
from modelmon.detectors.registry import (
    DetectorRegistry,
    default_registry,
    detector_names,
    make_detector,
)
from modelmon.detectors.result import DetectionResult

__all__ = [
    "ADWIN",
    "CUSUM",
    "DDM",
    "EDDM",
    "HDDM_A",
    "HDDM_W",
    "KSWIN",
    "BinaryDriftAndWarningDetector",
    "BinaryDriftDetector",
    "DetectionResult",
    "DetectorRegistry",
    "DriftAndWarningDetector",
    "DriftDetector",
    "PageHinkley",
    "default_registry",
    "detector_names",
    "make_detector",
]

"""The detector registry: choose detectors by name, as configuration files do."""

from __future__ import annotations

import numpy as np
import pytest

from modelmon.detectors import (
    ADWIN,
    DDM,
    DetectorRegistry,
    DriftDetector,
    PageHinkley,
    default_registry,
    detector_names,
    make_detector,
)
from modelmon.exceptions import NotFoundError, ParameterError


def test_default_names():
    assert detector_names() == [
        "adwin",
        "cusum",
        "ddm",
        "eddm",
        "hddm_a",
        "hddm_w",
        "kswin",
        "page_hinkley",
    ]
    assert "adwin" in default_registry
    assert list(default_registry) == detector_names()
    assert len(default_registry) == 8


def test_make_detector_builds_with_parameters():
    detector = make_detector("adwin", delta=0.01, clock=1)
    assert isinstance(detector, ADWIN)
    assert (detector.delta, detector.clock) == (0.01, 1)


def test_unknown_name_is_not_found():
    with pytest.raises(NotFoundError, match=r"Unknown detector 'adwn'\. Known detectors: adwin") as info:
        make_detector("adwn")
    assert info.value.loc == ("detector",)
    with pytest.raises(NotFoundError):
        default_registry.get(["not", "hashable"])  # type: ignore[arg-type]


def test_unknown_parameter_is_a_parameter_error():
    with pytest.raises(ParameterError, match="Invalid parameter 'delt' for detector ADWIN") as info:
        make_detector("adwin", delt=0.1)
    assert info.value.loc == ("delt",)
    assert "'delta'" in str(info.value)


def test_fresh_registry_register_and_replace():
    registry = DetectorRegistry()
    assert registry.names() == []
    registry.register("ddm", DDM)
    registry.register("ddm", DDM)  # same class again: fine
    with pytest.raises(ValueError, match="already registered"):
        registry.register("ddm", PageHinkley)
    registry.register("ddm", PageHinkley, replace=True)
    assert isinstance(registry.make("ddm"), PageHinkley)
    with pytest.raises(TypeError):
        registry.register("x", int)  # type: ignore[arg-type]
    assert "adwin" not in registry  # the default registry is separate


def test_user_detector_can_be_registered():
    class Never(DriftDetector):
        name = "never"

        def __init__(self) -> None:
            self._reset()

        def _reset(self) -> None:
            self._state = np.zeros(2)

        def _run(self, values, drifts, warnings):
            return 0, 0

    registry = DetectorRegistry()
    registry.register("never", Never)
    result = registry.make("never").update_many([1.0, 2.0])
    assert (result.detector, result.n, result.n_drifts) == ("never", 2, 0)

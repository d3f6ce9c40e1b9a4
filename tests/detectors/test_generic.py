"""One contract, checked for every detector in the registry."""

from __future__ import annotations

import itertools
import math
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmon.detectors import (
    DetectionResult,
    DriftAndWarningDetector,
    DriftDetector,
    default_registry,
    detector_names,
    make_detector,
)
from modelmon.exceptions import ParameterError, ValidationError

# A few parameter settings per detector, so that the contract is checked beyond the defaults
# (including both values of reset_on_drift where it exists, and seeded KSWIN).
SETTINGS: dict[str, list[dict]] = {
    "adwin": [{}, {"clock": 1, "delta": 0.05}, {"reset_on_drift": False, "max_buckets": 2}],
    "cusum": [{}, {"target": 0.0, "sigma": 1.0, "mode": "up"}],
    "ddm": [{}, {"warm_start": 5, "drift_threshold": 2.5}],
    "eddm": [{}, {"warm_start": 5, "alpha": 0.9, "beta": 0.8}],
    "hddm_a": [{}, {"two_sided_test": True}],
    "hddm_w": [{}, {"two_sided_test": True, "lambda_val": 0.2}],
    "kswin": [{"seed": 1}, {"seed": 2, "window_size": 40, "stat_size": 10, "alpha": 0.05, "reset_on_drift": False}],
    "page_hinkley": [{}, {"threshold": 5.0, "mode": "down"}],
}

BAD_PARAMS: dict[str, list[dict]] = {
    "adwin": [{"delta": 0.0}, {"delta": 1.5}, {"clock": 0}, {"max_buckets": 1}, {"min_window_length": 0}, {"grace_period": -1}, {"reset_on_drift": "yes"}, {"clock": 2.5}],
    "cusum": [{"min_instances": 0}, {"slack": -0.1}, {"threshold": 0.0}, {"mode": "sideways"}, {"target": math.nan}, {"sigma": 0.0}, {"sigma": "1"}],
    "ddm": [{"warm_start": -1}, {"warning_threshold": 0.0}, {"drift_threshold": 1.0}, {"drift_threshold": math.nan}],
    "eddm": [{"alpha": 0.0}, {"beta": 1.1}, {"alpha": 0.8, "beta": 0.9}, {"warm_start": 1.5}],
    "hddm_a": [{"drift_confidence": 0.0}, {"warning_confidence": 1.0}, {"drift_confidence": 0.01, "warning_confidence": 0.001}, {"two_sided_test": 1}],
    "hddm_w": [{"lambda_val": 0.0}, {"lambda_val": 1.5}, {"drift_confidence": 2.0}, {"two_sided_test": None}],
    "kswin": [{"alpha": 0.0}, {"stat_size": 0}, {"window_size": 50, "stat_size": 30}, {"seed": 1.5}, {"seed": True}, {"window": [1.0, math.nan]}, {"window": 3}, {"stat_size": 10001, "window_size": 30000}],
    "page_hinkley": [{"min_instances": -1}, {"delta": -0.1}, {"threshold": 0.0}, {"alpha": 0.0}, {"alpha": 1.01}, {"mode": "UP"}],
}

CASES = [
    pytest.param(name, params, id=f"{name}-{i}")
    for name in sorted(SETTINGS)
    for i, params in enumerate(SETTINGS[name])
]


def _values(detector: DriftDetector, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    half = n // 2
    if detector.binary:
        p = np.r_[np.full(half, 0.1), np.full(n - half, 0.45)]
        return (rng.random(n) < p).astype(float)
    return np.r_[rng.normal(0.0, 1.0, half), rng.normal(1.5, 2.0, n - half)]


def _loop(detector: DriftDetector, values: np.ndarray) -> tuple[list[int], list[int]]:
    drifts: list[int] = []
    warnings: list[int] = []
    for i, x in enumerate(values.tolist()):
        assert detector.update(x) is detector
        if detector.drift_detected:
            drifts.append(i)
        if isinstance(detector, DriftAndWarningDetector) and detector.warning_detected:
            warnings.append(i)
    return drifts, warnings


def _assert_same_state(a: DriftDetector, b: DriftDetector, states) -> None:
    sa, sb = states(a), states(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


def test_registry_lists_every_detector():
    assert detector_names() == sorted(SETTINGS) == sorted(BAD_PARAMS)
    for name in detector_names():
        assert default_registry.get(name).name == name


@pytest.mark.parametrize(("name", "params"), CASES)
def test_update_many_equals_update_loop(name, params, states):
    values = _values(make_detector(name, **params), 3000, seed=1)
    looped = make_detector(name, **params)
    drifts, warnings = _loop(looped, values)
    batch = make_detector(name, **params)
    result = batch.update_many(values)
    assert isinstance(result, DetectionResult)
    assert (result.detector, result.n) == (name, 3000)
    assert result.drifts.tolist() == drifts
    assert result.warnings.tolist() == warnings
    assert result.drifts.dtype == result.warnings.dtype == np.int64
    assert drifts, "the stream should make every detector fire"
    _assert_same_state(looped, batch, states)
    assert batch.drift_detected == looped.drift_detected


@pytest.mark.parametrize(("name", "params"), CASES)
def test_chunks_and_interleaving_equal_one_call(name, params, states):
    values = _values(make_detector(name, **params), 9000, seed=2)
    whole = make_detector(name, **params)
    expected = whole.update_many(values)
    chunked = make_detector(name, **params)
    drifts: list[int] = []
    warnings: list[int] = []
    # single updates, short chunks and one long chunk (kernels that work in blocks cross a
    # block boundary inside it)
    cuts = [0, 1, 2, 700, 701, 1500, 1501, 1502, 8999, 9000]
    for start, stop in itertools.pairwise(cuts):
        if stop - start == 1 and start % 2:  # mix single updates in between
            chunked.update(values[start])
            if chunked.drift_detected:
                drifts.append(start)
            if isinstance(chunked, DriftAndWarningDetector) and chunked.warning_detected:
                warnings.append(start)
            continue
        part = chunked.update_many(values[start:stop])
        drifts += (part.drifts + start).tolist()
        warnings += (part.warnings + start).tolist()
    assert drifts == expected.drifts.tolist()
    assert warnings == expected.warnings.tolist()
    _assert_same_state(whole, chunked, states)


@given(data=st.data())
def test_random_streams_and_splits_property(data, states):
    name = data.draw(st.sampled_from(detector_names()))
    params = data.draw(st.sampled_from(SETTINGS[name]))
    probe = make_detector(name, **params)
    n = data.draw(st.integers(0, 400))
    if probe.binary:
        values = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)))
    else:
        element = st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.0, 1.0, -1.0])
        values = np.array(data.draw(st.lists(element, min_size=n, max_size=n)), dtype=float)
    splits = sorted(data.draw(st.lists(st.integers(0, n), max_size=4)))
    looped = make_detector(name, **params)
    drifts, warnings = _loop(looped, values)
    chunked = make_detector(name, **params)
    got_d: list[int] = []
    got_w: list[int] = []
    for start, stop in zip([0, *splits], [*splits, n]):
        part = chunked.update_many(values[start:stop])
        got_d += (part.drifts + start).tolist()
        got_w += (part.warnings + start).tolist()
    assert got_d == drifts
    assert got_w == warnings
    _assert_same_state(looped, chunked, states)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_flags_are_read_only_properties(name):
    detector = make_detector(name, **SETTINGS[name][0])
    with pytest.raises(AttributeError):
        detector.drift_detected = True
    if isinstance(detector, DriftAndWarningDetector):
        with pytest.raises(AttributeError):
            detector.warning_detected = True
    else:
        assert not hasattr(detector, "warning_detected")


@pytest.mark.parametrize(("name", "params"), CASES)
def test_reset_returns_to_the_initial_state(name, params, states):
    detector = make_detector(name, **params)
    values = _values(detector, 2000, seed=3)
    detector.update_many(values)
    assert detector.reset() is detector
    fresh = make_detector(name, **params)  # (every KSWIN setting here is seeded)
    _assert_same_state(detector, fresh, states)
    assert detector.update_many(values) == fresh.update_many(values)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_pickle_round_trip_continues_identically(name, params):
    detector = make_detector(name, **params)
    values = _values(detector, 2000, seed=4)
    detector.update_many(values[:1000])
    copy = pickle.loads(pickle.dumps(detector))
    assert copy.update_many(values[1000:]) == detector.update_many(values[1000:])


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_empty_input_changes_nothing(name, states):
    detector = make_detector(name, **SETTINGS[name][0])
    detector.update_many(_values(detector, 500, seed=5))
    before = {k: v.copy() for k, v in states(detector).items()}
    result = detector.update_many([])
    assert (result.n, result.n_drifts, result.n_warnings) == (0, 0, 0)
    for key, value in states(detector).items():
        np.testing.assert_array_equal(value, before[key])


@pytest.mark.parametrize("name", sorted(SETTINGS))
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_input_is_rejected_without_side_effects(name, bad, states):
    detector = make_detector(name, **SETTINGS[name][0])
    values = _values(detector, 300, seed=6)
    detector.update_many(values[:100])
    before = {k: v.copy() for k, v in states(detector).items()}
    poisoned = values.copy()
    poisoned[137] = bad
    with pytest.raises(ValidationError, match="position 137") as info:
        detector.update_many(poisoned)
    assert info.value.loc == ("values", 137)
    with pytest.raises(ValidationError, match="'x' argument"):
        detector.update(bad)
    for key, value in states(detector).items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


@pytest.mark.parametrize("name", ["ddm", "eddm", "hddm_a", "hddm_w"])
def test_binary_detectors_reject_values_other_than_0_and_1(name):
    detector = make_detector(name)
    with pytest.raises(ValidationError, match=r"only 0 and 1 .* Got 0\.5 at position 2"):
        detector.update_many([0, 1, 0.5, 1])
    with pytest.raises(ValidationError, match="must be 0 or 1"):
        detector.update(2)
    # booleans and integers are fine
    assert detector.update_many(np.array([True, False, True])).n == 3
    assert detector.update_many([0, 1, 1]).n == 3
    assert detector.update(True) is detector


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_bad_input_types_and_shapes(name):
    detector = make_detector(name, **SETTINGS[name][0])
    with pytest.raises(ValidationError, match="1-dimensional"):
        detector.update_many(np.zeros((3, 2)))
    with pytest.raises(ValidationError, match="1-dimensional"):
        detector.update_many(1.0)
    with pytest.raises(ValidationError, match="numeric"):
        detector.update_many(["a", "b"])
    with pytest.raises(ValidationError, match="real number") as info:
        detector.update("1")
    assert info.value.code == "invalid_type"
    assert detector.update_many(np.zeros((4, 1))).n == 4  # a column is accepted


@pytest.mark.parametrize(
    ("name", "params"),
    [pytest.param(n, p, id=f"{n}-{p}") for n in sorted(BAD_PARAMS) for p in BAD_PARAMS[n]],
)
def test_bad_parameters_raise_parameter_error(name, params):
    with pytest.raises(ParameterError) as info:
        make_detector(name, **params)
    message = str(info.value)
    assert f"parameter of {default_registry.get(name).__name__}" in message
    assert info.value.loc[0] in params


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_get_params_and_repr(name):
    params = SETTINGS[name][-1]
    detector = make_detector(name, **params)
    assert make_detector(name, **detector.get_params()).get_params() == detector.get_params()
    assert {k: detector.get_params()[k] for k in params} == params
    shown = repr(detector)
    assert shown.startswith(type(detector).__name__ + "(")
    for key in params:
        assert f"{key}=" in shown
    assert repr(make_detector(name)) == f"{type(detector).__name__}()"


def test_detection_result_equality_and_dict():
    a = DetectionResult("ddm", 3, np.array([1]), np.array([0, 1]))
    assert a == DetectionResult("ddm", 3, np.array([1]), np.array([0, 1]))
    assert a != DetectionResult("ddm", 3, np.array([2]), np.array([0, 1]))
    assert a.to_dict() == {"detector": "ddm", "n": 3, "drifts": [1], "warnings": [0, 1]}
    with pytest.raises(TypeError):
        hash(a)


def test_import_compiles_nothing_and_stays_light():
    code = (
        "import sys, modelmon.detectors as d; [d.make_detector(n) for n in d.detector_names()]; "
        "print('numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]

"""Input checking shared by the degradation layer, and the Baseline summary."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmon.degradation import Baseline
from modelmon.degradation._series import as_series, as_times
from modelmon.exceptions import (
    DataQualityWarning,
    ParameterError,
    UndefinedMetricWarning,
    ValidationError,
)

values_st = st.lists(
    st.integers(-(10**6), 10**6).map(lambda i: i / 1000.0), min_size=1, max_size=60
)


def test_nan_values_are_dropped_with_a_warning_and_positions_kept() -> None:
    with pytest.warns(DataQualityWarning, match=r"2 NaN value\(s\) of 'values'.*nan_policy"):
        s = as_series([1.0, np.nan, 2.0, np.nan, 3.0], "values", "f")
    np.testing.assert_array_equal(s.values, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(s.positions, [0.0, 2.0, 4.0])
    assert s.n_dropped == 2


def test_nan_policy_raise_rejects_nan() -> None:
    with pytest.raises(ValidationError, match="'values' argument of f contains NaN"):
        as_series([1.0, np.nan], "values", "f", nan_policy="raise")


def test_bad_nan_policy_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="'nan_policy' parameter of f"):
        as_series([1.0], "values", "f", nan_policy="drop")


def test_infinity_is_always_rejected() -> None:
    with pytest.raises(ValidationError, match="contains infinity"):
        as_series([1.0, np.inf], "values", "f")


def test_mismatched_lengths_name_both_arguments() -> None:
    with pytest.raises(ValidationError, match="values=3, timestamps=2"):
        as_series([1.0, 2.0, 3.0], "values", "f", timestamps=[0.0, 1.0])
    with pytest.raises(ValidationError, match="values=2, sample_sizes=3"):
        as_series([1.0, 2.0], "values", "f", sample_sizes=[1, 2, 3])


def test_timestamps_must_increase_strictly_and_datetime_becomes_seconds() -> None:
    with pytest.raises(ValidationError, match="strictly increasing"):
        as_times([0.0, 2.0, 2.0], "timestamps", "f")
    with pytest.raises(ValidationError, match="NaT"):
        as_times(np.array(["2024-01-01", "NaT"], dtype="datetime64[s]"), "timestamps", "f")
    t = as_times(
        np.array(["1970-01-01T00:00:00", "1970-01-01T01:00:00"], "datetime64[s]"), "t", "f"
    )
    np.testing.assert_array_equal(t, [0.0, 3600.0])


def test_nan_drop_also_drops_the_timestamp_and_size_of_that_value() -> None:
    with pytest.warns(DataQualityWarning):
        s = as_series([1.0, np.nan, 3.0], "v", "f", timestamps=[10, 20, 30], sample_sizes=[5, 6, 7])
    assert s.times is not None
    assert s.sizes is not None
    np.testing.assert_array_equal(s.times, [10.0, 30.0])
    np.testing.assert_array_equal(s.sizes, [5.0, 7.0])


def test_sample_sizes_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="positive sample sizes"):
        as_series([1.0, 2.0], "v", "f", sample_sizes=[1, 0])


@given(values_st)
def test_baseline_summary_matches_numpy(values: list[float]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        b = Baseline.from_values(values)
    x = np.asarray(values)
    assert b.n == x.size
    assert b.mean == pytest.approx(np.mean(x), rel=1e-12, abs=1e-12)
    if x.size > 1:
        assert b.std == pytest.approx(np.std(x, ddof=1), rel=1e-12, abs=1e-12)
    else:
        assert math.isnan(b.std)
    np.testing.assert_allclose([b.p50, b.p95, b.p99], np.percentile(x, [50, 95, 99]))
    assert Baseline.from_dict(b.to_dict()) == b


def test_baseline_period_and_sizes_roundtrip_through_dict() -> None:
    t = np.array(["2024-03-01T00", "2024-03-01T01", "2024-03-01T02"], dtype="datetime64[h]")
    b = Baseline.from_values([0.8, 0.9, 0.85], timestamps=t, sample_sizes=[100, 200, 300])
    assert b.start == t[0].astype("datetime64[s]").astype(np.int64)
    assert b.start is not None
    assert b.end == b.start + 7200.0
    d = b.to_dict()
    assert d["sample_sizes"] == [100.0, 200.0, 300.0]
    assert Baseline.from_dict(d) == b
    assert b.weighted_mean == pytest.approx((80 + 180 + 255) / 600)


def test_single_value_baseline_has_undefined_std() -> None:
    with pytest.warns(UndefinedMetricWarning, match="single value"):
        b = Baseline.from_values([0.9])
    assert b.mean == 0.9
    assert math.isnan(b.std)
    assert b.p99 == 0.9
    assert Baseline.from_dict(b.to_dict()) == b


def test_empty_baseline_is_rejected() -> None:
    with pytest.raises(ValidationError, match="no finite value") as info:
        Baseline.from_values([])
    assert info.value.code == "empty_input"
    with pytest.raises(ValidationError, match="no finite value"), pytest.warns(DataQualityWarning):
        Baseline.from_values([np.nan, np.nan])


def test_constant_baseline_has_zero_std() -> None:
    b = Baseline.from_values([0.5] * 10)
    assert b.std == 0.0
    assert b.p50 == 0.5


def test_baseline_drops_nan_with_a_warning() -> None:
    with pytest.warns(DataQualityWarning):
        b = Baseline.from_values([1.0, np.nan, 3.0])
    assert b.values == (1.0, 3.0)


def test_from_dict_rejects_incomplete_or_inconsistent_data() -> None:
    d = Baseline.from_values([1.0, 2.0]).to_dict()
    with pytest.raises(ValidationError, match="missing field"):
        Baseline.from_dict({k: v for k, v in d.items() if k != "p95"})
    with pytest.raises(ValidationError, match="different lengths"):
        Baseline.from_dict({**d, "n": 3})

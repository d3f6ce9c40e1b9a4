"""compare(): defaults, overrides, corrections, missing data and edge cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from benchmarks.data import DRIFTING, STABLE, make_frames

from modelmon.drift import (
    Reference,
    compare,
    get_test,
    ks_test,
    population_stability_index,
)
from modelmon.exceptions import (
    DataQualityWarning,
    NotFoundError,
    ParameterError,
    SchemaError,
    UndefinedMetricWarning,
)


@pytest.mark.parametrize("n", [10_000, 100_000])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_defaults_find_every_drifting_feature_and_no_stable_one(n: int, seed: int) -> None:
    ref, cur = make_frames(n, seed=seed)
    res = compare(ref, cur)
    flagged = set(res.drifted_features)
    assert flagged == set(DRIFTING), sorted(flagged ^ set(DRIFTING))
    assert not flagged & set(STABLE)
    tests = {r.feature: r.test for r in res}
    assert {tests[f] for f in tests if f.startswith("num")} == {"normalized_wasserstein"}
    assert {tests[f] for f in tests if f.startswith("cat")} == {"jensen_shannon"}
    assert res.share_drifted == pytest.approx(7 / 25)
    assert not res.drifted  # 28% of features is below the default drift_share of 50%
    assert compare(ref, cur, drift_share=0.25).drifted


def test_small_samples_use_p_value_tests() -> None:
    ref, cur = make_frames(800, seed=3)
    cur["cat_4"] = cur["cat_4"][:500]  # a smaller window still decides by the smaller sample
    cur = {k: v[:500] for k, v in cur.items()}
    res = compare(ref, cur)
    tests = {r.feature: r.test for r in res}
    assert tests["num_00"] == "ks"
    assert tests["cat_4"] == "proportions_z"  # binary
    assert tests["cat_0"] == "chi_square"
    assert tests["cat_3"] == "chi_square"  # two categories in the reference, a third appears
    r = res["num_00"]
    expected = ks_test(ref["num_00"], cur["num_00"])
    assert (r.statistic, r.p_value, r.p_value_adjusted) == (
        expected.statistic,
        expected.p_value,
        expected.p_value,
    )
    assert r.p_value is not None
    assert r.drifted == (r.p_value < 0.05)
    assert {"num_00", "num_03", "num_12", "num_17"} <= set(res.drifted_features)


def test_per_feature_test_and_threshold_overrides() -> None:
    ref, cur = make_frames(5000, seed=4)
    psi20 = get_test("psi").with_params(bins=20)
    res = compare(
        ref,
        cur,
        tests={"num_01": "ks", "num_02": psi20, "cat_0": "chi_square", "num_05": "wasserstein"},
        thresholds={"num_01": 0.01, "num_00": 0.9, "num_05": 0.5},
    )
    assert (res["num_01"].test, res["num_01"].threshold) == ("ks", 0.01)
    assert res["num_02"].test == "psi"
    assert res["num_02"].statistic == population_stability_index(
        ref["num_02"], cur["num_02"], bins=20
    )
    assert res["num_00"].threshold == 0.9
    assert not res["num_00"].drifted  # 0.5 std shift is below a 0.9 threshold
    assert res["cat_0"].test == "chi_square"
    assert res["num_05"].test == "wasserstein"
    with pytest.warns(DataQualityWarning, match="Feature 'cat_3'"):  # a new category
        one_for_all = compare(ref, cur, tests="psi")
    assert {r.test for r in one_for_all} == {"psi"}


def test_override_errors() -> None:
    ref, cur = make_frames(200, seed=5)
    with pytest.raises(NotFoundError, match="Unknown drift test 'kolmogorov'"):
        compare(ref, cur, tests={"num_00": "kolmogorov"})
    with pytest.raises(
        ParameterError, match="Test 'chi_square' does not accept the numeric feature 'num_00'"
    ):
        compare(ref, cur, tests={"num_00": "chi_square"})
    with pytest.raises(ParameterError, match="no default threshold"):
        compare(ref, cur, tests={"num_00": "energy"})
    with pytest.raises(ParameterError, match="names 'nope'"):
        compare(ref, cur, tests={"nope": "ks"})
    with pytest.raises(ParameterError, match="names 'nope'"):
        compare(ref, cur, thresholds={"nope": 0.1})
    with pytest.raises(ParameterError, match="thresholds\\['num_00'\\]"):
        compare(ref, cur, thresholds={"num_00": -1.0})
    with pytest.raises(ParameterError, match="'correction' parameter of compare"):
        compare(ref, cur, correction="fdr")
    with pytest.raises(ParameterError, match="'drift_share' parameter of compare"):
        compare(ref, cur, drift_share=0.0)
    with pytest.raises(ParameterError, match="'tests' parameter of compare must be"):
        compare(ref, cur, tests=3)  # type: ignore[arg-type]
    fitted = Reference.fit(ref)
    with pytest.raises(ParameterError, match="cannot change the types of a fitted Reference"):
        compare(fitted, cur, feature_types={"num_00": "categorical"})
    assert compare(fitted, cur, feature_types={"num_00": "numeric"}) == fitted.compare(cur)


def test_missing_current_column_and_extra_columns() -> None:
    ref, cur = make_frames(300, seed=6)
    del cur["num_03"]
    with pytest.raises(SchemaError, match=r"no column\(s\) \['num_03'\]") as info:
        compare(ref, cur)
    assert info.value.code == "missing_feature"
    cur["num_03"] = ref["num_03"]
    cur["extra"] = ref["num_03"]
    assert "extra" not in [r.feature for r in compare(ref, cur)]
    with pytest.raises(SchemaError, match="no column"):
        compare(ref, cur, columns=["num_00", "zzz"])
    assert [r.feature for r in compare(ref, cur, columns=["cat_2", "num_00"])] == [
        "cat_2",
        "num_00",
    ]


def test_correction_is_applied_to_p_value_tests_only() -> None:
    ref, cur = make_frames(600, seed=7)
    plain = compare(ref, cur)
    holm = compare(ref, cur, correction="holm", tests={"num_19": "normalized_wasserstein"})
    raw = [r.p_value for r in holm if r.p_value is not None]
    m = len(raw)
    assert m == 24
    assert holm["num_19"].p_value is None
    assert holm["num_19"].p_value_adjusted is None
    for r in holm:
        if r.p_value is not None:
            assert r.p_value_adjusted is not None
            assert r.p_value_adjusted >= r.p_value
            assert r.drifted == (r.p_value_adjusted < r.threshold)
    assert holm.n_drifted <= plain.n_drifted
    bonf = compare(ref, cur, correction="bonferroni")
    for r in bonf:
        assert r.p_value is not None
        assert r.p_value_adjusted == pytest.approx(min(1.0, 25 * r.p_value))


def test_missing_values_are_counted_not_tested() -> None:
    rng = np.random.default_rng(8)
    ref = {"x": rng.normal(size=400), "c": rng.choice(["a", "b", "c"], 400).astype(object)}
    cur = {"x": rng.normal(size=300), "c": rng.choice(["a", "b", "c"], 300).astype(object)}
    ref["x"][:100] = np.nan
    cur["c"][:60] = None
    res = compare(ref, cur)
    assert (res["x"].n_reference, res["x"].missing_share_reference) == (300, 0.25)
    assert (res["c"].n_current, res["c"].missing_share_current) == (240, 0.2)
    assert res["x"].statistic == ks_test(ref["x"][100:], cur["x"]).statistic


def test_entirely_missing_current_feature_is_defined() -> None:
    ref, cur = make_frames(2000, seed=9)
    cur["num_00"] = np.full(2000, np.nan)
    cur["cat_0"] = np.array([None] * 2000, dtype=object)
    with pytest.warns(UndefinedMetricWarning) as record:
        res = compare(ref, cur)
    messages = " ".join(str(w.message) for w in record)
    assert "num_00" in messages
    assert "cat_0" in messages
    for name in ("num_00", "cat_0"):
        r = res[name]
        assert math.isnan(r.statistic)
        assert not r.drifted
        assert r.missing_share_current == 1.0
        assert r.n_current == 0
        assert not r.defined
    assert res.n_features == 25


def test_empty_current_frame() -> None:
    ref, _ = make_frames(500, seed=10)
    empty = {k: v[:0] for k, v in ref.items()}
    with pytest.warns(UndefinedMetricWarning):
        res = compare(ref, empty)
    assert res.n_drifted == 0
    assert not res.drifted
    assert all(math.isnan(r.statistic) and math.isnan(r.missing_share_current) for r in res)


def test_constant_columns_and_unseen_categories() -> None:
    ones = np.ones(3000)
    ref = {"k": ones, "c": np.array(["a"] * 3000)}
    same = compare(ref, {"k": np.ones(2000), "c": np.array(["a"] * 2000)})
    assert [r.drifted for r in same] == [False, False]
    assert same["k"].statistic == 0.0
    moved = compare(ref, {"k": np.full(2000, 2.0), "c": np.array(["a"] * 1500 + ["b"] * 500)})
    assert moved["k"].statistic == math.inf
    assert moved["k"].drifted
    assert moved["c"].drifted  # an unseen category with 25% of the rows
    small = compare(
        {"k": ones[:100], "c": np.array(["a"] * 100)}, {"k": ones[:50], "c": np.array(["a"] * 50)}
    )
    assert [(r.test, r.statistic, r.p_value) for r in small] == [
        ("ks", 0.0, 1.0),
        ("chi_square", 0.0, 1.0),
    ]


def test_infinite_values_warn_and_count_as_missing() -> None:
    ref = {"x": np.r_[np.arange(10.0), np.inf]}
    with pytest.warns(DataQualityWarning, match="Feature 'x' of the reference data has 1 infinite"):
        res = compare(ref, {"x": np.arange(10.0)})
    assert res["x"].missing_share_reference == pytest.approx(1 / 11)


def test_psi_warning_names_the_feature_and_epsilon() -> None:
    ref = {"c": np.array(["a", "b"] * 50)}
    cur = {"c": np.array(["a", "b", "c", "c"] * 25)}
    with pytest.warns(
        DataQualityWarning, match="Feature 'c': population_stability_index.*epsilon=0.0001"
    ):
        compare(ref, cur, tests="psi")


def test_results_convert_to_dict_and_frame() -> None:
    ref, cur = make_frames(300, seed=11)
    res = compare(ref, cur)
    d = res.to_dict()
    assert d["n_features"] == 25
    assert d["features"][0]["feature"] == "num_00"
    assert set(d["features"][0]) == {
        "feature",
        "feature_type",
        "test",
        "statistic",
        "p_value",
        "threshold",
        "drifted",
        "n_reference",
        "n_current",
        "missing_share_reference",
        "missing_share_current",
        "p_value_adjusted",
    }
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame.shape == (25, 12)
    assert frame["drifted"].sum() == res.n_drifted
    with pytest.raises(KeyError):
        res["nope"]
    assert len(res) == 25


def test_low_cardinality_integers_are_categorical() -> None:
    rng = np.random.default_rng(12)
    ref = {"k": rng.integers(0, 5, 3000), "wide": rng.integers(0, 10_000, 3000)}
    fitted = Reference.fit(ref)
    assert fitted.feature_types == {"k": "categorical", "wide": "numeric"}
    assert Reference.fit(ref, max_int_categories=3).feature_types["k"] == "numeric"
    assert (
        Reference.fit(ref, feature_types={"wide": "categorical"}).feature_types["wide"]
        == "categorical"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fitted.compare({"k": rng.integers(0, 5, 2000), "wide": rng.integers(0, 10_000, 2000)})
    assert res["k"].test == "jensen_shannon"
    assert not res.drifted

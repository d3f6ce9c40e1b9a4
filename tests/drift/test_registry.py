"""Test registry, custom tests, automatic selection and the public API surface."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import modelmon.drift as drift
from modelmon.drift import (
    SIZE_CUTOVER,
    DriftTest,
    TestRegistry,
    available_tests,
    choose_test,
    compare,
    default_registry,
    get_test,
    register_test,
)
from modelmon.exceptions import NotFoundError, ParameterError


def median_shift(ref, cur):  # type: ignore[no-untyped-def]
    return abs(float(np.median(cur.to_array())) - float(np.median(ref.to_array())))


def test_builtin_tests() -> None:
    assert available_tests("numeric") == [
        "anderson_darling",
        "cramer_von_mises",
        "energy",
        "hellinger",
        "jensen_shannon",
        "kl_divergence",
        "ks",
        "mean_shift_z",
        "normalized_wasserstein",
        "psi",
        "total_variation",
        "variance_f",
        "wasserstein",
    ]
    assert available_tests("categorical") == [
        "chi_square",
        "hellinger",
        "jensen_shannon",
        "kl_divergence",
        "proportions_z",
        "psi",
        "total_variation",
    ]
    for test in default_registry:
        assert test.kind in ("p_value", "distance")
        if test.kind == "p_value":
            assert test.default_threshold == 0.05


def test_fresh_registry_and_custom_test() -> None:
    registry = TestRegistry()
    test = DriftTest("median_shift", median_shift, {"numeric"}, "distance", 0.5)
    registry.register(test)
    assert "median_shift" in registry
    assert len(registry) == 1
    assert registry.get("median_shift") is test
    with pytest.raises(ParameterError, match="already registered"):
        registry.register(test)
    registry.register(test, replace=True)
    with pytest.raises(NotFoundError, match="Unknown drift test 'ks'"):
        registry.get("ks")


def test_custom_test_in_compare() -> None:
    rng = np.random.default_rng(0)
    ref = {"x": rng.normal(size=500), "y": rng.normal(size=500)}
    cur = {"x": rng.normal(1.0, 1, size=500), "y": rng.normal(size=500)}
    test = DriftTest("median_shift", median_shift, {"numeric"}, "distance", 0.5)
    res = compare(ref, cur, tests={"x": test, "y": test})
    assert res["x"].test == "median_shift"
    assert res["x"].drifted
    assert not res["y"].drifted
    # registered under its name in the default registry, then usable by name
    name = "median_shift_for_test_only"
    register_test(DriftTest(name, median_shift, {"numeric"}, "distance", 0.5))
    try:
        assert compare(ref, cur, tests={"x": name})["x"].test == name
    finally:
        default_registry._items.pop(name)


def test_custom_p_value_test_returns_a_pair() -> None:
    def always(ref, cur):  # type: ignore[no-untyped-def]
        return 1.5, 0.01

    test = DriftTest("always", always, {"numeric", "categorical"}, "p_value", 0.05)
    res = compare(
        {"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]}, {"x": [1.0, 2.0], "c": ["a", "a"]}, tests=test
    )
    assert [(r.statistic, r.p_value, r.drifted) for r in res] == [
        (1.5, 0.01, True),
        (1.5, 0.01, True),
    ]


def test_drift_test_validation() -> None:
    with pytest.raises(ParameterError, match="'feature_types' of drift test 'bad'"):
        DriftTest("bad", median_shift, {"text"}, "distance", 0.1)
    with pytest.raises(ParameterError, match="'kind' of drift test 'bad'"):
        DriftTest("bad", median_shift, {"numeric"}, "score", 0.1)


def test_with_params_keeps_the_original() -> None:
    psi = get_test("psi")
    psi20 = psi.with_params(bins=20)
    assert psi.params == {}
    assert psi20.params == {"bins": 20}
    assert psi20.with_params(epsilon=0.1).params == {"bins": 20, "epsilon": 0.1}


@pytest.mark.parametrize(
    ("ftype", "n_ref", "n_cur", "n_cats", "expected"),
    [
        ("numeric", 1000, 1000, None, "ks"),
        ("numeric", 1001, 1001, None, "normalized_wasserstein"),
        ("numeric", 1_000_000, 900, None, "ks"),
        ("categorical", 500, 500, 2, "proportions_z"),
        ("categorical", 500, 500, 3, "chi_square"),
        ("categorical", 500, 500, 1, "chi_square"),
        ("categorical", 5000, 5000, 2, "jensen_shannon"),
    ],
)
def test_choose_test(ftype: str, n_ref: int, n_cur: int, n_cats: int | None, expected: str) -> None:
    assert choose_test(ftype, n_ref, n_cur, n_categories=n_cats) == expected
    assert SIZE_CUTOVER == 1000


def test_choose_test_validates() -> None:
    with pytest.raises(ParameterError, match="'feature_type' parameter of choose_test"):
        choose_test("text", 1, 1)
    with pytest.raises(ParameterError, match="'n_current' parameter of choose_test"):
        choose_test("numeric", 1, -1)


def test_public_api_is_complete_and_documented() -> None:
    public = {name for name in dir(drift) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(drift, name))} | {"annotations"}
    assert set(drift.__all__) == public - modules
    for name in drift.__all__:
        obj = getattr(drift, name)
        if callable(obj):
            assert obj.__doc__, name


def test_importing_drift_does_not_import_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, modelmon.drift; "
        "print(sorted(m for m in ('numba', 'scipy.stats', 'pandas', 'polars', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

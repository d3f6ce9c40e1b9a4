"""One generic test over every registered metric, and the registry itself."""

from __future__ import annotations

import inspect
import math
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import modelmon.metrics as M
from modelmon.exceptions import UndefinedMetricWarning
from modelmon.metrics.registry import Direction, MetricInfo, MetricRegistry, register_metric

INFOS = sorted(M.default_registry, key=lambda i: i.name)
TASKS = {"binary", "multiclass", "regression", "finance", "business", "fairness"}
INPUTS = {"label", "score", "value"}
# Keyword-only parameters without a default, and a value to call with.
REQUIRED = {"beta": 1.0, "groups": None}
# Totals over no rows are 0, not undefined.
TOTALS = {"predicted_revenue", "realised_revenue"}


def _required_kwargs(info: MetricInfo, n: int) -> dict[str, object]:
    kwargs: dict[str, object] = {}
    for p in inspect.signature(info.func).parameters.values():
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty:
            assert p.name in REQUIRED, f"{info.name}: add a value for {p.name!r} to REQUIRED"
            kwargs[p.name] = ["a", "b"] * (n // 2) if p.name == "groups" else REQUIRED[p.name]
    return kwargs


def test_registry_holds_every_metric() -> None:
    assert len(INFOS) >= 50
    names = [i.name for i in INFOS]
    assert len(names) == len(set(names))
    assert M.metric_names() == sorted(names)
    assert set(M.metric_names("regression")) >= {"mae", "mse", "rmse", "r2", "mape", "smape"}
    for func_name in M.__all__:
        obj = getattr(M, func_name)
        assert obj is not None


@pytest.mark.parametrize("info", INFOS, ids=lambda i: i.name)
def test_metric_contract(info: MetricInfo) -> None:
    # name: short, stable snake_case
    assert re.fullmatch(r"[a-z][a-z0-9_]*", info.name)
    assert len(info.name) <= 40
    # direction set; target exactly for target metrics
    assert isinstance(info.direction, Direction)
    assert (info.target is not None) == (info.direction is Direction.TARGET)
    assert info.tasks
    assert set(info.tasks) <= TASKS
    assert info.input in INPUTS
    assert info.description
    # public, documented with a runnable example
    assert info.func.__name__ in M.__all__
    doc = inspect.getdoc(info.func) or ""
    for section in ("Parameters", "Returns", "Examples"):
        assert section in doc, f"{info.name}: docstring lacks {section}"
    assert ">>>" in doc
    # empty input: NaN with an UndefinedMetricWarning (totals: 0.0)
    kwargs = _required_kwargs(info, 0)
    if info.name in TOTALS:
        assert info.func([], [], **kwargs) == 0.0
    else:
        with pytest.warns(UndefinedMetricWarning):
            value = info.func([], [], **kwargs)
        assert math.isnan(value)


def _small_input(info: MetricInfo) -> tuple[np.ndarray, np.ndarray]:
    if info.input == "value":
        return (
            np.array([0.01, -0.02, 0.03, 0.015, -0.005, 0.02]),
            np.array([0.02, -0.01, 0.01, -0.01, 0.004, 0.03]),
        )
    y = np.array([0, 1, 1, 0, 1, 0])
    if info.input == "score":
        return y, np.array([0.2, 0.8, 0.4, 0.3, 0.9, 0.6])
    return y, np.array([0, 1, 0, 0, 1, 1])


@pytest.mark.parametrize("info", INFOS, ids=lambda i: i.name)
def test_metric_runs_on_a_small_valid_input(info: MetricInfo) -> None:
    y_true, y_pred = _small_input(info)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        value = info.func(y_true, y_pred, **_required_kwargs(info, y_true.size))
    assert isinstance(value, float)
    assert math.isfinite(value)


def test_registering_a_second_function_under_a_taken_name_fails() -> None:
    registry = MetricRegistry()

    @register_metric("demo", Direction.HIGHER, ("binary",), registry=registry)
    def demo(y_true: object, y_pred: object) -> float:
        return 1.0

    with pytest.raises(ValueError, match="already registered"):
        register_metric("demo", Direction.LOWER, ("binary",), registry=registry)(lambda a, b: 0.0)
    with pytest.raises(ValueError, match="already registered"):
        register_metric("accuracy", Direction.HIGHER, ("binary",))(lambda a, b: 0.0)
    assert registry.get("demo").func is demo
    with pytest.raises(LookupError, match="Unknown metric"):
        M.get_metric("nope")


def test_public_api_is_curated_and_complete() -> None:
    import modelmon.metrics.business as business
    import modelmon.metrics.classification as classification
    import modelmon.metrics.fairness as fairness
    import modelmon.metrics.finance as finance
    import modelmon.metrics.probabilistic as probabilistic
    import modelmon.metrics.ranking as ranking
    import modelmon.metrics.regression as regression
    import modelmon.metrics.report as report
    import modelmon.metrics.streaming as streaming

    exported = set(M.__all__)
    assert len(exported) == len(M.__all__)
    for module in (
        business,
        classification,
        fairness,
        finance,
        probabilistic,
        ranking,
        regression,
        report,
        streaming,
    ):
        missing = set(module.__all__) - exported
        assert not missing, f"{module.__name__} exports {missing} not re-exported"
    for name in M.__all__:
        obj = getattr(M, name)
        if callable(obj):
            assert getattr(obj, "__doc__", None), f"{name} has no docstring"


def test_metrics_import_only_numpy() -> None:
    code = (
        "import sys, modelmon.metrics; "
        "bad = [m for m in ('pandas', 'polars', 'pyarrow', 'sklearn', 'numba', 'scipy') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

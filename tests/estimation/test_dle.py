"""Direct loss estimation: the leaf refit against LightGBM itself, estimates against known
expected losses, input formats, coverage under covariate shift, serialisation."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from benchmarks import estimation_data
from modelmon._gbm import grow_trees, leaf_indices, tree_arrays
from modelmon.estimation import DirectLossEstimator, estimator_from_dict
from modelmon.estimation._kernels import refit_leaves, tree_leaves, tree_sums
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError


def _rows(rng: np.random.Generator, n: int, share_b: float = 0.3):
    """Category "b" rows err with standard deviation 3, the others with 1 (normal errors)."""
    c = np.where(rng.random(n) < share_b, "b", "a")
    x = rng.normal(0, 1, n)
    y_pred = 5 + 2 * x
    sd = np.where(c == "b", 3.0, 1.0)
    return {"x": x, "c": c}, y_pred, y_pred + rng.normal(0, 1, n) * sd, sd


def test_refit_reproduces_lightgbms_own_fit() -> None:
    """Leaf values refitted on the target the trees were grown on are LightGBM's leaf values."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 3))
    y = np.abs(x[:, 0] * x[:, 1] + rng.normal(size=3000))
    params = {"objective": "regression", "learning_rate": 0.2, "num_leaves": 15,
              "min_data_in_leaf": 20, "num_threads": 1, "deterministic": True, "verbose": -1,
              "force_row_wise": True}
    booster = grow_trees(x, y, categorical=[], params=params, rounds=25)
    leaves = leaf_indices(booster, x, 1)
    values, fitted = refit_leaves(np.ascontiguousarray(leaves.T), y[:, None], np.ones((3000, 1)),
                                  np.array([y.mean()]), 0.2, 15)
    np.testing.assert_allclose(fitted[:, 0], booster.predict(x), rtol=1e-6, atol=1e-6)
    trees = tree_arrays(booster)
    np.testing.assert_allclose(tree_sums(x, **trees, values=values, init=np.array([y.mean()])),
                               fitted, rtol=1e-12)


@pytest.mark.parametrize("missing", [{}, {"zero_as_missing": True}])
def test_tree_walk_is_lightgbms(missing: dict) -> None:
    """Every row reaches the leaf LightGBM's own predict reaches: NaN, zeros, categories seen
    and unseen, negative codes."""
    rng = np.random.default_rng(9)
    n = 6000

    def data(rows: int, top: int) -> np.ndarray:
        x = rng.normal(size=(rows, 4))
        x[:, 2] = rng.integers(-1 if top > 6 else 0, top, rows)
        x[rng.random(rows) < 0.08, 0] = np.nan
        x[rng.random(rows) < 0.08, 2] = np.nan
        x[rng.random(rows) < 0.2, 1] = 0.0
        return x

    x = data(n, 6)
    y = np.abs(2 * x[:, 1] + (x[:, 2] == 3) + np.nan_to_num(x[:, 0]) + rng.normal(size=n))
    params = {"objective": "regression", "num_leaves": 31, "verbose": -1, **missing}
    booster = grow_trees(x, y, categorical=[2], params=params, rounds=30)
    probe = data(5000, 9)
    np.testing.assert_array_equal(tree_leaves(probe, **tree_arrays(booster)),
                                  leaf_indices(booster, probe, 1).T)


def test_estimates_follow_the_expected_losses() -> None:
    rng = np.random.default_rng(1)
    features, y_pred, y_true, _ = _rows(rng, 30_000, 0.3)
    dle = DirectLossEstimator().fit(features, y_pred, y_true)
    for share in (0.1, 0.3, 0.8):  # covariate shift towards the noisy category
        features, y_pred, _, sd = _rows(rng, 20_000, share)
        est = dle.estimate(features, y_pred)
        expected_mse = float(np.mean(sd ** 2))
        expected_mae = float(np.mean(sd) * math.sqrt(2 / math.pi))
        assert est["mse"].value == pytest.approx(expected_mse, rel=0.04)
        assert est["rmse"].value == pytest.approx(math.sqrt(expected_mse), rel=0.02)
        assert est["mae"].value == pytest.approx(expected_mae, rel=0.03)
        # spread: |e| has sd(|z|)*sd per row, e^2 has sqrt(2)*sd^2 (normal errors)
        exact_mae_se = math.sqrt(np.sum((1 - 2 / math.pi) * sd ** 2)) / sd.size
        assert est["mae"].sampling_error == pytest.approx(exact_mae_se, rel=0.15)


def test_input_formats_give_the_same_estimate() -> None:
    rng = np.random.default_rng(2)
    features, y_pred, y_true, _ = _rows(rng, 5000)
    dle = DirectLossEstimator(["mae"], n_estimators=20).fit(features, y_pred, y_true)
    window, pred, _, _ = _rows(rng, 700)
    window["c"][:5] = "never-seen"  # unseen categories are missing values
    base = dle.estimate(window, pred)["mae"].value
    assert dle.estimate(pa.table(window), pred)["mae"].value == base
    assert dle.estimate(pd.DataFrame(window), pred)["mae"].value == base
    as_object = {"x": window["x"], "c": window["c"].astype(object)}
    assert dle.estimate(as_object, pred)["mae"].value == base
    with pytest.raises(ValidationError, match=r"lack \['c'\]"):
        dle.estimate({"x": window["x"]}, pred)


def test_band_covers_the_realized_metric_under_covariate_shift() -> None:
    sim = estimation_data.regression(n_reference=20_000, windows=20, rows=2000, seed=3)
    ref = sim.reference
    dle = DirectLossEstimator().fit(ref.features, ref.y_pred, ref.y_true)
    covered = total = 0
    for w in sim.windows:
        est = dle.estimate(w.features, w.y_pred)
        e = w.y_true - w.y_pred
        realized = {"mae": np.mean(np.abs(e)), "mse": np.mean(e * e),
                    "rmse": math.sqrt(np.mean(e * e)), "mape": np.mean(np.abs(e / w.y_true))}
        for m, v in realized.items():
            covered += est[m].covers(float(v))
            total += 1
    assert covered / total >= 0.95


def test_json_round_trip() -> None:
    rng = np.random.default_rng(4)
    features, y_pred, y_true, _ = _rows(rng, 4000)
    dle = DirectLossEstimator(n_estimators=15).fit(features, y_pred, y_true)
    again = estimator_from_dict(json.loads(json.dumps(dle.to_dict())))
    window, pred, _, _ = _rows(rng, 300)
    assert again.estimate(window, pred).to_dict() == dle.estimate(window, pred).to_dict()
    assert again.features_ == ("x", "c")


def test_empty_window_and_errors() -> None:
    rng = np.random.default_rng(5)
    features, y_pred, y_true, _ = _rows(rng, 2000)
    dle = DirectLossEstimator(["mae"], n_estimators=5).fit(features, y_pred, y_true)
    with pytest.warns(UndefinedMetricWarning, match="no rows"):
        est = dle.estimate({"x": np.empty(0), "c": np.empty(0, dtype=str)}, np.empty(0))
    assert est.n == 0 and math.isnan(est["mae"].value)
    with pytest.raises(ValidationError, match="not fitted yet"):
        DirectLossEstimator().estimate(features, y_pred)
    with pytest.raises(ParameterError, match="'metrics' parameter of DirectLossEstimator"):
        DirectLossEstimator(["accuracy"]).fit(features, y_pred, y_true)
    with pytest.raises(ParameterError, match="'learning_rate' parameter"):
        DirectLossEstimator(learning_rate=0).fit(features, y_pred, y_true)
    with pytest.raises(ValidationError, match="at least 100 reference rows"):
        DirectLossEstimator().fit({"x": np.zeros(50)}, np.zeros(50), np.ones(50))
    with pytest.raises(ValidationError, match="contains NaN"):
        DirectLossEstimator().fit(features, np.full(2000, np.nan), y_true)

"""Streaming aggregates equal the batch functions, whatever the split and merge order."""

from __future__ import annotations

import itertools
import json
import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from metric_strategies import close, weights

from modelmon import metrics as M
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError

# (class, class params, batch function, batch kwargs, kind of data)
CASES: list[tuple[type[M.StreamingMetric], dict[str, Any], Any, dict[str, Any], str]] = [
    (M.Accuracy, {}, M.accuracy_score, {}, "labels"),
    (M.Accuracy, {"normalize": False}, M.accuracy_score, {"normalize": False}, "labels"),
    (M.BalancedAccuracy, {}, M.balanced_accuracy_score, {}, "labels"),
    (
        M.BalancedAccuracy,
        {"adjusted": True},
        M.balanced_accuracy_score,
        {"adjusted": True},
        "labels",
    ),
    (M.Precision, {}, M.precision_score, {}, "binary"),
    (M.Precision, {"average": "macro"}, M.precision_score, {"average": "macro"}, "labels"),
    (M.Recall, {"average": "weighted"}, M.recall_score, {"average": "weighted"}, "labels"),
    (M.Recall, {"zero_division": 1.0}, M.recall_score, {"zero_division": 1.0}, "binary"),
    (M.F1, {}, M.f1_score, {}, "binary"),
    (M.F1, {"average": "micro"}, M.f1_score, {"average": "micro"}, "labels"),
    (
        M.F1,
        {"average": "macro", "labels": [0, 2, 7]},
        M.f1_score,
        {"average": "macro", "labels": [0, 2, 7]},
        "labels",
    ),
    (
        M.FBeta,
        {"beta": 2.0, "average": "macro"},
        M.fbeta_score,
        {"beta": 2.0, "average": "macro"},
        "labels",
    ),
    (M.MatthewsCorrCoef, {}, M.matthews_corrcoef, {}, "labels"),
    (M.MeanAbsoluteError, {}, M.mean_absolute_error, {}, "values"),
    (M.MeanSquaredError, {}, M.mean_squared_error, {}, "values"),
    (M.RootMeanSquaredError, {}, M.root_mean_squared_error, {}, "values"),
    (M.MeanError, {}, M.mean_error, {}, "values"),
    (M.R2Score, {}, M.r2_score, {}, "values"),
    (M.R2Score, {"force_finite": True}, M.r2_score, {"force_finite": True}, "values"),
    (M.MeanAbsolutePercentageError, {}, M.mean_absolute_percentage_error, {}, "values"),
    (
        M.MeanAbsolutePercentageError,
        {"zero_policy": "epsilon"},
        M.mean_absolute_percentage_error,
        {"zero_policy": "epsilon"},
        "values",
    ),
    (M.LogLoss, {}, M.log_loss, {}, "probabilities"),
    (M.BrierScore, {}, M.brier_score_loss, {}, "probabilities"),
]


@st.composite
def dataset(draw: st.DrawFn, kind: str) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 30))
    if kind in ("labels", "binary"):
        k = 2 if kind == "binary" else 4
        elems = st.integers(0, k - 1)
        return (
            np.array(draw(st.lists(elems, min_size=n, max_size=n))),
            np.array(draw(st.lists(elems, min_size=n, max_size=n))),
        )
    if kind == "probabilities":
        y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
        p = np.array(
            draw(st.lists(st.sampled_from([0.0, 0.1, 0.5, 0.8, 1.0]), min_size=n, max_size=n))
        )
        return y, p
    values = st.one_of(st.integers(-5, 5).map(float), st.floats(-100, 100, allow_nan=False))
    return (
        np.array(draw(st.lists(values, min_size=n, max_size=n))),
        np.array(draw(st.lists(values, min_size=n, max_size=n))),
    )


def _value(fn, *args, **kwargs) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].__name__}{c[1] or ''}")
@given(data=st.data())
def test_streaming_equals_batch_for_any_split_and_merge_order(data: st.DataObject, case) -> None:
    cls, params, batch, kwargs, kind = case
    yt, yp = data.draw(dataset(kind))
    w = data.draw(weights(yt.size))
    expected = _value(batch, yt, yp, sample_weight=w, **kwargs)

    # split into chunks; each chunk aggregated either row by row or in one call
    cuts = sorted(data.draw(st.lists(st.integers(0, yt.size), max_size=4)))
    bounds = [0, *cuts, yt.size]
    parts = []
    for lo, hi in itertools.pairwise(bounds):
        agg = cls(**params)
        if data.draw(st.booleans()):
            for i in range(lo, hi):
                agg.update(yt[i], yp[i], 1.0 if w is None else float(w[i]))
        else:
            agg.update_many(yt[lo:hi], yp[lo:hi], None if w is None else w[lo:hi])
        parts.append(agg)
    order = data.draw(st.permutations(range(len(parts))))
    total = parts[order[0]]
    for i in order[1:]:
        total.merge(parts[i])
    assert total.n == yt.size
    got = _value(total.get)
    assert close(got, expected), (cls.__name__, params, got, expected)

    # a JSON round trip of the state gives the same value
    restored = cls.from_dict(json.loads(json.dumps(total.to_dict())))
    assert close(_value(restored.get), expected)


@given(data=st.data())
def test_confusion_matrix_aggregate_equals_batch(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 30))
    names = st.sampled_from(["ant", "bee", "cat", "dog"])
    yt = np.array(data.draw(st.lists(names, min_size=n, max_size=n)))
    yp = np.array(data.draw(st.lists(names, min_size=n, max_size=n)))
    w = data.draw(weights(n))
    cut = data.draw(st.integers(0, n))
    a = M.ConfusionMatrix().update_many(yt[:cut], yp[:cut], None if w is None else w[:cut])
    b = M.ConfusionMatrix().update_many(yt[cut:], yp[cut:], None if w is None else w[cut:])
    merged = b.merge(a)
    np.testing.assert_allclose(merged.get(), M.confusion_matrix(yt, yp, sample_weight=w))
    np.testing.assert_array_equal(merged.labels, np.union1d(yt, yp))


def test_update_single_rows_and_repr() -> None:
    m = M.MeanAbsoluteError()
    assert m.update(3.0, 2.5) is m
    m.update(-0.5, 0.0, w=2.0)
    assert m.get() == pytest.approx((0.5 + 2 * 0.5) / 3)
    assert repr(M.F1(average="macro")).startswith("F1(average='macro'")
    assert M.streaming_metric("rmse").update_many([1.0, 3.0], [2.0, 2.0]).get() == 1.0
    assert set(M.STREAMING_METRICS) <= set(M.metric_names())
    with pytest.raises(ParameterError, match="No streaming aggregate"):
        M.streaming_metric("roc_auc")


def test_empty_aggregates_and_reset() -> None:
    for cls in M.STREAMING_METRICS.values():
        agg = cls(beta=1.0) if cls is M.FBeta else cls()
        with pytest.warns(UndefinedMetricWarning, match="empty input"):
            assert math.isnan(agg.get())
    m = M.MeanSquaredError().update_many([1.0], [3.0])
    assert m.reset().n == 0
    with pytest.warns(UndefinedMetricWarning):
        m.get()
    assert M.Accuracy(normalize=False).get() == 0.0


def test_merge_requires_same_kind_and_parameters() -> None:
    with pytest.raises(ParameterError, match="same class"):
        M.MeanAbsoluteError().merge(M.MeanSquaredError())
    with pytest.raises(ParameterError, match="same class"):
        M.F1(average="macro").merge(M.F1(average="micro"))
    with pytest.raises(ValidationError, match="from_dict"):
        M.MeanAbsoluteError.from_dict(M.MeanSquaredError().to_dict())


def test_streaming_validation_and_policies() -> None:
    with pytest.raises(ValidationError, match="contains NaN"):
        M.MeanAbsoluteError().update(float("nan"), 1.0)
    with pytest.raises(ValidationError, match="negative"):
        M.MeanAbsoluteError().update(1.0, 1.0, w=-1.0)
    with pytest.raises(ValidationError, match="Mix of label input types"):
        M.Accuracy().update(1, 1).update("a", "a")
    with pytest.raises(ValidationError, match=r"probabilities in \[0, 1\]"):
        M.LogLoss().update(1, 1.5)
    with pytest.raises(ValidationError, match="zero_policy="):
        M.MeanAbsolutePercentageError(zero_policy="raise").update(0.0, 1.0)
    mape = M.MeanAbsolutePercentageError().update(0.0, 1.0).update(100.0, 110.0)
    with pytest.warns(UndefinedMetricWarning, match="1 of 2 rows have y_true == 0"):
        assert mape.get() == pytest.approx(0.1)
    # the positive class of a streaming log loss is fixed: 1 by default
    assert M.LogLoss().update(1, 0.9).get() == pytest.approx(-math.log(0.9))
    assert M.LogLoss(pos_label="yes").update("yes", 0.9).get() == pytest.approx(-math.log(0.9))


def test_r2_of_a_constant_weighted_y_true_is_not_a_rounding_artifact() -> None:
    # found by the property test above: the weighted mean of two equal values rounded off
    # them and the batch R2 was -6e31 while the streaming one was 0.0
    yt, yp = np.array([0.02691351, 0.0, 0.02691351]), np.zeros(3)
    w = np.array([1.5, 0.0, 0.25])
    assert M.r2_score(yt, yp, sample_weight=w, force_finite=True) == 0.0
    assert math.isnan(_value(M.r2_score, yt, yp, sample_weight=w))
    for cut in range(4):
        a = M.R2Score(force_finite=True).update_many(yt[:cut], yp[:cut], w[:cut])
        b = M.R2Score(force_finite=True).update_many(yt[cut:], yp[cut:], w[cut:])
        assert a.merge(b).get() == 0.0
    state = M.R2Score().update_many(yt, yp, w).to_dict()
    restored = M.R2Score.from_dict(json.loads(json.dumps(state)))
    assert math.isnan(_value(restored.get))
    empty = M.R2Score.from_dict(json.loads(json.dumps(M.R2Score().to_dict())))
    assert (empty.lo, empty.hi) == (math.inf, -math.inf)

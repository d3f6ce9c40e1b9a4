"""Label classification metrics against scikit-learn, plus the documented edge cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st
from metric_strategies import close, label_pairs, weights

from modelmon import metrics as M
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError

AVERAGES = ["micro", "macro", "weighted"]


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _positive_weight(w: np.ndarray | None) -> bool:
    return w is None or w.sum() > 0


@given(data=st.data())
def test_accuracy_and_balanced_accuracy_match_sklearn(data: st.DataObject) -> None:
    yt, yp = data.draw(label_pairs(n_classes=4))
    w = data.draw(weights(yt.size))
    if not _positive_weight(w):
        w = None
    assert close(
        M.accuracy_score(yt, yp, sample_weight=w), skm.accuracy_score(yt, yp, sample_weight=w)
    )
    assert close(
        M.accuracy_score(yt, yp, sample_weight=w, normalize=False),
        skm.accuracy_score(yt, yp, sample_weight=w, normalize=False),
    )
    for adjusted in (False, True):
        ours = _quiet(M.balanced_accuracy_score, yt, yp, sample_weight=w, adjusted=adjusted)
        theirs = _quiet(skm.balanced_accuracy_score, yt, yp, sample_weight=w, adjusted=adjusted)
        if adjusted and math.isnan(ours):
            # one class in y_true: sklearn divides by zero (-> inf/nan); modelmon says undefined
            assert np.unique(yt[w > 0] if w is not None else yt).size <= 1
            continue
        assert close(ours, theirs), (adjusted, ours, theirs)


@given(data=st.data(), zero_division=st.sampled_from([0.0, 1.0, np.nan]))
def test_precision_recall_f_match_sklearn_all_averages(
    data: st.DataObject, zero_division: float
) -> None:
    yt, yp = data.draw(label_pairs(n_classes=4))
    w = data.draw(weights(yt.size))
    beta = data.draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]))
    binary = set(np.union1d(yt, yp).tolist()) <= {0, 1}
    averages = [*AVERAGES, "binary"] if binary else AVERAGES
    for average in averages:
        kw = {"average": average, "sample_weight": w, "zero_division": zero_division}
        pairs = [
            (M.precision_score(yt, yp, **kw), skm.precision_score(yt, yp, **kw)),
            (M.recall_score(yt, yp, **kw), skm.recall_score(yt, yp, **kw)),
            (M.f1_score(yt, yp, **kw), skm.f1_score(yt, yp, **kw)),
            (M.fbeta_score(yt, yp, beta=beta, **kw), skm.fbeta_score(yt, yp, beta=beta, **kw)),
        ]
        for ours, theirs in pairs:
            assert close(ours, theirs), (average, ours, theirs)


@given(data=st.data())
def test_default_zero_division_is_sklearn_nan_with_a_warning(data: st.DataObject) -> None:
    yt, yp = data.draw(label_pairs(n_classes=3))
    w = data.draw(weights(yt.size))
    for average in AVERAGES:
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            ours = M.precision_score(yt, yp, average=average, sample_weight=w)
        theirs = _quiet(
            skm.precision_score, yt, yp, average=average, sample_weight=w, zero_division=np.nan
        )
        assert close(ours, theirs)
        sk_warned = _sklearn_warns(yt, yp, average, w)
        assert any(issubclass(r.category, UndefinedMetricWarning) for r in rec) == sk_warned


def _sklearn_warns(yt, yp, average, w) -> bool:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        skm.precision_score(yt, yp, average=average, sample_weight=w)
    return any("ill-defined" in str(r.message) for r in rec)


@given(data=st.data())
def test_labels_subset_matches_sklearn(data: st.DataObject) -> None:
    yt, yp = data.draw(label_pairs(n_classes=4))
    labels = data.draw(st.lists(st.integers(0, 5), min_size=1, max_size=4, unique=True))
    for average in AVERAGES:
        kw = {"average": average, "labels": labels, "zero_division": 0.0}
        assert close(M.precision_score(yt, yp, **kw), skm.precision_score(yt, yp, **kw))
        assert close(M.recall_score(yt, yp, **kw), skm.recall_score(yt, yp, **kw))
        assert close(M.f1_score(yt, yp, **kw), skm.f1_score(yt, yp, **kw))


@given(data=st.data(), normalize=st.sampled_from([None, "true", "pred", "all"]))
def test_confusion_matrix_matches_sklearn(data: st.DataObject, normalize: str | None) -> None:
    yt, yp = data.draw(label_pairs(n_classes=4))
    w = data.draw(weights(yt.size))
    ours = M.confusion_matrix(yt, yp, sample_weight=w, normalize=normalize)
    theirs = _quiet(skm.confusion_matrix, yt, yp, sample_weight=w, normalize=normalize)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
    if w is None and normalize is None:
        assert ours.dtype == np.int64
    present = np.union1d(yt, yp).tolist()
    labels = data.draw(st.permutations([*present, 9]))
    ours = M.confusion_matrix(yt, yp, labels=labels, sample_weight=w)
    theirs = _quiet(skm.confusion_matrix, yt, yp, labels=labels, sample_weight=w)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


@given(data=st.data())
def test_matthews_corrcoef_matches_sklearn(data: st.DataObject) -> None:
    yt, yp = data.draw(label_pairs(n_classes=4))
    w = data.draw(weights(yt.size))
    theirs = _quiet(skm.matthews_corrcoef, yt, yp, sample_weight=w)
    assert close(M.matthews_corrcoef(yt, yp, sample_weight=w, zero_division=0.0), theirs)
    ours = _quiet(M.matthews_corrcoef, yt, yp, sample_weight=w)
    if not math.isnan(ours):
        assert close(ours, theirs)


@given(data=st.data())
def test_specificity_and_fpr_match_one_vs_rest_brute_force(data: st.DataObject) -> None:
    yt, yp = data.draw(label_pairs(n_classes=4))
    w = data.draw(weights(yt.size))
    ww = np.ones(yt.size) if w is None else w
    labels = np.union1d(yt, yp)
    spec, fpr, support = [], [], []
    for c in labels:
        neg = yt != c
        fp = ww[neg & (yp == c)].sum()
        n_neg = ww[neg].sum()
        spec.append((n_neg - fp) / n_neg if n_neg else np.nan)
        fpr.append(fp / n_neg if n_neg else np.nan)
        support.append(ww[yt == c].sum())
    spec_a, fpr_a, sup = np.array(spec), np.array(fpr), np.array(support)
    ok = ~np.isnan(spec_a)
    if ok.any():
        assert close(
            _quiet(M.specificity_score, yt, yp, average="macro", sample_weight=w), spec_a[ok].mean()
        )
        assert close(
            _quiet(M.false_positive_rate, yt, yp, average="macro", sample_weight=w),
            fpr_a[ok].mean(),
        )
        if sup[ok].sum() > 0:
            expected = np.dot(spec_a[ok], sup[ok]) / sup[ok].sum()
            got = _quiet(M.specificity_score, yt, yp, average="weighted", sample_weight=w)
            assert close(got, expected)
    if labels.size <= 2 and 1 in labels:
        # binary: specificity is the recall of the negative class
        yt_b, yp_b = (yt == 1).astype(int), (yp == 1).astype(int)
        expected = _quiet(
            skm.recall_score, 1 - yt_b, 1 - yp_b, sample_weight=w, zero_division=np.nan
        )
        assert close(_quiet(M.specificity_score, yt_b, yp_b, sample_weight=w), expected)


@given(data=st.data())
def test_positive_rate_is_share_of_positive_predictions(data: st.DataObject) -> None:
    yt, yp = data.draw(label_pairs(n_classes=3))
    w = data.draw(weights(yt.size))
    if not _positive_weight(w):
        w = None
    expected = np.average(yp == 1, weights=w)
    assert close(M.positive_rate(yt, yp, sample_weight=w), expected)
    assert close(M.positive_rate(None, yp, sample_weight=w), expected)


def test_string_and_boolean_labels() -> None:
    yt = ["cat", "dog", "dog", "bird", "cat"]
    yp = ["cat", "cat", "dog", "bird", "dog"]
    for average in AVERAGES:
        assert close(M.f1_score(yt, yp, average=average), skm.f1_score(yt, yp, average=average))
    np.testing.assert_array_equal(M.confusion_matrix(yt, yp), skm.confusion_matrix(yt, yp))
    with pytest.raises(ValidationError, match="average='binary'"):
        M.precision_score(yt, yp, pos_label="dog")
    two = ["yes", "no", "yes", "yes"]
    two_p = ["yes", "yes", "no", "yes"]
    assert close(
        M.precision_score(two, two_p, pos_label="yes"),
        skm.precision_score(two, two_p, pos_label="yes"),
    )
    bt = np.array([True, False, True, True])
    bp = np.array([True, True, False, True])
    assert close(M.precision_score(bt, bp), skm.precision_score(bt, bp))
    assert close(M.recall_score(bt, bp, pos_label=False, zero_division=0.0), 0.0)


def test_float_integral_labels_are_labels() -> None:
    assert M.accuracy_score([0.0, 1.0, 2.0], [0, 1, 1]) == pytest.approx(2 / 3)


# ----------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize(
    "fn",
    [
        M.accuracy_score,
        M.balanced_accuracy_score,
        M.precision_score,
        M.recall_score,
        M.f1_score,
        M.specificity_score,
        M.false_positive_rate,
        M.matthews_corrcoef,
        M.positive_rate,
    ],
)
def test_empty_input_warns_and_returns_nan(fn) -> None:
    with pytest.warns(UndefinedMetricWarning, match="empty input"):
        assert math.isnan(fn([], []))


def test_empty_confusion_matrix_and_unnormalised_accuracy() -> None:
    assert M.confusion_matrix([], []).shape == (0, 0)
    np.testing.assert_array_equal(M.confusion_matrix([], [], labels=[0, 1]), np.zeros((2, 2)))
    assert M.accuracy_score([], [], normalize=False) == 0.0


def test_one_class_present() -> None:
    yt = yp = [1, 1, 1]
    assert M.accuracy_score(yt, yp) == 1.0
    assert M.precision_score(yt, yp) == 1.0
    assert M.balanced_accuracy_score(yt, yp) == 1.0
    with pytest.warns(UndefinedMetricWarning, match="zero_division"):
        assert math.isnan(M.specificity_score(yt, yp))
    with pytest.warns(UndefinedMetricWarning, match="zero_division"):
        assert math.isnan(M.matthews_corrcoef(yt, yp))
    assert M.matthews_corrcoef(yt, yp, zero_division=0.0) == _quiet(skm.matthews_corrcoef, yt, yp)
    with pytest.warns(UndefinedMetricWarning, match="adjusted"):
        assert math.isnan(M.balanced_accuracy_score(yt, yp, adjusted=True))
    # y_true all negative: recall of class 1 undefined, precision defined
    with pytest.warns(UndefinedMetricWarning, match="Recall is ill-defined"):
        assert math.isnan(M.recall_score([0, 0], [1, 0]))
    assert M.precision_score([0, 0], [1, 0]) == 0.0


def test_constant_predictions() -> None:
    yt = [0, 1, 1, 0, 1]
    yp = [1, 1, 1, 1, 1]
    assert M.recall_score(yt, yp) == 1.0
    assert M.precision_score(yt, yp) == pytest.approx(0.6)
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(M.precision_score(yt, [0] * 5))
    assert M.precision_score(yt, [0] * 5, zero_division=1.0) == 1.0


def test_invalid_inputs_raise_value_errors_naming_the_problem() -> None:
    with pytest.raises(ValidationError, match="inconsistent lengths"):
        M.accuracy_score([0, 1], [0])
    with pytest.raises(ValidationError, match="contains NaN"):
        M.accuracy_score([0.0, np.nan], [0, 1])
    with pytest.raises(ValidationError, match="continuous"):
        M.f1_score([0, 1], [0.2, 0.7])
    with pytest.raises(ValidationError, match="Mix of label input types"):
        M.accuracy_score(["a", "b"], [0, 1])
    with pytest.raises(ValidationError, match="negative"):
        M.accuracy_score([0, 1], [0, 1], sample_weight=[1, -1])
    with pytest.raises(ValidationError, match="missing values"):
        M.accuracy_score(np.array(["a", None], dtype=object), np.array(["a", "b"], dtype=object))
    with pytest.raises(ValidationError, match="average='binary'"):
        M.precision_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ParameterError, match="pos_label=2 is not a valid label"):
        M.recall_score([0, 1], [0, 1], pos_label=2)
    with pytest.raises(ParameterError, match="'average' parameter of precision_score"):
        M.precision_score([0, 1], [0, 1], average="samples")
    with pytest.raises(ParameterError, match="zero_division"):
        M.precision_score([0, 1], [0, 1], zero_division=0.5)
    with pytest.raises(ParameterError, match="beta"):
        M.fbeta_score([0, 1], [0, 1], beta=-1.0)
    with pytest.raises(ParameterError, match="normalize"):
        M.confusion_matrix([0, 1], [0, 1], normalize="rows")
    with pytest.raises(ValidationError, match="At least one label"):
        M.confusion_matrix([0, 1], [0, 1], labels=[5])
    assert isinstance(ValidationError("x"), ValueError)


def test_zero_total_weight_is_undefined() -> None:
    with pytest.warns(UndefinedMetricWarning, match="sum to zero"):
        assert math.isnan(M.accuracy_score([0, 1], [0, 0], sample_weight=[0, 0]))
    with pytest.warns(UndefinedMetricWarning, match="sum to zero"):
        assert math.isnan(M.balanced_accuracy_score([0, 1], [0, 0], sample_weight=[0, 0]))


def test_large_integer_labels_use_the_sort_path() -> None:
    yt = np.array([10**12, 5, 5, 10**12])
    yp = np.array([5, 5, 5, 10**12])
    assert M.accuracy_score(yt, yp) == 0.75
    np.testing.assert_array_equal(M.confusion_matrix(yt, yp), skm.confusion_matrix(yt, yp))

"""Fairness metrics against brute-force per-group scikit-learn values (fairlearn definitions)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st
from metric_strategies import close, weights

from modelmon import metrics as M
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError


@st.composite
def grouped(draw: st.DrawFn):
    n = draw(st.integers(2, 40))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    p = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    g = np.array(draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)))
    w = draw(weights(n))
    return y, p, g, w


def _per_group(fn, y, p, g, w):
    out = {}
    for group in np.unique(g):
        m = g == group
        sw = None if w is None else w[m]
        if sw is not None and sw.sum() == 0:
            out[group] = np.nan
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[group] = fn(y[m], p[m], sample_weight=sw)
    return out


def _selection(y, p, sample_weight=None):
    return float(np.average(p == 1, weights=sample_weight))


def _tpr(y, p, sample_weight=None):
    return skm.recall_score(y, p, sample_weight=sample_weight, zero_division=np.nan)


def _fpr_direct(y, p, sample_weight=None):
    w = np.ones(y.size) if sample_weight is None else sample_weight
    neg = y == 0
    return float(w[neg & (p == 1)].sum() / w[neg].sum()) if w[neg].sum() > 0 else np.nan


def _gap(values: dict, overall: float, how: str, method: str) -> float:
    v = np.array([x for x in values.values() if not np.isnan(x)])
    if v.size == 0:
        return np.nan
    if method == "between_groups":
        if how == "difference":
            return float(v.max() - v.min())
        return float(v.min() / v.max()) if v.max() > 0 else np.nan
    if how == "difference":
        return float(np.max(np.abs(v - overall)))
    if overall == 0 or (v == 0).any():
        return np.nan
    r = v / overall
    return float(np.min(np.minimum(r, 1 / r)))


def _overall(fn, y, p, w):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(y, p, sample_weight=w)


@given(grouped(), st.sampled_from(["between_groups", "to_overall"]))
def test_parity_and_odds_match_brute_force(case, method) -> None:
    y, p, g, w = case
    kw = {"groups": g, "method": method, "sample_weight": w}
    sel = _per_group(_selection, y, p, g, w)
    tpr = _per_group(_tpr, y, p, g, w)
    fpr = _per_group(_fpr_direct, y, p, g, w)
    o_sel, o_tpr, o_fpr = (_overall(f, y, p, w) for f in (_selection, _tpr, _fpr_direct))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = {
            "dpd": M.demographic_parity_difference(y, p, **kw),
            "dpr": M.demographic_parity_ratio(y, p, **kw),
            "eod": M.equal_opportunity_difference(y, p, **kw),
            "eor": M.equal_opportunity_ratio(y, p, **kw),
            "eqd": M.equalized_odds_difference(y, p, **kw),
            "eqr": M.equalized_odds_ratio(y, p, **kw),
            "eqd_mean": M.equalized_odds_difference(y, p, agg="mean", **kw),
        }
    expected = {
        "dpd": _gap(sel, o_sel, "difference", method),
        "dpr": _gap(sel, o_sel, "ratio", method),
        "eod": _gap(tpr, o_tpr, "difference", method),
        "eor": _gap(tpr, o_tpr, "ratio", method),
        "eqd": max(_gap(tpr, o_tpr, "difference", method), _gap(fpr, o_fpr, "difference", method)),
        "eqr": min(_gap(tpr, o_tpr, "ratio", method), _gap(fpr, o_fpr, "ratio", method)),
        "eqd_mean": np.mean(
            [_gap(tpr, o_tpr, "difference", method), _gap(fpr, o_fpr, "difference", method)]
        ),
    }
    for name in got:
        e = expected[name]
        if isinstance(e, float) and np.isnan(e):
            assert math.isnan(got[name]), name
        else:
            assert close(got[name], float(e)), (name, got[name], e)


@given(grouped())
def test_metric_by_group_matches_per_group_sklearn(case) -> None:
    y, p, g, w = case
    cases = [("accuracy", skm.accuracy_score, {}), ("f1", skm.f1_score, {"zero_division": 0.0})]
    for name, fn, kw in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = M.metric_by_group(name, y, p, g, sample_weight=w, **kw)
        for group, value in r.by_group().items():
            m = g == group
            sw = None if w is None else w[m]
            if sw is not None and sw.sum() == 0:
                # scikit-learn rejects all-zero weights; accuracy is undefined, F1 follows
                # zero_division
                assert math.isnan(value) if name == "accuracy" else value == 0.0
                continue
            assert close(value, fn(y[m], p[m], sample_weight=sw, **kw))
            assert r.sizes[r.groups.index(group)] == int(m.sum())
        assert r.metric == name
        assert r.direction == "higher"


def test_metric_by_group_result_and_worst_group() -> None:
    r = M.metric_by_group("accuracy", [1, 0, 1, 1], [1, 0, 0, 0], ["a", "a", "b", "b"])
    assert r.by_group() == {"a": 1.0, "b": 0.0}
    assert r.overall == 0.5
    assert r.difference() == 1.0
    assert r.ratio() == 0.0
    assert r.difference(method="to_overall") == 0.5
    assert r.worst() == ("b", 0.0)
    d = r.to_dict()
    assert d["groups"] == ["a", "b"]
    assert d["values"] == [1.0, 0.0]
    with pytest.raises(AttributeError, match=r"cannot assign"):
        r.overall = 1.0  # type: ignore[misc]
    # lower is better: the worst group has the largest error
    assert (
        M.worst_group_metric("mae", [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 5.0, 4.0], [0, 0, 1, 1]) == 1.0
    )
    # target metric: farthest from 0
    assert (
        M.worst_group_metric("mean_error", [0.0, 0.0, 0.0], [-3.0, 1.0, 2.0], ["x", "y", "y"])
        == -3.0
    )
    # a callable from the registry keeps its direction; an unknown callable needs direction=
    assert M.worst_group_metric(M.accuracy_score, [1, 0], [1, 1], ["a", "b"]) == 0.0

    def custom(yt, yp):
        return float(np.mean(np.asarray(yt) == np.asarray(yp)))

    with pytest.raises(ParameterError, match="direction"):
        M.worst_group_metric(custom, [1, 0], [1, 1], ["a", "b"])
    assert M.worst_group_metric(custom, [1, 0], [1, 1], ["a", "b"], direction="higher") == 0.0
    with pytest.raises(ParameterError, match="direction"):
        M.worst_group_metric("positive_rate", [1, 0], [1, 1], ["a", "b"])


def test_metric_by_group_with_scores_and_kwargs() -> None:
    y = np.array([0, 1, 0, 1, 0, 1])
    s = np.array([0.1, 0.9, 0.8, 0.3, 0.2, 0.7])
    g = np.array([1, 1, 2, 2, 3, 3])
    r = M.metric_by_group("roc_auc", y, s, g)
    assert r.by_group() == {1: 1.0, 2: 0.0, 3: 1.0}
    assert r.worst() == (2, 0.0)
    with pytest.warns(UndefinedMetricWarning, match="only one class"):
        r = M.metric_by_group(
            "roc_auc", np.array([0, 0, 1, 0]), np.array([0.1, 0.2, 0.9, 0.3]), ["a", "a", "b", "b"]
        )
    assert math.isnan(r.values[0])
    assert r.values[1] == 1.0
    assert r.difference() == 0.0  # the undefined group is left out


def test_undefined_groups_and_invalid_input() -> None:
    # group "b" has no positives: its TPR is undefined and left out (fairlearn would use 0)
    with pytest.warns(UndefinedMetricWarning, match=r"\['b'\]"):
        assert (
            M.equal_opportunity_difference([1, 1, 0, 0], [1, 0, 1, 0], groups=["a", "a", "b", "b"])
            == 0.0
        )
    with pytest.warns(UndefinedMetricWarning, match="empty input"):
        assert math.isnan(M.demographic_parity_difference([], [], groups=[]))
    with pytest.warns(UndefinedMetricWarning, match="0/0"):
        assert math.isnan(M.demographic_parity_ratio(None, [0, 0], groups=["a", "b"]))
    assert M.demographic_parity_difference(None, [1, 0, 1], groups=["a", "a", "a"]) == 0.0
    with pytest.raises(ValidationError, match="NaN"):
        M.demographic_parity_difference(None, [1, 0], groups=[1.0, np.nan])
    with pytest.raises(ValidationError, match="missing values"):
        M.demographic_parity_difference(None, [1, 0], groups=np.array(["a", None], dtype=object))
    with pytest.raises(ValidationError, match="inconsistent lengths"):
        M.demographic_parity_difference(None, [1, 0], groups=["a"])
    with pytest.raises(ValidationError, match="binary"):
        M.equal_opportunity_difference([0, 1, 2], [0, 1, 2], groups=["a", "a", "b"])
    with pytest.raises(ParameterError, match="method"):
        M.demographic_parity_difference(None, [1, 0], groups=["a", "b"], method="pairwise")
    with pytest.raises(ParameterError, match="agg"):
        M.equalized_odds_difference([1, 0], [1, 0], groups=["a", "b"], agg="max")
    with pytest.raises(ParameterError, match="does not take sample weights"):
        M.metric_by_group("max_error", [1.0], [1.0], ["a"], sample_weight=[1.0])
    with pytest.raises(LookupError, match="Unknown metric"):
        M.metric_by_group("no_such_metric", [1], [1], ["a"])
    with pytest.warns(UndefinedMetricWarning, match="empty input"):
        empty = M.metric_by_group("mae", [], [], [])
    assert empty.groups == ()
    assert empty.values == ()
    assert math.isnan(empty.overall)

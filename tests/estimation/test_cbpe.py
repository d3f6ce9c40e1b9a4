"""Confidence-based estimation against independent computations: the expected confusion matrix
by enumerating every outcome, scikit-learn's metrics where outcomes are certain, exact sampling
errors by enumeration, coverage on simulated covariate shift, serialisation."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from benchmarks import estimation_data
from modelmon.estimation import (
    CLASSIFICATION_METRICS,
    ConfidenceBasedEstimator,
    PerformanceEstimate,
    estimator_from_dict,
)
from modelmon.estimation._expected import binary_sampling_errors, multiclass_estimates
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError

UNCALIBRATED = ConfidenceBasedEstimator(calibration="none")


def _fitted(metrics: list[str] | None = None, *, draws: int = 64) -> ConfidenceBasedEstimator:
    rng = np.random.default_rng(0)
    s = rng.random(500)
    return ConfidenceBasedEstimator(metrics, calibration="none", draws=draws).fit(
        (rng.random(500) < s).astype(int), s)


def _outcomes(p: np.ndarray):
    """Every outcome vector of independent Bernoulli(p) rows, with its probability."""
    for bits in itertools.product((0, 1), repeat=p.size):
        y = np.array(bits)
        yield y, float(np.prod(np.where(y == 1, p, 1 - p)))


def test_expected_confusion_matrix_by_enumeration() -> None:
    rng = np.random.default_rng(3)
    p = rng.random(10)
    pred = rng.random(10) < 0.5
    pred[:2] = [True, False]
    cells = np.zeros(4)
    acc = prec = 0.0
    for y, w in _outcomes(p):
        tp, fp = np.sum(y[pred] == 1), np.sum(y[pred] == 0)
        fn, tn = np.sum(y[~pred] == 1), np.sum(y[~pred] == 0)
        cells += w * np.array([tp, fp, fn, tn])
        acc += w * (tp + tn) / 10
        prec += w * tp / pred.sum()
    tp, fp, fn, tn = cells
    est = _fitted().estimate(p, pred.astype(int))
    # accuracy and precision are means of outcomes: the estimate is their expectation
    assert est["accuracy"].value == pytest.approx(acc, abs=1e-12)
    assert est["precision"].value == pytest.approx(prec, abs=1e-12)
    # recall, specificity and F1 are read from the expected confusion matrix
    assert est["recall"].value == pytest.approx(tp / (tp + fn), abs=1e-12)
    assert est["specificity"].value == pytest.approx(tn / (tn + fp), abs=1e-12)
    assert est["f1"].value == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-12)


def test_sampling_errors_by_enumeration() -> None:
    rng = np.random.default_rng(4)
    p = rng.uniform(0.2, 0.8, 10)
    score = rng.random(10)
    pred = score >= 0.5
    values: dict[str, list[tuple[float, float]]] = {m: [] for m in CLASSIFICATION_METRICS}
    for y, w in _outcomes(p):
        tp, fp = np.sum(y[pred] == 1), np.sum(y[pred] == 0)
        fn, tn = np.sum(y[~pred] == 1), np.sum(y[~pred] == 0)
        got = {"accuracy": (tp + tn) / 10, "precision": tp / (tp + fp)}
        if 0 < y.sum() < 10:  # undefined otherwise: the bootstrap leaves such draws out too
            got.update({"recall": tp / (tp + fn), "specificity": tn / (tn + fp),
                        "f1": 2 * tp / (2 * tp + fp + fn),
                        "roc_auc": skm.roc_auc_score(y, score),
                        "average_precision": skm.average_precision_score(y, score)})
        for m, v in got.items():
            values[m].append((v, w))
    errors = binary_sampling_errors(p, pred, score, list(CLASSIFICATION_METRICS), draws=20_000,
                                    seed=1)
    for m, pairs in values.items():
        v = np.array([a for a, _ in pairs])
        w = np.array([b for _, b in pairs])
        w = w / w.sum()
        exact = math.sqrt(np.sum(w * (v - np.sum(w * v)) ** 2))
        tolerance = 1e-9 if m == "accuracy" else 0.03 * exact  # closed form vs 20,000 draws
        assert errors[m] == pytest.approx(exact, abs=tolerance), m


def test_certain_outcomes_give_the_realized_metrics() -> None:
    """With probabilities 0 and 1 every estimate is the realized metric (scikit-learn's)."""
    rng = np.random.default_rng(5)
    y = (rng.random(400) < 0.3).astype(int)
    score = rng.random(400)
    pred = (score >= 0.5).astype(int)
    est = _fitted().estimate(y.astype(float), pred)  # the "score" ranks rows: use y itself
    assert est["accuracy"].value == pytest.approx(skm.accuracy_score(y, pred))
    assert est["precision"].value == pytest.approx(skm.precision_score(y, pred))
    assert est["recall"].value == pytest.approx(skm.recall_score(y, pred))
    assert est["f1"].value == pytest.approx(skm.f1_score(y, pred))
    assert est["specificity"].value == pytest.approx(skm.recall_score(1 - y, 1 - pred))
    assert est["accuracy"].sampling_error == 0.0
    # ROC AUC and average precision order rows by the score: certain outcomes, distinct scores
    from modelmon.estimation._expected import expected_average_precision, expected_roc_auc

    assert expected_roc_auc(y.astype(float), score) == pytest.approx(skm.roc_auc_score(y, score))
    assert expected_average_precision(y.astype(float), score) == pytest.approx(
        skm.average_precision_score(y, score))
    tied = np.round(score, 1)  # ties: the expected curve steps over a tie group at once
    assert expected_roc_auc(y.astype(float), tied) == pytest.approx(skm.roc_auc_score(y, tied))


def test_multiclass_certain_outcomes_are_macro_metrics() -> None:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, 600)
    raw = rng.dirichlet(np.ones(3), 600)
    pred = np.argmax(raw, axis=1)
    onehot = np.eye(3)[y]
    got = multiclass_estimates(onehot, raw, pred, list(CLASSIFICATION_METRICS))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert got["f1"] == pytest.approx(np.mean(skm.f1_score(y, pred, average=None)))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, raw, multi_class="ovr"))
    assert got["average_precision"] == pytest.approx(
        np.mean([skm.average_precision_score(y == c, raw[:, c]) for c in range(3)]))


def test_calibration_is_applied_when_it_helps() -> None:
    rng = np.random.default_rng(7)
    s = rng.random(20_000)
    y = (rng.random(20_000) < s ** 2).astype(int)  # overconfident scores
    auto = ConfidenceBasedEstimator(["accuracy"]).fit(y, s)
    none = ConfidenceBasedEstimator(["accuracy"], calibration="none").fit(y, s)
    assert auto.calibrated and not none.calibrated
    window = rng.uniform(0.5, 1.0, 5000)
    truth = np.mean((window >= 0.5) == (rng.random(5000) < window ** 2))
    assert abs(auto.estimate(window)["accuracy"].value - truth) < 0.02
    assert abs(none.estimate(window)["accuracy"].value - truth) > 0.05


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_band_covers_the_realized_metric_under_covariate_shift(kind: str) -> None:
    sim = getattr(estimation_data, kind)(n_reference=20_000, windows=20, rows=1500, seed=11)
    ref = sim.reference
    est = ConfidenceBasedEstimator(draws=48).fit(ref.y_true, ref.score, ref.y_pred)
    covered = total = 0
    labels = np.arange(3)
    for w in sim.windows:
        e = est.estimate(w.score, w.y_pred)
        if kind == "binary":
            realized = {"accuracy": skm.accuracy_score(w.y_true, w.y_pred),
                        "f1": skm.f1_score(w.y_true, w.y_pred),
                        "roc_auc": skm.roc_auc_score(w.y_true, w.score)}
        else:
            realized = {"accuracy": skm.accuracy_score(w.y_true, w.y_pred),
                        "f1": skm.f1_score(w.y_true, w.y_pred, average="macro", labels=labels),
                        "roc_auc": skm.roc_auc_score(w.y_true, w.score, multi_class="ovr")}
        for m, v in realized.items():
            covered += e[m].covers(v)
            total += 1
    assert covered / total >= 0.95


def test_json_round_trip_and_repr() -> None:
    rng = np.random.default_rng(8)
    prob = rng.dirichlet(np.ones(4), 3000)
    y = np.array([rng.choice(4, p=row) for row in prob])
    est = ConfidenceBasedEstimator(calibration="isotonic").fit(y, prob)
    text = json.dumps(est.to_dict())
    again = estimator_from_dict(json.loads(text))
    window = rng.dirichlet(np.ones(4), 500)
    assert again.estimate(window).to_dict() == est.estimate(window).to_dict()
    assert "fitted on 3000 rows" in repr(again)
    assert isinstance(est.estimate(window), PerformanceEstimate)


def test_empty_window_is_nan_with_a_warning() -> None:
    with pytest.warns(UndefinedMetricWarning, match="no rows"):
        est = _fitted(["accuracy"]).estimate(np.empty(0))
    assert est.n == 0 and math.isnan(est["accuracy"].value)


def test_inputs_are_checked_with_clear_messages() -> None:
    with pytest.raises(ValidationError, match="not fitted yet"):
        UNCALIBRATED.estimate([0.2])
    with pytest.raises(ParameterError, match="'metrics' parameter of ConfidenceBasedEstimator"):
        ConfidenceBasedEstimator(["mae"]).fit([0, 1], [0.2, 0.8])
    with pytest.raises(ParameterError, match="'calibration' parameter"):
        ConfidenceBasedEstimator(calibration="platt").fit([0, 1], [0.2, 0.8])
    with pytest.raises(ValidationError, match=r"probabilities in \[0, 1\]"):
        ConfidenceBasedEstimator().fit([0, 1], [0.2, 1.8])
    with pytest.raises(ValidationError, match="contains NaN"):
        ConfidenceBasedEstimator().fit([0, 1], [0.2, np.nan])
    with pytest.raises(ValidationError, match=r"class indices 0\.\.1"):
        ConfidenceBasedEstimator().fit([0, 2], [0.2, 0.8])
    with pytest.raises(ValidationError, match="inconsistent lengths"):
        ConfidenceBasedEstimator().fit([0, 1, 1], [0.2, 0.8])
    binary = _fitted(["accuracy"])
    with pytest.raises(ValidationError, match="fitted on a binary model"):
        binary.estimate(np.full((3, 2), 0.5))
    with pytest.raises(ValidationError, match="Not a stored ConfidenceBasedEstimator"):
        ConfidenceBasedEstimator.from_dict({"format": "x"})

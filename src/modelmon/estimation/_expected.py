"""Expected classification metrics from calibrated probabilities, and their sampling errors.

With calibrated probabilities ``p`` (row ``i`` is positive with probability ``p_i``) and the
model's predicted labels, every cell of the confusion matrix has an expected value:
``TP = sum(p_i : predicted positive)``, ``FP = sum(1 - p_i : predicted positive)``,
``FN = sum(p_i : predicted negative)``, ``TN = sum(1 - p_i : predicted negative)``. Accuracy,
precision, recall, specificity and F1 are read from it. ROC AUC and average precision come
from the expected ROC and precision-recall curves: rows in descending order of the model's
score, each adding ``p_i`` expected positives and ``1 - p_i`` expected negatives.

Sampling error: given the window's probabilities, the realized metric varies because each row's
outcome is a Bernoulli (multiclass: categorical) draw. Accuracy's variance has a closed form,
``sum(q_i (1 - q_i)) / n^2`` with ``q_i`` the probability that row ``i`` is predicted right;
for the other metrics the outcomes are drawn ``draws`` times from the probabilities (a
parametric bootstrap, seeded, so the same window always gets the same number) and the realized
metric's standard deviation over the draws is the sampling error. It is conditional on the
window's own scores, so it widens when a shift moves rows towards uncertain scores.

Pure NumPy: arrays in, numbers out; inputs are checked by the estimators.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from modelmon.vocabulary import ESTIMATED, Task

__all__ = [
    "BINARY_METRICS",
    "binary_estimates",
    "binary_estimates_batch",
    "binary_sampling_errors",
    "expected_average_precision",
    "expected_roc_auc",
    "multiclass_estimates",
    "multiclass_estimates_batch",
    "multiclass_sampling_errors",
]

#: Metrics a confidence-based estimate gives, in report order (the shared vocabulary's).
BINARY_METRICS = ESTIMATED[Task.BINARY]
_DRAW_BLOCK = 16


def _ratio(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def _descending_groups(score: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Order of ``score`` descending, and the start of each run of tied scores in that order."""
    order = np.argsort(-score, kind="stable")
    s = score[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if s.size else np.empty(0, np.intp)
    return order, starts


def _roc_auc_batch(q: NDArray[np.float64], starts: NDArray[np.intp]) -> NDArray[np.float64]:
    """Expected ROC AUC of each row of ``q`` (probabilities in descending score order)."""
    if q.shape[1] == 0:
        return np.full(q.shape[0], np.nan)
    pos = np.add.reduceat(q, starts, axis=1)
    neg = np.add.reduceat(1.0 - q, starts, axis=1)
    zero = np.zeros((q.shape[0], 1))
    tps = np.concatenate([zero, np.cumsum(pos, axis=1)], axis=1)
    fps = np.concatenate([zero, np.cumsum(neg, axis=1)], axis=1)
    area = np.sum(np.diff(fps, axis=1) * (tps[:, 1:] + tps[:, :-1]), axis=1) / 2.0
    return _ratio(area, tps[:, -1] * fps[:, -1])


def _average_precision_batch(q: NDArray[np.float64]) -> NDArray[np.float64]:
    """Expected average precision of each row of ``q`` (descending score order)."""
    tps = np.cumsum(q, axis=1)
    return _ratio(np.sum(q * tps / np.arange(1, q.shape[1] + 1), axis=1), tps[:, -1]) \
        if q.shape[1] else np.full(q.shape[0], np.nan)


def expected_roc_auc(p: NDArray[np.float64], score: NDArray[np.float64]) -> float:
    """Area under the expected ROC curve: rows by descending ``score`` (tied scores one step),
    each adding ``p`` expected positives and ``1 - p`` expected negatives.

    >>> expected_roc_auc(np.array([0.9, 0.6, 0.3]), np.array([0.9, 0.6, 0.3]))  # doctest: +ELLIPSIS
    0.777...
    """
    order, starts = _descending_groups(score)
    return float(_roc_auc_batch(p[order][None, :], starts)[0])


def expected_average_precision(p: NDArray[np.float64], score: NDArray[np.float64]) -> float:
    """Average precision of the expected precision-recall curve (NannyML's estimate): rows by
    descending ``score``, each row a threshold, ``sum(p_k / P * TP_k / k)`` with ``TP_k`` the
    expected true positives among the first ``k`` rows and ``P = sum(p)``.

    >>> round(expected_average_precision(np.array([0.9, 0.6, 0.3]), np.array([.9, .6, .3])), 4)
    0.8
    """
    order = np.argsort(-score, kind="stable")
    return float(_average_precision_batch(p[order][None, :])[0])


def binary_estimates_batch(p: NDArray[np.float64], pred: NDArray[np.bool_],
                           score: NDArray[np.float64], metrics: Sequence[str]
                           ) -> dict[str, NDArray[np.float64]]:
    """Expected value of each of ``metrics`` for each row of ``p`` (``(b, n)``: ``b`` sets of
    probabilities of the same ``n`` rows, e.g. under bootstrap calibration maps)."""
    positive = pred.astype(np.float64)
    tp = p @ positive
    fp = float(positive.sum()) - tp
    fn = p.sum(axis=1) - tp
    tn = float(pred.size - positive.sum()) - fn
    out = {"accuracy": _ratio(tp + tn, np.full(tp.shape, float(pred.size))),
           "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
           "specificity": _ratio(tn, tn + fp), "f1": _ratio(2 * tp, 2 * tp + fp + fn)}
    if "roc_auc" in metrics or "average_precision" in metrics:
        order, starts = _descending_groups(score)
        q = p[:, order]
        if "roc_auc" in metrics:
            out["roc_auc"] = _roc_auc_batch(q, starts)
        if "average_precision" in metrics:
            out["average_precision"] = _average_precision_batch(q)
    return {m: out[m] for m in metrics}


def binary_estimates(p: NDArray[np.float64], pred: NDArray[np.bool_],
                     score: NDArray[np.float64], metrics: Sequence[str]) -> dict[str, float]:
    """Expected value of each of ``metrics`` (see the module docstring)."""
    batch = binary_estimates_batch(p[None, :], pred, score, metrics)
    return {m: float(v[0]) for m, v in batch.items()}


def _average_ranks(score: NDArray[np.float64]) -> NDArray[np.float64]:
    """1-based ranks, ties given their average rank."""
    order = np.argsort(score, kind="stable")
    s = score[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if s.size else np.empty(0, np.intp)
    ends = np.r_[starts[1:], s.size]
    avg = (starts + ends + 1) / 2.0
    ranks = np.empty(s.size)
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


class _Ranking:
    """What realized ROC AUC and average precision of many label draws need from one score."""

    def __init__(self, score: NDArray[np.float64]) -> None:
        self.ranks = _average_ranks(score)
        self.order, starts = _descending_groups(score)
        ends = np.r_[starts[1:], score.size] - 1
        # position in descending order -> last position of its tie group (sklearn's AP)
        self.group_end = np.repeat(ends, np.diff(np.r_[starts, score.size]))

    def roc_auc(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        pos = y.sum(axis=1)
        neg = y.shape[1] - pos
        u = y @ self.ranks - pos * (pos + 1) / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((pos > 0) & (neg > 0), u / (pos * neg), np.nan)

    def average_precision(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        ys = y[:, self.order]
        tps = np.cumsum(ys, axis=1)[:, self.group_end]
        precision = tps / (self.group_end + 1.0)
        pos = ys.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(pos > 0, (ys * precision).sum(axis=1) / pos, np.nan)


def _nanstd(values: list[NDArray[np.float64]]) -> float:
    v = np.concatenate(values) if values else np.empty(0)
    v = v[np.isfinite(v)]
    return float(v.std(ddof=1)) if v.size >= 2 else math.nan


def _draw_blocks(draws: int) -> list[int]:
    return [min(_DRAW_BLOCK, draws - k) for k in range(0, draws, _DRAW_BLOCK)]


def binary_sampling_errors(p: NDArray[np.float64], pred: NDArray[np.bool_],
                           score: NDArray[np.float64], metrics: Sequence[str], *,
                           draws: int, seed: int) -> dict[str, float]:
    """Standard deviation of each realized metric given the probabilities ``p`` (see the
    module docstring)."""
    n = p.size
    out: dict[str, float] = {}
    if "accuracy" in metrics:
        out["accuracy"] = math.sqrt(float(np.sum(p * (1.0 - p)))) / n if n else math.nan
    rest = [m for m in metrics if m != "accuracy"]
    if not rest or n == 0:
        return {m: out.get(m, math.nan) for m in metrics}
    rng = np.random.default_rng(seed)
    ranking = _Ranking(score) if {"roc_auc", "average_precision"} & set(rest) else None
    predf = pred.astype(np.float64)
    npp = float(pred.sum())
    samples: dict[str, list[NDArray[np.float64]]] = {m: [] for m in rest}
    for size in _draw_blocks(draws):
        y = (rng.random((size, n)) < p).astype(np.float64)
        tp = y @ predf
        pos = y.sum(axis=1)
        fp = npp - tp
        fn = pos - tp
        tn = n - tp - fp - fn
        with np.errstate(divide="ignore", invalid="ignore"):
            values = {
                "precision": np.where(npp > 0, tp / npp, np.nan),
                "recall": np.where(pos > 0, tp / pos, np.nan),
                "specificity": np.where(tn + fp > 0, tn / (tn + fp), np.nan),
                "f1": np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan),
            }
        if ranking is not None and "roc_auc" in samples:
            values["roc_auc"] = ranking.roc_auc(y)
        if ranking is not None and "average_precision" in samples:
            values["average_precision"] = ranking.average_precision(y)
        for m in rest:
            samples[m].append(np.asarray(values[m], dtype=np.float64))
    out.update({m: _nanstd(v) for m, v in samples.items()})
    return {m: out[m] for m in metrics}


def multiclass_estimates_batch(prob: NDArray[np.float64], raw: NDArray[np.float64],
                               pred: NDArray[np.intp], metrics: Sequence[str]
                               ) -> dict[str, NDArray[np.float64]]:
    """:func:`multiclass_estimates` of each of ``b`` probability matrices ``(b, n, k)``."""
    b, n, k = prob.shape
    out: dict[str, NDArray[np.float64]] = {}
    if "accuracy" in metrics:
        out["accuracy"] = prob[:, np.arange(n), pred].mean(axis=1) if n else np.full(b, np.nan)
    per_class: dict[str, list[NDArray[np.float64]]] = {m: [] for m in metrics if m != "accuracy"}
    for c in range(k):
        values = binary_estimates_batch(prob[:, :, c], pred == c, raw[:, c], list(per_class))
        for m in per_class:
            per_class[m].append(values[m])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out.update({m: np.nanmean(np.vstack(v), axis=0) for m, v in per_class.items() if v})
    return {m: out[m] for m in metrics}


def multiclass_estimates(prob: NDArray[np.float64], raw: NDArray[np.float64],
                         pred: NDArray[np.intp], metrics: Sequence[str]) -> dict[str, float]:
    """Macro averages over classes (one against the rest) of the binary estimates; accuracy
    is the mean probability of the predicted class. ``prob``: calibrated probabilities,
    ``raw``: the model's own (they order the rows for ROC AUC and average precision)."""
    batch = multiclass_estimates_batch(prob[None, :, :], raw, pred, metrics)
    return {m: float(v[0]) for m, v in batch.items()}


def _categorical_draws(cum: NDArray[np.float64], size: int,
                       rng: np.random.Generator) -> NDArray[np.int8]:
    u = rng.random((size, cum.shape[0]))
    y = np.zeros(u.shape, dtype=np.int8)
    for c in range(cum.shape[1] - 1):
        y += u >= cum[:, c]
    return y


def multiclass_sampling_errors(prob: NDArray[np.float64], raw: NDArray[np.float64],
                               pred: NDArray[np.intp], metrics: Sequence[str], *, draws: int,
                               seed: int) -> dict[str, float]:
    """Standard deviation of each realized macro metric given the probabilities ``prob``."""
    n, k = prob.shape
    out: dict[str, float] = {}
    if "accuracy" in metrics:
        q = prob[np.arange(n), pred]
        out["accuracy"] = math.sqrt(float(np.sum(q * (1.0 - q)))) / n if n else math.nan
    rest = [m for m in metrics if m != "accuracy"]
    if not rest or n == 0:
        return {m: out.get(m, math.nan) for m in metrics}
    rng = np.random.default_rng(seed)
    cum = np.cumsum(prob, axis=1)
    cum /= cum[:, -1:]
    rankings = [_Ranking(raw[:, c]) for c in range(k)] \
        if {"roc_auc", "average_precision"} & set(rest) else []
    predicted = [(pred == c).astype(np.float64) for c in range(k)]
    samples: dict[str, list[NDArray[np.float64]]] = {m: [] for m in rest}
    for size in _draw_blocks(draws):
        y = _categorical_draws(cum, size, rng)
        per: dict[str, list[NDArray[np.float64]]] = {m: [] for m in rest}
        for c in range(k):
            yc = (y == c).astype(np.float64)
            npp = float(predicted[c].sum())
            tp = yc @ predicted[c]
            pos = yc.sum(axis=1)
            fp = npp - tp
            fn = pos - tp
            tn = n - tp - fp - fn
            with np.errstate(divide="ignore", invalid="ignore"):
                values = {
                    "precision": np.where(npp > 0, tp / npp, np.nan),
                    "recall": np.where(pos > 0, tp / pos, np.nan),
                    "specificity": np.where(tn + fp > 0, tn / (tn + fp), np.nan),
                    "f1": np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan),
                }
            if "roc_auc" in per:
                values["roc_auc"] = rankings[c].roc_auc(yc)
            if "average_precision" in per:
                values["average_precision"] = rankings[c].average_precision(yc)
            for m in rest:
                per[m].append(values[m])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for m in rest:
                samples[m].append(np.nanmean(np.vstack(per[m]), axis=0))
    out.update({m: _nanstd(v) for m, v in samples.items()})
    return {m: out[m] for m in metrics}

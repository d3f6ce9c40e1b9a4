"""Mergeable partial aggregates of a window: what a window reduces to, so that larger windows are
the merge of smaller ones instead of a rescan (and so that a distributed store could compute them
where the data lives: every field is a count, a sum or a sketch).

Decomposable statistics (computed exactly from merged aggregates): prediction count, throughput,
error rate, labelled count and coverage, accuracy, balanced accuracy, precision, recall, F1,
specificity, false-positive rate, Matthews correlation, positive rate (confusion counts), log
loss and Brier score (sums), MAE, MSE, RMSE, R², mean error, MAPE and sMAPE (sums), missing share
per feature and the share of unseen categories (counts). Latency quantiles come from a
relative-error sketch (DDSketch; Masson, Rim & Lee 2019): each bucket covers values within ±1 % of
its centre, so p50/p95/p99 are within 1 % of the exact quantile.

Not decomposable, hence computed from the rows of each window: ROC AUC, average precision,
median absolute error, calibration error, residual moments beyond the second, finance metrics,
and the drift tests on numeric features.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.config.models import Task
from modelmon.evaluation.frame import EvalFrame
from modelmon.exceptions import ModelmonWarning, ValidationError
from modelmon.metrics.streaming import (
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanError,
    MeanSquaredError,
    R2Score,
    StreamingMetric,
)
from modelmon.vocabulary import Metric

__all__ = ["DECOMPOSABLE", "LatencySketch", "WindowAggregate"]

_ALPHA = 0.01
_GAMMA = (1 + _ALPHA) / (1 - _ALPHA)
_LOG_GAMMA = math.log(_GAMMA)
_MIN_LATENCY = 1e-6  # 1 µs: smaller latencies share the first bucket


@dataclass
class LatencySketch:
    """DDSketch with relative accuracy 1 % over positive values (sparse bucket counts)."""

    counts: dict[int, int] = field(default_factory=dict)
    zeros: int = 0

    @property
    def n(self) -> int:
        return self.zeros + sum(self.counts.values())

    def add(self, values: np.ndarray) -> None:
        values = values[np.isfinite(values)]
        self.zeros += int((values <= _MIN_LATENCY).sum())
        pos = values[values > _MIN_LATENCY]
        if pos.size:
            idx = np.ceil(np.log(pos) / _LOG_GAMMA).astype(np.int64)
            keys, cnt = np.unique(idx, return_counts=True)
            for k, c in zip(keys.tolist(), cnt.tolist(), strict=True):
                self.counts[k] = self.counts.get(k, 0) + c

    def merge(self, other: LatencySketch) -> None:
        self.zeros += other.zeros
        for k, c in other.counts.items():
            self.counts[k] = self.counts.get(k, 0) + c

    def quantile(self, q: float) -> float:
        n = self.n
        if n == 0:
            return math.nan
        rank = q * (n - 1)
        if rank < self.zeros:
            return 0.0
        seen = self.zeros
        for k in sorted(self.counts):
            seen += self.counts[k]
            if seen > rank:
                return 2 * _GAMMA**k / (_GAMMA + 1)
        return 2 * _GAMMA ** max(self.counts) / (_GAMMA + 1)


#: Metrics a :class:`WindowAggregate` computes exactly.
DECOMPOSABLE = frozenset({
    Metric.PREDICTION_COUNT, Metric.THROUGHPUT, Metric.ERROR_RATE, Metric.LABELLED_COUNT,
    Metric.LABEL_COVERAGE, Metric.LATENCY_P50, Metric.LATENCY_P95, Metric.LATENCY_P99,
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "specificity",
    "false_positive_rate", "matthews_corrcoef", "positive_rate", "log_loss", "brier",
    "mae", "mse", "rmse", "r2", "mean_error", "mape", "smape", Metric.MISSING_SHARE,
})


@dataclass
class WindowAggregate:
    """Counts, sums and sketches of one window (all versions and segments)."""

    task: str
    k: int = 0
    n: int = 0
    n_error: int = 0
    n_labelled: int = 0
    latency: LatencySketch = field(default_factory=LatencySketch)
    confusion: np.ndarray | None = None  # (k, k): rows true class, columns predicted
    n_scored: int = 0
    sum_log_loss: float = 0.0
    sum_brier: float = 0.0
    reg: dict[str, StreamingMetric] = field(default_factory=dict)
    smape: tuple[float, int] = (0.0, 0)
    missing: dict[str, int] = field(default_factory=dict)
    categories: dict[str, dict[str, int]] = field(default_factory=dict)

    # --- building --------------------------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: EvalFrame) -> WindowAggregate:
        spec = frame.spec
        k = len(frame.classes)
        agg = cls(task=spec.task.value, k=k, n=frame.n, n_error=int(frame.is_error.sum()),
                  n_labelled=int(frame.labelled.sum()))
        agg.latency.add(frame.latency)
        lab = frame.labelled
        if spec.task is Task.REGRESSION:
            yt, yp = frame.y_true[lab], frame.y_pred[lab]
            agg.reg = _regression_aggregates()
            if yt.size:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ModelmonWarning)
                    for m in agg.reg.values():
                        m.update_many(yt, yp)
            denom = np.abs(yt) + np.abs(yp)
            sm = denom > 0
            agg.smape = (float((2 * np.abs(yp[sm] - yt[sm]) / denom[sm]).sum()), int(yt.size))
        else:
            yt, yp = frame.y_true[lab], frame.y_pred[lab]
            agg.confusion = np.bincount(yt * k + yp, minlength=k * k).reshape(k, k).astype(np.int64)
            prob = _true_class_probability(frame, lab)
            if prob is not None:
                p = np.clip(prob[0], 1e-15, 1 - 1e-15)
                agg.n_scored = int(p.size)
                agg.sum_log_loss = float(-np.log(p).sum())
                agg.sum_brier = float(prob[1])
        for name, values in frame.features.items():
            if isinstance(values, pa.Array):
                agg.missing[name] = values.null_count
                vc = pc.value_counts(values.drop_null())
                agg.categories[name] = {str(v): int(c) for v, c in zip(
                    vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True)}
            else:
                agg.missing[name] = int(np.isnan(values).sum())
        return agg

    def merge(self, other: WindowAggregate) -> WindowAggregate:
        """Combine with ``other`` (in place) and return self."""
        if other.task != self.task:
            raise ValueError("cannot merge aggregates of different tasks")
        self.n += other.n
        self.n_error += other.n_error
        self.n_labelled += other.n_labelled
        self.latency.merge(other.latency)
        if other.confusion is not None:
            if self.confusion is None:
                self.confusion, self.k = other.confusion.copy(), other.k
            else:
                k = max(self.k, other.k)
                self.confusion = _pad(self.confusion, k) + _pad(other.confusion, k)
                self.k = k
        self.n_scored += other.n_scored
        self.sum_log_loss += other.sum_log_loss
        self.sum_brier += other.sum_brier
        for key, m in other.reg.items():
            if key in self.reg:
                self.reg[key].merge(m)
            else:
                self.reg[key] = type(m).from_dict(m.to_dict())
        self.smape = (self.smape[0] + other.smape[0], self.smape[1] + other.smape[1])
        for name, c in other.missing.items():
            self.missing[name] = self.missing.get(name, 0) + c
        for name, counts in other.categories.items():
            mine = self.categories.setdefault(name, {})
            for cat, c in counts.items():
                mine[cat] = mine.get(cat, 0) + c
        return self

    # --- statistics ------------------------------------------------------------------------------
    def metrics(self, window_seconds: float, positive_index: int | None = None) -> dict[str, tuple[float, int]]:
        """The decomposable metrics, ``{name: (value, rows)}`` as the raw path reports them."""
        out: dict[str, tuple[float, int]] = {
            Metric.PREDICTION_COUNT: (float(self.n), self.n),
            Metric.THROUGHPUT: (self.n / window_seconds if window_seconds > 0 else math.nan,
                                      self.n),
        }
        if self.n == 0:
            return out
        out[Metric.ERROR_RATE] = (self.n_error / self.n, self.n)
        if self.latency.n:
            for q, name in ((0.5, Metric.LATENCY_P50), (0.95, Metric.LATENCY_P95),
                            (0.99, Metric.LATENCY_P99)):
                out[name] = (self.latency.quantile(q), self.latency.n)
        n_ok = self.n - self.n_error
        out[Metric.LABELLED_COUNT] = (float(self.n_labelled), self.n)
        out[Metric.LABEL_COVERAGE] = (self.n_labelled / n_ok if n_ok else math.nan, n_ok)
        m = self.n_labelled
        if m == 0:
            return out
        if self.task == Task.REGRESSION.value and self.reg:
            out.update(_regression_values(self.reg, m))
            total, count = self.smape
            out["smape"] = (total / count if count else math.nan, m)
        elif self.confusion is not None:
            out.update(_confusion_metrics(self.confusion, self.task == Task.BINARY.value,
                                          positive_index, m))
            if self.n_scored:
                out["log_loss"] = (self.sum_log_loss / self.n_scored, self.n_scored)
                out["brier"] = (self.sum_brier / self.n_scored, self.n_scored)
        shares = [c / self.n for c in self.missing.values()]
        if shares:
            out[Metric.MISSING_SHARE] = (max(shares), self.n)
        return out

    # --- storage ---------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        data = {
            "task": self.task, "k": self.k, "n": self.n, "n_error": self.n_error,
            "n_labelled": self.n_labelled,
            "latency": {"counts": {str(k): v for k, v in self.latency.counts.items()},
                        "zeros": self.latency.zeros},
            "confusion": None if self.confusion is None else self.confusion.tolist(),
            "n_scored": self.n_scored, "sum_log_loss": self.sum_log_loss,
            "sum_brier": self.sum_brier,
            "reg": {k: m.to_dict() for k, m in self.reg.items()}, "smape": list(self.smape),
            "missing": self.missing,
            "categories": self.categories,
        }
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, blob: bytes) -> WindowAggregate:
        d: dict[str, Any] = json.loads(blob)
        return cls(
            task=d["task"], k=d["k"], n=d["n"], n_error=d["n_error"], n_labelled=d["n_labelled"],
            latency=LatencySketch({int(k): v for k, v in d["latency"]["counts"].items()},
                                  d["latency"]["zeros"]),
            confusion=None if d["confusion"] is None else np.asarray(d["confusion"], np.int64),
            n_scored=d["n_scored"], sum_log_loss=d["sum_log_loss"], sum_brier=d["sum_brier"],
            reg={k: _STREAMING[k].from_dict(v) for k, v in d["reg"].items()},
            smape=(float(d["smape"][0]), int(d["smape"][1])), missing=d["missing"],
            categories=d["categories"],
        )


#: Streaming aggregates of the regression metrics (their merge is exact and numerically stable:
#: R² merges moments pairwise, so targets near 1e8 or 1e-8 keep their precision).
_STREAMING: dict[str, type[StreamingMetric]] = {
    "mae": MeanAbsoluteError, "mse": MeanSquaredError, "mean_error": MeanError, "r2": R2Score,
    "mape": MeanAbsolutePercentageError,
}


def _regression_aggregates() -> dict[str, StreamingMetric]:
    return {name: cls() for name, cls in _STREAMING.items()}


def _regression_values(reg: dict[str, StreamingMetric], m: int) -> dict[str, tuple[float, int]]:
    """Values of the streaming regression aggregates (NaN where a metric is undefined)."""
    out: dict[str, tuple[float, int]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        for name, agg in reg.items():
            try:
                value = float(agg.get())
            except ValidationError:
                value = math.nan
            n = m
            if isinstance(agg, MeanAbsolutePercentageError):
                n = agg.kept
            out[name] = (value, n)
    if "mse" in out:
        mse = out["mse"][0]
        out["rmse"] = (math.sqrt(mse) if math.isfinite(mse) else math.nan, m)
    return out


def _pad(m: np.ndarray, k: int) -> np.ndarray:
    if m.shape[0] == k:
        return m
    out = np.zeros((k, k), dtype=np.int64)
    out[: m.shape[0], : m.shape[1]] = m
    return out


def _true_class_probability(frame: EvalFrame, lab: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Probability given to the true class per labelled row, and the summed Brier terms."""
    yt = frame.y_true[lab]
    if frame.score is not None and frame.spec.task is Task.BINARY:
        s = frame.score[lab]
        if not np.isfinite(s).all():
            return None
        pos = yt == frame.positive_index
        return np.where(pos, s, 1 - s), float(((s - pos) ** 2).sum())
    if frame.proba is not None:
        p = frame.proba[lab]
        if not np.isfinite(p).all():
            return None
        onehot = np.zeros_like(p)
        onehot[np.arange(len(yt)), yt] = 1.0
        return p[np.arange(len(yt)), yt], float(((p - onehot) ** 2).sum(axis=1).sum())
    return None


def _confusion_metrics(cm: np.ndarray, binary: bool, positive: int | None,
                       n: int) -> dict[str, tuple[float, int]]:
    cm = cm.astype(np.float64)
    total = cm.sum()
    tp_all = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    out: dict[str, tuple[float, int]] = {"accuracy": (tp_all.sum() / total, n)}
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = np.where(support > 0, tp_all / support, np.nan)
        out["balanced_accuracy"] = (float(np.nanmean(rec)) if np.isfinite(rec).any() else math.nan, n)
        if binary:
            pos = cm.shape[0] - 1 if positive is None else positive
            tp = cm[pos, pos]
            fp = predicted[pos] - tp
            fn = support[pos] - tp
            tn = total - tp - fp - fn
            prec = tp / (tp + fp) if tp + fp else math.nan
            recall = tp / (tp + fn) if tp + fn else math.nan
            out["precision"] = (prec, n)
            out["recall"] = (recall, n)
            out["f1"] = (2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else math.nan, n)
            out["specificity"] = (tn / (tn + fp) if tn + fp else math.nan, n)
            out["false_positive_rate"] = (fp / (fp + tn) if fp + tn else math.nan, n)
            out["positive_rate"] = ((tp + fp) / total, n)
            denom = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
            out["matthews_corrcoef"] = ((tp * tn - fp * fn) / denom if denom else math.nan, n)
        else:
            prec = np.where(predicted > 0, tp_all / predicted, np.nan)
            f1 = np.where(support + predicted > 0, 2 * tp_all / (support + predicted), np.nan)
            # Macro averages over every class, leaving out undefined ones (zero_division=nan).
            for name, per_class in (("precision", prec), ("recall", rec), ("f1", f1)):
                out[name] = (float(np.nanmean(per_class)) if np.isfinite(per_class).any()
                             else math.nan, n)
            cov = (tp_all.sum() * total - predicted @ support)
            den = math.sqrt((total**2 - predicted @ predicted) * (total**2 - support @ support))
            out["matthews_corrcoef"] = (cov / den if den else math.nan, n)
    return out

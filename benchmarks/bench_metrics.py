"""Binary-classification report: ``binary_classification_report`` against the same scikit-learn calls.

For each case, on the same generated data (labels with 30 % positives, probabilities from a
logistic model, threshold 0.5):

* modelmon: one :func:`modelmon.metrics.binary_classification_report` call;
* scikit-learn: ``y_pred = y_score >= 0.5`` and the ten separate calls a monitoring job would
  make — ``accuracy_score``, ``balanced_accuracy_score``, ``precision_score``, ``recall_score``,
  ``f1_score``, ``roc_auc_score``, ``average_precision_score``, ``log_loss``,
  ``brier_score_loss`` and ``confusion_matrix``;
* the largest absolute difference between the nine metric values, and the largest relative
  difference of the confusion counts (an agreement check that prints, never asserts).

Cases: continuous scores; scores rounded to 3 decimals (heavy ties); continuous scores with
sample weights. 10,000,000 rows (1,000,000 with ``--quick``); each side timed best of
``repeat`` runs. Timings never fail anything: on a machine shared with other jobs they are
pessimistic for both sides.

Run: ``.venv/bin/python -m benchmarks.bench_metrics [--quick]``.
"""

from __future__ import annotations

import argparse
import platform
import warnings
from functools import partial
from typing import Any

import numpy as np

from benchmarks._common import best_of, print_table
from modelmon.metrics import binary_classification_report

N_FULL = 10_000_000
N_QUICK = 1_000_000
THRESHOLD = 0.5

_FIELDS = [
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier_score",
]


def make_data(
    n: int, *, ties: bool = False, weighted: bool = False, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Labels (int64, 30 % positive), probabilities of a decent model, optional weights."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    logit = rng.normal(0.0, 1.0, n) + 1.5 * y - 0.8
    s = 1.0 / (1.0 + np.exp(-logit))
    if ties:
        s = np.round(s, 3)
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    return y, s, w


def sklearn_report(y: np.ndarray, s: np.ndarray, w: np.ndarray | None) -> dict[str, Any]:
    """The same metrics computed with separate scikit-learn calls."""
    import sklearn.metrics as skm

    y_pred = (s >= THRESHOLD).astype(np.int64)
    kw = {"sample_weight": w}
    return {
        "accuracy": skm.accuracy_score(y, y_pred, **kw),
        "balanced_accuracy": skm.balanced_accuracy_score(y, y_pred, **kw),
        "precision": skm.precision_score(y, y_pred, **kw),
        "recall": skm.recall_score(y, y_pred, **kw),
        "f1": skm.f1_score(y, y_pred, **kw),
        "roc_auc": skm.roc_auc_score(y, s, **kw),
        "average_precision": skm.average_precision_score(y, s, **kw),
        "log_loss": skm.log_loss(y, s, **kw),
        "brier_score": skm.brier_score_loss(y, s, **kw),
        "confusion_matrix": skm.confusion_matrix(y, y_pred, **kw),
    }


def max_abs_difference(ours: Any, theirs: dict[str, Any]) -> float:
    """Largest absolute difference over the nine metric values."""
    return max(abs(float(getattr(ours, f)) - float(theirs[f])) for f in _FIELDS)


def max_rel_count_difference(ours: Any, theirs: dict[str, Any]) -> float:
    """Largest relative difference of the confusion counts (weight sums reach ~10^6)."""
    cm = np.asarray(theirs["confusion_matrix"], dtype=np.float64)
    return float(np.max(np.abs(ours.confusion_matrix - cm) / np.maximum(np.abs(cm), 1.0)))


def _have_sklearn() -> bool:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Time the report and the scikit-learn calls; one row per case."""
    n = N_QUICK if quick else N_FULL
    repeat = 3 if quick else 2
    rows: list[dict[str, Any]] = []
    cases = [
        ("continuous scores", {}),
        ("scores rounded to 3 decimals (ties)", {"ties": True}),
        ("continuous scores, sample weights", {"weighted": True}),
    ]
    for label, options in cases:
        y, s, w = make_data(n, **options)
        ours = binary_classification_report(y, s, threshold=THRESHOLD, sample_weight=w)
        t_ours = best_of(
            partial(binary_classification_report, y, s, threshold=THRESHOLD, sample_weight=w),
            repeat,
        )
        row: dict[str, Any] = {"case": label, "rows": n, "modelmon_s": t_ours}
        if _have_sklearn():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = sklearn_report(y, s, w)
                t_sk = best_of(partial(sklearn_report, y, s, w), repeat)
            row.update(
                sklearn_s=t_sk,
                speedup=t_sk / t_ours,
                max_abs_diff=f"{max_abs_difference(ours, theirs):.1e}",
                counts_rel_diff=f"{max_rel_count_difference(ours, theirs):.1e}",
            )
        else:
            row.update(
                sklearn_s=float("nan"),
                speedup=float("nan"),
                max_abs_diff="n/a",
                counts_rel_diff="n/a",
            )
        rows.append(row)
        del y, s, w
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000 rows instead of 10M")
    args = parser.parse_args(argv)
    rows = run(quick=args.quick)
    try:
        import sklearn

        sk_version = sklearn.__version__
    except ImportError:
        sk_version = "not installed"
    title = (
        "Binary classification report vs scikit-learn "
        f"(NumPy {np.__version__}, scikit-learn {sk_version}, Python {platform.python_version()}, "
        f"{platform.machine()})"
    )
    print_table(title, rows)


if __name__ == "__main__":
    main()

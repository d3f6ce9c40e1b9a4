"""Degradation detection: speed of each method on long series, and the ensemble's accuracy.

Timings (best of 3, after a warm-up call so the one-off numba compilation is excluded):

* PELT on 10,000 values: stable, one change, many changes (pruning is weakest when there is
  nothing to find);
* Mann–Kendall with Sen's slope on 10,000 values, and SciPy's ``kendalltau`` + ``theilslopes``
  on 3,000 (``theilslopes`` materialises every pairwise slope, 400 MB at 10,000);
* Welch and Mann–Whitney against SciPy on 1,000 + 1,000 values;
* the whole ensemble on one metric (60 baseline + 24 current windows, and 720 + 24) and on 50
  metrics at once.

Accuracy of the ensemble at default settings on seeded normal series (baseline 60 windows,
current 24, noise sd 1): share of stable series flagged, and share of series with a step down of
1 or 2 sd (at the start of the current period) or a gradual decline of 2 sd judged degraded.

Run: ``.venv/bin/python -m benchmarks.bench_degradation [--quick]``.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

import numpy as np
from scipy import stats

from benchmarks._common import best_of, print_table
from modelmon.degradation import (
    DegradationDetector,
    detect_degradation,
    mann_kendall_test,
    mann_whitney_u_test,
    pelt,
    welch_t_test,
)


def _timing_rows(quick: bool) -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    n = 2_000 if quick else 10_000
    stable = rng.normal(size=n)
    one = np.r_[rng.normal(size=n // 2), rng.normal(1.0, 1.0, n - n // 2)]
    many = np.repeat(rng.normal(0, 2, n // 100), 100) + rng.normal(size=n)
    rows: list[dict[str, Any]] = []
    pelt(stable[:50])  # compile
    for label, x in (("stable", stable), ("one change", one), (f"{n // 100} changes", many)):
        found = len(pelt(x).change_points)
        rows.append(
            {
                "task": f"PELT, {n:,} values, {label}",
                "modelmon s": best_of(functools.partial(pelt, x)),
                "reference s": float("nan"),
                "note": f"{found} change points found",
            }
        )
    trend = 1e-4 * np.arange(n) + stable
    mann_kendall_test(trend[:50])
    m = 1_000 if quick else 3_000
    t = np.arange(m, dtype=float)

    def scipy_mk() -> None:
        stats.kendalltau(t, trend[:m])
        stats.theilslopes(trend[:m], t)

    rows.append(
        {
            "task": f"Mann–Kendall + Sen, {n:,} values (SciPy: {m:,})",
            "modelmon s": best_of(lambda: mann_kendall_test(trend)),
            "reference s": best_of(scipy_mk),
            "note": "SciPy kendalltau + theilslopes",
        }
    )
    rows.append(
        {
            "task": f"Mann–Kendall + Sen, {m:,} values",
            "modelmon s": best_of(lambda: mann_kendall_test(trend[:m])),
            "reference s": best_of(scipy_mk),
            "note": "same length as SciPy",
        }
    )
    a, b = rng.normal(size=1000), rng.normal(0.1, 1, 1000)
    rows.append(
        {
            "task": "Welch t-test, 1,000 + 1,000",
            "modelmon s": best_of(lambda: welch_t_test(a, b)),
            "reference s": best_of(lambda: stats.ttest_ind(a, b, equal_var=False)),
            "note": "SciPy",
        }
    )
    rows.append(
        {
            "task": "Mann–Whitney U, 1,000 + 1,000",
            "modelmon s": best_of(lambda: mann_whitney_u_test(a, b)),
            "reference s": best_of(lambda: stats.mannwhitneyu(a, b)),
            "note": "SciPy",
        }
    )
    det = DegradationDetector(directions={"m": "higher"})
    for k in (60, 720):
        base, cur = rng.normal(size=k), rng.normal(size=24)
        det.assess("m", cur, base)
        rows.append(
            {
                "task": f"ensemble, 1 metric, {k} + 24 windows",
                "modelmon s": best_of(functools.partial(det.assess, "m", cur, base)),
                "reference s": float("nan"),
                "note": "7 methods",
            }
        )
    current = {f"m{i}": rng.normal(size=24) for i in range(50)}
    baselines = {f"m{i}": rng.normal(size=60) for i in range(50)}
    rows.append(
        {
            "task": "detect_degradation, 50 metrics, 60 + 24 windows",
            "modelmon s": best_of(lambda: detect_degradation(current, baselines)),
            "reference s": float("nan"),
            "note": "directions unknown: verdict changed/stable",
        }
    )
    return rows


def _accuracy_rows(quick: bool) -> list[dict[str, Any]]:
    reps = 50 if quick else 200
    det = DegradationDetector(directions={"m": "higher"})
    scenarios = {
        "stable (false alarms)": lambda r: r.normal(size=24),
        "step down 1 sd": lambda r: r.normal(-1.0, 1.0, 24),
        "step down 2 sd": lambda r: r.normal(-2.0, 1.0, 24),
        "gradual decline to -2 sd": lambda r: -2.0 * np.arange(24) / 23 + r.normal(size=24),
    }
    rows = []
    for label, make in scenarios.items():
        flagged = degraded = 0
        for seed in range(reps):
            rng = np.random.default_rng(seed)
            base = rng.normal(size=60)
            res = det.assess("m", make(rng), base)
            flagged += res.significant
            degraded += res.verdict == "degraded"
        rows.append(
            {
                "scenario": label,
                "series": reps,
                "flagged share": flagged / reps,
                "degraded share": degraded / reps,
            }
        )
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Timing rows followed by accuracy rows (two tables in :func:`main`)."""
    return _timing_rows(quick) + _accuracy_rows(quick)


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    rows = run(quick)
    print_table("Degradation: speed", [r for r in rows if "task" in r])
    print_table("Degradation: ensemble accuracy at defaults", [r for r in rows if "scenario" in r])


if __name__ == "__main__":
    main()

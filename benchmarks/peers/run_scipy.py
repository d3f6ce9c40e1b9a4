"""The hand-built baseline: SciPy's two-sample K-S test per numeric column and the chi-square
test of the 2 x k contingency table of category counts per categorical column, each at p < 0.05
with no multiple-testing correction (what a user writes by hand with SciPy defaults).

Executed by the harness's own interpreter; prints one JSON line (see ``_runner_io``).
"""

from __future__ import annotations

from typing import Any

import _runner_io

P_VALUE = 0.05


def load_library() -> str:
    import scipy
    import scipy.stats

    return str(scipy.__version__)


def detect(frames: _runner_io.Frames) -> tuple[list[str], dict[str, dict[str, Any]]]:
    import numpy as np
    from scipy import stats

    ref, cur = frames.data
    flagged: list[str] = []
    detail: dict[str, dict[str, Any]] = {}
    for name in frames.numeric:
        p = float(stats.ks_2samp(ref[name], cur[name]).pvalue)
        detail[name] = {"method": "ks_2samp", "p_value": p}
        if p < P_VALUE:
            flagged.append(name)
    for name in frames.categorical:
        ref_levels, ref_counts = np.unique(ref[name], return_counts=True)
        cur_levels, cur_counts = np.unique(cur[name], return_counts=True)
        levels = np.union1d(ref_levels, cur_levels)
        table = np.zeros((2, levels.size))
        table[0, np.searchsorted(levels, ref_levels)] = ref_counts
        table[1, np.searchsorted(levels, cur_levels)] = cur_counts
        p = float(stats.chi2_contingency(table).pvalue)
        detail[name] = {"method": "chi2_contingency", "p_value": p}
        if p < P_VALUE:
            flagged.append(name)
    return flagged, detail


if __name__ == "__main__":
    raise SystemExit(_runner_io.run("scipy", load_library, detect, prepare=_runner_io.as_numpy))

"""Feature-importance shift between logged importance snapshots.

Compares the latest snapshot with the first one (the model's original explanation): Spearman rank
correlation of the importances over the features both name, whether the top feature changed, the
features whose share of total importance moved most, and the top-5 overlap. A correlation below
``min_correlation`` or a new top feature is a warning: the model now leans on different inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import stats

__all__ = ["ImportanceShift", "importance_shift"]


@dataclass(frozen=True)
class ImportanceShift:
    baseline_time: str
    latest_time: str
    rank_correlation: float
    top_feature_before: str
    top_feature_now: str
    top5_overlap: float
    biggest_moves: list[tuple[str, float]]
    shifted: bool

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "biggest_moves": [list(m) for m in self.biggest_moves]}

    def reason(self) -> str:
        moves = ", ".join(f"{f} {d * 100:+.0f} pp" for f, d in self.biggest_moves[:3])
        text = f"feature importance shifted (rank correlation {self.rank_correlation:.2f}"
        if self.top_feature_before != self.top_feature_now:
            text += f"; top feature {self.top_feature_before} -> {self.top_feature_now}"
        return text + (f"; {moves})" if moves else ")")


def _snapshot(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {r["feature"]: abs(float(r["importance"])) for r in rows}


def importance_shift(table: pa.Table, *, min_correlation: float = 0.7) -> ImportanceShift | None:
    """Shift between the first and the latest snapshot in ``table`` (None: fewer than two)."""
    if table.num_rows == 0:
        return None
    rows = table.to_pylist()
    times = sorted({r["snapshot_time"] for r in rows})
    if len(times) < 2:
        return None
    first = _snapshot([r for r in rows if r["snapshot_time"] == times[0]])
    last = _snapshot([r for r in rows if r["snapshot_time"] == times[-1]])
    common = sorted(set(first) & set(last))
    if len(common) < 2:
        return None
    a = np.asarray([first[f] for f in common])
    b = np.asarray([last[f] for f in common])
    rho = float(stats.spearmanr(a, b).statistic) if a.std() > 0 and b.std() > 0 else math.nan
    share_a = a / a.sum() if a.sum() > 0 else a
    share_b = b / b.sum() if b.sum() > 0 else b
    delta = share_b - share_a
    order = np.argsort(-np.abs(delta))
    moves = [(common[i], float(delta[i])) for i in order[:5] if abs(delta[i]) > 0.01]
    top_before = max(first, key=lambda f: first[f])
    top_now = max(last, key=lambda f: last[f])
    top5 = lambda d: set(sorted(d, key=lambda f: -d[f])[:5])  # noqa: E731
    overlap = len(top5(first) & top5(last)) / max(1, min(5, len(first), len(last)))
    shifted = (not math.isnan(rho) and rho < min_correlation) or top_before != top_now
    return ImportanceShift(str(times[0]), str(times[-1]), rho, top_before, top_now, overlap,
                           moves, shifted)

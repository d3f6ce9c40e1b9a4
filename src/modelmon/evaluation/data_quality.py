"""Data quality of a window against the reference: missing values, values outside the reference
range, categories the reference never saw."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.config.models import FeatureType
from modelmon.evaluation.frame import EvalFrame

__all__ = ["FeatureQuality", "feature_quality"]


@dataclass(frozen=True)
class FeatureQuality:
    feature: str
    missing_share: float
    out_of_range_share: float
    unseen_share: float
    unseen_examples: tuple[str, ...] = ()


def feature_quality(frame: EvalFrame, reference: object | None) -> list[FeatureQuality]:
    """One :class:`FeatureQuality` per feature. Without a reference only missing share is known
    (range and unseen shares are NaN)."""
    out = []
    types = {f.name: f.type for f in frame.spec.features}
    for name, values in frame.features.items():
        n = len(values)
        oor = unseen = math.nan
        examples: tuple[str, ...] = ()
        summary = reference[name] if reference is not None and name in reference else None  # type: ignore[operator, index]
        if isinstance(values, pa.Array):
            miss_share = values.null_count / n if n else math.nan
            if summary is not None and n and hasattr(summary, "categories"):
                known = pa.array([str(c) for c in summary.categories], pa.string())
                new = pc.and_(values.is_valid(), pc.invert(pc.is_in(values, value_set=known)))
                count = int(pc.sum(new).as_py() or 0)
                unseen = count / n
                if count:
                    examples = tuple(sorted(pc.unique(values.filter(new)).to_pylist())[:5])
        else:
            missing = np.isnan(values)
            miss_share = float(missing.mean()) if n else math.nan
            if summary is not None and n and types[name] is FeatureType.NUMERIC and len(summary.values):
                present = values[~missing]
                lo, hi = float(summary.values[0]), float(summary.values[-1])
                oor = float(((present < lo) | (present > hi)).sum() / n)
        out.append(FeatureQuality(name, float(miss_share), oor, unseen, examples))
    return out

"""Alibi Detect 0.13: ``TabularDrift`` with its defaults, categorical columns declared.

``TabularDrift`` runs the two-sample K-S test (asymptotic p-value) on numeric columns and the
chi-square contingency test on categorical ones. Its default Bonferroni correction applies only
to the batch-level verdict; with ``drift_type='feature'`` each column is flagged when its own
p-value is below ``p_val=0.05`` (``alibi_detect.cd.base.BaseUnivariateDrift.predict``). It takes
one numeric matrix, so categories are integer-encoded first, consistently across both frames:
reference levels in sorted order, then levels seen only in the current frame after them. The
encoding is part of the timed computation, as it is for a user of the library.

Executed by ``benchmarks/.venv-alibi-detect`` (NumPy 1, no TensorFlow or PyTorch); prints one JSON
line (see ``_runner_io``).
"""

from __future__ import annotations

from typing import Any

import _runner_io

P_VALUE = 0.05


def load_library() -> str:
    import alibi_detect
    from alibi_detect.cd import TabularDrift  # noqa: F401

    return str(alibi_detect.__version__)


def encode(reference: Any, current: Any) -> tuple[Any, Any]:
    """Integer codes for two string arrays: reference levels sorted, then current-only levels."""
    import numpy as np

    levels, ref_codes = np.unique(reference, return_inverse=True)
    pos = np.minimum(np.searchsorted(levels, current), levels.size - 1)
    known = levels[pos] == current
    cur_codes = pos.copy()
    if not known.all():
        _, new_codes = np.unique(current[~known], return_inverse=True)
        cur_codes[~known] = levels.size + new_codes
    return ref_codes, cur_codes


def detect(frames: _runner_io.Frames) -> tuple[list[str], dict[str, dict[str, Any]]]:
    import numpy as np
    from alibi_detect.cd import TabularDrift

    ref, cur = frames.data
    features = frames.features
    n_ref, n_cur = len(ref[features[0]]), len(cur[features[0]])
    x_ref = np.empty((n_ref, len(features)))
    x_cur = np.empty((n_cur, len(features)))
    for j, name in enumerate(frames.numeric):
        x_ref[:, j], x_cur[:, j] = ref[name], cur[name]
    start = len(frames.numeric)
    for j, name in enumerate(frames.categorical, start):
        x_ref[:, j], x_cur[:, j] = encode(ref[name], cur[name])

    detector = TabularDrift(
        x_ref,
        p_val=P_VALUE,
        categories_per_feature={j: None for j in range(start, len(features))},
    )
    data = detector.predict(x_cur, drift_type="feature")["data"]

    flagged: list[str] = []
    detail: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(features):
        drifted = bool(data["is_drift"][j])
        detail[name] = {
            "method": "chi2" if j >= start else "ks",
            "value": float(data["distance"][j]),
            "p_value": float(data["p_val"][j]),
            "drifted": drifted,
        }
        if drifted:
            flagged.append(name)
    return flagged, detail


if __name__ == "__main__":
    raise SystemExit(_runner_io.run("alibi-detect", load_library, detect, _runner_io.as_numpy))

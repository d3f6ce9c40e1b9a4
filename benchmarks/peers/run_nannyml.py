"""NannyML 0.13: ``UnivariateDriftCalculator`` with its default methods and default thresholds.

Defaults: Jensen-Shannon distance for continuous and for categorical columns; the alert threshold
of each column is NannyML's default ``StandardDeviationThreshold``: mean + 3 standard deviations
of the distance between each *reference chunk* and the whole reference. Those thresholds need
several reference chunks (with a single chunk the standard deviation is 0 and every column
alerts), so the calculator is fitted with NannyML's default chunking (``DefaultChunker``: 10
chunks) and then evaluates the whole current frame as one chunk, like every other peer here. A
column is flagged when NannyML raises its alert for that chunk.

Executed by ``benchmarks/.venv-nannyml``; prints one JSON line (see ``_runner_io``).
"""

from __future__ import annotations

import os
from typing import Any

import _runner_io

METHOD = "jensen_shannon"  # NannyML's default for both continuous and categorical columns


def load_library() -> str:
    # NannyML posts usage statistics on import unless this is set; there is no internet here.
    os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
    import nannyml

    return str(nannyml.__version__)


def detect(frames: _runner_io.Frames) -> tuple[list[str], dict[str, dict[str, Any]]]:
    import nannyml as nml
    from nannyml.chunk import SizeBasedChunker

    reference, current = frames.data
    calculator = nml.UnivariateDriftCalculator(
        column_names=frames.features,
        treat_as_numerical=frames.numeric,
        treat_as_categorical=frames.categorical,
    ).fit(reference)
    # Thresholds are fixed at fit time from the default reference chunks; judge the whole
    # current frame at once.
    calculator.chunker = SizeBasedChunker(chunk_size=len(current))
    table = calculator.calculate(current).filter(period="analysis").to_df()
    if len(table) != 1:
        raise RuntimeError(f"expected one analysis chunk, got {len(table)}")

    flagged: list[str] = []
    detail: dict[str, dict[str, Any]] = {}
    for name in frames.features:
        row = table[name][METHOD].iloc[0]
        drifted = bool(row["alert"] is True or row["alert"] == 1)
        detail[name] = {
            "method": METHOD,
            "value": float(row["value"]),
            "threshold": float(row["upper_threshold"]),
            "drifted": drifted,
        }
        if drifted:
            flagged.append(name)
    return flagged, detail


if __name__ == "__main__":
    raise SystemExit(_runner_io.run("nannyml", load_library, detect, _runner_io.as_pandas))

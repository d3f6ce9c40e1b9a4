"""NannyML 0.13's performance estimation (CBPE, DLE) on given data, timed: the peer side of
``benchmarks/bench_estimation.py``.

Executed by ``benchmarks/.venv-nannyml`` (see ``envs.py``), as::

    python run_nannyml_estimation.py JOBS.json

``JOBS.json`` holds a list of jobs, each naming a reference and an analysis Parquet file
(analysis targets joined), the task, the column roles, the chunk size and the metrics. For each
job the estimator is built with NannyML's defaults apart from those, fitted on the reference and
run on the analysis ``repeat`` times (the best times are reported; the first run includes
NannyML's lazy imports), then once more on the first ``window_rows`` analysis rows as a single
chunk (the cost of one window). Prints one JSON line on stdout::

    {"peer": "nannyml", "tool": "estimation", "version": ...,
     "jobs": [{"name", "fit_seconds", "estimate_seconds", "window_seconds",
               "chunks": [{"start", "end", "metrics": {metric: {"value", "sampling_error",
                           "realized", "lower", "upper"}}}], "error"}]}

``start``/``end`` are row positions ``[start, end)`` of each analysis chunk.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
import traceback
import warnings
from typing import Any

import _runner_io


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _frame(path: str) -> Any:
    """A pandas frame with strings as ``object`` columns (NannyML 0.13 predates pandas 3's
    string dtype; see ``run_nannyml_chunks.py``)."""
    import pandas as pd
    import pyarrow.parquet as pq

    if hasattr(pd.options, "future") and "infer_string" in dir(pd.options.future):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.set_option("future.infer_string", False)
    frame = pq.read_table(path).to_pandas()
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.StringDtype):
            frame[name] = frame[name].astype(object)
    return frame


def _estimator(nml: Any, job: dict[str, Any], chunk_size: int) -> Any:
    common = {"y_pred": job["prediction"], "y_true": job["target"], "metrics": job["metrics"],
              "chunk_size": chunk_size}
    if job["task"] == "regression":
        return nml.DLE(feature_column_names=job["features"], **common)
    problem = ("classification_binary" if job["task"] == "binary_classification"
               else "classification_multiclass")
    return nml.CBPE(problem_type=problem, y_pred_proba=job["score"], **common)


def _chunks(result: Any, metrics: list[str]) -> list[dict[str, Any]]:
    frame = result.filter(period="analysis").to_df()
    out = []
    for _, row in frame.iterrows():
        start = int(row[("chunk", "start_index")])
        end = int(row[("chunk", "end_index")]) + 1
        values = {}
        for m in metrics:
            values[m] = {
                "value": _plain(row[(m, "value")]),
                "sampling_error": _plain(row[(m, "sampling_error")]),
                "realized": _plain(row[(m, "realized")]),
                "lower": _plain(row[(m, "lower_confidence_boundary")]),
                "upper": _plain(row[(m, "upper_confidence_boundary")]),
            }
        out.append({"start": start, "end": end, "metrics": values})
    return out


def run_job(nml: Any, job: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": job["name"], "error": None}
    reference = _frame(job["reference"])
    analysis = _frame(job["analysis"])
    fits, estimates = [], []
    result = None
    for _ in range(int(job.get("repeat", 3))):
        est = _estimator(nml, job, int(job["chunk_size"]))
        t0 = time.perf_counter()
        est.fit(reference)
        t1 = time.perf_counter()
        result = est.estimate(analysis)
        t2 = time.perf_counter()
        fits.append(t1 - t0)
        estimates.append(t2 - t1)
    out["fit_seconds"] = min(fits)
    out["estimate_seconds"] = min(estimates)
    out["chunks"] = _chunks(result, job["metrics"])
    rows = int(job.get("window_rows") or 0)
    if rows and analysis.shape[0] >= rows:
        est = _estimator(nml, job, rows)
        est.fit(reference)
        window = analysis.iloc[:rows]
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            est.estimate(window)
            times.append(time.perf_counter() - t0)
        out["window_seconds"] = min(times)
    return out


def run(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
    warnings.simplefilter("ignore")
    import nannyml as nml

    result: dict[str, Any] = {"peer": "nannyml", "tool": "estimation",
                              "version": str(nml.__version__), "jobs": []}
    for job in jobs:
        try:
            result["jobs"].append(run_job(nml, job))
        except Exception as exc:  # one job failing must not cost the others
            traceback.print_exc(file=sys.stderr)
            result["jobs"].append({"name": job["name"], "error": f"{type(exc).__name__}: {exc}"})
    result["peak_rss_mib"] = _runner_io._peak_rss_mib()
    return result


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: run_nannyml_estimation.py JOBS.json", file=sys.stderr)
        return 2
    with open(args[0]) as fh:
        jobs = json.load(fh)
    with contextlib.redirect_stdout(sys.stderr):  # NannyML and LightGBM print to stdout
        result = run(jobs)
    _runner_io.emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

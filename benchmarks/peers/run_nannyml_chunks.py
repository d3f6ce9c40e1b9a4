"""NannyML 0.13, chunk by chunk: what its calculators report and alert for every chunk of a data set.

Executed by ``benchmarks/.venv-nannyml`` (see ``envs.py``), as::

    python run_nannyml_chunks.py SPEC.json

``SPEC.json`` (written by ``nannyml_chunks.py``) names the reference and analysis Parquet files
(analysis targets already joined), the column roles, the task and the chunking (``chunk_size`` or
``chunk_period``). Every calculator is fitted on the reference and run on the analysis with its
*defaults* apart from the column roles, the chunking and the metric list:

- ``UnivariateDriftCalculator``: Jensen-Shannon distance for numeric and categorical columns,
  alert above mean + 3 standard deviations of the reference chunks' values;
- ``PerformanceCalculator`` (realized performance): binary and multiclass ``roc_auc, f1,
  precision, recall, accuracy``; regression ``mae, mse, rmse, mape``; alert outside mean +/- 3
  standard deviations of the reference chunks;
- ``CBPE`` (classification) or ``DLE`` (regression): estimated performance of the same metrics,
  with sampling error, confidence band and the same kind of thresholds.

A set without predictions (``titanic``) gets the drift calculator only. Prints one JSON line on
stdout (anything NannyML prints goes to stderr)::

    {"peer": "nannyml", "tool": "chunks", "version": ..., "dataset": ..., "chunking": {...},
     "calculators": {name: {"class": ..., "metrics" | "methods": ...}},
     "seconds": {name: {"fit": s, "calculate": s}}, "load_seconds": s, "peak_rss_mib": MiB,
     "chunks": [{"period", "index", "key", "start", "end", "start_date", "end_date",
                 "univariate_drift": {feature: {"method", "value", "upper_threshold",
                                                 "lower_threshold", "alert"}},
                 "performance": {metric: {"value", "sampling_error", "upper_threshold",
                                          "lower_threshold", "alert"}},
                 "estimated_performance": {metric: {"value", "sampling_error", "realized",
                     "upper_confidence_boundary", "lower_confidence_boundary",
                     "upper_threshold", "lower_threshold", "alert"}}}],
     "errors": {name: message}, "error": null}

``start``/``end`` are row positions ``[start, end)`` within the chunk's period (NannyML's own
``end_index`` is inclusive). Timings are of a single fit and calculation each, first calls
included (NannyML imports some modules lazily).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import _runner_io

DRIFT = "univariate_drift"
PERFORMANCE = "performance"
ESTIMATED = "estimated_performance"

METRICS = {
    "binary_classification": ["roc_auc", "f1", "precision", "recall", "accuracy"],
    "multiclass_classification": ["roc_auc", "f1", "precision", "recall", "accuracy"],
    "regression": ["mae", "mse", "rmse", "mape"],
}
PROBLEM_TYPE = {
    "binary_classification": "classification_binary",
    "multiclass_classification": "classification_multiclass",
    "regression": "regression",
}


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar: NumPy and pandas scalars as Python ones, NaN/NaT as ``None``."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):  # datetime, pandas Timestamp; NaT is not equal to itself
        return None if value != value else value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def chunk_rows(df: Any) -> list[dict[str, Any]]:
    """NannyML's result frame (``Result.to_df()``) as one dict per chunk.

    Chunk columns (``('chunk', ..., field)``) become the chunk's own keys; every other column
    ``(*path, field)`` goes to ``values[path...][field]``.
    """
    out = []
    for _, row in df.iterrows():
        chunk: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for column, value in row.items():
            column = column if isinstance(column, tuple) else (column,)
            if column[0] == "chunk":
                chunk[column[-1]] = _plain(value)
                continue
            node = values
            for part in column[:-2]:
                node = node.setdefault(part, {})
            node.setdefault(column[-2], {})[column[-1]] = _plain(value)
        chunk["values"] = values
        out.append(chunk)
    return out


def _drift_values(values: dict[str, Any]) -> dict[str, Any]:
    """``{feature: {method: fields}}`` -> ``{feature: {"method": method, **fields}}``."""
    flat = {}
    for feature, methods in values.items():
        if len(methods) != 1:
            raise RuntimeError(f"expected one drift method for {feature}, got {sorted(methods)}")
        ((method, fields),) = methods.items()
        flat[feature] = {"method": method, **fields}
    return flat


def _alert(fields: dict[str, Any]) -> None:
    fields["alert"] = bool(fields.get("alert"))


#: ``make() -> unfitted calculator`` and the name of its results method.
Factory = tuple[Callable[[], Any], str]


def build_calculators(nml: Any, spec: dict[str, Any]) -> dict[str, Factory]:
    """The calculators to run, each built only when its turn comes (so that one NannyML rejects
    does not cost the others): ``{name: (make, 'calculate' | 'estimate')}``."""
    chunking: dict[str, Any] = {}
    if spec.get("timestamp"):
        chunking["timestamp_column_name"] = spec["timestamp"]
    if spec.get("chunk_period"):
        chunking["chunk_period"] = spec["chunk_period"]
    else:
        chunking["chunk_size"] = int(spec["chunk_size"])
    features = spec["numeric"] + spec["categorical"]

    def drift() -> Any:
        return nml.UnivariateDriftCalculator(
            column_names=features,
            treat_as_numerical=spec["numeric"] or None,
            treat_as_categorical=spec["categorical"] or None,
            **chunking,
        )

    calculators: dict[str, Factory] = {DRIFT: (drift, "calculate")}
    if not spec.get("prediction"):
        return calculators
    task = spec["task"]
    roles: dict[str, Any] = {
        "y_pred": spec["prediction"],
        "y_true": spec["target"],
        "metrics": METRICS[task],
        **chunking,
    }
    if task != "regression":
        roles["y_pred_proba"] = spec["score"]

    def performance() -> Any:
        return nml.PerformanceCalculator(problem_type=PROBLEM_TYPE[task], **roles)

    def estimated() -> Any:
        if task == "regression":  # DLE is for regression only and takes no problem type
            return nml.DLE(feature_column_names=features, **roles)
        return nml.CBPE(problem_type=PROBLEM_TYPE[task], **roles)

    calculators[PERFORMANCE] = (performance, "calculate")
    calculators[ESTIMATED] = (estimated, "estimate")
    return calculators


def _describe(name: str, calc: Any, spec: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {"class": type(calc).__name__}
    if name == DRIFT:
        info["continuous_methods"] = list(getattr(calc, "continuous_method_names", []) or [])
        info["categorical_methods"] = list(getattr(calc, "categorical_method_names", []) or [])
    else:
        info["metrics"] = METRICS[spec["task"]]
    return info


def merge_chunks(tables: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One entry per chunk with every calculator's values; the calculators must agree on chunks."""
    merged: list[dict[str, Any]] | None = None
    for name, rows in tables.items():
        shaped = []
        for row in rows:
            chunk = {
                "period": row["period"],
                "index": int(row["chunk_index"]),
                "key": row["key"],
                "start": int(row["start_index"]),
                "end": int(row["end_index"]) + 1,
                "start_date": row.get("start_date"),
                "end_date": row.get("end_date"),
            }
            values = _drift_values(row["values"]) if name == DRIFT else row["values"]
            for fields in values.values():
                _alert(fields)
            shaped.append((chunk, values))
        if merged is None:
            merged = [dict(chunk) for chunk, _ in shaped]
        keys = [(c["period"], c["index"], c["start"], c["end"]) for c, _ in shaped]
        if keys != [(c["period"], c["index"], c["start"], c["end"]) for c in merged]:
            raise RuntimeError(f"{name} chunked the data differently from the other calculators")
        for target, (_, values) in zip(merged, shaped, strict=True):
            target[name] = values
    return merged or []


def _frame(table: Any) -> Any:
    """A pandas DataFrame with strings as ``object`` columns, as pandas 2 gave them.

    NannyML 0.13.1 was built against pandas 2. Under pandas 3, which infers its new ``str`` dtype
    for strings, DLE fails on every categorical feature (it writes the imputed strings back into
    the frame, pandas 3 turns them into an ``ArrowStringArray`` and the following
    ``.values.reshape`` raises). So string inference is switched back to pandas 2's behaviour for
    the whole run (``future.infer_string``; the option exists throughout pandas 3.x).
    """
    import warnings

    import pandas as pd

    if hasattr(pd.options, "future") and "infer_string" in dir(pd.options.future):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated in pandas 3, to go in pandas 4
            pd.set_option("future.infer_string", False)
    frame = table.to_pandas()
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.StringDtype):
            frame[name] = frame[name].astype(object)
    return frame


def run(spec: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {
        "peer": "nannyml",
        "tool": "chunks",
        "version": None,
        "dataset": spec.get("dataset"),
        "task": spec.get("task"),
        "chunking": {k: spec[k] for k in ("chunk_size", "chunk_period") if spec.get(k) is not None},
        "calculators": {},
        "seconds": {},
        "load_seconds": None,
        "peak_rss_mib": None,
        "chunks": [],
        "errors": {},
        "error": None,
    }
    os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
    import nannyml as nml
    import pyarrow.parquet as pq

    result["version"] = str(nml.__version__)
    reference = _frame(pq.read_table(spec["reference"]))
    analysis = _frame(pq.read_table(spec["analysis"]))
    result["load_seconds"] = time.perf_counter() - started

    tables: dict[str, list[dict[str, Any]]] = {}
    for name, (make, verb) in build_calculators(nml, spec).items():
        try:
            calc = make()
            result["calculators"][name] = _describe(name, calc, spec)
            t0 = time.perf_counter()
            calc.fit(reference)
            t1 = time.perf_counter()
            out = getattr(calc, verb)(analysis)
            t2 = time.perf_counter()
            result["seconds"][name] = {"fit": t1 - t0, "calculate": t2 - t1}
            tables[name] = chunk_rows(out.to_df())
        except Exception as exc:  # one calculator failing must not cost the others' results
            traceback.print_exc(file=sys.stderr)
            result["errors"][name] = f"{type(exc).__name__}: {exc}"
    result["chunks"] = merge_chunks(tables)
    order = spec["numeric"] + spec["categorical"]
    for chunk in result["chunks"]:
        if DRIFT in chunk:  # the data set's feature order, not NannyML's
            chunk[DRIFT] = {f: chunk[DRIFT][f] for f in order if f in chunk[DRIFT]}
    result["peak_rss_mib"] = _runner_io._peak_rss_mib()
    return result


def main(argv: list[str] | None = None, run_spec: Callable[[dict[str, Any]], Any] = run) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: run_nannyml_chunks.py SPEC.json", file=sys.stderr)
        return 2
    with open(args[0]) as fh:
        spec = json.load(fh)
    try:
        # NannyML prints banners and progress; the harness reads stdout, so send it all to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            result = run_spec(spec)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        result = {"peer": "nannyml", "tool": "chunks", "dataset": spec.get("dataset")}
        result["error"] = f"{type(exc).__name__}: {exc}"
        _runner_io.emit(result)
        return 1
    _runner_io.emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

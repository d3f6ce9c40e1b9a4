"""Evidently 0.7: the HTML report of the default ``DataDriftPreset`` on two Parquet files, as a
person would make one (build the datasets, run the report, save the HTML).

Executed by ``benchmarks/.venv-evidently``:
``python run_evidently_report.py REF.parquet CUR.parquet OUT.html --numeric a,b --categorical c``;
prints one JSON line: ``{"peer", "version", "n", "seconds", "load_seconds", "html_bytes",
"error"}``. ``seconds`` runs from the pandas frames to the written file; ``load_seconds`` is
importing Evidently and reading the files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("reference")
    parser.add_argument("current")
    parser.add_argument("out")
    parser.add_argument("--numeric", default="")
    parser.add_argument("--categorical", default="")
    args = parser.parse_args()
    result: dict[str, object] = {"peer": "evidently", "error": None}
    started = time.perf_counter()
    try:
        import evidently
        import pyarrow.parquet as pq
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

        numeric = [c for c in args.numeric.split(",") if c]
        categorical = [c for c in args.categorical.split(",") if c]
        ref = pq.read_table(args.reference, columns=numeric + categorical).to_pandas()
        cur = pq.read_table(args.current, columns=numeric + categorical).to_pandas()
        result["version"] = evidently.__version__
        result["n"] = len(cur)
        result["load_seconds"] = time.perf_counter() - started
        t0 = time.perf_counter()
        definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
        snapshot = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(cur, data_definition=definition),
            Dataset.from_pandas(ref, data_definition=definition))
        snapshot.save_html(args.out)
        result["seconds"] = time.perf_counter() - t0
        result["html_bytes"] = os.path.getsize(args.out)
    except Exception as exc:  # reported, not raised: the harness prints the table anyway
        traceback.print_exc(file=sys.stderr)
        result["error"] = f"{type(exc).__name__}: {exc}"
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

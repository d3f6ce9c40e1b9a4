"""NannyML's chunk-by-chunk judgement of a public data set, as a reference to compare against.

:func:`run` loads a set with :mod:`benchmarks.public_data`, writes its reference and analysis
tables as Parquet (``benchmarks/.data/public-inputs/``), builds the NannyML environment if needed
(:func:`benchmarks.peers.envs.ensure_env`) and runs ``run_nannyml_chunks.py`` in it. The parsed
document (see that script's docstring) is cached as JSON under ``benchmarks/.data/nannyml-chunks/``,
keyed by data set, chunking and NannyML version; only error-free results are cached.

Run ``python -m benchmarks.peers.nannyml_chunks NAME [--chunk-size N | --chunk-period M]`` for a
per-chunk alert table.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks import public_data
from benchmarks._common import print_table
from benchmarks.peers import invoke
from benchmarks.peers.envs import BENCH_DIR, PEERS, ensure_env, log

__all__ = [
    "CALCULATORS",
    "alert_summary",
    "chunk_table",
    "main",
    "nannyml_version",
    "result_path",
    "run",
]

RUNNER = Path(__file__).resolve().parent / "run_nannyml_chunks.py"
#: Bumped when the inputs written or the runner's document change, so stale caches are not reused.
FORMAT_VERSION = 1
#: The runner's per-chunk sections, in report order.
CALCULATORS = ("univariate_drift", "performance", "estimated_performance")


def nannyml_version() -> str:
    """The NannyML version the environment pins (``0.13.1``)."""
    for requirement in PEERS["nannyml"].requirements:
        if requirement.startswith("nannyml=="):
            return requirement.split("==", 1)[1]
    raise RuntimeError("the nannyml environment does not pin a NannyML version")


def _chunking_key(chunk_size: int | None, chunk_period: str | None) -> str:
    return f"period{chunk_period}" if chunk_period else f"size{chunk_size}"


def result_path(
    dataset: str, chunk_size: int | None, chunk_period: str | None = None, root: Path = BENCH_DIR
) -> Path:
    """Where the result for ``dataset`` at this chunking is cached."""
    name = (
        f"{dataset}-{_chunking_key(chunk_size, chunk_period)}-"
        f"nannyml{nannyml_version()}-v{FORMAT_VERSION}.json"
    )
    return root / ".data" / "nannyml-chunks" / name


def _write_atomic(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def write_inputs(ds: public_data.PublicDataset, root: Path = BENCH_DIR) -> tuple[Path, Path]:
    """The set's reference and analysis tables as Parquet files (written once)."""
    folder = (
        root
        / ".data"
        / "public-inputs"
        / f"{ds.name}-{public_data.WHEEL_SHA256[:12]}-v{FORMAT_VERSION}"
    )
    paths = folder / "reference.parquet", folder / "analysis.parquet"
    for table, path in zip((ds.reference, ds.analysis), paths, strict=True):
        if not path.is_file():
            _write_atomic(path, lambda tmp, table=table: pq.write_table(table, tmp))
    return paths


def runner_spec(
    ds: public_data.PublicDataset,
    reference: Path,
    analysis: Path,
    chunk_size: int | None,
    chunk_period: str | None,
) -> dict[str, Any]:
    """What the runner reads: the files, the column roles and the chunking."""
    return {
        "dataset": ds.name,
        "task": ds.task,
        "reference": str(reference),
        "analysis": str(analysis),
        "numeric": ds.numeric,
        "categorical": ds.categorical,
        "target": ds.target,
        "prediction": ds.prediction,
        "score": ds.score,
        "timestamp": ds.timestamp,
        "positive_class": ds.positive_class,
        "chunk_size": None if chunk_period else chunk_size,
        "chunk_period": chunk_period,
    }


def parse_document(stdout: str) -> dict[str, Any] | None:
    """The runner's document: the last stdout line that is a JSON object with ``tool: chunks``."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("tool") == "chunks":
            return value
    return None


def run(
    dataset_name: str,
    chunk_size: int | None = None,
    chunk_period: str | None = None,
    *,
    refresh: bool = False,
    timeout: float = 1800,
    root: Path = BENCH_DIR,
) -> dict[str, Any]:
    """NannyML's per-chunk results for ``dataset_name`` (the set's ``chunk_size`` by default).

    Returns the cached document when there is one (unless ``refresh``); otherwise builds the
    environment if needed (minutes, PyPI), runs NannyML and caches an error-free result. Adds
    ``wall_seconds`` (the runner process, interpreter start included) and ``cached``.
    """
    ds = public_data.load(dataset_name)
    if chunk_size is None and chunk_period is None:
        chunk_size = ds.chunk_size
    cache = result_path(ds.name, chunk_size, chunk_period, root)
    if cache.is_file() and not refresh:
        document: dict[str, Any] = json.loads(cache.read_text())
        document["cached"] = True
        return document
    python = ensure_env("nannyml", root=root)
    ref_path, ana_path = write_inputs(ds, root)
    spec = runner_spec(ds, ref_path, ana_path, chunk_size, chunk_period)
    spec_path = cache.with_suffix(".spec.json")
    _write_atomic(spec_path, lambda tmp: tmp.write_text(json.dumps(spec, indent=2)))
    log(f"nannyml chunks: {ds.name} {_chunking_key(chunk_size, chunk_period)} ...")
    started = time.perf_counter()
    code, out, err = invoke([str(python), str(RUNNER), str(spec_path)], timeout)
    wall = time.perf_counter() - started
    parsed = parse_document(out)
    if parsed is None:
        tail = err.strip().splitlines()[-1:] or [""]
        reason = "timeout" if code is None else f"runner exited with {code}: {tail[0]}"
        parsed = {"peer": "nannyml", "tool": "chunks", "dataset": ds.name, "error": reason}
    parsed["wall_seconds"] = wall
    if parsed.get("error") is None and not parsed.get("errors"):
        _write_atomic(cache, lambda tmp: tmp.write_text(json.dumps(parsed) + "\n"))
    else:
        log(f"nannyml chunks: {ds.name}: {parsed.get('error') or parsed.get('errors')}")
    parsed["cached"] = False
    return parsed


# --- summaries -------------------------------------------------------------------------------------


def _alerting(chunk: dict[str, Any], calculator: str) -> list[str]:
    return [key for key, fields in (chunk.get(calculator) or {}).items() if fields.get("alert")]


def alert_summary(document: dict[str, Any]) -> dict[str, Any]:
    """Per calculator: for every feature or metric, the analysis chunks that alert, the first of
    them, and the reference chunks that alert (false alerts: the thresholds come from those very
    chunks); plus how many features alert per chunk."""
    chunks = document.get("chunks") or []
    summary: dict[str, Any] = {}
    for calculator in CALCULATORS:
        present = [c for c in chunks if calculator in c]
        if not present:
            continue
        keys = list(present[0][calculator])
        per_key = {}
        for key in keys:
            analysis = [
                c["index"]
                for c in present
                if c["period"] == "analysis" and c[calculator][key]["alert"]
            ]
            reference = [
                c["index"]
                for c in present
                if c["period"] == "reference" and c[calculator][key]["alert"]
            ]
            per_key[key] = {
                "first_analysis_alert": analysis[0] if analysis else None,
                "analysis_alerts": analysis,
                "reference_alerts": reference,
            }
        summary[calculator] = per_key
    if any("univariate_drift" in c for c in chunks):
        summary["features_alerting"] = {
            period: [len(_alerting(c, "univariate_drift")) for c in chunks if c["period"] == period]
            for period in ("reference", "analysis")
        }
    return summary


def chunk_table(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per chunk: rows, drifting features, and which metrics alert (realized, estimated)."""
    rows = []
    for chunk in document.get("chunks") or []:
        row: dict[str, Any] = {
            "period": chunk["period"],
            "chunk": chunk["index"],
            "rows": chunk["end"] - chunk["start"],
        }
        if chunk.get("start_date"):
            row["start_date"] = str(chunk["start_date"])[:10]
        drift = _alerting(chunk, "univariate_drift")
        row["drift_alerts"] = len(drift)
        row["drifting"] = ", ".join(drift) or "-"
        for calculator, label in (
            ("performance", "realized"),
            ("estimated_performance", "estimated"),
        ):
            if calculator in chunk:
                values = chunk[calculator]
                first = next(iter(values))
                row[f"{label}_{first}"] = values[first]["value"]
                row[f"{label}_alerts"] = ", ".join(_alerting(chunk, calculator)) or "-"
        rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> str:
    """Command line: run (or reuse) NannyML on one set and print the per-chunk alert table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers.nannyml_chunks")
    parser.add_argument("name", choices=public_data.DATASETS)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--chunk-size", type=int, default=None)
    group.add_argument("--chunk-period", choices=("D", "M", "Y"), default=None)
    parser.add_argument("--refresh", action="store_true", help="ignore a cached result")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    document = run(
        args.name, args.chunk_size, args.chunk_period, refresh=args.refresh, timeout=args.timeout
    )
    if document.get("error"):
        raise SystemExit(f"NannyML failed: {document['error']}")
    chunking = ", ".join(f"{k}={v}" for k, v in document["chunking"].items())
    timings = "; ".join(
        f"{name} fit {t['fit']:.2f} s + calculate {t['calculate']:.2f} s"
        for name, t in document["seconds"].items()
    )
    title = f"NannyML {document['version']} on {args.name} ({chunking}): {timings}"
    text = print_table(title, chunk_table(document))
    summary = alert_summary(document)
    lines = []
    for calculator in CALCULATORS:
        for key, info in (summary.get(calculator) or {}).items():
            lines.append(
                f"{calculator}.{key}: first analysis alert {info['first_analysis_alert']}, "
                f"analysis alerts {info['analysis_alerts']}, "
                f"reference alerts {info['reference_alerts']}"
            )
    for name, message in (document.get("errors") or {}).items():
        lines.append(f"{name} failed: {message}")
    extra = "\n".join(lines) + "\n"
    print(extra)
    return text + extra


if __name__ == "__main__":
    main()

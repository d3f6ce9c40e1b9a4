"""``make bench``: run every benchmark, print the tables and write them to docs/benchmarks.md.

Each benchmark runs in its own process (a clean heap, and one benchmark's threads cannot disturb
the next). The drift comparison also runs the peer libraries (Evidently, NannyML, Alibi Detect,
SciPy per column) on the same generated data, each in its own virtual environment under
``benchmarks/.venv-<peer>`` (created on first use). Benchmarks report; they never fail on timing.

Usage: ``python -m benchmarks.run [--quick] [--only drift,detectors] [--no-peers] [--no-docs]``
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"

SECTIONS = [
    ("metrics", "Metrics: binary classification report vs scikit-learn"),
    ("detectors", "Streaming detectors: update_many vs River"),
    ("drift", "Drift: modelmon.drift.compare"),
    ("degradation", "Degradation detection"),
    ("evaluation", "Evaluation engine"),
    ("judgement", "Judgement: detection beside NannyML, planted changes, backfill"),
    ("estimation", "Estimation without labels beside NannyML: equality, coverage, speed, concept drift"),
    ("alerts", "Alerting: rule evaluation per cycle, alert history"),
    ("notify", "Notifications: delivery of alerts firing at once, cost per cycle"),
    ("query", "Query API"),
    ("sdk", "SDK overhead on the caller"),
    ("ingest", "Ingest over HTTP"),
    ("storage", "Store ingest: DuckDB beside PostgreSQL, one and two writers"),
    ("batch", "Batch evaluation: Spark beside the embedded engine"),
    ("servers", "Ingest over HTTP through one and two servers: DuckDB beside PostgreSQL"),
    ("backtest", "Backtest: 10 years x 500 symbols daily, beside vectorbt"),
    ("dashboard", "Dashboard: first render of each page"),
    ("report", "Reports: modelmon report beside Evidently"),
    ("soak", "Soak: 10 minutes of mixed load on a live server"),
]


def machine() -> str:
    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:  # pragma: no cover
        mem = "?"
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for pkg in ("numpy", "scipy", "numba", "duckdb", "pyarrow", "fastapi", "scikit-learn", "river"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{pkg} {metadata.version(pkg)}")
    return (f"- machine: {os.cpu_count()} cores ({cpu}), {mem} RAM, {platform.system()} "
            f"{platform.release()}\n- Python {platform.python_version()}; {', '.join(versions)}\n"
            f"- run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


def run_section(name: str, quick: bool, peers: bool) -> str:
    args = [sys.executable, "-m", f"benchmarks.bench_{name}"]
    if quick:
        args.append("--quick")
    if name == "drift" and peers:
        args.append("--peers")
    if name == "report" and not peers:
        args.append("--no-peers")
    print(f"\n=== {name} ===", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        return f"(failed: exit {done.returncode}; see the console output)\n"
    took = time.perf_counter() - t0
    tables = done.stdout[done.stdout.find("### "):] if "### " in done.stdout else done.stdout
    return tables.strip() + f"\n\n_section ran in {took:.0f} s_\n"


def update_sections(only: set[str], args: argparse.Namespace) -> None:
    """Re-run some sections and replace just those in docs/benchmarks.md."""
    import re

    text = DOC.read_text()
    for name, title in SECTIONS:
        if name not in only:
            continue
        body = run_section(name, args.quick, not args.no_peers)
        pattern = re.compile(rf"(## {re.escape(title)}\n\n)(.*?)(?=\n## |\Z)", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda m, body=body: m.group(1) + body, text)
        else:
            text += f"\n## {title}\n\n{body}"
    text = re.sub(r"- run: .*", f"- run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC "
                  f"(sections re-run: {', '.join(sorted(only))})", text, count=1)
    DOC.write_text(text)
    print(f"\nupdated {DOC.relative_to(ROOT)}: {', '.join(sorted(only))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    parser.add_argument("--only", default="", help="comma-separated sections")
    parser.add_argument("--no-peers", action="store_true", help="skip the peer libraries")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    only = {s for s in args.only.split(",") if s}
    if only and DOC.exists() and not args.quick and not args.no_docs:
        update_sections(only, args)
        return
    parts = ["# Benchmarks", "",
             "Written by `make bench` (`python -m benchmarks.run`). Figures are from one run on the "
             "machine below; peers ran on the same data in the same run. Benchmarks report, they "
             "never fail a build.", "", machine(), ""]
    for name, title in SECTIONS:
        if only and name not in only:
            continue
        parts += [f"## {title}", "", run_section(name, args.quick, not args.no_peers), ""]
    text = "\n".join(parts)
    if not args.no_docs and not args.quick:
        DOC.write_text(text)
        print(f"\nwrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Data-set drift: ``modelmon.drift.compare`` with defaults on frames with known drift.

Data: :func:`benchmarks.data.make_frames` — 25 features (20 numeric, 5 categorical strings),
reference and current of N rows each, 7 features drifting (:data:`benchmarks.data.DRIFTING`),
18 stable. For N in 10,000 / 100,000 / 1,000,000 (``--quick``: the first two) and for two input
kinds — a dict of NumPy arrays and a pandas DataFrame (strings as pandas' default string dtype) —
the table reports:

* ``seconds``: ``compare(reference, current)`` end to end, fitting the reference included (best
  of several runs; the inputs exist beforehand, building them is not timed);
* ``compare_only_s``: ``reference.compare(current)`` against an already fitted ``Reference``
  (the service's case: one stored reference, many windows);
* ``threads``: the threads the default ``n_jobs`` used; ``single_thread_s``: the same call with
  ``n_jobs=1``;
* ``drifting_found`` (of 7) and ``stable_flagged`` (of 18);
* ``peak_mem_ratio``: peak extra memory of the call divided by the input size (both frames'
  NumPy bytes, :func:`benchmarks.data.input_nbytes`). Measured as peak RSS growth in a fresh
  subprocess after a warm-up call (``/proc/self/clear_refs`` resets the peak), which counts
  every allocation — NumPy, Arrow and numba alike; ``tracemalloc_ratio`` is the same peak as
  seen by :mod:`tracemalloc` (NumPy's allocations only).

Timings never fail anything; on a machine shared with other jobs they are pessimistic.
:func:`our_results` gives one row for the side-by-side table with peer libraries.

Run: ``.venv/bin/python -m benchmarks.bench_drift [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from typing import Any

from benchmarks._common import best_of, print_table
from benchmarks.data import DRIFTING, STABLE, input_nbytes, make_frames, to_pandas
from modelmon.drift import Reference, compare
from modelmon.drift.reference import resolve_n_jobs

SIZES_FULL = (10_000, 100_000, 1_000_000)
SIZES_QUICK = (10_000, 100_000)
INPUTS = ("dict", "pandas")


def _repeat(n: int) -> int:
    return 30 if n <= 10_000 else 10 if n <= 100_000 else 5


def _frames(n: int, kind: str) -> tuple[Any, Any]:
    ref, cur = make_frames(n)
    if kind == "pandas":
        return to_pandas(ref), to_pandas(cur)
    return ref, cur


def _flags(result: Any) -> tuple[int, int]:
    flagged = set(result.drifted_features)
    return len(flagged & set(DRIFTING)), len(flagged & set(STABLE))


def tracemalloc_ratio(n: int, kind: str = "dict") -> float:
    """Peak NumPy allocation of one ``compare`` call / input size (in this process)."""
    ref, cur = _frames(n, kind)
    compare(ref, cur)  # warm up: imports, compiled kernels
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        compare(ref, cur)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    raw_ref, raw_cur = make_frames(n) if kind == "pandas" else (ref, cur)
    return (peak - base) / (input_nbytes(raw_ref) + input_nbytes(raw_cur))


_RSS_CHILD = """
import gc, json, sys
from benchmarks.data import make_frames, to_pandas, input_nbytes
from modelmon.drift import compare

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise KeyError(key)

n, kind = int(sys.argv[1]), sys.argv[2]
ref, cur = make_frames(n)
size = input_nbytes(ref) + input_nbytes(cur)
if kind == "pandas":
    ref, cur = to_pandas(ref), to_pandas(cur)
small_ref, small_cur = make_frames(2000)
compare(small_ref, small_cur)
compare(ref, cur)  # warm up at full size (thread pools, allocator arenas)
gc.collect()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak-RSS counter
base = status("VmRSS:")
compare(ref, cur)
peak = status("VmHWM:")
print(json.dumps({"extra": peak - base, "size": size, "peak": peak}))
"""


def rss_ratio(n: int, kind: str = "dict") -> float:
    """Peak RSS growth of one ``compare`` call / input size, in a fresh subprocess (Linux)."""
    return rss_peak(n, kind)[0]


def rss_peak(n: int, kind: str = "dict") -> tuple[float, float]:
    """``(peak RSS growth / input size, peak RSS of the process in MiB)`` in a fresh subprocess.

    The second value includes the interpreter, the libraries and both frames, like the peers'
    ``peak_rss_mib``. NaNs when ``/proc`` is not available.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(
            [sys.executable, "-c", _RSS_CHILD, str(n), kind],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            env={**os.environ, "PYTHONPATH": root},
        )
        data = json.loads(out.stdout.strip().splitlines()[-1])
    except (subprocess.CalledProcessError, OSError, ValueError, IndexError):
        return float("nan"), float("nan")
    return float(data["extra"]) / float(data["size"]), float(data["peak"]) / 2**20


def our_results(n: int, *, kind: str = "pandas", memory: bool = True) -> dict[str, Any]:
    """modelmon's row for the side-by-side table with the peer libraries.

    ``{seconds, flagged_drifting, flagged_stable, peak_mem_ratio, peak_rss_mib}`` for
    ``compare`` with defaults on ``make_frames(n)`` given as ``kind`` ("pandas" or "dict");
    ``peak_rss_mib`` is the whole process's peak, comparable with the peers' figure.
    """
    ref, cur = _frames(n, kind)
    result = compare(ref, cur)
    seconds = best_of(lambda: compare(ref, cur), repeat=_repeat(n))
    found, false = _flags(result)
    ratio, peak = rss_peak(n, kind) if memory else (float("nan"), float("nan"))
    return {
        "seconds": seconds,
        "flagged_drifting": found,
        "flagged_stable": false,
        "peak_mem_ratio": ratio,
        "peak_rss_mib": peak,
    }


def _row(n: int, kind: str) -> dict[str, Any]:
    ref, cur = _frames(n, kind)
    result = compare(ref, cur)  # warm-up, and the verdicts
    found, false = _flags(result)
    repeat = _repeat(n)
    seconds = best_of(lambda: compare(ref, cur), repeat=repeat)
    single = best_of(lambda: compare(ref, cur, n_jobs=1), repeat=repeat)
    fitted = Reference.fit(ref)
    compare_only = best_of(lambda: fitted.compare(cur), repeat=repeat)
    gc.collect()
    return {
        "rows": n,
        "input": kind,
        "seconds": seconds,
        "compare_only_s": compare_only,
        "threads": resolve_n_jobs(None, n * 25, 25, "bench"),
        "single_thread_s": single,
        "drifting_found": f"{found}/{len(DRIFTING)}",
        "stable_flagged": f"{false}/{len(STABLE)}",
        "peak_mem_ratio": rss_ratio(n, kind),
        "tracemalloc_ratio": tracemalloc_ratio(n, kind),
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Rows of the benchmark table."""
    return [_row(n, kind) for n in (SIZES_QUICK if quick else SIZES_FULL) for kind in INPUTS]


def side_by_side(sizes: tuple[int, ...], timeout: float = 600) -> list[dict[str, Any]]:
    """modelmon and the peer libraries on the same generated data, in one run."""
    from benchmarks import peers

    rows: list[dict[str, Any]] = []
    peer_rows = peers.run_all(sizes, timeout=timeout)
    for n in sizes:
        ours = our_results(n, kind="pandas")
        rows.append({"tool": "modelmon (defaults)", "n": n, "seconds": ours["seconds"],
                     "drifting found (of 7)": ours["flagged_drifting"],
                     "stable flagged (of 18)": ours["flagged_stable"],
                     "peak RSS MiB": ours.get("peak_rss_mib", float("nan")), "error": ""})
        for r in peer_rows:
            if r["n"] != n:
                continue
            rows.append({"tool": f"{r['peer']} {r.get('version', '')}".strip(), "n": n,
                         "seconds": r["seconds"],
                         "drifting found (of 7)": r["flagged_drifting"],
                         "stable flagged (of 18)": r["flagged_stable"],
                         "peak RSS MiB": r.get("peak_rss_mib", float("nan")),
                         "error": r.get("error") or ""})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k rows only")
    parser.add_argument("--peers", action="store_true",
                        help="also run Evidently, NannyML, Alibi Detect and SciPy on the same data")
    args = parser.parse_args()
    print_table(
        "Data drift: modelmon.drift.compare with defaults (25 features, 7 drifting)",
        run(args.quick),
    )
    if args.peers:
        sizes = (10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000)
        print_table("Data drift side by side with peer libraries (same data, same run; peers' "
                    "seconds exclude loading, ours include fitting the reference)",
                    side_by_side(sizes))


if __name__ == "__main__":
    main()

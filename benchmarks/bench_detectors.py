"""Streaming detectors: ``update_many`` against River 0.26.1's one-value-at-a-time ``update``.

For each detector, on a 1,000,000-value stream with known changes (a Bernoulli error stream for
the binary detectors, a normal stream with mean shifts for the others):

* River's throughput: a Python loop of ``update(x)`` reading ``drift_detected`` (and
  ``warning_detected``) after each value, which is how River is used (best of 3); KSWIN is
  timed once, on a 50,000-value prefix, because River runs it at a few thousand values per
  second;
* modelmon's throughput: one ``update_many`` call (best of 3, each on a fresh detector; the
  one-off numba compilation is excluded by a warm-up call);
* times are CPU times of this process (``time.process_time``), which other work on a shared
  machine disturbs much less than wall-clock times (both are single-threaded);
* whether the drift and warning positions are identical (on the prefix for KSWIN);
* the one-off compilation time of each kernel, measured in a child process with an empty
  numba cache (so it is a real compilation, not a cache load).

Run: ``.venv/bin/python -m benchmarks.bench_detectors [--quick]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._common import print_table
from modelmon.detectors import make_detector

N_FULL = 1_000_000
N_QUICK = 100_000
KSWIN_PREFIX_FULL = 50_000
KSWIN_PREFIX_QUICK = 5_000

# name, River constructor (None: no River peer), modelmon params, input kind, speed-up target
_SPECS: list[tuple[str, str | None, dict[str, Any], str, float | None]] = [
    ("ddm", "binary.DDM()", {}, "binary", 100.0),
    ("eddm", "binary.EDDM()", {}, "binary", 100.0),
    ("hddm_a", "binary.HDDMA()", {}, "binary", 100.0),
    ("hddm_w", "binary.HDDMW()", {}, "binary", None),
    ("page_hinkley", "drift.PageHinkley()", {}, "real", 100.0),
    ("adwin", "drift.ADWIN()", {}, "real", 10.0),
    ("kswin", "drift.KSWIN(seed=42)", {"seed": 42}, "real", 100.0),
    ("cusum", None, {}, "real", None),
]


def make_stream(kind: str, n: int, seed: int = 0) -> np.ndarray:
    """A stream with a change every 100,000 values (every n/10 when shorter)."""
    rng = np.random.default_rng(seed)
    segment = max(min(100_000, n // 10), 1)
    levels = np.arange(-(-n // segment))
    if kind == "binary":
        rates = np.where(levels % 2 == 0, 0.1, 0.1 + 0.05 * (1 + levels % 3))
        p = np.repeat(rates, segment)[:n]
        return (rng.random(n) < p).astype(np.float64)
    means = np.where(levels % 2 == 0, 0.0, 0.5 * (1 + levels % 3))
    return rng.normal(np.repeat(means, segment)[:n], 1.0)


def _river_positions(detector: Any, values: list[float]) -> tuple[list[int], list[int], float]:
    has_warning = hasattr(detector, "warning_detected")
    drifts: list[int] = []
    warnings: list[int] = []
    t0 = time.process_time()
    for i, x in enumerate(values):
        detector.update(x)
        if detector.drift_detected:
            drifts.append(i)
        if has_warning and detector.warning_detected:
            warnings.append(i)
    return drifts, warnings, time.process_time() - t0


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        t0 = time.process_time()
        result = fn()
        best = min(best, time.process_time() - t0)
    return best, result


_COMPILE_SCRIPT = """
import json, time, numpy as np
from modelmon.detectors import make_detector
out = {}
for name, params, kind in json.loads(SPECS):
    values = np.zeros(64) if kind == "binary" else np.linspace(0.0, 1.0, 64)
    detector = make_detector(name, **params)
    t0 = time.process_time()
    detector.update_many(values)
    out[name] = time.process_time() - t0
print(json.dumps(out))
"""


def compile_times() -> dict[str, float]:
    """First-call time of each detector in a fresh process with an empty numba cache.

    The first detector's time also includes compiling the shared input check.
    """
    specs = json.dumps([(name, params, kind) for name, _, params, kind, _ in _SPECS])
    with tempfile.TemporaryDirectory() as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        script = _COMPILE_SCRIPT.replace("SPECS", repr(specs))
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
    return {k: float(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Benchmark every detector; one table row per detector."""
    from river import drift  # noqa: F401  (used by the eval'd constructors)
    from river.drift import binary  # noqa: F401

    n = N_QUICK if quick else N_FULL
    prefix = KSWIN_PREFIX_QUICK if quick else KSWIN_PREFIX_FULL
    repeat = 1 if quick else 3
    compiled = compile_times()
    streams = {kind: make_stream(kind, n) for kind in ("binary", "real")}
    rows = []
    for name, river_ctor, params, kind, target in _SPECS:
        values = streams[kind]
        make_detector(name, **params).update_many(values[:1000])  # warm-up: load compiled code
        ours_time, ours = _best(lambda: make_detector(name, **params).update_many(values), repeat)  # noqa: B023
        row: dict[str, Any] = {
            "detector": name,
            "n": n,
            "compile s": compiled[name],
            "modelmon upd/s": n / ours_time,
        }
        if river_ctor is None:
            row.update({"River upd/s": float("nan"), "speed-up": float("nan"), "target": "-"})
            row.update({"identical": "n/a (no River peer)"})
        else:
            river_n = min(prefix, n) if name == "kswin" else n
            river_values = values[:river_n]
            river_list = river_values.tolist()
            river_time = float("inf")
            for _ in range(1 if name == "kswin" else repeat):
                drifts, warnings, seconds = _river_positions(eval(river_ctor), river_list)
                river_time = min(river_time, seconds)
            same = make_detector(name, **params).update_many(river_values)
            identical = drifts == same.drifts.tolist() and warnings == same.warnings.tolist()
            river_rate = river_n / river_time
            row.update(
                {
                    "River n": river_n,
                    "River upd/s": river_rate,
                    "speed-up": (n / ours_time) / river_rate,
                    "target": f"{target:.0f}x" if target else "-",
                    "identical": "yes" if identical else "no",
                }
            )
        row["drifts"] = ours.n_drifts
        row["warnings"] = ours.n_warnings
        rows.append(row)
    return rows


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    rows = run(quick=quick)
    print_table(
        f"Streaming detectors: modelmon update_many vs River 0.26.1 update loop "
        f"({rows[0]['n']:,} values)",
        rows,
    )


if __name__ == "__main__":
    main()

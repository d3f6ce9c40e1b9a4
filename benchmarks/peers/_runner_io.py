"""The runner side of the exchange: read the two Parquet frames, time the peer, print one JSON line.

Every ``run_<peer>.py`` script is executed by its peer's own interpreter (see ``envs.py``), so
this module imports only the standard library at the top; pyarrow is imported when the frames are
read. The runner is called as::

    python run_<peer>.py REFERENCE.parquet CURRENT.parquet --numeric a,b --categorical c,d

and prints exactly one JSON line on stdout (anything the library prints goes to stderr)::

    {"peer": ..., "version": ..., "n": ..., "seconds": ..., "load_seconds": ...,
     "warmup_seconds": ..., "peak_rss_mib": ..., "flagged": [...], "error": null,
     "detail": {feature: {"method": ..., "value": ..., "drifted": ...}}}

``seconds`` covers only the drift computation, from the frames in the peer's input form (pandas
DataFrames or dicts of NumPy arrays) to per-feature flags, including any conversion the library
needs on top (integer-encoding categories, building its dataset objects). ``load_seconds`` covers
importing the library, reading the Parquet files and converting them to that input form.
``warmup_seconds`` is an untimed first run on the leading ``--warmup-rows`` rows, so that lazy
imports and first-call caches are not charged to the computation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Marks the runner's result among whatever else reaches stdout.
RESULT_KEY = "peer"

#: Rows of the untimed warm-up run. Libraries import modules and fill caches on their first call;
#: that belongs with the import cost, not with the computation. 2,000 rows keeps Evidently on the
#: same (above 1,000 rows) choice of tests as the timed run.
WARMUP_ROWS = 2_000


@dataclass
class Frames:
    """The reference and current frames as Arrow tables plus the declared feature types."""

    reference: Any
    current: Any
    numeric: list[str]
    categorical: list[str]
    #: The frames in the form the peer consumes (set by the runner's ``prepare`` step).
    data: Any = None

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical

    @property
    def n(self) -> int:
        """Rows of the current frame (known until the Arrow tables are released)."""
        return int(self.current.num_rows)

    def release(self) -> None:
        """Drop the Arrow tables once ``data`` holds what the peer consumes (they can be large)."""
        self.reference = self.current = None


#: ``detect(frames) -> (flagged feature names, per-feature detail)``.
Detector = Callable[[Frames], tuple[list[str], dict[str, dict[str, Any]]]]


def as_numpy(frames: Frames) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both frames as dicts of NumPy arrays, exactly the form ``benchmarks.data.make_frames`` gives
    (float64 numbers, fixed-width strings), for peers that take arrays."""
    import numpy as np

    def convert(table: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in frames.numeric:
            out[name] = np.asarray(table.column(name).to_numpy(), dtype=np.float64)
        for name in frames.categorical:
            out[name] = table.column(name).to_numpy(zero_copy_only=False).astype(str)
        return out

    return convert(frames.reference), convert(frames.current)


def as_pandas(frames: Frames) -> tuple[Any, Any]:
    """Both frames as pandas DataFrames (strings as object columns, as
    ``benchmarks.data.to_pandas`` gives with pandas 2), for peers that take data frames."""
    return frames.reference.to_pandas(), frames.current.to_pandas()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run one peer library's default drift detection.")
    parser.add_argument("reference")
    parser.add_argument("current")
    parser.add_argument("--numeric", default="", help="comma-separated numeric feature names")
    parser.add_argument("--categorical", default="", help="comma-separated categorical names")
    parser.add_argument(
        "--warmup-rows",
        type=int,
        default=WARMUP_ROWS,
        help="run once on this many leading rows before timing (0: no warm-up)",
    )
    return parser.parse_args(argv)


def split_names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def read_frames(args: argparse.Namespace) -> Frames:
    """Read both Parquet files (only the declared columns) as Arrow tables."""
    import pyarrow.parquet as pq

    numeric = split_names(args.numeric)
    categorical = split_names(args.categorical)
    columns = numeric + categorical
    return Frames(
        pq.read_table(args.reference, columns=columns),
        pq.read_table(args.current, columns=columns),
        numeric,
        categorical,
    )


def emit(result: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(result, allow_nan=True) + "\n")
    sys.stdout.flush()


def run(
    peer: str,
    load_library: Callable[[], str],
    detect: Detector,
    prepare: Callable[[Frames], Any],
    argv: list[str] | None = None,
) -> int:
    """Import the library (``load_library`` returns its version), read the frames and ``prepare``
    them into the peer's input form, then time ``detect`` alone and report.

    Returns the process exit code: 0 when the peer produced flags, 1 when it raised.
    """
    started = time.perf_counter()
    result: dict[str, Any] = {
        RESULT_KEY: peer,
        "version": None,
        "n": None,
        "seconds": None,
        "load_seconds": None,
        "warmup_seconds": None,
        "flagged": [],
        "error": None,
        "detail": {},
    }
    args = parse_args(argv)
    try:
        # Libraries print banners and progress; the harness reads stdout, so send it all to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            result["version"] = load_library()
            frames = read_frames(args)
            result["n"] = frames.n
            warm_rows = min(args.warmup_rows, frames.n)
            warm = None
            if warm_rows > 0:
                warm = Frames(
                    frames.reference.slice(0, warm_rows),
                    frames.current.slice(0, warm_rows),
                    frames.numeric,
                    frames.categorical,
                )
                warm.data = prepare(warm)
                warm.release()
            frames.data = prepare(frames)
            frames.release()
            result["load_seconds"] = time.perf_counter() - started
            if warm is not None:
                t0 = time.perf_counter()
                detect(warm)
                result["warmup_seconds"] = time.perf_counter() - t0
                del warm
            t0 = time.perf_counter()
            flagged, detail = detect(frames)
            result["seconds"] = time.perf_counter() - t0
        unknown = sorted(set(flagged) - set(frames.features))
        if unknown:
            raise RuntimeError(f"{peer} flagged features that were not given: {unknown}")
        # Report in the declared feature order, whatever order the library returned them in.
        result["flagged"] = [f for f in frames.features if f in set(flagged)]
        result["detail"] = detail
        # Peak resident memory of the whole runner (frames included), in MiB. VmHWM, not
        # getrusage's ru_maxrss: that survives exec(), so a runner would report its parent's peak.
        result["peak_rss_mib"] = _peak_rss_mib()
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        result["error"] = f"{type(exc).__name__}: {exc}"
        emit(result)
        return 1
    emit(result)
    return 0


def _peak_rss_mib() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

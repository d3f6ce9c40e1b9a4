"""The harness side of the exchange: cached Parquet frames in, one JSON result line out.

Each size is generated once by :func:`benchmarks.data.make_frames` and written as two Parquet
files under ``benchmarks/.data/frames-n<N>-seed<S>/`` (git-ignored), so every peer reads exactly
the same rows. Numeric columns are float64, categorical ones plain strings; the runners are told
which is which on the command line rather than guessing from the schema.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from benchmarks.data import CATEGORICAL, NUMERIC, make_frames
from benchmarks.peers.envs import BENCH_DIR

#: Keys every runner's JSON line carries.
RESULT_KEYS = ("peer", "version", "n", "seconds", "load_seconds", "flagged", "error")

#: Bumped when the generator or the file layout changes, so stale caches are not reused.
FORMAT_VERSION = 1


def data_dir(root: Path = BENCH_DIR) -> Path:
    """Where cached frames live (``benchmarks/.data/``)."""
    return root / ".data"


def frame_paths(n: int, seed: int = 0, root: Path = BENCH_DIR) -> tuple[Path, Path]:
    """The reference and current Parquet paths for ``n`` rows and ``seed``."""
    folder = data_dir(root) / f"frames-v{FORMAT_VERSION}-n{n}-seed{seed}"
    return folder / "reference.parquet", folder / "current.parquet"


def write_frame(frame: dict[str, Any], path: Path) -> None:
    """Write a dict of NumPy arrays as Parquet atomically (temporary file, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({name: frame[name] for name in [*NUMERIC, *CATEGORICAL]})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def ensure_frames(n: int, seed: int = 0, root: Path = BENCH_DIR) -> tuple[Path, Path]:
    """Return the cached reference/current Parquet paths for ``n`` rows, writing them if absent."""
    ref_path, cur_path = frame_paths(n, seed, root)
    if not (ref_path.is_file() and cur_path.is_file()):
        reference, current = make_frames(n, seed=seed)
        write_frame(reference, ref_path)
        write_frame(current, cur_path)
    return ref_path, cur_path


def runner_args(ref_path: Path, cur_path: Path) -> list[str]:
    """The runner command-line arguments: both files and the declared feature types."""
    return [
        str(ref_path),
        str(cur_path),
        "--numeric",
        ",".join(NUMERIC),
        "--categorical",
        ",".join(CATEGORICAL),
    ]


def parse_result(stdout: str) -> dict[str, Any] | None:
    """The runner's result: the last stdout line that is a JSON object naming a ``peer``.

    Returns ``None`` when there is no such line (the runner crashed before reporting).
    """
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and "peer" in value:
            for key in RESULT_KEYS:
                value.setdefault(key, None)
            if value["flagged"] is None:
                value["flagged"] = []
            return value
    return None

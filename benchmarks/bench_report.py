"""``modelmon report`` on 1,000,000 x 25 rows beside Evidently's drift report on the same files.

Data: the drift benchmarks' generated frames (20 numeric, 5 categorical features, 7 of them
drifting; :mod:`benchmarks.data`), N rows each for reference and current, as Parquet. A second
pair adds a binary model's target, score and prediction, so the report also judges quality.

Timed (best of 3 for modelmon, after an untimed warm-up; one run for the peer):

* modelmon in-process: read both files, fit, compare, data quality, quality, judge, render and
  write the HTML and the JSON (the issue's target: 1,000,000 x 25 within 3 s, under 2 MB);
* the same as a command (``modelmon report ...``), interpreter start and imports included;
* Evidently 0.7.23 in its own environment (``benchmarks/.venv-evidently``, created on first
  use): ``Report([DataDriftPreset()])`` on the same feature files, saved as HTML (drift only).

``--quick``: 100,000 rows. ``--no-peers``: modelmon only.

Run: ``.venv/bin/python -m benchmarks.bench_report [--quick] [--no-peers]``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks._common import print_table
from benchmarks.data import CATEGORICAL, NUMERIC
from benchmarks.peers.envs import BENCH_DIR, ensure_env
from benchmarks.peers.exchange import ensure_frames, parse_result, runner_args


def _with_model(path: Path, out: Path, seed: int, shift: float) -> Path:
    """The features of ``path`` plus a target, a score and a prediction (the current one's
    model drifts with ``num_00``: its output moves, its quality falls)."""
    if out.is_file():
        return out
    table = pq.read_table(path)
    x = table.column("num_00").to_numpy()
    rng = np.random.default_rng(seed)
    y = (rng.random(x.size) < 1 / (1 + np.exp(-1.5 * x))).astype(np.int64)
    score = 1 / (1 + np.exp(-1.5 * (x - shift)))
    table = table.append_column("target", pa.array(y)).append_column(
        "score", pa.array(score)).append_column(
        "prediction", pa.array((score >= 0.5).astype(np.int64)))
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    return out


def _in_process(ref: Path, cur: Path, out: Path) -> dict[str, Any]:
    import orjson

    from modelmon.report.build import build_offline_report, offline_view, spec_for
    from modelmon.report.html import render_report
    from modelmon.report.inputs import read_table

    t0 = time.perf_counter()
    r, c = read_table(ref), read_table(cur)
    t1 = time.perf_counter()
    spec = spec_for(r, reference_path=str(ref))
    result = build_offline_report(r, c, spec, reference_name=ref.name, current_name=cur.name)
    t2 = time.perf_counter()
    out.write_text(render_report(offline_view(result.report)), encoding="utf-8")
    json_path = out.with_suffix(".json")
    json_path.write_bytes(orjson.dumps(result.report))
    t3 = time.perf_counter()
    return {"seconds": t3 - t0, "read": t1 - t0, "build": t2 - t1, "write": t3 - t2,
            "html": out.stat().st_size, "json": json_path.stat().st_size,
            "status": result.report["status"],
            "drifted": sum(f["drifted"] for f in result.report["drift"]["features"])}


def _best(ref: Path, cur: Path, out: Path) -> dict[str, Any]:
    _in_process(ref, cur, out)  # warm-up: imports, compiled kernels, templates
    return min((_in_process(ref, cur, out) for _ in range(3)), key=lambda r: r["seconds"])


def _command(ref: Path, cur: Path, out: Path) -> float:
    modelmon = Path(sys.executable).with_name("modelmon")
    t0 = time.perf_counter()
    subprocess.run([str(modelmon), "report", "--reference", str(ref), "--current", str(cur),
                    "--out", str(out)], check=True, capture_output=True)
    return time.perf_counter() - t0


def _evidently(ref: Path, cur: Path, out: Path) -> dict[str, Any]:
    python = ensure_env("evidently")
    args = runner_args(ref, cur)
    cmd = [str(python), str(Path(__file__).parent / "peers" / "run_evidently_report.py"),
           args[0], args[1], str(out), *args[2:]]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    found = parse_result(done.stdout)
    if found is None:
        return {"error": done.stderr[-500:]}
    return found


def run(quick: bool = False, peers: bool = True) -> list[dict[str, Any]]:
    n = 100_000 if quick else 1_000_000
    ref, cur = ensure_frames(n)
    data = BENCH_DIR / ".data" / f"report-n{n}"
    ref_m = _with_model(ref, data / "reference.parquet", 1, 0.0)
    cur_m = _with_model(cur, data / "current.parquet", 2, 0.8)
    rows: list[dict[str, Any]] = []
    label = f"{n:,} x {len(NUMERIC) + len(CATEGORICAL)}"
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for what, (r, c) in (("drift + data quality", (ref, cur)),
                             ("drift + data quality + quality (target given)", (ref_m, cur_m))):
            best = _best(r, c, tmp / "report.html")
            rows.append({"tool": "modelmon report (in process)", "rows": label, "what": what,
                         "seconds": best["seconds"], "target_s": 3.0,
                         "html_mb": best["html"] / 1e6, "json_kb": best["json"] / 1e3,
                         "note": f"read {best['read']:.2f} s, build {best['build']:.2f} s, "
                                 f"write {best['write']:.2f} s; {best['status']}, "
                                 f"{best['drifted']} flagged"})
        seconds = min(_command(ref_m, cur_m, tmp / "cli.html") for _ in range(2))
        rows.append({"tool": "modelmon report (command)", "rows": label,
                     "what": "drift + data quality + quality", "seconds": seconds,
                     "target_s": float("nan"), "html_mb": (tmp / "cli.html").stat().st_size / 1e6,
                     "json_kb": float("nan"), "note": "interpreter start and imports included"})
        if peers:
            peer = _evidently(ref, cur, tmp / "evidently.html")
            rows.append({"tool": f"evidently {peer.get('version', '')} DataDriftPreset",
                         "rows": label, "what": "drift only",
                         "seconds": peer.get("seconds", float("nan")), "target_s": float("nan"),
                         "html_mb": (peer.get("html_bytes") or float("nan")) / 1e6,
                         "json_kb": float("nan"),
                         "note": peer.get("error") or f"reading the files "
                                 f"{peer.get('load_seconds', float('nan')):.1f} s not counted"})
    return rows


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    peers = "--no-peers" not in sys.argv[1:]
    rows = run(quick, peers)
    print_table("Reports: modelmon report beside Evidently" + (" (quick)" if quick else ""),
                rows)
    print(json.dumps({"rows": len(rows)}), file=sys.stderr)


if __name__ == "__main__":
    main()

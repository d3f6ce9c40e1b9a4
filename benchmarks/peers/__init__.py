"""Side-by-side drift detection with peer libraries, each in its own virtual environment.

Every peer runs its *default* per-feature drift detection on the same generated frames
(:mod:`benchmarks.data`: 20 numeric + 5 categorical features, a known subset drifting), in a
subprocess of its own interpreter, and reports how long the computation took and which features it
flagged. See ``docs/benchmarks-peers.md``.

Run ``.venv/bin/python -m benchmarks.peers [--sizes 10000,100000] [--peers evidently,scipy]``.

:mod:`benchmarks.peers.nannyml_chunks` runs NannyML chunk by chunk on the public data sets of
:mod:`benchmarks.public_data` (drift, realized and estimated performance per chunk, with alerts),
in the same NannyML environment.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._common import print_table
from benchmarks.data import DRIFTING, STABLE
from benchmarks.peers.envs import PEERS, ensure_env, log
from benchmarks.peers.exchange import ensure_frames, parse_result, runner_args

__all__ = ["DEFAULT_SIZES", "PEERS", "main", "run_all", "run_peer", "summarize"]

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
RUNNER_DIR = Path(__file__).resolve().parent

# Peers phone home on import unless told not to; with no internet here that can only stall a run.
_QUIET_ENV = {
    "DO_NOT_TRACK": "1",
    "EVIDENTLY_DISABLE_TELEMETRY": "1",
    "NML_DISABLE_USAGE_LOGGING": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}


def invoke(argv: Sequence[str], timeout: float) -> tuple[int | None, str, str]:
    """Run ``argv`` in its own process group; return ``(exit code, stdout, stderr)``.

    The exit code is ``None`` when the process outlived ``timeout`` seconds, in which case its
    whole process group (the runner and anything it started) is killed.
    """
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, **_QUIET_ENV},
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err
    return proc.returncode, out, err


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_peer(peer: str, n: int, *, timeout: float = 300, seed: int = 0) -> dict[str, Any]:
    """Run ``peer``'s default drift detection on ``n`` reference and ``n`` current rows.

    Creates the peer's environment and the cached frames first if needed (not counted against
    ``timeout``). Returns the runner's result: ``peer``, ``version``, ``n``, ``seconds`` (drift
    computation only), ``load_seconds`` (import and read), ``warmup_seconds``, ``peak_rss_mib``
    (the runner process's peak resident memory, frames included), ``flagged`` (feature names),
    ``error`` (``None``, ``"timeout"`` or the failure), ``wall_seconds`` and per-feature
    ``detail``.
    """
    if peer not in PEERS:
        raise ValueError(f"Unknown peer {peer!r}; choose from {sorted(PEERS)}.")
    python = ensure_env(peer)
    ref_path, cur_path = ensure_frames(n, seed)
    argv = [str(python), str(RUNNER_DIR / PEERS[peer].runner), *runner_args(ref_path, cur_path)]
    started = time.perf_counter()
    code, out, err = invoke(argv, timeout)
    wall = time.perf_counter() - started
    result = parse_result(out)
    if result is None:
        result = {
            "peer": peer,
            "version": None,
            "n": n,
            "seconds": None,
            "load_seconds": None,
            "flagged": [],
            "error": None,
        }
        if code is None:
            result["error"] = "timeout"
        else:
            result["error"] = f"runner exited with {code} without a result: {_last_line(err)}"
    elif code is None:
        result["error"] = "timeout"
    result["wall_seconds"] = wall
    return result


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    """One table row: timings and how many drifting / stable features the peer flagged."""
    nan = float("nan")
    failed = result.get("error") is not None
    flagged = set(result.get("flagged") or [])
    missed = [f for f in DRIFTING if f not in flagged]
    false_alarms = [f for f in STABLE if f in flagged]
    seconds = result.get("seconds")
    load = result.get("load_seconds")
    rss = result.get("peak_rss_mib")
    return {
        "peer": result["peer"],
        "version": result.get("version") or "",
        "n": result.get("n"),
        "seconds": nan if failed or seconds is None else float(seconds),
        "load_seconds": nan if load is None else float(load),
        "peak_rss_mib": nan if rss is None else float(rss),
        "flagged_drifting": nan if failed else len(flagged & set(DRIFTING)),
        "flagged_stable": nan if failed else len(false_alarms),
        "missed": "" if failed else ", ".join(missed) or "-",
        "false_alarms": "" if failed else ", ".join(false_alarms) or "-",
        "error": result.get("error") or "",
    }


def run_all(
    sizes: Sequence[int] = DEFAULT_SIZES,
    peers: Sequence[str] = tuple(PEERS),
    *,
    timeout: float = 300,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Run every peer at every size (smallest first) and return the summary rows."""
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise ValueError(f"Unknown peers {unknown}; choose from {sorted(PEERS)}.")
    broken: dict[str, str] = {}
    for peer in peers:  # build every environment before timing anything
        try:
            ensure_env(peer)
        except (subprocess.CalledProcessError, OSError) as exc:
            # One peer that cannot install must not cost the others' figures.
            broken[peer] = f"environment: {exc}"
            log(f"{peer}: {broken[peer]}")
    rows = []
    for n in sorted(sizes):
        ensure_frames(n, seed)
        for peer in peers:
            if peer in broken:
                rows.append(summarize({"peer": peer, "n": n, "error": broken[peer]}))
                continue
            log(f"{peer} at n={n:,} ...")
            row = summarize(run_peer(peer, n, timeout=timeout, seed=seed))
            log(f"{peer} at n={n:,}: {row['seconds']:.3f} s {row['error']}")
            rows.append(row)
    return rows


def _int_list(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]


def main(argv: Sequence[str] | None = None) -> str:
    """Command line: run the peers and print the table; returns the table text."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    parser.add_argument("--sizes", type=_int_list, default=list(DEFAULT_SIZES))
    parser.add_argument(
        "--peers", type=lambda s: [p for p in s.split(",") if p], default=list(PEERS)
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per peer and size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = run_all(args.sizes, args.peers, timeout=args.timeout, seed=args.seed)
    title = (
        f"Peer libraries, default drift detection ({len(DRIFTING)} drifting and "
        f"{len(STABLE)} stable features; seconds = drift computation only)"
    )
    return print_table(title, rows)

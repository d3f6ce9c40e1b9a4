"""Performance estimation beside NannyML 0.13.1, in the same run: equality, coverage, speed, and
the realized-vs-estimated gap through the service path.

- **Equality**: NannyML's CBPE and DLE and modelmon's estimators on the same data and the same
  chunks: NannyML's bundled sets (``synthetic_binary_classification``,
  ``modified_california_housing``, ``synthetic_multiclass``, ``synthetic_car_price``) and the
  simulations of :mod:`benchmarks.estimation_data`. CBPE: the largest absolute difference per
  metric; DLE (whose model differs): the largest difference in NannyML's sampling errors, and the
  share of chunks where modelmon's estimate lies inside NannyML's band.
- **Coverage**: on simulations with covariate shift and no concept drift, the share of windows
  whose realized metric lies in the estimate's 3-sampling-error band, modelmon's and NannyML's
  band on the same windows; with the shift inside the reference's range, and beyond it.
- **Speed**: fit + estimate on 50,000 reference and 50,000 analysis rows (best of 3, each
  library warmed up), and one window of 10,000 rows.
- **Concept drift**: simulations with a planted change of the outcome's relation at window 20,
  every window labelled, through the service (store, backfill, verdicts): the first window whose
  verdict carries an ``estimation_gap`` reason.

NannyML runs in its own environment (``benchmarks/.venv-nannyml``, built on first use by
``benchmarks.peers.envs``). ``python -m benchmarks.bench_estimation [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import estimation_data, public_data
from benchmarks._common import print_table
from benchmarks.detection import run_table, simulation_tables
from benchmarks.peers import invoke
from benchmarks.peers.envs import BENCH_DIR, ensure_env
from benchmarks.peers.nannyml_chunks import write_inputs
from modelmon import metrics as M
from modelmon.estimation import ConfidenceBasedEstimator, DirectLossEstimator
from modelmon.vocabulary import ESTIMATED, ReasonKind, Task

RUNNER = Path(__file__).resolve().parent / "peers" / "run_nannyml_estimation.py"
INPUTS = BENCH_DIR / ".data" / "estimation-inputs"
CLASSIFICATION = list(ESTIMATED[Task.BINARY])
REGRESSION = list(ESTIMATED[Task.REGRESSION])
WINDOW_ROWS = 10_000


# --- data and jobs -------------------------------------------------------------------------------


class Data:
    """One data set as both libraries read it: column roles, tables, chunk size."""

    def __init__(self, name: str, task: str, reference: pa.Table, analysis: pa.Table, *,
                 features: list[str], target: str, prediction: str,
                 score: str | dict[str, str] | None, chunk_size: int,
                 categorical: list[str]) -> None:
        self.name, self.task = name, task
        self.reference, self.analysis = reference, analysis
        self.features, self.target, self.prediction = features, target, prediction
        self.score, self.chunk_size, self.categorical = score, chunk_size, categorical

    @property
    def metrics(self) -> list[str]:
        return REGRESSION if self.task == "regression" else CLASSIFICATION

    @property
    def classes(self) -> list[str]:
        return sorted(self.score) if isinstance(self.score, dict) else []

    def job(self, reference: Path, analysis: Path, repeat: int, window: bool) -> dict[str, Any]:
        return {"name": self.name, "task": self.task, "reference": str(reference),
                "analysis": str(analysis), "features": self.features, "target": self.target,
                "prediction": self.prediction, "score": self.score,
                "chunk_size": self.chunk_size, "metrics": self.metrics, "repeat": repeat,
                "window_rows": WINDOW_ROWS if window and self.analysis.num_rows >= WINDOW_ROWS
                else 0}


def public(name: str) -> Data:
    ds = public_data.load(name)
    assert ds.prediction is not None
    return Data(name, ds.task, ds.reference, ds.analysis, features=ds.features, target=ds.target,
                prediction=ds.prediction, score=ds.score, chunk_size=ds.chunk_size,
                categorical=ds.categorical)


def simulated(kind: str, *, seed: int, n_reference: int, windows: int, rows: int,
              beyond: float = 0.0, tag: str = "") -> Data:
    sim = getattr(estimation_data, kind)(n_reference=n_reference, windows=windows, rows=rows,
                                         seed=seed, beyond=beyond)
    reference, analysis, roles = simulation_tables(sim)
    if sim.task == "binary_classification":  # NannyML's binary CBPE reads 0/1 numbers
        def numeric(t: pa.Table) -> pa.Table:
            for c in ("y", "prediction"):
                t = t.set_column(t.column_names.index(c), c, t.column(c).cast(pa.int64()))
            return t

        reference, analysis = numeric(reference), numeric(analysis)
    score: str | dict[str, str] | None = roles["score"]
    if roles["probabilities"]:
        score = {c: f"p{c}" for c in sim.classes}
    name = f"simulated {kind}{tag}"
    return Data(name, sim.task, reference, analysis, features=roles["numeric"] + ["c"],
                target="y", prediction="prediction", score=score, chunk_size=rows,
                categorical=["c"])


def _write(data: Data, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    ref, ana = folder / "reference.parquet", folder / "analysis.parquet"
    pq.write_table(data.reference, ref)
    pq.write_table(data.analysis, ana)
    return ref, ana


def run_nannyml(jobs: list[dict[str, Any]], timeout: float = 3600) -> dict[str, Any]:
    python = ensure_env("nannyml")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, dir=INPUTS) as fh:
        json.dump(jobs, fh)
        spec = fh.name
    code, out, err = invoke([str(python), str(RUNNER), spec], timeout)
    Path(spec).unlink(missing_ok=True)
    for line in reversed(out.splitlines()):
        line = line.strip()
        if line.startswith("{") and '"tool": "estimation"' in line:
            return dict(json.loads(line))
    tail = (err.strip().splitlines() or [""])[-1]
    raise RuntimeError(f"NannyML runner failed ({code}): {tail}")


# --- modelmon's side ----------------------------------------------------------------------------


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


class Ours:
    """modelmon's estimator on a :class:`Data`, reading the same columns NannyML reads."""

    def __init__(self, data: Data) -> None:
        self.data = data

    def _labels(self, table: pa.Table, column: str) -> np.ndarray:
        if self.data.classes:
            return np.searchsorted(self.data.classes, _column(table, column).astype(str))
        return _column(table, column).astype(np.int64)

    def _scores(self, table: pa.Table) -> np.ndarray:
        score = self.data.score
        if isinstance(score, dict):
            return np.column_stack([_column(table, score[c]) for c in self.data.classes])
        assert score is not None
        return _column(table, score)

    def _features(self, table: pa.Table) -> dict[str, Any]:
        return {f: table.column(f) for f in self.data.features}

    def fit(self) -> Any:
        d = self.data
        if d.task == "regression":
            types = {f: "categorical" if f in d.categorical else "numeric" for f in d.features}
            return DirectLossEstimator(feature_types=types).fit(
                self._features(d.reference), _column(d.reference, d.prediction),
                _column(d.reference, d.target))
        return ConfidenceBasedEstimator().fit(self._labels(d.reference, d.target),
                                              self._scores(d.reference),
                                              self._labels(d.reference, d.prediction))

    def inputs(self, table: pa.Table) -> tuple[Any, np.ndarray]:
        d = self.data
        if d.task == "regression":
            return self._features(table), _column(table, d.prediction)
        return self._scores(table), self._labels(table, d.prediction)

    def estimate(self, est: Any, table: pa.Table) -> Any:
        a, b = self.inputs(table)
        return est.estimate(a, b)

    def realized(self, table: pa.Table) -> dict[str, float]:
        d = self.data
        if d.task == "regression":
            y, p = _column(table, d.target), _column(table, d.prediction)
            e = y - p
            return {"mae": float(np.mean(np.abs(e))), "mse": float(np.mean(e * e)),
                    "rmse": math.sqrt(float(np.mean(e * e))),
                    "mape": float(np.mean(np.abs(e)[y != 0] / np.abs(y[y != 0])))}
        y, p, s = self._labels(table, d.target), self._labels(table, d.prediction), \
            self._scores(table)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not d.classes:
                return {"accuracy": M.accuracy_score(y, p), "precision": M.precision_score(y, p),
                        "recall": M.recall_score(y, p), "specificity": M.specificity_score(y, p),
                        "f1": M.f1_score(y, p), "roc_auc": M.roc_auc_score(y, s),
                        "average_precision": M.average_precision_score(y, s)}
            labels = np.arange(len(d.classes))
            kw: dict[str, Any] = {"average": "macro", "labels": labels}
            return {"accuracy": M.accuracy_score(y, p), "precision": M.precision_score(y, p, **kw),
                    "recall": M.recall_score(y, p, **kw),
                    "specificity": M.specificity_score(y, p, **kw), "f1": M.f1_score(y, p, **kw),
                    "roc_auc": M.roc_auc_score(y, s, multi_class="ovr", **kw),
                    "average_precision": M.average_precision_score(y, s, **kw)}


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


# --- the comparisons -----------------------------------------------------------------------------


def compare(data: Data, peer: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Estimates per NannyML chunk, timings, equality and coverage figures for one data set."""
    ours = Ours(data)
    ours.fit()  # warm-up: imports, compiled kernels
    chunks = peer["chunks"]
    tables = [data.analysis.slice(c["start"], c["end"] - c["start"]) for c in chunks]

    def fit_and_estimate() -> tuple[Any, list[Any]]:
        est = ours.fit()
        return est, [ours.estimate(est, t) for t in tables]

    seconds, (est, estimates) = best_of(fit_and_estimate, repeat)
    window = None
    if data.analysis.num_rows >= WINDOW_ROWS:
        rows = data.analysis.slice(0, WINDOW_ROWS)
        a, b = ours.inputs(rows)
        window, _ = best_of(lambda: est.estimate(a, b), 5)
    out: dict[str, Any] = {"seconds": seconds, "window": window, "metrics": {}}
    for m in data.metrics:
        deltas, in_band, in_se, ours_cover, peer_cover = [], [], [], [], []
        for c, e, t in zip(chunks, estimates, tables, strict=True):
            theirs = c["metrics"][m]
            mine = e[m]
            if theirs["value"] is None or not math.isfinite(mine.value):
                continue
            deltas.append(mine.value - theirs["value"])
            se = theirs["sampling_error"]
            if se:
                in_se.append(abs(mine.value - theirs["value"]) / se)
            lo, hi = theirs["lower"], theirs["upper"]
            if lo is not None and hi is not None:
                in_band.append(lo <= mine.value <= hi)
            real = ours.realized(t)[m]
            if math.isfinite(real):
                ours_cover.append(mine.covers(real))
                if lo is not None and hi is not None:
                    peer_cover.append(lo <= real <= hi)
        out["metrics"][m] = {
            "max_abs_delta": max((abs(d) for d in deltas), default=math.nan),
            "max_delta_in_se": max(in_se, default=math.nan),
            "in_band": float(np.mean(in_band)) if in_band else math.nan,
            "coverage": ours_cover, "peer_coverage": peer_cover, "chunks": len(deltas)}
    return out


def concept_drift(kind: str, *, windows: int, rows: int, change: int | None,
                  seed: int) -> dict[str, Any]:
    """First window with an estimation-gap reason (and gaps before the change), through the
    service path."""
    sim = getattr(estimation_data, kind)(n_reference=20_000, windows=windows, rows=rows,
                                         concept_at=change, seed=seed)
    reference, analysis, roles = simulation_tables(sim)
    keep: dict[str, Any] = {}
    t0 = time.perf_counter()
    run_table(f"concept {kind}", reference=reference, analysis=analysis, window=f"{rows}rows",
              keep=keep, **roles)
    seconds = time.perf_counter() - t0
    flagged = [i for i, v in enumerate(keep["verdicts"])
               if any(r["kind"] == ReasonKind.ESTIMATION_GAP for r in v.reasons)]
    before = [i for i in flagged if change is None or i < change]
    return {"task": sim.task, "windows": windows, "rows": rows,
            "change at": "none" if change is None else change,
            "first gap flagged": next((i for i in flagged if change is not None and i >= change),
                                      "-"),
            "windows flagged after": sum(1 for i in flagged if change is not None and i >= change),
            "false gaps before": len(before), "service seconds": round(seconds, 1)}


def without_labels(labelled_chunks: int = 3) -> list[dict[str, Any]]:
    """NannyML's "work from home" set through the service with the analysis labels withheld
    after the first ``labelled_chunks`` chunks: each chunk's verdict and what it names, beside
    the chunks where NannyML's CBPE raises an estimated-performance alert."""
    from benchmarks.peers.nannyml_chunks import run as nannyml_chunks

    ds = public_data.load("synthetic_binary_classification")
    labelled = np.zeros(ds.analysis.num_rows, dtype=bool)
    labelled[: labelled_chunks * ds.chunk_size] = True
    keep: dict[str, Any] = {}
    run_table(ds.name, task=ds.task, reference=ds.reference, analysis=ds.analysis,
              numeric=ds.numeric, categorical=ds.categorical, target=ds.target,
              prediction=ds.prediction, score=ds.score if isinstance(ds.score, str) else None,
              timestamp=ds.timestamp, identifier=ds.identifier, window=f"{ds.chunk_size}rows",
              labelled=labelled, keep=keep)
    peer = nannyml_chunks(ds.name)
    alerts = {c["index"]: [m for m, v in (c.get("estimated_performance") or {}).items()
                           if v.get("alert")]
              for c in peer.get("chunks", []) if c["period"] == "analysis"}
    points: dict[Any, dict[str, Any]] = {}
    for r in keep["metrics"].to_pylist():
        points.setdefault(r["window_start"], {})[r["metric"]] = r["value"]
    rows = []
    for i, v in enumerate(keep["verdicts"]):
        estimated = [r["evidence"]["estimates"] for r in v.reasons
                     if r["kind"] == ReasonKind.ESTIMATED_QUALITY]
        rows.append({"chunk": i, "labels": "yes" if i < labelled_chunks else "no",
                     "estimated accuracy": points[v.window_start].get("estimated_accuracy"),
                     "modelmon verdict": v.status,
                     "estimated metrics outside their band": ", ".join(estimated) or "-",
                     "multivariate drift": "yes" if any(
                         r["kind"] == ReasonKind.MULTIVARIATE_DRIFT for r in v.reasons) else "-",
                     "NannyML CBPE alerts": ", ".join(alerts.get(i, [])) or "-"})
    return rows


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_estimation")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    quick = args.quick
    INPUTS.mkdir(parents=True, exist_ok=True)
    repeat = 1 if quick else 3
    equality = [public(n) for n in ("synthetic_binary_classification",
                                    "modified_california_housing", "synthetic_multiclass",
                                    "synthetic_car_price")]
    size = 10_000 if quick else 50_000
    speed = [simulated(k, seed=0, n_reference=size, windows=10, rows=size // 10,
                       tag=f" {size // 1000}k") for k in ("binary", "multiclass", "regression")]
    seeds = 1 if quick else 5
    coverage = [simulated(k, seed=s, n_reference=20_000, windows=20 if quick else 40, rows=2000,
                          tag=f" seed {s}")
                for k in ("binary", "multiclass", "regression") for s in range(seeds)]
    beyond = [simulated(k, seed=0, n_reference=20_000, windows=20 if quick else 40, rows=2000,
                        beyond=1.0, tag=" beyond the reference")
              for k in ("binary", "regression")]
    jobs = []
    for d in equality:
        ref, ana = write_inputs(public_data.load(d.name))
        jobs.append(d.job(ref, ana, repeat, window=True))
    for i, d in enumerate(speed + coverage + beyond):
        ref, ana = _write(d, INPUTS / f"job{i}")
        jobs.append(d.job(ref, ana, repeat if d in speed else 1, window=d in speed))
    t0 = time.perf_counter()
    peer = run_nannyml(jobs)
    peer_seconds = time.perf_counter() - t0
    by_name = {j["name"]: j for j in peer["jobs"]}
    results = {}
    for d in equality + speed + coverage + beyond:
        job = by_name[d.name]
        if job.get("error"):
            raise RuntimeError(f"NannyML failed on {d.name}: {job['error']}")
        results[d.name] = compare(d, job, repeat if d in equality + speed else 1)

    text = ""
    rows = []
    for d in equality + speed:
        for m, r in results[d.name]["metrics"].items():
            row: dict[str, Any] = {"data": d.name, "chunks": r["chunks"], "metric": m}
            if d.task == "regression":
                row.update({"max |Δ| in NannyML's SE": r["max_delta_in_se"],
                            "inside NannyML's band": f"{r['in_band'] * 100:.0f} %"})
            else:
                row.update({"max |Δ|": r["max_abs_delta"],
                            "within 0.005": "yes" if r["max_abs_delta"] <= 0.005 else "NO"})
            rows.append(row)
    text += print_table(f"Equality with NannyML {peer['version']} on the same chunks "
                        "(CBPE: max absolute difference; DLE: in NannyML's sampling errors)",
                        rows)

    rows = []
    for group, label in ((coverage, "inside the reference's range"),
                         (beyond, "1 sd beyond the reference's range")):
        for kind in ("binary", "multiclass", "regression"):
            sets = [d for d in group if d.name.startswith(f"simulated {kind}")]
            if not sets:
                continue
            for m in sets[0].metrics:
                ours = [c for d in sets for c in results[d.name]["metrics"][m]["coverage"]]
                theirs = [c for d in sets for c in results[d.name]["metrics"][m]["peer_coverage"]]
                worst = min(float(np.mean(results[d.name]["metrics"][m]["coverage"]))
                            for d in sets)
                rows.append({"shift": label, "simulation": kind, "metric": m,
                             "references": len(sets), "windows": len(ours),
                             "modelmon 3-SE band covers": f"{np.mean(ours) * 100:.1f} %",
                             "worst reference": f"{worst * 100:.0f} %",
                             "NannyML band covers": f"{np.mean(theirs) * 100:.1f} %"
                             if theirs else "n/a"})
    text += print_table("Coverage: realized metric inside the estimate's 3-SE band, covariate "
                        "shift without concept drift (2,000-row windows)", rows)

    rows = []
    for d in equality + speed:
        job, r = by_name[d.name], results[d.name]
        peer_total = job["fit_seconds"] + job["estimate_seconds"]
        rows.append({"data": d.name, "task": d.task, "reference rows": d.reference.num_rows,
                     "analysis rows": d.analysis.num_rows,
                     "NannyML fit + estimate s": peer_total,
                     "modelmon fit + estimate s": r["seconds"],
                     "speed-up": f"{peer_total / r['seconds']:.1f}x",
                     "NannyML 10k window ms": job["window_seconds"] * 1000
                     if job.get("window_seconds") else math.nan,
                     "modelmon 10k window ms": r["window"] * 1000 if r["window"] else math.nan})
    text += print_table("Speed, same run (best of "
                        f"{repeat}; NannyML in its own venv, LightGBM on all cores; modelmon one "
                        "thread)", rows)

    rows = []
    runs = 1 if quick else 2
    for kind in ("binary", "multiclass", "regression"):
        for seed in range(runs):
            rows.append({"seed": seed, **concept_drift(kind, windows=24 if quick else 40,
                                                       rows=2000, change=12 if quick else 20,
                                                       seed=seed)})
        rows.append({"seed": 0, **concept_drift(kind, windows=24 if quick else 40, rows=2000,
                                                change=None, seed=9)})
    text += print_table("Concept drift through the service: the realized-vs-estimated gap "
                        "(every window labelled)", rows)
    text += print_table("NannyML's work-from-home set through the service, analysis labels "
                        "withheld from chunk 3 on (change at chunk 5)", without_labels())
    print(f"(NannyML runner: {peer_seconds:.0f} s for {len(jobs)} jobs)")
    return text


if __name__ == "__main__":
    main()

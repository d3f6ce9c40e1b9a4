"""Detection through the whole service path: data into a real store, backfill, verdicts out.

Used by ``bench_judgement`` (figures beside NannyML's) and by the detection tests. A run puts a
data set into a fresh DuckDB store as a monitored model with row windows (NannyML's chunks) or
time windows, evaluates and judges its whole history with :meth:`Evaluator.backfill`, and reads
back one verdict per window: its status, the drifted features it names and the quality metrics
it finds outside their band.

Two ways to give the reference, as users do:

- ``mode="file"``: the reference period is a Parquet file with its own column names (mapped by
  ``reference.columns``); only the analysis period is stored and judged (NannyML's setup);
- ``mode="history"``: reference and analysis periods are both stored, the reference period is
  the model's baseline period, and every window of both is judged (its false findings in the
  reference period are counted too).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from modelmon.config import ModelSpec
from modelmon.config.inference import complete_spec
from modelmon.evaluation import Evaluator
from modelmon.ingest.actuals import actuals_from_table
from modelmon.ingest.predictions import predictions_from_table
from modelmon.store import BatchKind, WriteBatch
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.vocabulary import ReasonKind

__all__ = ["Detection", "WindowVerdict", "run_public", "run_table", "simulation_tables",
           "summarize"]

_T0 = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class WindowVerdict:
    """One judged window: its position, status, drifted features and quality findings."""

    index: int
    start: datetime
    n: int
    status: str
    drifted: tuple[str, ...]
    quality: tuple[str, ...]
    output_drift: bool


@dataclass
class Detection:
    """The verdicts of a run, with what it took."""

    name: str
    windows: list[WindowVerdict] = field(default_factory=list)
    seconds: float = 0.0
    rows: int = 0
    reference_windows: int = 0  # leading windows that belong to the reference period


def _verdicts(store: DuckDBStore, model: str, size: str) -> list[WindowVerdict]:
    out = []
    for i, v in enumerate(store.verdicts(model, window_size=size, limit=1_000_000)):
        drifted = tuple(r["feature"] for r in v.reasons if r["kind"] == ReasonKind.DRIFT
                        and r["feature"])
        quality = tuple(r["metric"] for r in v.reasons if r["kind"] == ReasonKind.QUALITY
                        and r["metric"])
        out.append(WindowVerdict(i, v.window_start, v.n, v.status, drifted, quality,
                                 any(r["kind"] == ReasonKind.PREDICTION_DRIFT
                                     for r in v.reasons)))
    return out


def _with_times(table: pa.Table, timestamp: str | None, start: datetime) -> pa.Table:
    """A ``timestamp`` column: the data's own, or one second per row in row order."""
    if timestamp is not None and timestamp in table.column_names:
        col = table.column(timestamp)
        if not pa.types.is_timestamp(col.type):
            col = pc.cast(col, pa.timestamp("us"))
        return table.set_column(table.column_names.index(timestamp), "timestamp",
                                pc.cast(col, pa.timestamp("us", tz="UTC")))
    times = [start + timedelta(seconds=i) for i in range(table.num_rows)]
    return table.append_column("timestamp", pa.array(times, pa.timestamp("us", tz="UTC")))


def _write(store: DuckDBStore, spec: ModelSpec, table: pa.Table, *, identifier: str | None,
           target: str, prediction: str | None, score: str | None, batch: int = 20_000,
           labelled: np.ndarray | None = None,
           probabilities: Sequence[str] | None = None) -> None:
    n = table.num_rows
    ids = (pc.cast(table.column(identifier), pa.string()) if identifier
           else pa.array([f"r{i}" for i in range(n)]))
    # "now" as the data knows it: public sets are years old, beyond the accepted event age
    now = table.column("timestamp")[n - 1].as_py() + timedelta(days=1)
    for lo in range(0, n, batch):
        part = table.slice(lo, batch)
        pid = ids.slice(lo, batch)
        cols: dict[str, Any] = {"prediction_id": pid, "timestamp": part.column("timestamp")}
        for f in spec.features:
            cols[f.name] = part.column(f.name)
        if score is not None:
            cols["score"] = part.column(score)
        if probabilities:
            matrix = np.column_stack([part.column(c).to_numpy() for c in probabilities])
            cols["probabilities"] = pa.array(list(matrix), pa.list_(pa.float64()))
        if prediction is not None:
            col = part.column(prediction)
            cols["prediction"] = col if spec.task.value == "regression" else pc.cast(col, pa.string())
        preds = predictions_from_table(spec, pa.table(cols), now=now)
        truth = part.column(target)
        actual = truth if spec.task.value == "regression" else pc.cast(truth, pa.string())
        batches = [WriteBatch(BatchKind.PREDICTIONS, spec.name, preds)]
        keep = None if labelled is None else pa.array(labelled[lo:lo + batch])
        if keep is None or pc.any(keep).as_py():
            got = pa.table({"prediction_id": pid, "actual": actual})
            acts = actuals_from_table(spec, got if keep is None else got.filter(keep), now=now)
            batches.append(WriteBatch(BatchKind.ACTUALS, spec.name, acts))
        store.write(batches)


def run_table(
    name: str, *, task: str, reference: pa.Table, analysis: pa.Table, numeric: Sequence[str],
    categorical: Sequence[str], target: str, prediction: str | None, score: str | None,
    timestamp: str | None = None, identifier: str | None = None, positive_class: Any = 1,
    classes: Sequence[Any] | None = None, window: str = "5000rows", mode: str = "file",
    preset: str = "standard", workdir: Path | None = None,
    labelled: np.ndarray | None = None, keep: dict[str, Any] | None = None,
    probabilities: Sequence[str] | None = None,
) -> Detection:
    """Run one data set through the service path (see the module docstring).

    ``labelled``: which analysis rows get their actuals (all when None; reference rows stored
    in ``mode="history"`` always do). ``keep``: when given, filled with the window results the
    store holds after the run (``"metrics"``: every metric point of all traffic, ``"verdicts"``:
    each window's stored verdict, ``"profile"``: the stored reference profile). ``probabilities``: a multiclass model's probability columns,
    in the order of ``classes``.
    """
    own = None
    if workdir is None:
        own = tempfile.TemporaryDirectory(prefix="mm-detect-")
        workdir = Path(own.name)
    try:
        features = [{"name": f, "type": "numeric"} for f in numeric] + \
            [{"name": f, "type": "categorical"} for f in categorical]
        prediction_spec: dict[str, Any] = {}
        if task != "regression":
            prediction_spec = {"classes": [str(c) for c in (classes or [0, 1])]}
            if task == "binary_classification":
                prediction_spec.update(positive_class=str(positive_class),
                                       score=score is not None)
            else:
                prediction_spec["probabilities"] = bool(probabilities)
        spec_data: dict[str, Any] = {"name": "model", "task": task, "features": features,
                                     "prediction": prediction_spec, "windows": [window],
                                     "preset": preset, "judgement": {"window": window}}
        ref = _with_times(reference, timestamp, _T0)
        start = ref.column("timestamp")[ref.num_rows - 1].as_py() + timedelta(seconds=1)
        cur = _with_times(analysis, timestamp, start if timestamp is None else _T0)
        if mode == "file":
            path = workdir / "reference.parquet"
            pq.write_table(ref.drop_columns([c for c in ("prediction_id",)
                                             if c in ref.column_names]), path)
            spec_data["reference"] = {"path": str(path), "columns": {
                "timestamp": "timestamp", "target": target, "prediction": prediction,
                "score": score, "id": identifier,
                "probabilities": list(probabilities) if probabilities else None}}
            stored = cur
            reference_rows = 0
        else:
            first = ref.column("timestamp")[0].as_py()
            last = ref.column("timestamp")[ref.num_rows - 1].as_py()
            spec_data["baseline"] = {"start": first.isoformat(),
                                     "end": (last + timedelta(microseconds=1)).isoformat()}
            stored = pa.concat_tables([ref.select(cur.column_names), cur])
            reference_rows = ref.num_rows
        spec = complete_spec(ModelSpec.model_validate(spec_data))
        store = DuckDBStore(str(workdir / "detect.duckdb"))
        store.open()
        try:
            store.save_model(spec)
            mask = None
            if labelled is not None:
                mask = np.r_[np.ones(reference_rows, dtype=bool), np.asarray(labelled, bool)]
            _write(store, spec, stored, identifier=identifier, target=target,
                   prediction=prediction, score=score, labelled=mask,
                   probabilities=probabilities)
            clock = stored.column("timestamp")[stored.num_rows - 1].as_py() + timedelta(days=30)
            t0 = time.perf_counter()
            Evaluator(store, clock=lambda: clock).backfill("model", chunk=200)
            seconds = time.perf_counter() - t0
            verdicts = _verdicts(store, "model", window)
            if keep is not None:
                keep["metrics"] = store.metric_series("model", window_size=window, version="*",
                                                      segment="*", limit=10_000_000)
                keep["verdicts"] = store.verdicts("model", window_size=window, limit=1_000_000)
                keep["profile"] = store.get_reference("model")
        finally:
            store.close()
        rows_per = int(window[:-4]) if window.endswith("rows") else None
        ref_windows = reference_rows // rows_per if rows_per else 0
        return Detection(name, verdicts, seconds, stored.num_rows, ref_windows)
    finally:
        if own is not None:
            own.cleanup()


def run_public(name: str, *, mode: str = "file", chunk_size: int | None = None,
               preset: str = "standard", workdir: Path | None = None) -> Detection:
    """Run one of NannyML's bundled data sets (``benchmarks.public_data``)."""
    from benchmarks.public_data import load

    ds = load(name)
    size = chunk_size or ds.chunk_size
    classes = ds.classes if hasattr(ds, "classes") else None
    return run_table(
        name, task=ds.task, reference=ds.reference, analysis=ds.analysis, numeric=ds.numeric,
        categorical=ds.categorical, target=ds.target, prediction=ds.prediction,
        score=ds.score if isinstance(ds.score, str) else None,
        timestamp=ds.timestamp if mode == "history" or ds.timestamp else None,
        identifier=ds.identifier, positive_class=ds.positive_class, classes=classes,
        window=f"{size}rows", mode=mode, preset=preset, workdir=workdir)


def summarize(run: Detection, *, change: int | None, drifting: Sequence[str] = ()) -> dict[str, Any]:
    """First flagged and first degraded window at or after ``change`` (an index into the judged
    windows after the reference period), features found and missed, false findings before."""
    analysis = run.windows[run.reference_windows:]
    before = analysis[:change] if change is not None else analysis
    after = analysis[change:] if change is not None else []
    reference = run.windows[:run.reference_windows]

    def first(items: list[WindowVerdict], pred: Any) -> int | None:
        return next((w.index - run.reference_windows for w in items if pred(w)), None)

    named = set().union(*(set(w.drifted) for w in after)) if after else set()
    return {
        "windows": len(analysis),
        "first_flagged": first(after, lambda w: w.status != "healthy"),
        "first_degraded": first(after, lambda w: w.status == "degraded"),
        "degraded_after": sum(w.status == "degraded" for w in after),
        "features_found": sorted(set(drifting) & named),
        "features_missed": sorted(set(drifting) - named),
        "other_features_named_after": sorted(named - set(drifting)),
        "false_degraded_before": sum(w.status == "degraded" for w in before),
        "false_drift_before": sum(bool(w.drifted) for w in before),
        "reference_windows": len(reference),
        "false_degraded_in_reference": sum(w.status == "degraded" for w in reference),
        "false_drift_in_reference": sum(bool(w.drifted) for w in reference),
        "seconds": round(run.seconds, 2),
    }


def simulated(kind: str, *, windows: int = 60, rows: int = 2000, change: int = 30,
              seed: int = 0) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    """A binary classifier's data with a planted change: ``step`` (at ``change``), ``gradual``
    (a ramp over ten windows from ``change``), ``recurring`` (on in windows
    ``change``..``change+4`` and ``change+10``..``change+14``) or ``stable``. Returns the
    reference (12 windows), the analysis and what drifts."""
    rng = np.random.default_rng(seed)

    def block(n: int, amount: float) -> pa.Table:
        x1 = rng.normal(0, 1, n) + amount
        x2 = rng.lognormal(0, 0.5, n)
        x3 = rng.normal(0, 1, n)
        c1 = rng.choice(["a", "b", "c"], n, p=[0.5 - 0.2 * amount / 1.5, 0.3, 0.2 + 0.2 * amount / 1.5])
        logit = 1.2 * (x1 - amount) + 0.8 * (x2 - 1) - 0.5 * x3 + (c1 == "c") * 0.7
        score = 1 / (1 + np.exp(-logit))
        # the relation the model learned weakens as the change grows
        truth_logit = logit * (1 - 0.45 * amount / 1.5) + rng.normal(0, 0.6 * amount, n)
        y = (rng.random(n) < 1 / (1 + np.exp(-truth_logit))).astype(int)
        return pa.table({"x1": x1, "x2": x2, "x3": x3, "c1": c1, "score": score,
                         "prediction": (score >= 0.5).astype(int), "y": y})

    def amount_at(w: int) -> float:
        if kind == "step":
            return 1.5 if w >= change else 0.0
        if kind == "gradual":
            return 1.5 * min(max((w - change + 1) / 10, 0.0), 1.0)
        if kind == "recurring":
            return 1.5 if change <= w < change + 5 or change + 10 <= w < change + 15 else 0.0
        return 0.0

    reference = pa.concat_tables([block(rows, 0.0) for _ in range(12)])
    analysis = pa.concat_tables([block(rows, amount_at(w)) for w in range(windows)])
    return reference, analysis, {"drifting": ["x1", "c1"], "change": None if kind == "stable"
                                 else change}


def simulation_tables(sim: Any) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    """A :mod:`benchmarks.estimation_data` simulation as the reference and analysis tables
    :func:`run_table` takes, with the column roles to pass it."""
    classification = sim.task != "regression"

    def table(w: Any) -> pa.Table:
        cols = dict(w.features)
        cols["y"] = w.y_true.astype(str) if classification else w.y_true
        cols["prediction"] = w.y_pred.astype(str) if classification else w.y_pred
        if sim.task == "binary_classification":
            cols["score"] = w.score
        elif sim.task == "multiclass_classification":
            for c in range(w.score.shape[1]):
                cols[f"p{c}"] = w.score[:, c]
        return pa.table(cols)

    roles: dict[str, Any] = {
        "task": sim.task, "numeric": ["x1", "x2", "x3"], "categorical": ["c"], "target": "y",
        "prediction": "prediction",
        "score": "score" if sim.task == "binary_classification" else None,
        "classes": sim.classes or None,
        "probabilities": [f"p{c}" for c in range(len(sim.classes))]
        if sim.task == "multiclass_classification" else None}
    return table(sim.reference), pa.concat_tables([table(w) for w in sim.windows]), roles


def run_simulation(kind: str, *, windows: int = 60, rows: int = 2000, change: int = 30,
                   seed: int = 0, mode: str = "history", preset: str = "standard") -> Detection:
    """:func:`simulated` data through the service path with ``rows``-row windows."""
    reference, analysis, _ = simulated(kind, windows=windows, rows=rows, change=change, seed=seed)
    return run_table(f"simulated {kind}", task="binary_classification", reference=reference,
                     analysis=analysis, numeric=["x1", "x2", "x3"], categorical=["c1"], target="y",
                     prediction="prediction", score="score", window=f"{rows}rows", mode=mode,
                     preset=preset)

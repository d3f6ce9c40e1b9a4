"""Concept drift: a streaming detector fed with each labelled prediction's error, in event-time
order, one detector per model version; warnings and drifts are stored as events.

Default detector: ADWIN (Bifet & Gavaldà 2007) with δ = 0.002. It needs no tuning of a window
length, reacts to abrupt and gradual change, accepts both 0/1 errors (classification) and
absolute errors (regression), and bounds its false-positive rate by δ. Any registered detector
can be configured instead (``DDM``/``EDDM``/``HDDM_A`` for 0/1 errors, ``PageHinkley`` ...).

Actuals arrive late and out of order. Rows are consumed in event-time order up to ``now -
lateness``; an actual that arrives after its prediction's event time has been consumed still
counts in window metrics, but not in the detector (the detector cannot go back in time).
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from modelmon.config.models import ModelSpec, Task
from modelmon.detectors import make_detector
from modelmon.evaluation.frame import EvalFrame, needed_columns
from modelmon.store.results import DETECTOR_EVENT_COLUMNS, DetectorState
from modelmon.vocabulary import DetectorSignal

if TYPE_CHECKING:
    from modelmon.store.backend import Backend

__all__ = ["ConceptDriftTracker", "DetectorConfig"]


@dataclass(frozen=True)
class DetectorConfig:
    name: str = "adwin"
    params: tuple[tuple[str, Any], ...] = ()
    lateness: timedelta = timedelta(minutes=5)
    max_rows_per_cycle: int = 2_000_000


def _errors(frame: EvalFrame) -> np.ndarray:
    if frame.spec.task is Task.REGRESSION:
        return np.abs(frame.y_pred - frame.y_true)
    return (frame.y_pred != frame.y_true).astype(np.float64)


class ConceptDriftTracker:
    """Runs the configured detector over newly labelled predictions of each model."""

    def __init__(self, store: Backend, config: DetectorConfig | None = None) -> None:
        self.store = store
        self.config = config or DetectorConfig()

    def run(self, spec: ModelSpec, now: datetime) -> int:
        """Feed new labelled rows to the detectors; return how many events were stored."""
        cfg = self.config
        states = {(s.version, s.detector): s for s in self.store.detector_states(spec.name)}
        cursor_times = [s.cursor_time for s in states.values()
                        if s.detector == cfg.name and s.cursor_time is not None]
        start = min(cursor_times) if cursor_times else None
        end = now - cfg.lateness
        if start is not None and start >= end:
            return 0
        table = self.store.read_predictions(spec.name, start=start, end=end,
                                            columns=needed_columns(spec, ids=True), with_actuals=True,
                                            limit=cfg.max_rows_per_cycle)
        if table.num_rows == 0:
            return 0
        frame = EvalFrame.from_arrow(spec, table)
        ids = np.asarray(table.column("prediction_id").to_pylist(), dtype=object)
        errors = _errors(frame)
        stored = 0
        for version in np.unique(frame.version.astype(str)):
            key = (str(version), cfg.name)
            prior = states.get(key)
            mask = (frame.version == version) & frame.labelled
            if prior is not None and prior.cursor_time is not None:
                cur_us = int(prior.cursor_time.timestamp() * 1_000_000)
                after = (frame.event_time > cur_us) | (
                    (frame.event_time == cur_us) & (ids > (prior.cursor_id or "")))
                mask &= after
            rows = np.flatnonzero(mask)
            if rows.size == 0:
                continue
            detector = (pickle.loads(prior.state) if prior is not None
                        else make_detector(cfg.name, **dict(cfg.params)))
            processed = prior.processed if prior is not None else 0
            result = detector.update_many(errors[rows])
            events = []
            for kind, positions in ((DetectorSignal.WARNING, result.warnings),
                                    (DetectorSignal.DRIFT, result.drifts)):
                for pos in positions:
                    i = rows[int(pos)]
                    events.append({
                        "version": str(version), "detector": cfg.name, "kind": kind,
                        "event_time": int(frame.event_time[i]), "prediction_id": str(ids[i]),
                        "position": processed + int(pos),
                        "details": json.dumps({"recent_error": _rate(errors[rows], int(pos))}),
                    })
            last = rows[-1]
            state = DetectorState(
                str(version), cfg.name, pickle.dumps(detector), processed + rows.size,
                datetime.fromtimestamp(frame.event_time[last] / 1e6, UTC),
                str(ids[last]),
            )
            table_ev = _events_table(events)
            self.store.save_detector_progress(spec.name, state, table_ev)
            stored += len(events)
        return stored


def _rate(errors: np.ndarray, pos: int, span: int = 200) -> float:
    window = errors[max(0, pos - span) : pos + 1]
    return float(window.mean()) if window.size else float("nan")


def _events_table(events: list[dict[str, Any]]) -> pa.Table:
    if not events:
        return pa.table({k: pa.array([], t) for k, t in DETECTOR_EVENT_COLUMNS.items()})
    cols = {k: [e[k] for e in events] for k in DETECTOR_EVENT_COLUMNS}
    cols["event_time"] = pa.array(cols["event_time"], pa.int64()).cast(DETECTOR_EVENT_COLUMNS["event_time"])
    return pa.table({k: pa.array(v, DETECTOR_EVENT_COLUMNS[k]) if k != "event_time" else v
                     for k, v in cols.items()})

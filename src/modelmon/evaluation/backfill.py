"""Backfill jobs: a model's whole history evaluated and judged in the background.

One job per model at a time, in a thread of its own: the model's lock keeps scheduled cycles off
it meanwhile, while the scheduler goes on evaluating the other models. A job reports its
progress (windows done and known so far) and, once finished, its summary or its error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from modelmon.evaluation.engine import Evaluator
from modelmon.exceptions import ConflictError

__all__ = ["BackfillJob", "BackfillJobs"]

log = logging.getLogger("modelmon.evaluation")


@dataclass
class BackfillJob:
    """One backfill: ``state`` is ``running``, ``done`` or ``failed``."""

    model: str
    started_at: datetime
    state: str = "running"
    done: int = 0
    total: int = 0
    finished_at: datetime | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None
    _started: float = field(default_factory=time.monotonic, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "state": self.state, "windows_done": self.done,
                "windows_total": self.total, "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "seconds": round(time.monotonic() - self._started, 3) if self.finished_at is None
                else (self.summary or {}).get("seconds"),
                "summary": self.summary, "error": self.error}


class BackfillJobs:
    """The backfill jobs of one evaluator (the service keeps one)."""

    def __init__(self, evaluator: Evaluator,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.evaluator = evaluator
        self.clock = clock
        self._jobs: dict[str, BackfillJob] = {}
        self._guard = threading.Lock()

    def start(self, model: str) -> BackfillJob:
        """Start a backfill of ``model`` (``conflict`` when one is already running)."""
        with self._guard:
            job = self._jobs.get(model)
            if job is not None and job.state == "running":
                raise ConflictError(f"a backfill of model {model!r} is already running",
                                    loc=("model",))
            job = self._jobs[model] = BackfillJob(model, self.clock())
        thread = threading.Thread(target=self._run, args=(job,), name=f"backfill-{model}",
                                  daemon=True)
        thread.start()
        return job

    def get(self, model: str) -> BackfillJob | None:
        return self._jobs.get(model)

    def _run(self, job: BackfillJob) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            summary = self.evaluator.backfill(job.model, progress=progress)
            job.summary = summary.to_dict()
            job.done = job.total = summary.windows_evaluated
            job.state = "done"
        except Exception as exc:
            log.exception("backfill of %s failed", job.model)
            job.error, job.state = type(exc).__name__, "failed"
        finally:
            job.finished_at = self.clock()

"""Runs evaluation cycles in the background: one thread, so cycles never overlap.

A cycle starts every ``interval_seconds`` (or right after the previous one if it ran longer);
:meth:`Scheduler.run_now` asks for a cycle immediately and waits for it (the API's "evaluate
now", tests, the demo). The last cycle's summary and any error feed ``/health``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from modelmon.evaluation.engine import CycleSummary, Evaluator, safe_error
from modelmon.vocabulary import Health

__all__ = ["Scheduler"]

log = logging.getLogger("modelmon.scheduler")


class Scheduler:
    """Background evaluation loop around an :class:`Evaluator`."""

    def __init__(
        self, evaluator: Evaluator, *, interval_seconds: float = 30.0, enabled: bool = True
    ) -> None:
        self.evaluator = evaluator
        self.interval_seconds = interval_seconds
        self.enabled = enabled
        self.last: CycleSummary | None = None
        self.last_error: str | None = None
        self.cycles = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None
        self._busy = False

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="modelmon-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_now(self, timeout: float = 300.0) -> CycleSummary | None:
        """Run a cycle as soon as the current one (if any) ends; wait for it and return it."""
        if not self.running:
            summary = self.evaluator.run_cycle()
            self.last, self.cycles = summary, self.cycles + 1
            return summary
        with self._done:
            target = self.cycles + (2 if self._busy else 1)
            self._wake.set()
            deadline = time.monotonic() + timeout
            while self.cycles < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._done.wait(left):
                    break
        return self.last

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._busy = True
            try:
                summary = self.evaluator.run_cycle()
                self.last, self.last_error = summary, None
                if summary.windows_evaluated:
                    log.info("evaluation cycle: %d windows in %.2f s", summary.windows_evaluated,
                             summary.seconds)
            except Exception as exc:
                log.exception("evaluation cycle failed")
                self.last_error = safe_error(exc)
            finally:
                self._busy = False
                with self._done:
                    self.cycles += 1
                    self._done.notify_all()
            self._wake.wait(self.interval_seconds)
            self._wake.clear()

    def health(self) -> dict[str, Any]:
        """The scheduler's component entry for ``/health``."""
        if not self.enabled:
            return {"status": Health.HEALTHY, "enabled": False, "cycles": self.cycles,
                    "note": "scheduled evaluation is off; POST /v1/evaluate runs a cycle"}
        if not self.running:
            return {"status": Health.UNHEALTHY, "error": "the scheduler is not running"}
        last = self.last
        age = (time.time() - last.started_at.timestamp()) if last else None
        status = Health.HEALTHY
        if self.last_error or (last and any(m.error for m in last.models)):
            status = Health.DEGRADED
        if age is not None and age > max(10 * self.interval_seconds, 600):
            status = Health.DEGRADED
        out: dict[str, Any] = {"status": status, "cycles": self.cycles,
                               "interval_seconds": self.interval_seconds}
        if last is not None:
            out.update(last_cycle_at=last.started_at.isoformat(),
                       last_cycle_seconds=round(last.seconds, 4),
                       last_windows_evaluated=last.windows_evaluated,
                       pending_windows=sum(m.windows_pending for m in last.models))
            errors = {m.model: m.error for m in last.models if m.error}
            if errors:
                out["model_errors"] = errors
        if self.last_error:
            out["error"] = self.last_error
        return out

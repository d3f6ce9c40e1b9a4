"""The retention job: each model's data older than its retention deleted, on a timer.

A model's own ``retention:`` wins over the deployment's ``retention:`` defaults (each of
``predictions`` and ``results`` separately). Each pass deletes raw predictions (with their
actuals) whose event time is older than ``now - predictions``, and window results whose window
ended before ``now - results``; what it deleted is counted in
``modelmon_retention_deleted_rows_total{model,kind}`` and recorded as the model's
``data_deleted`` event. Deleting old rows never re-evaluates their windows: the results stay
until their own retention.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from modelmon._durations import parse_duration
from modelmon.config.models import ModelSpec
from modelmon.store.maintenance import Pruned

if TYPE_CHECKING:
    from modelmon.evaluation.coordination import Leadership
    from modelmon.store.backend import Backend

__all__ = ["RetentionJob", "RetentionPass", "retention_of"]

log = logging.getLogger("modelmon.retention")


def retention_of(spec: ModelSpec, predictions: str | None, results: str | None
                 ) -> tuple[str | None, str | None]:
    """The model's retention of predictions and of results (its own, else the defaults)."""
    own = spec.retention
    return ((own.predictions if own and own.predictions else predictions),
            (own.results if own and own.results else results))


@dataclass
class RetentionPass:
    at: datetime
    pruned: list[Pruned] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


class RetentionJob:
    """Runs retention passes (``run`` once, or ``start`` a timer thread)."""

    def __init__(self, store: Backend, clock: Callable[[], datetime], *,
                 predictions: str | None = None, results: str | None = None,
                 interval: str = "1h",
                 observe: Callable[[Pruned], None] | None = None,
                 leadership: Leadership | None = None) -> None:
        self.store = store
        #: Several servers on one store: the timer prunes only on the leader.
        self.leadership = leadership
        self.clock = clock
        self.defaults = (predictions, results)
        self.interval = parse_duration(interval).total_seconds()
        self.observe = observe
        self.last: RetentionPass | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> RetentionPass:
        now = self.clock()
        done = RetentionPass(now)
        maintenance = self.store.maintenance
        for info in self.store.list_models():
            keep_predictions, keep_results = retention_of(info.spec, *self.defaults)
            try:
                for keep, prune in ((keep_predictions, maintenance.prune_predictions),
                                    (keep_results, maintenance.prune_results)):
                    if keep is None:
                        continue
                    pruned = prune(info.name, now - parse_duration(keep))
                    done.pruned.append(pruned)
                    if self.observe is not None:
                        self.observe(pruned)
            except Exception as exc:  # one model's failure never stops the others
                log.exception("retention of %s failed", info.name)
                done.errors[info.name] = type(exc).__name__
        self.last = done
        return done

    def start(self) -> RetentionJob:
        self._thread = threading.Thread(target=self._loop, name="modelmon-retention",
                                        daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if self.leadership is not None and self.leadership.term() is None:
                continue  # another server leads: it prunes
            try:
                self.run()
            except Exception:
                log.exception("retention pass failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

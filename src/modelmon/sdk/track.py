"""Timing predict functions: ``monitor.track(...)`` as a decorator or a context manager.

Decorator: the prediction's features come from the call's arguments and its prediction from the
return value, through small extractor functions (defaults: the first argument that is a mapping,
and the return value itself)::

    @monitor.track(model="fraud", features=lambda x: x, score=lambda y: y)
    def predict(x: dict) -> float: ...

Each call is timed (``time.perf_counter``) and logged with its latency; when the function raises,
the prediction is logged with ``status="error"`` and the exception's text, and the exception
propagates unchanged. Extractors receive exactly the wrapped function's arguments (``self``
included for methods). An extractor that raises never breaks the call: the prediction is counted
as rejected instead.

Context manager: the block fills in a :class:`TrackedCall`::

    with monitor.track(model="fraud") as call:
        call.features = x
        call.score = model.predict_proba(x)
    call.prediction_id  # available from the start of the block

Only exceptions (``Exception``) are logged as errors; ``KeyboardInterrupt``, ``SystemExit`` and
task cancellation pass through unlogged.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from modelmon.sdk._ids import new_id

if TYPE_CHECKING:
    from modelmon.sdk.monitor import Monitor

__all__ = ["TrackedCall", "Tracker", "last_prediction_id"]

F = TypeVar("F", bound=Callable[..., Any])

_last_id: ContextVar[str | None] = ContextVar("modelmon_last_prediction_id", default=None)
_MAX_ERROR = 4096


def last_prediction_id() -> str | None:
    """Id of the prediction most recently tracked in this thread / asyncio task (set when the
    tracked call starts, so the predict function itself can read it)."""
    return _last_id.get()


class TrackedCall:
    """What one tracked prediction logs; fill it in inside a ``with monitor.track()`` block.

    ``latency`` (seconds) is set when the block ends. Call :meth:`discard` to log nothing.

    Examples
    --------
    >>> from modelmon.sdk import Monitor
    >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
    >>> with m.track() as call:
    ...     call.features = {"amount": 5.0}
    ...     call.prediction = "0"
    >>> len(call.prediction_id), call.latency >= 0, call.status
    (32, True, 'ok')
    >>> m.close(timeout=0)
    False
    """

    __slots__ = (
        "_discarded",
        "error",
        "features",
        "latency",
        "model",
        "prediction",
        "prediction_id",
        "probabilities",
        "score",
        "segments",
        "status",
        "timestamp",
        "version",
    )

    def __init__(self, prediction_id: str, model: str | None, version: str | None) -> None:
        self.prediction_id = prediction_id
        self.model = model
        self.version = version
        self.features: Mapping[str, Any] | None = None
        self.prediction: Any = None
        self.score: Any = None
        self.probabilities: Any = None
        self.segments: Mapping[str, Any] | None = None
        self.status = "ok"
        self.error: str | None = None
        self.latency: float | None = None
        self.timestamp = time.time()
        self._discarded = False

    def discard(self) -> None:
        """Log nothing for this call."""
        self._discarded = True


def _first_mapping(*args: Any, **kwargs: Any) -> Mapping[str, Any]:
    for a in args:
        if isinstance(a, Mapping):
            return a
    for a in kwargs.values():
        if isinstance(a, Mapping):
            return a
    raise TypeError("no argument is a mapping of features: pass features=<function of the "
                    "arguments> to track()")


class Tracker:
    """Returned by :meth:`Monitor.track`: a decorator and a context manager (module docstring).

    Examples
    --------
    >>> from modelmon.sdk import Monitor
    >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
    >>> tracker = m.track(features=lambda x: x)
    >>> double = tracker(lambda x: 2 * x["amount"])
    >>> double({"amount": 2.0}), m.stats.queued
    (4.0, 1)
    >>> m.close(timeout=0)
    False
    """

    def __init__(
        self,
        monitor: Monitor,
        *,
        model: str | None,
        version: str | None,
        features: Callable[..., Mapping[str, Any]] | None,
        prediction: Callable[[Any], Any] | None,
        score: Callable[[Any], Any] | None,
        probabilities: Callable[[Any], Any] | None,
        segments: Callable[..., Mapping[str, Any]] | None,
        prediction_id: Callable[..., str] | None,
    ) -> None:
        self.monitor = monitor
        self.model = model
        self.version = version
        self.features = features
        self.prediction = prediction
        self.score = score
        self.probabilities = probabilities
        self.segments = segments
        self.prediction_id = prediction_id
        self._active: TrackedCall | None = None
        self._started = 0.0

    # --- context manager -------------------------------------------------------------------------
    def __enter__(self) -> TrackedCall:
        if self._active is not None:
            raise RuntimeError("this track() block is already open: call monitor.track() once "
                               "per block (a Tracker is not re-entrant)")
        call = TrackedCall(new_id(), self.model, self.version)
        _last_id.set(call.prediction_id)
        self._active = call
        self._started = time.perf_counter()
        return call

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        latency = time.perf_counter() - self._started
        call, self._active = self._active, None
        if call is None or call._discarded:
            return False
        if exc is not None and not isinstance(exc, Exception):
            return False
        call.latency = latency
        if exc is not None:
            call.status = "error"
            call.error = _error_text(exc)
        self._log(call)
        return False

    # --- decorator -------------------------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        import inspect

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                call = self._begin(args, kwargs)
                started = time.perf_counter()
                try:
                    result = await fn(*args, **kwargs)
                except Exception as exc:
                    self._end(call, started, None, exc)
                    raise
                self._end(call, started, result, None)
                return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            call = self._begin(args, kwargs)
            started = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                self._end(call, started, None, exc)
                raise
            self._end(call, started, result, None)
            return result

        return wrapper  # type: ignore[return-value]

    def _begin(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TrackedCall | None:
        try:
            pid = self.prediction_id(*args, **kwargs) if self.prediction_id else new_id()
            call = TrackedCall(pid, self.model, self.version)
            _last_id.set(pid)
            call.features = (self.features or _first_mapping)(*args, **kwargs)
            if self.segments is not None:
                call.segments = self.segments(*args, **kwargs)
        except Exception as exc:  # monitoring must never break the prediction
            self._extractor_failed(exc)
            return None
        return call

    def _end(self, call: TrackedCall | None, started: float, result: Any,
             exc: Exception | None) -> None:
        latency = time.perf_counter() - started
        if call is None:
            return
        call.latency = latency
        if exc is not None:
            call.status = "error"
            call.error = _error_text(exc)
        else:
            try:
                call.prediction = self.prediction(result) if self.prediction else result
                if self.score is not None:
                    call.score = self.score(result)
                if self.probabilities is not None:
                    call.probabilities = self.probabilities(result)
            except Exception as err:
                self._extractor_failed(err)
                return
        self._log(call)

    def _extractor_failed(self, exc: Exception) -> None:
        self.monitor._reject_here(
            "predictions", self.model, 1, "invalid_value",
            f"a track() extractor raised {type(exc).__name__}: {exc}",
        )

    def _log(self, call: TrackedCall) -> None:
        features = call.features
        if features is None:
            features = {}
        self.monitor.log_prediction(
            features, call.prediction, model=call.model, version=call.version,
            prediction_id=call.prediction_id, score=call.score,
            probabilities=call.probabilities, latency=call.latency, segments=call.segments,
            timestamp=call.timestamp, status=call.status, error=call.error,
        )


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_MAX_ERROR]

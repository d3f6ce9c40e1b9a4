"""``Monitor``: log predictions, actuals and metrics from model code without slowing it down.

Every ``log_*`` call appends a record to an in-memory queue and returns; a daemon thread
(:mod:`modelmon.sdk._sender`) batches, sends, retries and spools. Nothing here raises into the
caller once the monitor is built: records that cannot be stored are counted in :attr:`stats`,
logged, and passed to ``on_error``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelmon.sdk._batching import BULK, MARKER, Batch, Marker
from modelmon.sdk._ids import new_id
from modelmon.sdk.stats import Counters, DeliveryFailure, MonitorStats
from modelmon.sdk.track import Tracker, last_prediction_id

if TYPE_CHECKING:
    from modelmon.sdk._spool import Spool
    from modelmon.sdk._transport import Transport

__all__ = ["Monitor"]

log = logging.getLogger("modelmon.sdk")

_time = time.time
_DROP_LOG_SECONDS = 10.0
_live: weakref.WeakSet[Monitor] = weakref.WeakSet()


def _user_agent() -> str:
    import modelmon

    return f"modelmon-sdk/{modelmon.__version__}"


class Monitor:
    """Client for a modelmon server: log predictions, actuals and metrics in the background.

    Parameters
    ----------
    url : str
        Base URL of the modelmon service, e.g. ``"http://127.0.0.1:8000"``.
    api_key : str, optional
        Sent as ``Authorization: Bearer <key>`` when the server requires a key.
    model, version : str, optional
        Defaults for every call that does not name its own.
    batch_size : int, default 1000
        Records per request (the server accepts up to 10,000 by default).
    flush_interval : float, default 1.0
        Seconds a record waits at most before its (partial) batch is sent.
    max_queue : int, default 100_000
        Records held in memory (queue plus batches being sent or retried). When full, new
        records are dropped and counted in ``stats.dropped``: a call never blocks.
    timeout : float, default 10
        Seconds to wait for the server's answer to one request.
    max_retries : int, default 5
        Failed attempts in a row (timeouts, connection errors, 429, 5xx) after which the monitor
        gives up on the server for now: it spools (with ``spool_dir``) or holds batches in
        memory, and probes at the capped backoff interval (see ``docs/sdk.md``).
    retry_backoff, retry_backoff_max : float, default 0.5 and 30
        Exponential backoff between attempts: about ``retry_backoff * 2**k`` seconds (with
        jitter), capped at ``retry_backoff_max``. A ``Retry-After`` header wins.
    spool_dir : str or path, optional
        Folder where batches that cannot be delivered are written (one file per batch) and
        replayed from once the server is back, also by a later process.
    spool_max_bytes : int, default 1 GiB
        Size limit of the spool; past it, undeliverable batches are dropped.
    on_error : callable, optional
        Called with a :class:`~modelmon.sdk.DeliveryFailure` for every rejected or dropped
        batch (from the sender thread; exceptions it raises are logged and ignored).

    Notes
    -----
    ``log_*`` methods are thread-safe and cost a few microseconds: they build one dict and append
    it to a ``collections.deque``. A background daemon thread does everything else. ``flush()``
    waits for the queue to drain; ``close()`` (also run at interpreter exit) flushes and stops.

    Examples
    --------
    A monitor pointed at a server that is not running: calls still return at once.

    >>> m = Monitor("http://127.0.0.1:9", model="fraud", max_retries=0, flush_interval=60)
    >>> pid = m.log_prediction({"amount": 12.5}, prediction=0, score=0.12)
    >>> len(pid)
    32
    >>> m.stats.queued
    1
    >>> m.close(timeout=0)
    False
    >>> m.stats.dropped
    1
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        model: str | None = None,
        version: str | None = None,
        batch_size: int = 1000,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        timeout: float = 10.0,
        max_retries: int = 5,
        retry_backoff: float = 0.5,
        retry_backoff_max: float = 30.0,
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_bytes: int = 1 << 30,
        on_error: Callable[[DeliveryFailure], Any] | None = None,
    ) -> None:
        from modelmon._validation import check_int, check_real
        from modelmon.exceptions import ParameterError

        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ParameterError(f"The 'url' parameter of Monitor must be an http:// or https:// "
                                 f"URL. Got {url!r} instead.", loc=("url",))
        timeout = check_real(timeout, "timeout", "Monitor", low=0.0, closed="neither")
        spool_max_bytes = check_int(spool_max_bytes, "spool_max_bytes", "Monitor", low=1)

        def make() -> Transport:
            from modelmon.sdk._http import HttpTransport

            return HttpTransport(url, api_key=api_key, timeout=timeout, user_agent=_user_agent())

        spool = None
        if spool_dir is not None:
            from modelmon.sdk._spool import Spool

            spool = Spool(spool_dir, spool_max_bytes)
        self._setup(make, spool, model=model, version=version, batch_size=batch_size,
                    flush_interval=flush_interval, max_queue=max_queue, max_retries=max_retries,
                    retry_backoff=retry_backoff, retry_backoff_max=retry_backoff_max,
                    on_error=on_error)
        self.url: str | None = url

    @classmethod
    def local(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        models: Sequence[Any] | None = None,
        config_path: str | os.PathLike[str] | None = None,
        model: str | None = None,
        version: str | None = None,
        batch_size: int = 1000,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        max_retries: int = 5,
        on_error: Callable[[DeliveryFailure], Any] | None = None,
    ) -> Monitor:
        """Embedded mode: the same API, writing straight into a local DuckDB file.

        Parameters
        ----------
        path : str or path, optional
            The database file (created if absent). Defaults to the ``store.path`` of
            ``config_path``.
        models : list of ModelSpec or dict, optional
            Models to register (or update) in the file before logging.
        config_path : str or path, optional
            A deployment YAML file whose models (and store path) to use.
        model, version, batch_size, flush_interval, max_queue, max_retries, on_error :
            As for :class:`Monitor`.

        Notes
        -----
        Records are validated exactly as the HTTP API validates them; an invalid record is
        counted in ``stats.rejected`` like a 4xx. DuckDB lets one process write a file: do not
        point this at the file of a running server. ``close()`` writes what is queued and
        closes the file.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "mm.duckdb")
        >>> spec = {"name": "churn", "task": "regression",
        ...         "features": [{"name": "age", "type": "numeric"}]}
        >>> m = Monitor.local(path, models=[spec], model="churn")
        >>> _ = m.log_prediction({"age": 41}, prediction=0.7)
        >>> m.close()
        True
        >>> m.stats.sent
        1
        """
        from modelmon.sdk._local import LocalTransport, open_local_store

        store = open_local_store(path, models, config_path)
        self = cls.__new__(cls)
        self.url = None
        try:
            self._setup(lambda: LocalTransport(store), None, model=model, version=version,
                        batch_size=batch_size, flush_interval=flush_interval,
                        max_queue=max_queue, max_retries=max_retries, retry_backoff=0.05,
                        retry_backoff_max=2.0, on_error=on_error)
        except BaseException:
            store.close()  # release the file: nothing was started
            raise
        return self

    def _setup(
        self,
        make_transport: Callable[[], Transport],
        spool: Spool | None,
        *,
        model: str | None,
        version: str | None,
        batch_size: int,
        flush_interval: float,
        max_queue: int,
        max_retries: int,
        retry_backoff: float,
        retry_backoff_max: float,
        on_error: Callable[[DeliveryFailure], Any] | None,
    ) -> None:
        from modelmon._validation import check_int, check_real
        from modelmon.exceptions import ParameterError

        for name, value in (("model", model), ("version", version)):
            if value is not None and not isinstance(value, str):
                raise ParameterError(f"The {name!r} parameter of Monitor must be a str or None. "
                                     f"Got {value!r} instead.", loc=(name,))
        if on_error is not None and not callable(on_error):
            raise ParameterError(f"The 'on_error' parameter of Monitor must be callable or None. "
                                 f"Got {on_error!r} instead.", loc=("on_error",))
        self._batch_size = check_int(batch_size, "batch_size", "Monitor", low=1, high=10_000)
        self._options: dict[str, Any] = {
            "batch_size": self._batch_size,
            "flush_interval": check_real(flush_interval, "flush_interval", "Monitor", low=0.0,
                                         closed="neither"),
            "max_queue": check_int(max_queue, "max_queue", "Monitor", low=1),
            "max_retries": check_int(max_retries, "max_retries", "Monitor", low=0),
            "backoff": check_real(retry_backoff, "retry_backoff", "Monitor", low=0.0,
                                  closed="neither"),
            "backoff_max": check_real(retry_backoff_max, "retry_backoff_max", "Monitor",
                                      low=float(retry_backoff)),
        }
        self.model = model
        self.version = version
        self._on_error = on_error
        self._make_transport = make_transport
        self._spool = spool
        self._counters = Counters()
        self._last_drop_log = 0.0
        self._closed = False
        self._close_ok = False
        self._start_sender()
        atexit.register(self._at_exit)
        _live.add(self)

    def _start_sender(self) -> None:
        from modelmon.sdk._sender import Sender

        self._sender = Sender(self._make_transport(), counters=self._counters, report=self._report,
                              spool=self._spool, **self._options)
        self._queue = self._sender.queue
        self._wake = self._sender.wake
        self._sender.start()

    # --- the hot path ----------------------------------------------------------------------------
    def log_prediction(
        self,
        features: Mapping[str, Any],
        prediction: Any = None,
        *,
        model: str | None = None,
        version: str | None = None,
        prediction_id: str | None = None,
        score: float | None = None,
        probabilities: Sequence[float] | Mapping[Any, float] | None = None,
        latency: float | None = None,
        segments: Mapping[str, Any] | None = None,
        timestamp: Any = None,
        status: str = "ok",
        error: str | None = None,
    ) -> str:
        """Queue one prediction and return its id at once.

        Parameters
        ----------
        features : mapping
            ``{feature name: value}`` (copied, so the caller may reuse the dict).
        prediction : label or number, optional
            Predicted class (classification) or value (regression). A binary model may send only
            ``score``; a failed prediction (``status="error"``) may send none.
        model, version : str, optional
            Override the monitor's defaults.
        prediction_id : str, optional
            Your id for this prediction; by default a new time-ordered UUIDv7 (32 hex digits).
        score : float, optional
            Probability of the positive class (binary classification).
        probabilities : list or mapping, optional
            Class probabilities (multiclass), in the model's class order or ``{class: p}``.
        latency : float, optional
            Seconds the prediction took.
        segments : mapping, optional
            ``{segment name: value}`` for slicing and fairness.
        timestamp : datetime, ISO 8601 str or epoch seconds, optional
            Event time; defaults to the time of this call (a naive datetime means UTC).
        status : {"ok", "error"}, default "ok"
            ``"error"`` records a failed prediction for error-rate tracking.
        error : str, optional
            The error text of a failed prediction.

        Returns
        -------
        str
            The prediction id (use it for :meth:`log_actual`).

        Examples
        --------
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> pid = m.log_prediction({"amount": 3.0}, "fraud", prediction_id="tx-1", latency=0.004)
        >>> pid
        'tx-1'
        >>> m.close(timeout=0)
        False
        """
        if prediction_id is None:
            prediction_id = new_id()
        q = self._queue
        if len(q) >= self._sender.room:
            self._drop_here(1)
            return prediction_id
        m = model or self.model
        if m is None or (type(features) is not dict and not isinstance(features, Mapping)):
            self._invalid_prediction(m, features)
            return prediction_id
        rec: dict[str, Any] = {
            "prediction_id": prediction_id,
            "features": dict(features),
            "timestamp": _time() if timestamp is None else timestamp,
        }
        if prediction is not None:
            rec["prediction"] = prediction
        if score is not None:
            rec["score"] = score
        if probabilities is not None:
            rec["probabilities"] = probabilities
        if latency is not None:
            rec["latency_seconds"] = latency
        if segments is not None:
            rec["segments"] = dict(segments)
        if status != "ok":
            rec["status"] = status
        if error is not None:
            rec["error"] = error
        q.append(("predictions", m, version or self.version, rec))
        if len(q) >= self._batch_size and not self._wake.is_set():
            self._wake.set()
        return prediction_id

    def _invalid_prediction(self, model: str | None, features: Any) -> None:
        if model is None:
            self._reject_here("predictions", None, 1, "missing_field",
                              "no model: pass model= to the call or to Monitor()")
        else:
            self._reject_here("predictions", model, 1, "invalid_type",
                              f"features must be a mapping {{name: value}}; got "
                              f"{type(features).__name__}")

    def _enqueue(self, kind: str, model: str | None, version: str | None,
                 record: dict[str, Any]) -> bool:
        q = self._queue
        if len(q) >= self._sender.room:
            self._drop_here(1)
            return False
        m = model or self.model
        if m is None:
            self._reject_here(kind, None, 1, "missing_field",
                              "no model: pass model= to the call or to Monitor()")
            return False
        q.append((kind, m, version, record))
        if len(q) >= self._batch_size and not self._wake.is_set():
            self._wake.set()
        return True

    def log_actual(
        self,
        prediction_id: str,
        actual: Any,
        *,
        model: str | None = None,
        timestamp: Any = None,
    ) -> None:
        """Queue the actual outcome (ground truth) of a prediction.

        It may arrive before the prediction itself (the server joins them when both are there);
        a later actual for the same id replaces the earlier one.

        Parameters
        ----------
        prediction_id : str
            The id :meth:`log_prediction` returned (or the one you gave it).
        actual : label or number
            True class (classification) or value (regression).
        model : str, optional
            Overrides the monitor's default.
        timestamp : datetime, ISO 8601 str or epoch seconds, optional
            When the outcome was observed; defaults to the time of this call.

        Examples
        --------
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> m.log_actual("tx-1", "fraud")
        >>> m.stats.queued
        1
        >>> m.close(timeout=0)
        False
        """
        self._enqueue("actuals", model, None, {
            "prediction_id": prediction_id, "actual": actual,
            "timestamp": _time() if timestamp is None else timestamp,
        })

    def log_metric(
        self,
        name: str,
        value: float,
        *,
        kind: str = "custom",
        model: str | None = None,
        version: str | None = None,
        prediction_id: str | None = None,
        segment: str | None = None,
        timestamp: Any = None,
    ) -> None:
        """Queue a custom metric or a business event (a conversion, revenue ...).

        Parameters
        ----------
        name : str
            Metric name, e.g. ``"revenue"``.
        value : float
            Its value.
        kind : {"custom", "business"}, default "custom"
            ``business`` events may name the ``prediction_id`` they resulted from.
        model, version, prediction_id, segment : str, optional
            What the value belongs to.
        timestamp : datetime, ISO 8601 str or epoch seconds, optional
            Defaults to the time of this call.

        Examples
        --------
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> m.log_metric("revenue", 12.5, kind="business", prediction_id="tx-1")
        >>> m.stats.queued
        1
        >>> m.close(timeout=0)
        False
        """
        rec: dict[str, Any] = {"name": name, "value": value, "kind": kind,
                               "timestamp": _time() if timestamp is None else timestamp}
        version = version or self.version
        if version is not None:
            rec["version"] = version
        if prediction_id is not None:
            rec["prediction_id"] = prediction_id
        if segment is not None:
            rec["segment"] = segment
        self._enqueue("metric_events", model, None, rec)

    def log_feature_importance(
        self,
        importances: Mapping[str, float],
        *,
        model: str | None = None,
        version: str | None = None,
        method: str | None = None,
        timestamp: Any = None,
    ) -> None:
        """Queue a feature-importance snapshot ``{feature: importance}`` (e.g. mean |SHAP|).

        Examples
        --------
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> m.log_feature_importance({"amount": 0.7, "merchant": 0.3}, method="shap")
        >>> m.stats.queued
        1
        >>> m.close(timeout=0)
        False
        """
        try:
            rec: dict[str, Any] = {"importances": dict(importances),
                                   "timestamp": _time() if timestamp is None else timestamp}
        except (TypeError, ValueError) as exc:
            self._reject_here("feature_importance", model or self.model, 1, "invalid_type",
                              f"importances must be a mapping {{feature: value}}: {exc}")
            return
        version = version or self.version
        if version is not None:
            rec["version"] = version
        if method is not None:
            rec["method"] = method
        self._enqueue("feature_importance", model, None, rec)

    def log_training_run(
        self,
        *,
        model: str | None = None,
        version: str | None = None,
        run_id: str | None = None,
        kind: str = "training",
        status: str = "success",
        started_at: Any = None,
        finished_at: Any = None,
        duration_seconds: float | None = None,
        samples: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> str:
        """Queue a training run or an online-learning update; return its run id.

        ``kind`` is ``"training"`` or ``"online_update"``; ``status`` is ``"success"``,
        ``"failed"`` or ``"running"``. ``started_at`` defaults to now minus
        ``duration_seconds`` (or now).

        Examples
        --------
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> m.log_training_run(run_id="nightly-42", duration_seconds=95.0, samples=120_000)
        'nightly-42'
        >>> m.close(timeout=0)
        False
        """
        run_id = run_id or new_id()
        if started_at is None:
            started_at = _time() - (duration_seconds or 0.0)
        rec: dict[str, Any] = {"run_id": run_id, "kind": kind, "status": status,
                               "started_at": started_at}
        version = version or self.version
        for key, value in (("version", version), ("finished_at", finished_at),
                           ("duration_seconds", duration_seconds), ("samples", samples),
                           ("details", dict(details) if details is not None else None)):
            if value is not None:
                rec[key] = value
        self._enqueue("training_runs", model, None, rec)
        return run_id

    # --- frames ----------------------------------------------------------------------------------
    def log_batch(
        self,
        frame: Any,
        *,
        model: str | None = None,
        version: str | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Queue many predictions from a data frame; sent as Arrow IPC bulk uploads.

        Parameters
        ----------
        frame : pandas or polars DataFrame, pyarrow Table, dict of columns or list of dicts
            One row per prediction. Columns named like record fields are read as such:
            ``prediction_id``, ``timestamp``, ``prediction``, ``score``, ``probabilities``,
            ``latency_seconds`` (or ``latency_ms``), ``status``, ``error``, ``version``. Every
            other column is a feature or a segment of the model, named after it. A list of
            dicts may also hold records with nested ``features`` / ``segments`` objects.
        model, version : str, optional
            Override the monitor's defaults (a ``version`` column wins per row).
        columns : mapping, optional
            Renames ``{frame column: record field}``, e.g. ``{"y_hat": "prediction"}``.

        Returns
        -------
        list of str
            The prediction id of every row (made client-side where the frame has none).

        Notes
        -----
        The frame is converted to Arrow in the calling thread (a copy, so the caller may
        change it afterwards) and cut into uploads of at most about 8 MiB; each upload is all
        or nothing on the server. The rows count against ``max_queue``: rows that do not fit
        are dropped and counted, so raise ``max_queue`` or ``flush()`` between very large
        frames. Rows with no ``timestamp`` get the time of this call.

        Examples
        --------
        >>> import pandas as pd
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> frame = pd.DataFrame({"amount": [3.0, 9.5], "y_hat": [0, 1], "score": [0.1, 0.8]})
        >>> ids = m.log_batch(frame, columns={"y_hat": "prediction"})
        >>> len(ids), m.stats.queued
        (2, 2)
        >>> m.close(timeout=0)
        False
        """
        m = model or self.model
        try:
            from modelmon.sdk import _frames

            table = _frames.predictions_table(_frames.to_table(frame, columns))
        except Exception as exc:  # a frame we cannot read is the caller's fault
            self._reject_here("predictions", m, _rows(frame), "invalid_type",
                              f"log_batch could not read the frame: {exc}")
            return []
        ids: list[str] = table.column("prediction_id").to_pylist()
        if m is None:
            self._reject_here("predictions", None, len(ids), "missing_field",
                              "no model: pass model= to the call or to Monitor()")
            return ids
        self._enqueue_bulk("predictions", m, version or self.version, table)
        return ids

    def log_actuals(
        self,
        data: Any,
        *,
        model: str | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> int:
        """Queue many actuals at once; return how many rows were queued.

        ``data`` is a frame (columns ``prediction_id``, ``actual``, optional ``timestamp``), a
        dict ``{prediction_id: actual}``, or a list of ``(prediction_id, actual)`` or
        ``(prediction_id, actual, timestamp)`` tuples. Sent as Arrow IPC bulk uploads.

        Examples
        --------
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> m.log_actuals({"tx-1": 1, "tx-2": 0})
        2
        >>> m.log_actuals([("tx-3", 1), ("tx-4", 0)])
        2
        >>> m.close(timeout=0)
        False
        """
        m = model or self.model
        try:
            from modelmon.sdk import _frames

            table = _frames.actuals_table(data, columns)
        except Exception as exc:
            self._reject_here("actuals", m, _rows(data), "invalid_type",
                              f"log_actuals could not read the data: {exc}")
            return 0
        if m is None:
            self._reject_here("actuals", None, table.num_rows, "missing_field",
                              "no model: pass model= to the call or to Monitor()")
            return 0
        return self._enqueue_bulk("actuals", m, None, table)

    def _enqueue_bulk(self, kind: str, model: str, version: str | None, table: Any) -> int:
        from modelmon.sdk import _frames

        queued = 0
        for part in _frames.chunks(table):
            batch = Batch(kind, model, version, table=part)
            if not self._sender.try_hold(batch.n):
                self._drop_here(batch.n)
                continue
            self._queue.append((BULK, model, version, batch))
            queued += batch.n
        self._wake.set()
        return queued

    # --- decorator / context manager -------------------------------------------------------------
    def track(
        self,
        fn: Callable[..., Any] | None = None,
        /,
        *,
        model: str | None = None,
        version: str | None = None,
        features: Callable[..., Mapping[str, Any]] | None = None,
        prediction: Callable[[Any], Any] | None = None,
        score: Callable[[Any], Any] | None = None,
        probabilities: Callable[[Any], Any] | None = None,
        segments: Callable[..., Mapping[str, Any]] | None = None,
        prediction_id: Callable[..., str] | None = None,
    ) -> Any:
        """Time a predict function and log each call (decorator), or one block (``with``).

        Parameters
        ----------
        fn : callable, optional
            Lets ``@monitor.track`` be used without parentheses.
        model, version : str, optional
            Override the monitor's defaults.
        features : callable, optional
            Called with the function's arguments; returns ``{feature: value}``. Default: the
            first argument that is a mapping.
        prediction, score, probabilities : callable, optional
            Called with the return value. Default prediction: the return value itself.
        segments : callable, optional
            Called with the function's arguments; returns ``{segment: value}``.
        prediction_id : callable, optional
            Called with the function's arguments; returns the id (default: a new UUIDv7; read it
            with :attr:`last_prediction_id`).

        Returns
        -------
        Tracker
            A decorator, and a context manager whose ``with`` target is a
            :class:`~modelmon.sdk.TrackedCall` to fill in.

        Examples
        --------
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> @m.track(features=lambda x: x, score=lambda p: p)
        ... def predict(x):
        ...     return 0.25
        >>> predict({"amount": 3.0})
        0.25
        >>> with m.track() as call:
        ...     call.features = {"amount": 4.0}
        ...     call.score = 0.5
        >>> m.stats.queued
        2
        >>> m.close(timeout=0)
        False
        """
        tracker = Tracker(self, model=model, version=version, features=features,
                          prediction=prediction, score=score, probabilities=probabilities,
                          segments=segments, prediction_id=prediction_id)
        return tracker(fn) if fn is not None else tracker

    @property
    def last_prediction_id(self) -> str | None:
        """Id of the prediction most recently tracked with :meth:`track` in this thread or
        asyncio task (set when the tracked call starts).

        Examples
        --------
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> predict = m.track(lambda x: 1, prediction_id=lambda x: "req-7")
        >>> predict({"amount": 2.0}), m.last_prediction_id
        (1, 'req-7')
        >>> m.close(timeout=0)
        False
        """
        return last_prediction_id()

    # --- control ---------------------------------------------------------------------------------
    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything queued so far was sent, rejected, spooled or dropped.

        Returns True when all of it was stored (or spooled to disk, to be sent later). Returns
        False when the server refused some of it (a 4xx: a wrong API key, an invalid record;
        ``stats.rejected`` and ``on_error`` tell which), some was dropped, or the wait did not
        end within ``timeout`` seconds (e.g. the server is down and there is no spool; ``None``
        waits as long as it takes), or the monitor is closed. Each call reports on the records
        queued since the previous one.

        Examples
        --------
        >>> import os, tempfile
        >>> spec = {"name": "m", "task": "regression", "features": [{"name": "x", "type": "numeric"}]}
        >>> m = Monitor.local(os.path.join(tempfile.mkdtemp(), "f.duckdb"), models=[spec], model="m")
        >>> for x in range(3):
        ...     _ = m.log_prediction({"x": x}, 2.0 * x)
        >>> m.flush(), m.stats.sent
        (True, 3)
        >>> m.close()
        True
        """
        return self._mark(Marker(), timeout)

    def replay_spool(self, timeout: float | None = None) -> int:
        """Send the spooled batches now (after what is queued); return the records replayed.

        Stops at the first batch the server cannot take; the rest stays in the spool (and is
        replayed automatically once the server answers again).

        Examples
        --------
        >>> import tempfile
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", spool_dir=tempfile.mkdtemp(),
        ...             max_retries=0, retry_backoff=0.01)
        >>> _ = m.log_prediction({"amount": 1.0}, 0)
        >>> m.flush(10), m.stats.spooled     # the server is down: the batch went to disk
        (True, 1)
        >>> m.replay_spool(10)                # still down: nothing replayed, nothing lost
        0
        >>> m.close(), m.stats.spool_records
        (True, 1)
        """
        if self._spool is None:
            return 0
        marker = Marker(replay=True)
        self._mark(marker, timeout)
        return marker.count

    def _mark(self, marker: Marker, timeout: float | None) -> bool:
        sender = self._sender
        if self._closed or threading.current_thread() is sender.thread:
            return False
        self._queue.append((MARKER, None, None, marker))
        self._wake.set()
        return marker.done.wait(timeout) and marker.ok

    def close(self, timeout: float = 10.0) -> bool:
        """Deliver what is queued (waiting at most ``timeout`` seconds), then stop.

        Whatever could not be delivered in time is spooled (with ``spool_dir``) or counted as
        dropped. Returns True if nothing was dropped. Calling it again does nothing.

        Examples
        --------
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> m.close(), m.close()
        (True, True)
        """
        if self._closed:
            return self._close_ok
        self._closed = True
        atexit.unregister(self._at_exit)
        self._close_ok = self._sender.stop(max(0.0, float(timeout)))
        return self._close_ok

    def _at_exit(self) -> None:
        self.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def stats(self) -> MonitorStats:
        """A snapshot of the delivery counters (see :class:`~modelmon.sdk.MonitorStats`).

        Examples
        --------
        >>> m = Monitor("http://127.0.0.1:9", model="fraud", flush_interval=60)
        >>> m.stats.to_dict()["queued"]
        0
        >>> m.close()
        True
        """
        spooled_now = self._spool.records() if self._spool is not None else 0
        return self._counters.snapshot(self._sender.queued, spooled_now)

    def __repr__(self) -> str:
        where = self.url or "local store"
        return f"Monitor({where!r}, model={self.model!r}, closed={self._closed})"

    # --- failures --------------------------------------------------------------------------------
    def _drop_here(self, n: int) -> None:
        """The queue is full (or closed): count, and warn at most every few seconds."""
        self._counters.add(dropped=n)
        now = time.monotonic()
        if now - self._last_drop_log > _DROP_LOG_SECONDS:
            self._last_drop_log = now
            why = "the monitor is closed" if self._closed else (
                f"the queue is full (max_queue={self._options['max_queue']}); the server is "
                "slow or unreachable")
            log.warning("modelmon: dropping records: %s (stats.dropped counts them)", why)

    def _reject_here(self, kind: str, model: str | None, n: int, code: str, message: str) -> None:
        self._counters.add(rejected=n)
        self._report(DeliveryFailure("rejected", kind, model, n, code, message))

    def _report(self, failure: DeliveryFailure) -> None:
        where = ".".join(map(str, failure.loc))
        log.warning("modelmon: %d %s record(s) for model %r %s: %s%s: %s", failure.records,
                    failure.kind, failure.model, failure.reason, failure.code,
                    f" at {where}" if where else "", failure.message)
        if self._on_error is not None:
            try:
                self._on_error(failure)
            except Exception:  # a user callback must not kill the sender
                log.exception("modelmon: the on_error callback raised")

    def _after_fork(self) -> None:
        """In a forked child: the sender thread did not survive the fork; start a fresh one
        (without the parent's queued records, which the parent still sends)."""
        if self._closed:
            return
        if self.url is None:  # an embedded store cannot be shared with the parent
            self._closed = True
            self._close_ok = False
            self._sender.closed = True
            self._sender.room = -1
            return
        self._counters = Counters()
        if self._spool is not None:
            self._spool._lock = threading.Lock()  # it may have been held during the fork
        self._start_sender()


def _rows(data: Any) -> int:
    try:
        return len(data)
    except TypeError:
        return 1


def _reinit_after_fork() -> None:
    for monitor in list(_live):
        monitor._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)

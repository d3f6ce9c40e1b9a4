"""Delivery rules of the sender, driven by a scripted transport (exact answers, exact timing).

The integration tests run the same rules against the real service; here each answer the server
could give is played on cue: Retry-After, a batch the server keeps failing on, unencodable values.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelmon.sdk import DeliveryFailure, Monitor
from modelmon.sdk._batching import Batch, group
from modelmon.sdk._http import classify
from modelmon.sdk._spool import Spool
from modelmon.sdk._transport import Outcome
from modelmon.sdk._wire import decode_rows, encode_request


class Scripted:
    """Answers attempts from a script, then stores everything."""

    can_spool = True

    def __init__(self, *outcomes: Outcome) -> None:
        self.script = list(outcomes)
        self.calls: list[tuple[float, str, int]] = []

    def prepare(self, batch: Batch) -> None:
        if batch.request is None:
            batch.request = encode_request(batch)

    def send(self, batch: Batch) -> Outcome:
        self.prepare(batch)
        self.calls.append((time.monotonic(), batch.key, batch.n))
        if self.script:
            return self.script.pop(0)
        return Outcome("stored", accepted=batch.n)

    def close(self) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[Any]:
    made: list[Monitor] = []

    def make(transport: Scripted, spool: Spool | None = None, **options: Any) -> Monitor:
        m = Monitor.__new__(Monitor)
        settings: dict[str, Any] = {
            "model": "m", "version": None, "batch_size": 100, "flush_interval": 0.05,
            "max_queue": 10_000, "max_retries": 2, "retry_backoff": 0.02,
            "retry_backoff_max": 0.1, "on_error": None,
        }
        settings.update(options)
        m._setup(lambda: transport, spool, **settings)
        m.url = "scripted"
        made.append(m)
        return m

    yield make
    for m in made:
        m.close(timeout=1)


def _log(m: Monitor, n: int) -> list[str]:
    return [m.log_prediction({"x": float(i)}, 1) for i in range(n)]


def test_retry_after_is_respected_and_the_key_kept(scripted: Any) -> None:
    t = Scripted(Outcome("retry", http_status=503, code="store_unavailable", retry_after=0.3))
    m = scripted(t)
    _log(m, 10)
    assert m.flush(5)
    (t1, key1, n1), (t2, key2, n2) = t.calls
    assert t2 - t1 >= 0.3
    assert (key1, n1) == (key2, n2)  # the same batch, the same idempotency key
    assert (m.stats.sent, m.stats.retried) == (10, 1)


def test_backoff_grows_exponentially(scripted: Any) -> None:
    fail = Outcome("retry", code="unreachable")
    t = Scripted(fail, fail, fail)
    m = scripted(t, max_retries=5, retry_backoff=0.05, retry_backoff_max=10.0)
    _log(m, 1)
    assert m.flush(5)
    times = [c[0] for c in t.calls]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # equal jitter: the k-th wait lies in [b * 2**k / 2, b * 2**k]
    for k, gap in enumerate(gaps):
        assert 0.05 * 2**k / 2 <= gap + 0.005
        assert gap <= 0.05 * 2**k + 0.25
    assert m.stats.retried == 3


def test_rejections_are_never_retried(scripted: Any) -> None:
    failures: list[DeliveryFailure] = []
    t = Scripted(Outcome("rejected", http_status=422, code="invalid_prediction",
                         message="bad", loc=("records",)))
    m = scripted(t, on_error=failures.append)
    _log(m, 7)
    assert not m.flush(5)
    assert len(t.calls) == 1
    assert (m.stats.rejected, m.stats.retried, m.stats.sent) == (7, 0, 0)
    assert [(f.code, f.records) for f in failures] == [("invalid_prediction", 7)]


def test_incomplete_error_lists_reject_the_whole_batch(scripted: Any) -> None:
    errors = tuple({"code": "invalid_value", "loc": ["records", i, "x"]} for i in range(50))
    t = Scripted(Outcome("rejected", http_status=422, code="invalid_value",
                         message="x must be finite (and 80 more problems)",
                         loc=("records", 0, "x"), errors=errors))
    m = scripted(t)
    _log(m, 100)
    assert not m.flush(5)
    assert len(t.calls) == 1  # the server did not list every bad record: no resend
    assert m.stats.rejected == 100


def test_server_error_on_one_batch_goes_to_the_dead_letter_folder(
    scripted: Any, tmp_path: Path
) -> None:
    boom = Outcome("retry", http_status=500, code="internal_error", unavailable=False)
    failures: list[DeliveryFailure] = []
    spool = Spool(tmp_path, 1 << 20)
    t = Scripted(boom, boom, boom)
    m = scripted(t, spool, max_retries=2, on_error=failures.append)
    _log(m, 5)
    assert not m.flush(5)
    assert len(t.calls) == 3
    assert (m.stats.dropped, m.stats.spooled, m.stats.spool_records) == (5, 0, 0)
    assert [(f.reason, f.code) for f in failures] == [("dropped", "server_error")]
    [dead] = list((tmp_path / "failed").glob("*.mmspool"))
    batch = Spool(tmp_path / "failed", 1 << 20).read(dead.name)
    assert batch is not None
    assert batch.n == 5
    _log(m, 3)  # the sender moved on: later batches go through
    assert m.flush(5)
    assert m.stats.sent == 3


def test_unencodable_records_are_rejected_alone(scripted: Any) -> None:
    failures: list[DeliveryFailure] = []
    t = Scripted()
    m = scripted(t, on_error=failures.append)
    m.log_prediction({"x": 1.0}, 1)
    m.log_prediction({"x": object()}, 1)
    m.log_prediction({"x": 3.0}, 1)
    assert not m.flush(5)
    assert (m.stats.sent, m.stats.rejected) == (2, 1)
    assert [(f.code, f.records) for f in failures] == [("unserializable", 1)]


def test_on_error_exceptions_do_not_stop_the_sender(scripted: Any) -> None:
    def explode(failure: DeliveryFailure) -> None:
        raise RuntimeError("callback bug")

    t = Scripted(Outcome("rejected", http_status=422, code="invalid_value", message="m"))
    m = scripted(t, on_error=explode)
    _log(m, 2)
    assert not m.flush(5)
    _log(m, 3)
    assert m.flush(5)
    assert (m.stats.rejected, m.stats.sent) == (2, 3)


def test_flush_from_on_error_does_not_deadlock(scripted: Any) -> None:
    results: list[bool] = []
    holder: dict[str, Monitor] = {}
    t = Scripted(Outcome("rejected", http_status=422, code="invalid_value", message="m"))
    m = scripted(t, on_error=lambda f: results.append(holder["m"].flush(1)))
    holder["m"] = m
    _log(m, 1)
    assert not m.flush(5)
    assert results == [False]


def test_spool_files_are_atomic_and_bounded(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=600)
    b = Batch("predictions", "m", "v1", records=[{"prediction_id": "a", "features": {}}])
    request = encode_request(b)
    assert spool.write(b, request)
    [name] = spool.files()
    read = spool.read(name)
    assert read is not None
    assert (read.key, read.n, read.version, read.request) == (b.key, 1, "v1", request)
    decode_rows(read)
    assert read.records == b.records
    big = Batch("predictions", "m", None, records=[{"f": "x" * 1000}])
    assert not spool.write(big, encode_request(big))  # over max_bytes: refused, nothing written
    assert spool.records() == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    (tmp_path / f"{'0' * 23}-deadbeef-1-0.mmspool").write_bytes(b"not json\n")
    assert spool.read(f"{'0' * 23}-deadbeef-1-0.mmspool") is None  # quarantined
    assert (tmp_path / "failed" / f"{'0' * 23}-deadbeef-1-0.mmspool").exists()
    new_name, failures = spool.record_failure(name)
    assert (failures, new_name.endswith("-1-1.mmspool")) == (1, True)
    spool.remove(new_name)
    assert spool.files() == []


def test_group_keeps_markers_in_place() -> None:
    from modelmon.sdk._batching import MARKER, Marker

    mark = Marker()
    items = [("predictions", "a", "v", {"i": 0}), ("predictions", "b", None, {"i": 1}),
             (MARKER, None, None, mark), ("predictions", "a", "v", {"i": 2}),
             ("training_runs", "a", None, {"run_id": "r"})]
    out = group(items, batch_size=10)
    assert [type(x).__name__ for x in out] == ["Batch", "Batch", "Marker", "Batch", "Batch"]
    assert [(b.model, b.n) for b in out if isinstance(b, Batch)] == [
        ("a", 1), ("b", 1), ("a", 1), ("a", 1)]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [(200, b'{"accepted": 3, "duplicates": 0, "replayed": true}', ("stored", True)),
     (404, b'{"code": "model_not_found", "message": "x", "loc": ["model"]}', ("rejected", True)),
     (429, b"", ("retry", True)), (500, b"oops", ("retry", False)),
     (503, b'{"code": "store_unavailable"}', ("retry", True))],
)
def test_classify(status: int, body: bytes, expected: tuple[str, bool]) -> None:
    out = classify(status, body)
    assert out.status == expected[0]
    if out.status == "retry":
        assert out.unavailable is expected[1]
    if out.status == "stored":
        assert out.replayed is expected[1]


def test_retry_after_http_date() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    out = classify(503, b"", when)
    assert out.retry_after is not None
    assert 25 <= out.retry_after <= 31

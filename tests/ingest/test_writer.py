"""Group commit: who shares a commit, when a commit waits for more, and failures kept apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pytest

from modelmon.exceptions import StoreError
from modelmon.ingest.writer import SMALL_REQUEST_ROWS, GroupCommitWriter
from modelmon.store.base import BatchKind, WriteBatch, WriteResult

# Far beyond any wait these tests expect: reaching it means the writer waited when it should not.
LONG = 30.0


class FakeStore:
    """Records each commit's batches; a batch of model "poison" fails its whole commit."""

    def __init__(self) -> None:
        self.commits: list[list[str]] = []
        self.maintained = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def write(self, batches: Sequence[WriteBatch]) -> list[WriteResult]:
        self.entered.set()
        self.release.wait()
        if any(b.model == "poison" for b in batches):
            raise StoreError("poisoned commit")
        self.commits.append([b.table.column("id")[0].as_py() for b in batches])
        return [WriteResult(b.kind, b.model, b.num_rows) for b in batches]

    def maintain(self) -> None:
        self.maintained += 1


def batch(name: str, rows: int = 1, model: str = "m") -> list[WriteBatch]:
    return [WriteBatch(BatchKind.PREDICTIONS, model, pa.table({"id": [name] * rows}))]


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@contextmanager
def make_writer(store: FakeStore, **kwargs: Any) -> Iterator[GroupCommitWriter]:
    writer = GroupCommitWriter(store, **{"max_wait_seconds": LONG, **kwargs})  # type: ignore[arg-type]
    writer.start()
    try:
        yield writer
    finally:
        writer.stop()


@pytest.fixture
def writer(store: FakeStore) -> Iterator[GroupCommitWriter]:
    with make_writer(store) as w:
        yield w


def test_requests_queued_during_a_commit_share_the_next(store: FakeStore,
                                                        writer: GroupCommitWriter) -> None:
    store.release.clear()
    first = writer.submit(batch("a"))
    assert store.entered.wait(5)
    rest = [writer.submit(batch(x)) for x in "bcd"]
    store.release.set()
    assert [f.result(5)[0].inserted for f in (first, *rest)] == [1, 1, 1, 1]
    assert store.commits == [["a"], ["b", "c", "d"]]
    assert store.maintained == 2  # after each commit


def test_a_lone_request_does_not_wait(store: FakeStore, writer: GroupCommitWriter) -> None:
    started = time.monotonic()
    writer.submit(batch("a")).result(LONG)
    assert time.monotonic() - started < LONG / 2
    assert store.commits == [["a"]]


def test_a_commit_waits_for_announced_requests(store: FakeStore, writer: GroupCommitWriter) -> None:
    with writer.incoming():
        first = writer.submit(batch("a", 200))
        time.sleep(0.3)  # "b" is still being validated
        assert not first.done()
        second = writer.submit(batch("b", 200))
    first.result(5), second.result(5)
    assert store.commits == [["a", "b"]]


def test_a_commit_holding_a_small_request_does_not_wait(store: FakeStore,
                                                        writer: GroupCommitWriter) -> None:
    # a single prediction is someone waiting: announced batches do not hold its commit
    with writer.incoming():
        first = writer.submit(batch("a", SMALL_REQUEST_ROWS - 1))
        first.result(0.25)
        assert store.commits == [["a"]]


def test_a_backlog_is_committed_without_lingering(store: FakeStore) -> None:
    with make_writer(store, linger_seconds=1.0) as writer:
        store.release.clear()
        first = writer.submit(batch("a"))  # the writer was idle: it lingers for company
        assert store.entered.wait(10)
        queued = [writer.submit(batch(name)) for name in "bc"]  # queued behind that commit
        store.release.set()
        first.result(5)
        for f in queued:
            f.result(0.8)  # not after another 1 s linger
        assert store.commits == [["a"], ["b", "c"]]


def test_waiting_ends_when_the_announced_request_is_dropped(store: FakeStore,
                                                           writer: GroupCommitWriter) -> None:
    with writer.incoming():
        first = writer.submit(batch("a"))
        time.sleep(0.1)
    # e.g. its validation failed: nothing more is coming
    first.result(5)
    assert store.commits == [["a"]]


def test_waiting_ends_at_the_target_size(store: FakeStore) -> None:
    with make_writer(store, target_commit_records=300) as writer:
        with writer.incoming():
            futures = [writer.submit(batch("a", 200)), writer.submit(batch("b", 200))]
            for f in futures:  # committed while a request is still announced
                f.result(5)
        assert store.commits == [["a", "b"]]


def test_a_failed_group_is_retried_request_by_request(store: FakeStore,
                                                      writer: GroupCommitWriter) -> None:
    store.release.clear()
    first = writer.submit(batch("a"))
    assert store.entered.wait(5)
    good, bad = writer.submit(batch("b")), writer.submit(batch("p", model="poison"))
    store.release.set()
    assert first.result(5)[0].inserted == 1 and good.result(5)[0].inserted == 1
    with pytest.raises(StoreError, match="poisoned"):
        bad.result(5)
    assert store.commits == [["a"], ["b"]]
    assert writer.stats.failed_commits == 2  # the group, then the poisoned request alone


def test_failing_commits_are_reported_until_one_succeeds(store: FakeStore) -> None:
    with make_writer(store) as writer:
        assert not writer.failing()
        for _ in range(2):
            with pytest.raises(StoreError):
                writer.write_sync(batch("p", model="poison"), timeout=LONG)
        assert writer.failing() and writer.stats.failures_in_a_row == 2
        assert not writer.failing(within=0.0)  # no recent evidence: not failing
        writer.write_sync(batch("ok"), timeout=LONG)
        assert not writer.failing() and writer.stats.failures_in_a_row == 0
        assert writer.stats.failed_commits == 2


def test_a_request_the_store_refuses_is_not_a_failing_store(store: FakeStore) -> None:
    from modelmon.exceptions import SchemaError

    def refuse(batches: Sequence[WriteBatch]) -> list[WriteResult]:
        raise SchemaError("the spec changed while the request was in flight")

    store.write = refuse  # type: ignore[method-assign]
    with make_writer(store) as writer:
        with pytest.raises(SchemaError):
            writer.write_sync(batch("x"), timeout=LONG)
        assert not writer.failing()

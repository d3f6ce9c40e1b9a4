"""When the server is away: spool and replay, retries after a kill, full queues, exit."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from modelmon.sdk import DeliveryFailure, Monitor
from tests.sdk.servers import ProcessServer, ThreadServer, fraud_features

pytestmark = pytest.mark.integration

MakeMonitor = Callable[..., Monitor]
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _spool_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.mmspool"))


def test_server_down_at_start_spools_then_replays(
    make_server: Callable[..., ThreadServer], monitors: MakeMonitor, tmp_path: Path
) -> None:
    srv = make_server(start=False)
    spool = tmp_path / "spool"
    m = monitors(srv.url, spool_dir=spool, max_retries=1, batch_size=100)
    ids = [m.log_prediction(fraud_features(i), "1", score=0.9) for i in range(300)]
    for pid in ids[:50]:
        m.log_actual(pid, 1)
    assert m.flush(20)  # spooled counts as dealt with
    s = m.stats
    assert (s.spooled, s.spool_records, s.sent, s.dropped) == (350, 350, 0, 0)
    files = _spool_files(spool)
    assert len(files) == 4  # three prediction batches of 100, one actuals batch
    backup = tmp_path / "backup"
    backup.mkdir()
    for f in files:
        shutil.copy2(f, backup / f.name)

    srv.start()
    # The sender may already have replayed a file on its own (it probes at the backoff
    # interval); replay_spool() sends the rest and returns how many records it replayed.
    assert 0 <= m.replay_spool(timeout=20) <= 350
    assert srv.counts("fraud")["predictions"] == 300
    assert srv.counts("fraud")["actuals"] == 50
    assert (m.stats.replayed, m.stats.sent, m.stats.spool_records) == (350, 350, 0)
    assert _spool_files(spool) == []

    # The same files replayed again (say, a second process sharing the folder): the server
    # recognises every batch by its idempotency key and stores nothing twice.
    assert m.close()
    for f in backup.iterdir():
        shutil.copy2(f, spool / f.name)
    again = monitors(srv.url, spool_dir=spool)
    assert again.replay_spool(timeout=20) == 350
    assert again.stats.duplicates == 350
    assert srv.counts("fraud")["predictions"] == 300


def test_spool_survives_a_restart_and_replays_by_itself(
    make_server: Callable[..., ThreadServer], tmp_path: Path
) -> None:
    srv = make_server(start=False)
    spool = tmp_path / "spool"
    first = Monitor(srv.url, model="fraud", spool_dir=spool, max_retries=0, retry_backoff=0.05,
                    flush_interval=0.1)
    for i in range(120):
        first.log_prediction(fraud_features(i), "0", score=0.1)
    assert first.close(timeout=5)  # everything went to the spool: nothing dropped
    assert (first.stats.spooled, first.stats.dropped) == (120, 0)

    srv.start()
    second = Monitor(srv.url, model="fraud", spool_dir=spool, flush_interval=0.1)
    try:
        assert _wait_for(lambda: srv.counts("fraud")["predictions"] == 120)
        assert _wait_for(lambda: second.stats.replayed == 120)
        assert _spool_files(spool) == []
    finally:
        second.close()


def test_replays_when_the_server_comes_back(
    make_server: Callable[..., ThreadServer], monitors: MakeMonitor, tmp_path: Path
) -> None:
    srv = make_server()
    m = monitors(srv.url, spool_dir=tmp_path / "spool", max_retries=1, flush_interval=0.1)
    m.log_prediction(fraud_features(0), "1", score=0.7)
    assert m.flush(10)
    srv.stop()
    for i in range(1, 201):
        m.log_prediction(fraud_features(i), "1", score=0.7)
    assert m.flush(20)
    assert m.stats.spooled == 200
    srv.start()
    m.log_prediction(fraud_features(999), "0", score=0.2)  # fresh data after the outage
    assert _wait_for(lambda: srv.counts("fraud")["predictions"] == 202)
    # Until a probe gets through, new records go to the spool too, then are replayed.
    assert _wait_for(lambda: m.stats.spool_records == 0)
    s = m.stats
    assert s.spooled in (200, 201)
    assert s.replayed == s.spooled
    assert (s.sent, s.dropped, s.duplicates) == (202, 0, 0)


def test_server_killed_mid_stream_retries_without_loss_or_duplicates(
    process_server: ProcessServer,
) -> None:
    srv = process_server.start()
    m = Monitor(srv.url, model="fraud", batch_size=500, flush_interval=0.05, max_retries=1000,
                retry_backoff=0.05, retry_backoff_max=0.3, timeout=5)
    total = 20_000
    done = threading.Event()

    def produce() -> None:
        for i in range(total):
            m.log_prediction(fraud_features(i), "1", score=0.8)
            if i % 1000 == 999:
                time.sleep(0.02)
        done.set()

    producer = threading.Thread(target=produce)
    try:
        producer.start()
        assert _wait_for(lambda: m.stats.sent >= 2000, timeout=30)
        srv.kill()
        killed_at = m.stats.sent
        time.sleep(0.5)
        srv.start()
        producer.join(60)
        assert m.flush(60)
        assert m.stats.retried > 0
        assert killed_at < total
        assert srv.counts("fraud")["predictions"] == total
        assert (m.stats.sent, m.stats.dropped, m.stats.rejected) == (total, 0, 0)
    finally:
        m.close(timeout=5)


@pytest.fixture
def hanging_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    t.join(2)
    for c in held:
        c.close()
    sock.close()


def test_full_queue_drops_without_blocking(hanging_server: str) -> None:
    failures: list[DeliveryFailure] = []
    m = Monitor(hanging_server, model="fraud", max_queue=1000, batch_size=100, timeout=3,
                flush_interval=0.05, on_error=failures.append)
    features = fraud_features(1)
    costs = []
    try:
        time.sleep(0.2)  # the sender is now waiting on the silent server
        started = time.perf_counter()
        for _ in range(5000):
            t0 = time.perf_counter()
            m.log_prediction(features, "1", score=0.5)
            costs.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        s = m.stats
        assert s.sent == 0
        assert s.queued <= 1000
        assert s.queued + s.dropped == 5000
        assert s.dropped >= 4000
        # About 5 µs per call; never anywhere near the 3 s request timeout (the bounds are
        # loose because the machine running the tests may be very busy).
        assert elapsed < 5.0
        assert sorted(costs)[-50] < 0.05
        assert max(costs) < 1.0
        assert failures == []  # queue-full drops are counted, not reported one by one
        t0 = time.perf_counter()
        assert m.close(timeout=0.5) is False  # could not deliver: counted as dropped
        assert time.perf_counter() - t0 < 3.0
    finally:
        m.close(timeout=0)


def test_close_without_spool_counts_what_it_drops(make_server: Callable[..., ThreadServer]) -> None:
    srv = make_server(start=False)
    failures: list[DeliveryFailure] = []
    m = Monitor(srv.url, model="fraud", max_retries=0, retry_backoff=0.05, flush_interval=0.05,
                on_error=failures.append)
    for i in range(30):
        m.log_prediction(fraud_features(i), "1")
    assert m.flush(timeout=0.5) is False  # the server is down and there is no spool
    assert m.close(timeout=0.2) is False
    assert (m.stats.dropped, m.stats.sent, m.stats.queued) == (30, 0, 0)
    assert [(f.reason, f.code, f.records) for f in failures] == [("dropped", "closed", 30)]
    m.log_prediction(fraud_features(1), "1")  # after close: counted, never raised
    assert m.stats.dropped == 31


def test_exit_flushes_the_queue(server: ThreadServer, tmp_path: Path) -> None:
    before = server.counts("fraud")["predictions"]
    script = textwrap.dedent(f"""
        from modelmon.sdk import Monitor
        m = Monitor({server.url!r}, model="fraud", flush_interval=600)
        for i in range(250):
            m.log_prediction({{"amount": float(i), "merchant": "x", "is_new": False}}, "1")
        # no flush, no close: the interpreter exits and atexit delivers
    """)
    env = {**os.environ, "PYTHONPATH": SRC}
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    assert time.monotonic() - started < 30
    assert server.counts("fraud")["predictions"] - before == 250


def test_full_spool_drops_and_recovers_when_the_server_returns(
    make_server: Callable[..., ThreadServer], monitors: MakeMonitor, tmp_path: Path
) -> None:
    srv = make_server(start=False)
    failures: list[DeliveryFailure] = []
    m = monitors(srv.url, spool_dir=tmp_path / "spool", spool_max_bytes=64, max_retries=0,
                 on_error=failures.append)
    for i in range(10):
        m.log_prediction(fraud_features(i), "1")
    assert not m.flush(10)  # dropped
    assert (m.stats.dropped, m.stats.spooled) == (10, 0)
    assert {f.code for f in failures} == {"spool_full"}
    srv.start()
    for i in range(5):
        m.log_prediction(fraud_features(i), "0")
    assert _wait_for(lambda: srv.counts("fraud")["predictions"] == 5)
    assert m.flush(10)  # each flush reports on what was queued since the previous one


def test_a_forked_child_gets_its_own_sender(server: ThreadServer, monitors: MakeMonitor) -> None:
    before = server.counts("fraud")["predictions"]
    m = monitors(server.url)
    m.log_prediction(fraud_features(0), "1", prediction_id="fork-parent")
    pid = os.fork()
    if pid == 0:  # the child: log, deliver, report through the exit code
        code = 1
        try:
            for i in range(10):
                m.log_prediction(fraud_features(i), "1", prediction_id=f"fork-child-{i}")
            code = 0 if m.close(timeout=20) and m.stats.sent == 10 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert m.flush(10)
    assert server.counts("fraud")["predictions"] - before == 11

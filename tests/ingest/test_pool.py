"""Validation in worker processes: same tables and errors as in-process, and it survives a crash."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.ingest.test_json_batch import FRAUD, NOW, _fraud

from modelmon.exceptions import ValidationError
from modelmon.ingest.bulk import predictions_from_upload
from modelmon.ingest.json_batch import NotFastPath, predictions_from_json
from modelmon.ingest.pool import ValidationPool, default_workers

GOOD = orjson.dumps([_fraud(prediction_id=f"p{i}") for i in range(300)])
BAD = orjson.dumps([_fraud(prediction_id="a", score=2.0),
                    _fraud(prediction_id="b", features={"amount": "x"})])


def _run(pool: ValidationPool, body: bytes, max_records: int = 10_000):  # type: ignore[no-untyped-def]
    return asyncio.run(pool.predictions_from_json(FRAUD, body, now=NOW, version="v3",
                                                  max_records=max_records))


@pytest.fixture(scope="module")
def pool():  # type: ignore[no-untyped-def]
    p = ValidationPool(1)
    # As `modelmon serve` starts it: warmed up for the models (and a name it never sees again).
    p.start(warm=[FRAUD, FRAUD.model_copy(update={"name": "other"})])
    assert p.wait_ready(120)
    yield p
    p.stop()


def test_worker_gives_the_in_process_result(pool: ValidationPool) -> None:
    expected = predictions_from_json(FRAUD, GOOD, now=NOW, version="v3")
    assert _run(pool, GOOD).equals(expected)


def test_errors_come_back_whole(pool: ValidationPool) -> None:
    with pytest.raises(ValidationError) as in_process:
        predictions_from_json(FRAUD, BAD, now=NOW)
    with pytest.raises(ValidationError) as from_worker:
        _run(pool, BAD)
    assert type(from_worker.value) is type(in_process.value)
    assert from_worker.value.to_dict() == in_process.value.to_dict()
    assert len(from_worker.value.errors) == 6  # score out of range, missing and wrong features
    with pytest.raises(ValidationError, match="at most 10"):
        _run(pool, GOOD, max_records=10)


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _arrow_outcome(fn: Any) -> Any:
    try:
        return fn()
    except ValidationError as exc:
        return exc.to_dict()


def _parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


@pytest.mark.parametrize("case", ["good", "bad value", "garbage", "empty", "too many"])
@pytest.mark.parametrize("kind", ["arrow", "parquet"])
@pytest.mark.parametrize("workers", [1, 0])
def test_table_uploads_give_the_in_process_result(pool: ValidationPool, case: str, kind: str,
                                                  workers: int) -> None:
    encode = _ipc if kind == "arrow" else _parquet
    rows = {"prediction_id": ["a1", "a2"], "amount": [1.0, None], "country": ["DE", "FR"],
            "online": [True, False], "score_in": [0.1, 0.2], "score": [0.4, 0.6]}
    body = {"good": encode(pa.table(rows)),
            "bad value": encode(pa.table({**rows, "score": [2.0, 0.1]})),
            "garbage": b"not a table", "empty": encode(pa.table(rows).slice(0, 0)),
            "too many": encode(pa.table(rows))}[case]
    limit = 1 if case == "too many" else 10
    in_process = _arrow_outcome(lambda: predictions_from_upload(
        FRAUD, body, kind=kind, now=NOW, version="v1", max_rows=limit))
    runner = pool if workers else ValidationPool(0)  # 0: validated in a thread
    remote = _arrow_outcome(lambda: asyncio.run(runner.predictions_from_upload(
        FRAUD, body, kind=kind, now=NOW, version="v1", max_rows=limit)))
    if case == "good":
        assert remote.equals(in_process) and remote.num_rows == 2
    else:
        assert remote == in_process
        assert remote["code"] == {"bad value": "invalid_value", "garbage": "malformed_body",
                                  "empty": "empty_input", "too many": "batch_too_large"}[case]


@pytest.mark.parametrize("case", ["good", "bad value", "bad line", "blank", "too many"])
@pytest.mark.parametrize("workers", [1, 0])
def test_ndjson_uploads_give_the_in_process_result(pool: ValidationPool, case: str,
                                                   workers: int) -> None:
    lines = [orjson.dumps(_fraud(prediction_id=f"n{i}")) for i in range(3)]
    body = {"good": b"\n".join(lines) + b"\n\n",
            "bad value": b"\n".join([*lines, orjson.dumps(_fraud(score=2.0))]),
            "bad line": b"\n".join([lines[0], b'{"a":', lines[1]]),
            "blank": b"\n  \n", "too many": b"\n".join(lines)}[case]
    limit = 2 if case == "too many" else 10
    in_process = _arrow_outcome(lambda: predictions_from_upload(
        FRAUD, body, kind="ndjson", now=NOW, version="v1", max_rows=limit))
    runner = pool if workers else ValidationPool(0)  # 0: validated in a thread
    remote = _arrow_outcome(lambda: asyncio.run(runner.predictions_from_upload(
        FRAUD, body, kind="ndjson", now=NOW, version="v1", max_rows=limit)))
    if case == "good":
        assert remote.equals(in_process) and remote.num_rows == 3
        assert remote.column("version").to_pylist() == ["v1"] * 3
    else:
        assert remote == in_process
        assert (remote["code"], remote["loc"]) == {
            "bad value": ("invalid_value", ["lines", 3, "score"]),
            "bad line": ("malformed_body", ["body", "line", 2]),
            "blank": ("empty_input", ["body"]), "too many": ("batch_too_large", ["body"])}[case]


def test_whole_batch_bodies_in_one_pass(pool: ValidationPool) -> None:
    body = b'{"model": "fraud", "version": "v3", "records": ' + GOOD + b"}"
    expected = predictions_from_json(FRAUD, GOOD, now=NOW, version="v3")

    def run(b: bytes) -> Any:
        return asyncio.run(pool.predictions_from_batch_json(FRAUD, b, model="fraud", now=NOW,
                                                            max_records=10_000))

    assert run(body).equals(expected)
    with pytest.raises(NotFastPath):  # travels back from the worker as itself
        run(body[:-1] + b', "extra": 1}')


def test_socket_folders_of_dead_servers_are_swept(tmp_path: Any) -> None:
    from modelmon.ingest.pool import _sweep_stale

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"mm-pool-{dead.pid}-abc"
    mine = tmp_path / f"mm-pool-{os.getpid()}-def"
    other = tmp_path / "mm-pool-unrelated"
    for folder in (stale, mine, other):
        folder.mkdir()
    (stale / "w0.sock").write_text("")
    assert _sweep_stale(str(tmp_path)) == 1
    assert not stale.exists() and mine.exists() and other.exists()


def test_the_worker_accepts_every_waiting_connection_at_once(tmp_path: Any) -> None:
    import selectors
    import socket

    from modelmon.ingest.pool import _accept_all

    path = str(tmp_path / "w.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    listener.setblocking(False)
    clients = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(5)]
    for c in clients:
        c.connect(path)
    with selectors.DefaultSelector() as selector:
        assert _accept_all(listener, selector) == 5
        assert len(selector.get_map()) == 5
        assert _accept_all(listener, selector) == 0  # nothing left: returns, does not block
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
    for c in (*clients, listener):
        c.close()


def test_concurrent_requests_each_get_their_own_answer(pool: ValidationPool) -> None:
    bodies = [orjson.dumps([_fraud(prediction_id=f"c{k}-{i}") for i in range(50 + k)])
              for k in range(12)]

    async def many() -> list[Any]:
        return await asyncio.gather(*[
            pool.predictions_from_json(FRAUD, b, now=NOW, version="v3", max_records=10_000)
            for b in bodies] + [pool.predictions_from_json(FRAUD, BAD, now=NOW, version=None,
                                                           max_records=10_000)],
            return_exceptions=True)

    *tables, error = asyncio.run(many())
    for k, table in enumerate(tables):
        assert table.num_rows == 50 + k
        assert table.column("prediction_id")[0].as_py() == f"c{k}-0"
    assert isinstance(error, ValidationError)


def test_a_killed_worker_is_replaced(pool: ValidationPool) -> None:
    before = pool.pids
    assert before
    for pid in before:  # the worker dies between two requests
        os.kill(pid, signal.SIGKILL)
    for _ in range(3):  # answered in a thread while the pool restarts; never an error
        assert _run(pool, GOOD).num_rows == 300
    assert pool.wait_ready(120)
    assert set(pool.pids).isdisjoint(before)
    assert _run(pool, GOOD).num_rows == 300


def test_without_workers_validation_runs_in_a_thread() -> None:
    p = ValidationPool(0)
    assert not p.wait_ready(0.1)
    assert _run(p, GOOD).num_rows == 300
    assert not p.ready
    p.stop()


@pytest.mark.parametrize(("cores", "workers"), [(None, 0), (1, 0), (2, 2), (3, 3), (16, 4)])
def test_default_workers_one_per_core(monkeypatch: pytest.MonkeyPatch, cores: int | None,
                                      workers: int) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert default_workers() == workers


def test_workers_exit_when_the_server_is_killed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "server.py"
    script.write_text(
        "import time\n"
        "from modelmon.ingest.pool import ValidationPool\n"
        "if __name__ == '__main__':\n"
        "    p = ValidationPool(1)\n"
        "    assert p.wait_ready(120)\n"
        "    print(*p.pids, flush=True)\n"
        "    print(p._workers[0].path, flush=True)\n"
        "    time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    workers = [int(pid) for pid in proc.stdout.readline().split()]
    socket_path = proc.stdout.readline().strip()
    assert workers and os.path.exists(socket_path)
    proc.kill()  # no clean stop: the workers notice their parent is gone
    proc.wait(30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
    assert not os.path.exists(os.path.dirname(socket_path))  # nor their sockets


def test_stop_removes_the_sockets() -> None:
    p = ValidationPool(1)
    assert p.wait_ready(120)
    folder = os.path.dirname(p._workers[0].path)
    assert os.listdir(folder)
    p.stop()
    assert not os.path.exists(folder)
    assert not p.pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie (exited, not yet reaped) is gone too
        return f.read().split()[2] != "Z"


def test_a_bug_travels_back_as_an_error_and_the_worker_lives_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    from modelmon.ingest import pool as pool_module

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setitem(pool_module._TASKS, "json", broken)
    params = pickle.dumps(("json", {"now": NOW, "version": None, "max_records": 10}))
    header, payload = pool_module._validate({}, pickle.dumps(FRAUD), params, memoryview(GOOD))
    ok, n = pool_module._REPLY.unpack(header)
    assert ok == 0
    error = pickle.loads(payload)
    assert isinstance(error, KeyError) and n == len(payload)

"""A throwaway PostgreSQL 15 server for tests: Debian's ``postgresql`` binaries, a cluster in a
temporary directory owned by the ``postgres`` user (PostgreSQL refuses to run as root), trust
authentication, listening on a free loopback port only. ``scripts/install-system-deps.sh``
installs the package; a missing binary fails the test (never a skip)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["PG_BIN", "PostgresServer", "postgres_server"]

PG_BIN = Path(os.environ.get("MODELMON_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """Start with :meth:`start`, stop with :meth:`stop`; :meth:`create_database` gives each test
    a database of its own (``url``)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="modelmon-pg-"))
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self._as_root = os.geteuid() == 0
        #: Tests run without fsync (faster; a test never crashes the machine); benchmarks
        #: set this to measure durable commits.
        self.fsync = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresServer:
        initdb = PG_BIN / "initdb"
        if not initdb.exists():
            raise RuntimeError(f"{initdb} is missing: run scripts/install-system-deps.sh "
                               "(Debian's postgresql package)")
        self.sock.mkdir(parents=True)
        if self._as_root:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        self._run(str(initdb), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        opts = (f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 "
                f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=200 "
                "-c shared_buffers=128MB")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts,
                  "-l", str(self.dir / "log"), "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                      "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server per test session (per xdist worker); import this fixture into a
    test module or conftest to use it."""
    server = PostgresServer().start()
    yield server
    server.stop()

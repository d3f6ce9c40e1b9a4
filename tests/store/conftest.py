"""The backends every contract test runs against: DuckDB (a file in a temporary directory) and
PostgreSQL (a real server started once per test session, a fresh database per test)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.postgres import postgres_server

from modelmon.store.backend import Backend
from modelmon.store.duckdb import DuckDBStore

StoreFactory = Callable[..., Backend]
__all__ = ["BACKENDS", "StoreFactory", "factory", "postgres_server"]


def _duckdb(tmp: Path, request: pytest.FixtureRequest) -> Callable[..., Backend]:
    return lambda **kw: DuckDBStore(str(tmp / "contract.duckdb"), **kw)


def _postgres(tmp: Path, request: pytest.FixtureRequest) -> Callable[..., Backend]:
    from modelmon.store.postgres import PostgresStore

    url = request.getfixturevalue("postgres_server").create_database()
    return lambda **kw: PostgresStore(url, **kw)


BACKENDS = {"duckdb": _duckdb, "postgres": _postgres}


@pytest.fixture(params=sorted(BACKENDS))
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Makes (unopened) stores of one backend that share one database."""
    return BACKENDS[request.param](tmp_path, request)

"""What only the PostgreSQL store has: settings that select it, partitions by event time,
several store instances (servers) on one database at once, migrations run once, leases."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from tests.store.test_contract import SPEC, T0, preds
from tests.support.postgres import PostgresServer

from modelmon.config.settings import Settings
from modelmon.exceptions import StoreError
from modelmon.store import create_store
from modelmon.store.postgres import PostgresStore
from modelmon.store.postgres._migrations import MIGRATIONS, Migration, apply_migrations

DAY = timedelta(days=1)


def test_settings_select_postgres_by_url() -> None:
    s = Settings.model_validate({"store": {"url": "postgresql://mm:secret@db:5432/mm"}})
    assert s.store.backend == "postgres"
    assert s.summary()["store"]["path"] == "postgresql://mm:***@db:5432/mm"
    assert isinstance(create_store(s.store), PostgresStore)
    with pytest.raises(ValueError, match=r"store\.url"):
        Settings.model_validate({"store": {"backend": "postgres"}})


def test_predictions_live_in_day_partitions(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    store = PostgresStore(url)
    store.open()
    try:
        store.save_model(SPEC)
        store.write([preds(["a"], t=T0 - 2 * DAY), preds(["b"], t=T0), preds(["c"], t=T0)])
        with psycopg.connect(url) as con:
            parts = sorted(r[0] for r in con.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'pred_1'::regclass").fetchall())
        assert len(parts) == 2
        pruned = store.maintenance.prune_predictions("fraud", T0 - DAY)
        assert pruned.predictions == 1
        [event] = store.list_events("fraud", kind="data_deleted")
        assert event.details["partitions_dropped"] == 1
        with psycopg.connect(url) as con:
            left = con.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                               "'pred_1'::regclass").fetchone()
        assert left == (1,)
    finally:
        store.close()


def test_two_servers_write_the_same_ids_at_once(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    stores = [PostgresStore(url), PostgresStore(url)]
    for s in stores:
        s.open()
    # Both register the configured model at start-up, at the same moment.
    threads = [threading.Thread(target=s.save_model, args=(SPEC,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    inserted = [0, 0]

    def send(k: int) -> None:
        for j in range(20):
            ids = [f"id{j}-{i}" for i in range(50)]
            [r] = stores[k].write([preds(ids, t=T0 - j * timedelta(hours=6))])
            inserted[k] += r.inserted

    threads = [threading.Thread(target=send, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sum(inserted) == 1000
        assert stores[0].count("fraud") == stores[1].count("fraud") == 1000
        assert stores[1].get_model("fraud").revision == 1
        stamps = stores[0].read_predictions("fraud", columns=["received_at"],
                                            with_actuals=False).column("received_at")
        assert stamps.null_count == 0
    finally:
        for s in stores:
            s.close()


def test_a_model_registered_by_another_server_is_found(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    a, b = PostgresStore(url), PostgresStore(url)
    a.open()
    b.open()
    try:
        a.save_model(SPEC)
        b.write([preds(["x"])])
        assert a.count("fraud") == 1 and [m.name for m in b.list_models()] == ["fraud"]
    finally:
        a.close()
        b.close()


def test_migrations_once_and_newer_databases_refused(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    with psycopg.connect(url) as con:
        assert apply_migrations(con) == [m.version for m in MIGRATIONS]
        assert apply_migrations(con) == []
        newer = [*MIGRATIONS, Migration(999, "future", ("SELECT 1",))]
        apply_migrations(con, newer)
    store = PostgresStore(url)
    with pytest.raises(StoreError, match="newer modelmon"):
        store.open()


def test_leases_are_held_by_one_owner_until_they_expire(
        postgres_server: PostgresServer) -> None:
    store = PostgresStore(postgres_server.create_database())
    store.open()
    try:
        leases = store.leases
        assert leases.acquire("model:fraud", "a", timedelta(seconds=0.5))
        assert not leases.acquire("model:fraud", "b", timedelta(seconds=10))
        assert leases.acquire("model:fraud", "a", timedelta(seconds=0.5))  # renewed
        time.sleep(0.6)
        assert leases.acquire("model:fraud", "b", timedelta(seconds=10))  # expired: taken over
        [held] = leases.holders()
        assert (held.owner, held.generation) == ("b", 2)
        leases.release("model:fraud", "b")
        assert leases.acquire("model:fraud", "a", timedelta(seconds=1))
    finally:
        store.close()


def test_one_leader_and_a_hand_over(postgres_server: PostgresServer) -> None:
    from modelmon.evaluation.coordination import LeaseLeadership

    url = postgres_server.create_database()
    stores = [PostgresStore(url), PostgresStore(url)]
    for s in stores:
        s.open()
    a = LeaseLeadership(stores[0].leases, timedelta(seconds=30), owner="a")
    b = LeaseLeadership(stores[1].leases, timedelta(seconds=30), owner="b")
    led: list[str] = []
    b.on_lead.append(lambda: led.append("b"))
    try:
        assert a.renew() == 1 and b.renew() is None
        assert a.renew() == 1 and a.term() == 1  # renewing keeps the term
        a.stop()  # a clean shutdown hands the lease over at once
        assert b.renew() == 1 and led == ["b"]
        assert a.term() is None
    finally:
        b.stop()
        for s in stores:
            s.close()

"""API keys and the audit log: the same contract on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from tests.store.conftest import StoreFactory
from tests.store.test_contract import T0

from modelmon.access.audit import AuditEntry
from modelmon.access.keys import KeyRecord, Role, hash_key, new_key
from modelmon.store.backend import Backend


@pytest.fixture
def store(factory: StoreFactory) -> Iterator[Backend]:
    s = factory()
    s.open()
    yield s
    s.close()


def _key(name: str, role: Role, models: tuple[str, ...] | None = None,
         at: int = 0) -> tuple[KeyRecord, str]:
    kid, key = new_key()
    return KeyRecord(kid, name, role, hash_key(key), T0 + timedelta(minutes=at), "test",
                     models), key


def test_keys_are_stored_hashed_listed_and_revoked(store: Backend) -> None:
    admin, _ = _key("ops", Role.ADMIN)
    limited, _ = _key("m1 only", Role.INGEST, ("m1", "m2"), at=1)
    store.access.insert_key(admin)
    store.access.insert_key(limited)
    assert [k.name for k in store.access.list_keys()] == ["ops", "m1 only"]
    got = store.access.get_key(limited.key_id)
    assert got == limited and got.models == ("m1", "m2") and got.role is Role.INGEST
    assert store.access.get_key("nope") is None
    gone = store.access.revoke_key(admin.key_id, T0 + timedelta(hours=1), "ops")
    assert gone is not None and not gone.active and gone.revoked_by == "ops"
    again = store.access.revoke_key(admin.key_id, T0 + timedelta(hours=2), "x")  # no-op
    assert again is not None and again.revoked_at == gone.revoked_at
    assert [k.name for k in store.access.list_keys()] == ["m1 only"]
    assert len(store.access.list_keys(include_revoked=True)) == 2
    assert store.access.revoke_key("nope", T0, "x") is None


def test_the_audit_log_appends_filters_and_pages(store: Backend) -> None:
    ids = []
    for i in range(5):
        ids.append(store.access.append_audit(AuditEntry(
            at=T0 + timedelta(minutes=i), key_id="k1" if i % 2 else "k2", key_name="n",
            role="admin", client="10.0.0.1", method="POST", path=f"/v1/models/m{i % 2}/x",
            action="POST /v1/models/{model}/x", status=200 if i < 4 else 403,
            model=f"m{i % 2}", target=None, request_id=f"r{i}", details={"i": i})))
    assert ids == sorted(ids) and len(set(ids)) == 5
    newest = store.access.list_audit(limit=2)
    assert [e.details["i"] for e in newest] == [4, 3] and newest[0].outcome == "refused"
    older = store.access.list_audit(before=newest[-1].id, limit=10)
    assert [e.details["i"] for e in older] == [2, 1, 0]
    assert [e.details["i"] for e in store.access.list_audit(key_id="k1")] == [3, 1]
    assert [e.details["i"] for e in store.access.list_audit(model="m0")] == [4, 2, 0]
    window = store.access.list_audit(start=T0 + timedelta(minutes=1),
                                     end=T0 + timedelta(minutes=3))
    assert [e.details["i"] for e in window] == [2, 1]
    first = store.access.list_audit(limit=1)[0]
    assert first.at == T0 + timedelta(minutes=4) and first.client == "10.0.0.1"
    assert first.action == "POST /v1/models/{model}/x" and first.request_id == "r4"


def test_a_server_sees_keys_another_made_or_revoked(factory: StoreFactory) -> None:
    from modelmon.config.settings import ServerSettings
    from modelmon.service.keyring import KeyRing

    first = factory()
    first.open()
    # a second server on the same database (PostgreSQL); DuckDB has one process: the same store
    second = factory() if "Postgres" in type(first).__name__ else first
    if second is not first:
        second.open()
    try:
        ring = KeyRing(ServerSettings(), second.access, refresh_seconds=0)
        assert not ring.required
        record, key = _key("ci", Role.READ)
        first.access.insert_key(record)
        assert ring.required and ring.authenticate(key).key_id == record.key_id  # type: ignore[union-attr]
        first.access.revoke_key(record.key_id, T0, "ops")
        assert ring.authenticate(key) is None and not ring.required
    finally:
        if second is not first:
            second.close()
        first.close()

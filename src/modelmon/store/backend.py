"""The one storage protocol the service uses: :class:`Backend`.

A backend is a :class:`~modelmon.store.base.Store` (registry, ingest, reads) and a
:class:`~modelmon.store.results.ResultStore` (evaluation outputs), with parts for the rest of
what the service keeps: ``alerts`` (:class:`~modelmon.store.alerts.AlertStore`),
``notifications`` (:class:`~modelmon.store.notifications.NotificationStore`), ``actions``
(:class:`~modelmon.store.actions.ActionStore`), ``access`` (API keys and the audit log,
:class:`~modelmon.store.access.AccessStore`) and ``maintenance``
(:class:`~modelmon.store.maintenance.Retention`). ``tests/store/`` runs one contract suite
against every implementation: :class:`~modelmon.store.duckdb.DuckDBStore` (embedded) and
:class:`~modelmon.store.postgres.PostgresStore` (shared by several servers).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from modelmon.store.access import AccessStore
from modelmon.store.actions import ActionStore
from modelmon.store.alerts import AlertStore
from modelmon.store.base import Store
from modelmon.store.maintenance import Retention
from modelmon.store.notifications import NotificationStore
from modelmon.store.results import ResultStore

__all__ = ["Backend"]


@runtime_checkable
class Backend(Store, ResultStore, Protocol):
    """Everything the service stores (see the module docstring)."""

    @property
    def alerts(self) -> AlertStore:
        """Alerts, their history, silences, rules made over the API."""

    @property
    def notifications(self) -> NotificationStore:
        """The notification outbox, log and escalations."""

    @property
    def actions(self) -> ActionStore:
        """Action records and the registry change of a rollback."""

    @property
    def access(self) -> AccessStore:
        """API keys (their hashes) and the audit log."""

    @property
    def maintenance(self) -> Retention:
        """Retention of old predictions and results."""

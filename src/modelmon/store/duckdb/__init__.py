"""The embedded DuckDB store, built from parts over one connection (see :mod:`.store`):
the registry and ingest (:class:`DuckDBStore`), results (:mod:`.results`), alerts,
notifications, actions and maintenance (``modelmon.store.alerts`` ...), sharing an
:class:`~modelmon.store.duckdb._access.Access`."""

from __future__ import annotations

from modelmon.store.duckdb.store import DuckDBStore

__all__ = ["DuckDBStore"]

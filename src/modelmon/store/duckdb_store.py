"""Where :class:`DuckDBStore` was imported from before the store became a package
(:mod:`modelmon.store.duckdb`); kept so existing imports go on working."""

from __future__ import annotations

from modelmon.store.duckdb import DuckDBStore

__all__ = ["DuckDBStore"]

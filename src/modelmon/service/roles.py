"""The role every route needs, and how a key limited to some models reaches it.

One table, checked at start-up: a ``/v1`` route missing from it stops the service from starting
(and the tests walk the OpenAPI description against it), so no route is ever open by accident.
Health probes, the docs and the dashboard's own pages are outside the API (``/metrics`` and
``/info`` take a ``read`` key when ``server.public_metrics``/``public_info`` are off).

Model scope (a key with ``models:``): ``path`` routes name their model in the path; ``body``
routes in each record (checked while parsing); ``listing`` routes answer only the key's models;
``all`` routes span every model and refuse a limited key.
"""

from __future__ import annotations

from typing import Literal

from modelmon.access.keys import Role

__all__ = ["ROUTE_ROLES", "Scope", "missing_roles", "role_of"]

Scope = Literal["path", "body", "listing", "all"]

IN, R, A = Role.INGEST, Role.READ, Role.ADMIN

#: ``(method, path template) -> (role, model scope)``.
ROUTE_ROLES: dict[tuple[str, str], tuple[Role, Scope]] = {
    # ingest
    ("POST", "/v1/predictions"): (IN, "body"),
    ("POST", "/v1/predictions/batch"): (IN, "body"),
    ("POST", "/v1/models/{model}/predictions/bulk"): (IN, "path"),
    ("POST", "/v1/actuals"): (IN, "body"),
    ("POST", "/v1/actuals/batch"): (IN, "body"),
    ("POST", "/v1/models/{model}/actuals/bulk"): (IN, "path"),
    ("POST", "/v1/events"): (IN, "body"),
    ("POST", "/v1/models/{model}/feature-importance"): (IN, "path"),
    ("POST", "/v1/models/{model}/training-runs"): (IN, "path"),
    # queries
    ("GET", "/v1/models"): (R, "listing"),
    ("GET", "/v1/overview"): (R, "listing"),
    ("GET", "/v1/models/{model}"): (R, "path"),
    ("GET", "/v1/models/{model}/feature-importance"): (R, "path"),
    ("GET", "/v1/models/{model}/training-runs"): (R, "path"),
    ("GET", "/v1/models/{model}/versions"): (R, "path"),
    ("GET", "/v1/models/{model}/events"): (R, "path"),
    ("GET", "/v1/models/{model}/predictions/{prediction_id}"): (R, "path"),
    ("GET", "/v1/models/{model}/counts"): (R, "path"),
    ("GET", "/v1/models/{model}/status"): (R, "path"),
    ("GET", "/v1/models/{model}/status/history"): (R, "path"),
    ("GET", "/v1/models/{model}/metrics"): (R, "path"),
    ("GET", "/v1/models/{model}/metrics/latest"): (R, "path"),
    ("GET", "/v1/models/{model}/drift"): (R, "path"),
    ("GET", "/v1/models/{model}/data-quality"): (R, "path"),
    ("GET", "/v1/models/{model}/detector-events"): (R, "path"),
    ("GET", "/v1/models/{model}/reports"): (R, "path"),
    ("GET", "/v1/models/{model}/reports/latest"): (R, "path"),
    ("GET", "/v1/models/{model}/reports/{report_id}"): (R, "path"),
    ("GET", "/v1/models/{model}/compare-versions"): (R, "path"),
    ("GET", "/v1/models/{model}/backfill"): (R, "path"),
    ("POST", "/v1/models/{model}/backtest"): (R, "path"),   # computes, changes nothing
    ("GET", "/v1/system"): (R, "all"),
    ("GET", "/v1/alerts"): (R, "all"),
    ("GET", "/v1/alerts/history"): (R, "all"),
    ("GET", "/v1/alerts/{key}"): (R, "all"),
    ("GET", "/v1/silences"): (R, "all"),
    ("GET", "/v1/rules"): (R, "all"),
    ("GET", "/v1/notifications"): (R, "all"),
    ("GET", "/v1/notifications/{notification_id}"): (R, "all"),
    ("GET", "/v1/receivers"): (R, "all"),
    ("GET", "/v1/actions"): (R, "all"),
    ("GET", "/v1/actions/definitions"): (R, "all"),
    ("GET", "/v1/actions/{action_id}"): (R, "all"),
    # changes (audited)
    ("POST", "/v1/models"): (A, "all"),
    ("PUT", "/v1/models/{model}"): (A, "path"),
    ("POST", "/v1/models/{model}/versions"): (A, "path"),
    ("POST", "/v1/models/{model}/delete-data"): (A, "path"),
    ("POST", "/v1/evaluate"): (A, "all"),
    ("POST", "/v1/models/{model}/evaluate"): (A, "path"),
    ("POST", "/v1/models/{model}/backfill"): (A, "path"),
    ("POST", "/v1/alerts/{fingerprint}/ack"): (A, "all"),
    ("POST", "/v1/silences"): (A, "all"),
    ("DELETE", "/v1/silences/{silence_id}"): (A, "all"),
    ("POST", "/v1/rules"): (A, "all"),
    ("PUT", "/v1/rules/{name}"): (A, "all"),
    ("DELETE", "/v1/rules/{name}"): (A, "all"),
    ("POST", "/v1/receivers/{name}/test"): (A, "all"),
    ("POST", "/v1/actions/{action_id}/approve"): (A, "all"),
    ("POST", "/v1/actions/{action_id}/reject"): (A, "all"),
    ("GET", "/v1/admin/backup"): (A, "all"),
    ("POST", "/v1/admin/retention"): (A, "all"),
    ("GET", "/v1/keys"): (A, "all"),
    ("POST", "/v1/keys"): (A, "all"),
    ("GET", "/v1/keys/{key_id}"): (A, "all"),
    ("DELETE", "/v1/keys/{key_id}"): (A, "all"),
    ("GET", "/v1/audit"): (A, "all"),
}


def role_of(method: str, path: str) -> tuple[Role, Scope]:
    """The role and scope of a route (``HEAD`` as ``GET``); KeyError for an unknown route."""
    return ROUTE_ROLES[("GET" if method == "HEAD" else method, path)]


def missing_roles(routes: list[tuple[str, str]]) -> list[str]:
    """The ``/v1`` routes of ``routes`` (method, path) that the table does not name."""
    return [f"{m} {p}" for m, p in routes
            if p.startswith("/v1/") and (m, p) not in ROUTE_ROLES and m not in ("HEAD", "OPTIONS")]

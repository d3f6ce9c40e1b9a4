"""Authentication and roles for the ``/v1`` API.

Clients send ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Keys come from the
configuration file (``server.api_key``, an admin key; ``server.api_keys``, each with a role) and
from the store (``modelmon keys create``, ``POST /v1/keys``); see :mod:`modelmon.access.keys`.
No key anywhere means the API is open (the service says so in its start-up log); an empty
header never authenticates.

Every route needs a role (:mod:`modelmon.service.roles`): a request without a valid key gets
``401 unauthorized``, a key of the wrong role (or limited to other models) ``403 forbidden``.
Failed authentications are counted per client address and per key id; past
``server.auth_failures.limit`` the address (key id) gets ``429 rate_limited`` with
``Retry-After``. Requests needing ``admin`` are written to the audit log
(:mod:`modelmon.service.audit`).
"""

from __future__ import annotations

import contextvars
from typing import Any

from fastapi import Request

from modelmon.access.keys import Principal, Role, key_id_of
from modelmon.access.limiter import FailureLimiter
from modelmon.exceptions import ModelmonError
from modelmon.service.audit import mark_audited
from modelmon.service.keyring import OPEN, KeyRing
from modelmon.service.roles import role_of

__all__ = ["OPEN", "Forbidden", "Unauthorized", "authenticate_request", "client_address",
           "current_principal", "presented_key", "principal_of", "require_api_key", "require_model"]


#: The principal of the request being answered (the ingest path checks each batch's model).
current_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar(
    "modelmon_principal", default=OPEN)


class Unauthorized(ModelmonError):
    default_code = "unauthorized"


class Forbidden(ModelmonError):
    default_code = "forbidden"


class RateLimited(ModelmonError):
    default_code = "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, loc=("header", "authorization"))
        self.retry_after = max(1, int(retry_after + 0.999))


def presented_key(request: Request) -> str:
    """The key a request presents (``X-API-Key`` or ``Authorization: Bearer``), or ``""``."""
    given = request.headers.get("x-api-key", "").strip()
    if not given:
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
    return given


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _subjects(request: Request, given: str) -> list[str]:
    kid = key_id_of(given)
    return [f"addr:{client_address(request)}", *([f"key:{kid}"] if kid else [])]


def check_key(state: Any, request: Request, given: str) -> Principal:
    """The principal of ``given`` (the open principal when no key exists); raises
    ``rate_limited`` or ``unauthorized``, counting the failure."""
    ring: KeyRing = state.keyring
    if not ring.required:
        return OPEN
    limiter: FailureLimiter = state.auth_limiter
    subjects = _subjects(request, given)
    wait = limiter.retry_after(*subjects)
    if wait > 0:
        state.metrics.auth_failures.labels("rate_limited").inc()
        raise RateLimited("too many failed authentications from this address (or for this "
                          f"key); retry in {int(wait + 0.999)} s", wait)
    principal = ring.authenticate(given)
    if principal is None:
        state.metrics.auth_failures.labels("missing" if not given else "invalid").inc()
        limiter.fail(*subjects)
        raise Unauthorized(
            "missing or wrong API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            loc=("header", "authorization"))
    return principal


def authenticate_request(request: Request, needed: Role) -> Principal:
    """Authenticate a request outside the ``/v1`` routes (``/metrics``, ``/info``)."""
    state = request.app.state.mm
    principal = check_key(state, request, presented_key(request))
    if not principal.may(needed):
        state.metrics.auth_failures.labels("forbidden").inc()
        raise Forbidden(f"the key {principal.name!r} has role {principal.role!r}; this needs "
                        f"{needed!r}", loc=("header", "authorization"))
    return principal


def _forbid(state: Any, message: str) -> Forbidden:
    state.metrics.auth_failures.labels("forbidden").inc()
    return Forbidden(message, loc=("header", "authorization"))


async def require_api_key(request: Request) -> Principal:
    """FastAPI dependency of every ``/v1`` route: the caller's principal, after checking its
    key, its role against the route's and its models against the route's model."""
    state = request.app.state.mm
    route = request.scope.get("route")
    # (not getattr's default: building request.url for every request costs)
    needed, scope = role_of(request.method, route.path if route is not None else request.url.path)
    principal = check_key(state, request, presented_key(request))
    request.state.principal = principal
    current_principal.set(principal)
    if needed is Role.ADMIN:  # audited, refused or not
        mark_audited(request, principal)
    if not principal.may(needed):
        raise _forbid(state, f"the key {principal.name!r} has role {str(principal.role)!r}; "
                             f"{request.method} {getattr(route, 'path', '')} needs "
                             f"{str(needed)!r}" + (" (or admin)" if needed is not Role.ADMIN
                                                   else ""))
    if principal.scoped:
        if scope == "all":
            raise _forbid(state, f"the key {principal.name!r} is limited to models "
                                 f"{sorted(principal.models or ())}; this route spans every model")
        model = request.path_params.get("model")
        if scope == "path" and model is not None and not principal.reaches(model):
            raise _forbid(state, f"the key {principal.name!r} may not reach model {model!r}")
    return principal


def principal_of(request: Request) -> Principal:
    """The principal :func:`require_api_key` found (the open one outside the API)."""
    return getattr(request.state, "principal", OPEN)


def require_model(state: Any, model: str) -> None:
    """A ``body`` route's check of the model it writes to against the request's key."""
    principal = current_principal.get()
    if principal.scoped and not principal.reaches(model):
        raise _forbid(state, f"the key {principal.name!r} may not reach model {model!r}")

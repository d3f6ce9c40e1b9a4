"""Who is looking at a page, and what they may do.

With no API key configured the dashboard is open (everyone may do everything, as with the API).
With keys, every page needs a session (:mod:`modelmon.dashboard.sessions`): a request without one
is sent to ``/ui/signin``; a ``read`` session may look but not acknowledge, silence or expire
(the forms are hidden and their handlers answer 403). Forms carry the session's CSRF token.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from modelmon.access.keys import ROLES, Principal, Role
from modelmon.dashboard.sessions import COOKIE, Session, SessionSigner

__all__ = ["OPEN_SESSION", "SignInRequired", "Viewer", "WriteForbidden", "check_form", "signer",
           "viewer"]

#: The session of everyone when the service has no keys.
OPEN_SESSION = Session("anonymous", "admin", 0, "")


class SignInRequired(Exception):
    """Raised by :func:`viewer`; the app answers with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class WriteForbidden(Exception):
    """A form that changes something came from a read-only session or without its CSRF token."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def signer(request: Request) -> SessionSigner:
    """The app's session signer (made on first use from ``server.session_secret``)."""
    state = request.app.state
    found: SessionSigner | None = getattr(state, "session_signer", None)
    if found is None:
        found = SessionSigner.from_settings(state.mm.settings.server)
        state.session_signer = found
    return found


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/ui/signin?next={quote(target, safe='')}"


async def viewer(request: Request) -> Session:
    """FastAPI dependency of every page: the signed-in session (or the open one). A session
    holds its key's id: the key's current role applies, and a revoked key ends it."""
    ring = request.app.state.mm.keyring
    if not ring.required:
        return OPEN_SESSION
    session = signer(request).read(request.cookies.get(COOKIE))
    principal = ring.by_id(session.name) if session is not None else None
    if session is None or principal is None:
        raise SignInRequired(sign_in_url(request))
    return Session(principal.name, str(principal.role), session.expires, session.csrf,
                   key_id=principal.key_id)


#: A page handler's parameter: the session of whoever looks at the page.
Viewer = Annotated[Session, Depends(viewer)]


def check_form(request: Request, session: Session, form: dict[str, str]) -> None:
    """A form that changes something: audited (refused or not); the session may write and the
    CSRF token matches."""
    from modelmon.service.audit import mark_audited  # the service imports the dashboard

    mark_audited(request, Principal(session.key_id or session.name, session.name,
                                    Role(session.role) if session.role in ROLES else Role.READ))
    if not session.can_write:
        raise WriteForbidden(f"signed in as {session.name!r} with a read-only key: looking is "
                             "allowed, changing is not")
    if session is not OPEN_SESSION and form.get("csrf") != session.csrf:
        raise WriteForbidden("the form's security token does not match your session; reload "
                             "the page and try again")

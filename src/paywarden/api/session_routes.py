"""Who am I, my sessions and devices, sign-out; staff view and revoke a user's sessions.

A user reaches only their own sessions: another user's is answered 404, as if
it did not exist. Staff whose role grants ``sessions`` (support, security
administrators; supervisors read) use the ``/v1/staff/users/{id}/sessions``
routes, and each of their looks and revocations is recorded in the audit log.
Signing out needs no grant: anyone may end the session they present.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services import audit
from ..services.access import AccessDenied
from ..services.identity import SessionInfo
from ..services.identity.notices import notify
from ..services.identity.users import get_user
from . import problem_codes as codes
from .auth import SESSION_COOKIE, CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem
from .schemas.sessions import MeOut, RevokedOut, SessionListOut, SessionOut

router = APIRouter(prefix="/v1", tags=["sessions"])
SessionId = Annotated[str, Path(pattern=r"^ses_[0-9a-f]{16}$")]
UserId = Annotated[str, Path(min_length=1, max_length=32)]


def _out(info: SessionInfo, principal: Principal) -> SessionOut:
    return SessionOut(id=info.id, created=rfc3339(info.created_at),
                      last_seen=rfc3339(info.last_seen_at),
                      expires=rfc3339(min(info.idle_expires_at, info.absolute_expires_at)),
                      user_agent=info.user_agent, address=info.address,
                      auth_methods=sorted(info.auth_methods),
                      current=info.id == principal.session_id)


def _not_found() -> AccessDenied:
    """The same answer whether the session is missing, dead or someone else's."""
    return AccessDenied(404, "no such object")


def _live(info: SessionInfo, now_ns: int) -> bool:
    return (info.revoked_at is None and now_ns < info.idle_expires_at
            and now_ns < info.absolute_expires_at)


def _own_user(p: Platform, principal: Principal) -> str:
    """The user behind the caller's session; a token issued on the host has none."""
    info = p.sessions.get(principal.session_id) if principal.session_id else None
    if info is None or info.user_id is None:
        raise Problem(codes.Callers.NO_USER, "only a signed-in user has sessions and devices")
    return info.user_id


def _clear_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True,
                           samesite="strict")


def _revoke(p: Platform, principal: Principal, info: SessionInfo, *, by: str) -> None:
    with p.database.engine.begin() as conn:
        if not p.sessions.revoke(conn, info.id):
            raise _not_found()
        audit.record(conn, at_ns=p.clock.now_ns(), actor=principal.actor,
                     action="session.revoked", object_id=info.id,
                     detail={"by": by, "user": info.user_id})


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal) -> MeOut:
    """Who am I.

    The caller: kind, id, roles and how the session was authenticated.
    """
    return MeOut(kind=principal.kind.value, id=principal.id, roles=sorted(principal.roles),
                 owner=principal.owner, session_id=principal.session_id,
                 key_id=principal.key_id, auth_methods=sorted(principal.auth_methods))


@router.get("/me/sessions", response_model=SessionListOut)
def my_sessions(principal: CurrentPrincipal, p: PlatformDep) -> SessionListOut:
    """List my sessions.

    The signed-in user's sessions and devices.
    """
    user_id = _own_user(p, principal)
    p.guard.authorize(principal, Resource.SESSIONS, Access.READ, owner=user_id,
                      object_id=user_id)
    return SessionListOut(data=[_out(s, principal) for s in p.sessions.live_for(user_id)])


@router.delete("/me/sessions/{session_id}", status_code=204)
def revoke_my_session(session_id: SessionId, principal: CurrentPrincipal,
                      p: PlatformDep) -> Response:
    """Revoke one of my sessions.

    End a session of the signed-in user (another device).
    """
    user_id = _own_user(p, principal)
    info = p.sessions.get(session_id)
    if info is None or info.user_id is None or not _live(info, p.clock.now_ns()):
        raise _not_found()
    p.guard.authorize(principal, Resource.SESSIONS, Access.MODIFY, owner=info.user_id,
                      object_id=session_id)
    if info.user_id != user_id:  # staff reach others' sessions only through /v1/staff
        raise _not_found()
    _revoke(p, principal, info, by="owner")
    response = Response(status_code=204)
    if info.id == principal.session_id:
        _clear_cookie(response)
    return response


@router.post("/me/sessions/revoke-others", response_model=RevokedOut)
def revoke_my_other_sessions(principal: CurrentPrincipal, p: PlatformDep) -> RevokedOut:
    """Revoke my other sessions.

    End every session of the user but this one.
    """
    user_id = _own_user(p, principal)
    p.guard.authorize(principal, Resource.SESSIONS, Access.MODIFY, owner=user_id,
                      object_id=user_id)
    with p.database.engine.begin() as conn:
        count = p.sessions.revoke_all(conn, user_id, keep=principal.session_id)
        audit.record(conn, at_ns=p.clock.now_ns(), actor=principal.actor,
                     action="session.revoked_others", object_id=user_id,
                     detail={"by": "owner", "count": count})
    return RevokedOut(revoked=count)


@router.post("/auth/sign-out", status_code=204)
def sign_out(principal: CurrentPrincipal, p: PlatformDep) -> Response:
    """Sign out.

    End the presented session and clear the cookie. A signed request has none."""
    if principal.session_id is None:
        raise Problem(codes.Callers.NO_SESSION, "this request was not made with a session")
    with p.database.engine.begin() as conn:
        p.sessions.revoke(conn, principal.session_id)
        audit.record(conn, at_ns=p.clock.now_ns(), actor=principal.actor,
                     action="session.signed_out", object_id=principal.session_id)
    response = Response(status_code=204)
    _clear_cookie(response)
    return response


# -- staff -----------------------------------------------------------------------


def _staff(p: Platform, principal: Principal, access: Access, user_id: str) -> None:
    """Staff only, with the grant; and the user must exist."""
    if principal.kind is not Kind.STAFF:
        p.guard.authorize(principal, Resource.STAFF, access, object_id=user_id)
        raise AccessDenied(403, "not allowed: staff routes")  # pragma: no cover - guard raised
    p.guard.authorize(principal, Resource.SESSIONS, access, object_id=user_id)
    with p.database.engine.connect() as conn:
        if get_user(conn, user_id, keys=p.keys) is None:
            raise Problem(codes.Callers.USER_NOT_FOUND, "no such user")


@router.get("/staff/users/{user_id}/sessions", response_model=SessionListOut)
def user_sessions(user_id: UserId, principal: CurrentPrincipal,
                  p: PlatformDep) -> SessionListOut:
    """List a user's sessions.

    Staff list a user's sessions.
    """
    _staff(p, principal, Access.READ, user_id)
    live = p.sessions.live_for(user_id)
    with p.database.engine.begin() as conn:
        audit.record(conn, at_ns=p.clock.now_ns(), actor=principal.actor,
                     action="sessions.viewed", object_id=user_id, detail={"count": len(live)})
    return SessionListOut(data=[_out(s, principal) for s in live])


@router.delete("/staff/users/{user_id}/sessions/{session_id}", status_code=204)
def revoke_user_session(user_id: UserId, session_id: SessionId, principal: CurrentPrincipal,
                        p: PlatformDep) -> Response:
    """Revoke a user's session.

    Staff end one session of a user.
    """
    _staff(p, principal, Access.MODIFY, user_id)
    info = p.sessions.get(session_id)
    if info is None or info.user_id != user_id or not _live(info, p.clock.now_ns()):
        raise _not_found()
    _revoke(p, principal, info, by="staff")
    return Response(status_code=204)


@router.post("/staff/users/{user_id}/sessions/revoke-all", response_model=RevokedOut)
def revoke_user_sessions(user_id: UserId, principal: CurrentPrincipal,
                         p: PlatformDep) -> RevokedOut:
    """Revoke all of a user's sessions.

    Staff end every session of a user at once.
    """
    _staff(p, principal, Access.MODIFY, user_id)
    now = p.clock.now_ns()
    with p.database.engine.begin() as conn:
        count = p.sessions.revoke_all(conn, user_id)
        audit.record(conn, at_ns=now, actor=principal.actor, action="session.revoked_all",
                     object_id=user_id, detail={"by": "staff", "count": count})
        if count:
            notify(conn, user_id, "sessions_revoked", keys=p.keys, now_ns=now,
                   subject="You were signed out everywhere",
                   body="Our support staff ended all your sessions. Sign in again; if you "
                        "did not ask for this, contact us.")
    return RevokedOut(revoked=count)

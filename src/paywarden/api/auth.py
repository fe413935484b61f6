"""Who is calling, and may they: FastAPI dependencies over sessions and the policy.

A caller proves who they are by one of:

- a bearer token (API clients, staff and supervisor tokens): ``Authorization: Bearer pws_…``;
- the session cookie set on sign-in (pages): HttpOnly, Secure, SameSite=Strict,
  and for unsafe methods an ``Origin`` that is ours as well;
- an RFC 9421 signature over the request (merchant backends), see
  :mod:`paywarden.api.signed`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from ..bootstrap import Platform
from ..domain.identity import Access, Principal, Resource
from . import problem_codes as codes
from .defences import limit_merchant_key
from .problems import Problem

SESSION_COOKIE = "__Host-pw_session"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SIGNATURE_HEADERS = ("signature", "signature-input")
# Roles that read and never write: any unsafe request of theirs is refused before the
# route runs, except on their own sign-in, factors and sessions (issue 13: supervisors
# change nothing; tests/integration/test_deny_by_default.py calls every write route).
READ_ONLY_ROLES = frozenset({"supervisor"})
SELF_SERVICE_PREFIXES = ("/v1/auth/", "/v1/me/sessions", "/v1/me/password", "/v1/me/totp",
                         "/v1/me/recovery-codes", "/v1/me/phrase")

# Set by paywarden.api.signed when merchant signatures are installed: verifies a
# signed request and returns its merchant principal, or raises a Problem.
SignatureVerifier = Callable[[Request], Awaitable[Principal]]


def _unauthenticated(detail: str) -> Problem:
    return Problem(codes.Callers.UNAUTHENTICATED, detail, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(request: Request) -> Principal:
    """The caller's principal; 401 if none is proven. Cached on the request."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        await limit_merchant_key(request, cached)
        return cached
    platform = request.app.state.platform
    if any(h in request.headers for h in SIGNATURE_HEADERS):
        verifier: SignatureVerifier | None = getattr(request.app.state, "verify_signature", None)
        if verifier is None:
            raise _unauthenticated("signed requests are not accepted here")
        principal = await verifier(request)
        await limit_merchant_key(request, principal)
    else:
        principal = _from_token(request, platform)
    _refuse_read_only_writes(request, principal)
    request.state.principal = principal
    return principal


def _refuse_read_only_writes(request: Request, principal: Principal) -> None:
    if request.method in UNSAFE_METHODS and principal.roles and principal.roles <= READ_ONLY_ROLES \
            and not request.url.path.startswith(SELF_SERVICE_PREFIXES):
        raise Problem(codes.Callers.READ_ONLY_ROLE, "a supervisor's access is read-only: "
                      f"{request.method} {request.url.path} changes state")


def _from_token(request: Request, platform: Platform) -> Principal:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthenticated("use 'Authorization: Bearer <token>'")
        principal = platform.sessions.authenticate(token.strip())
        if principal is None:
            raise _unauthenticated("the token is not valid, or has expired or been revoked")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise _unauthenticated("sign in, or send a bearer token")
    if request.method in UNSAFE_METHODS:
        origin = request.headers.get("origin")
        if origin != platform.settings.public_url:
            raise Problem(codes.Callers.ORIGIN_MISMATCH, "a cookie-authenticated change must come "
                          "from a PayWarden page")
    principal = platform.sessions.authenticate(cookie)
    if principal is None:
        raise _unauthenticated("the session has expired or been revoked; sign in again")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require(resource: Resource, access: Access) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, if the policy grants them ``access`` to ``resource``.

    Object-level checks (is this payment theirs?) are made by the route, once it
    knows the object's owner, through ``platform.guard.authorize(..., owner=…)``.
    """

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        request.app.state.platform.guard.authorize(principal, resource, access)
        return principal

    return dependency


def require_by_method(resource: Resource) -> Callable[..., Awaitable[Principal]]:
    """A router-wide dependency: ``read`` for GET and HEAD, ``write`` for anything else."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        access = Access.READ if request.method in ("GET", "HEAD") else Access.WRITE
        request.app.state.platform.guard.authorize(principal, resource, access)
        return principal

    return dependency

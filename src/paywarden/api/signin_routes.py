"""Password + TOTP sign-in, the anti-phishing phrase, resets, and customer sign-up.

``POST /v1/auth/password`` with username, password and a ``totp`` (or
``recovery_code``) signs in at once. Without a code it is the first of two
steps: a right password is answered with a short-lived first-factor token and
the user's anti-phishing phrase, so a genuine page can show the phrase before
asking for the code; ``POST /v1/auth/password/second-factor`` with that token
and the code finishes. A phishing site that knows only a username learns no
phrase: ``GET /v1/auth/phrase`` also needs a token that proves the password.

Every failure (unknown user, wrong password or code, locked account) is the
same 401 ``sign_in_failed``, byte for byte.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from ..bootstrap import Platform
from ..services.identity import enrolment, password_signin, resets
from ..services.identity.guessing import TooManyAttempts
from ..services.identity.password_signin import SignInFailed
from ..services.identity.passwords import HashingBusy
from ..services.identity.sessions import NewSession
from ..services.identity.signin import RequestMeta
from . import problem_codes as codes
from .addresses import client_address
from .auth import SESSION_COOKIE, CurrentPrincipal
from .deps import PlatformDep
from .problems import Problem
from .schemas.identity import PasswordSignInIn, ResetIn, SecondFactorIn, SignUpIn

router = APIRouter(prefix="/v1", tags=["sign-in"])
DEVICE_COOKIE = "__Host-pw_device"  # the same cookie passkey sign-in reads
DEVICE_ID_BYTES = 16
DEVICE_ID_CHARS_MAX = 64
DEVICE_COOKIE_MAX_AGE_S = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days


@contextmanager
def refusals() -> Iterator[None]:
    """Errors that carry a Retry-After become problems with that header."""
    try:
        yield
    except HashingBusy as exc:
        raise Problem(codes.Identity.BUSY, str(exc),
                      headers={"Retry-After": str(exc.retry_after_s)}) from None
    except TooManyAttempts as exc:
        raise Problem(codes.Identity.TOO_MANY_ATTEMPTS, exc.detail,
                      headers={"Retry-After": str(exc.retry_after_s)}) from None


def request_meta(request: Request, response: Response) -> RequestMeta:
    """Where the request comes from; gives the device an id cookie if it has none."""
    device = request.cookies.get(DEVICE_COOKIE, "")
    if not device or len(device) > DEVICE_ID_CHARS_MAX or not device.isascii():
        device = secrets.token_urlsafe(DEVICE_ID_BYTES)
        response.set_cookie(DEVICE_COOKIE, device, max_age=DEVICE_COOKIE_MAX_AGE_S, path="/",
                            secure=True, httponly=True, samesite="strict")
    return RequestMeta(address=client_address(request),
                       user_agent=request.headers.get("user-agent", "")[:256], device_id=device)


def session_out(platform: Platform, new: NewSession, response: Response) -> dict[str, Any]:
    """A new session: the bearer token in the body, and the page cookie."""
    response.set_cookie(SESSION_COOKIE, new.token, max_age=platform.settings.session_absolute_s,
                        path="/", secure=True, httponly=True, samesite="strict")
    response.headers["Cache-Control"] = "no-store"
    return {"token": new.token, "session_id": new.session.id, "user_id": new.session.user_id,
            "auth_methods": sorted(new.session.auth_methods),
            "expires_at_ns": new.session.absolute_expires_at}


@router.post("/auth/password")
def sign_in(body: PasswordSignInIn, request: Request, response: Response,
            platform: PlatformDep) -> dict[str, Any]:
    """Sign in with a password.

    Sign in with password and code; without a code, the first of two steps."""
    meta = request_meta(request, response)
    creds = platform.credentials
    with refusals():
        if body.totp is None and body.recovery_code is None:
            passed = password_signin.first_factor(creds, username=body.username,
                                                  password=body.password, meta=meta)
            response.headers["Cache-Control"] = "no-store"
            return {"status": "second_factor_required",
                    "first_factor_token": passed.token,
                    "expires_at_ns": passed.expires_at,
                    "anti_phishing_phrase": passed.anti_phishing_phrase,
                    "second_factors": list(passed.second_factors)}
        new = password_signin.sign_in(creds, username=body.username, password=body.password,
                                      second=body.factor(), meta=meta)
    return session_out(platform, new, response)


@router.post("/auth/password/second-factor")
def sign_in_second_factor(body: SecondFactorIn, request: Request, response: Response,
                          principal: CurrentPrincipal, platform: PlatformDep) -> dict[str, Any]:
    """Finish a password sign-in.

    Finish a two-step sign-in: send the first-factor token as the bearer token."""
    if body.totp is None and body.recovery_code is None:
        raise Problem(codes.Identity.SECOND_FACTOR_MISSING, "send a totp code or a recovery code")
    with refusals():
        new = password_signin.second_factor(platform.credentials, pending=principal,
                                            second=body.factor(),
                                            meta=request_meta(request, response))
    return session_out(platform, new, response)


@router.get("/auth/phrase")
def anti_phishing_phrase(principal: CurrentPrincipal, platform: PlatformDep,
                         username: Annotated[str, Query(min_length=1, max_length=256)]
                         ) -> dict[str, Any]:
    """Read my anti-phishing phrase.

    The phrase, to a session of that very user (first-factor, enrolment or full) only."""
    from ..services.identity.users import find_by_username

    with platform.database.engine.connect() as conn:
        user = find_by_username(conn, username, keys=platform.keys)
    if user is None or principal.session_id is None or principal.id != user.id:
        raise SignInFailed()
    return {"username": user.username, "anti_phishing_phrase": user.anti_phishing_phrase}


@router.post("/auth/reset", status_code=204)
def reset_password(body: ResetIn, request: Request, response: Response,
                   platform: PlatformDep) -> None:
    """Reset a password.

    A customer sets a new password by proving their second factor; all sessions end."""
    if body.totp is None and body.recovery_code is None:
        raise Problem(codes.Identity.SECOND_FACTOR_MISSING, "a reset needs a totp code or a "
                      "recovery code: it never bypasses the second factor")
    with refusals():
        resets.complete_reset(platform.credentials, username=body.username,
                              new_password=body.new_password, second=body.factor(),
                              meta=request_meta(request, response))


@router.post("/customers", status_code=201)
def sign_up(body: SignUpIn, request: Request, response: Response,
            platform: PlatformDep) -> dict[str, Any]:
    """Sign up as a customer.

    Create a customer; the answer holds an enrolment token (30 min) to add factors with."""
    meta = request_meta(request, response)
    with refusals():
        enrolled = enrolment.sign_up_customer(
            platform.credentials, username=body.username, display_name=body.display_name,
            email=body.email, password=body.password, address=meta.address,
            user_agent=meta.user_agent)
    response.headers["Cache-Control"] = "no-store"
    return {"customer_id": enrolled.user.id, "username": enrolled.user.username,
            "enrolment_token": enrolled.enrolment.token,
            "expires_at_ns": enrolled.enrolment.session.absolute_expires_at,
            "password_set": body.password is not None}

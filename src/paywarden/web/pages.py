"""The pages a buyer uses: sign-up with a passkey, passkey sign-in, their account.

The pages are thin: each is a template and a script from ``static/`` that calls
the same JSON API any client uses (``/v1/customers``, ``/v1/auth/passkeys/…``,
``/v1/me/…``), so the API's checks — the session cookie's Origin check, the
WebAuthn origin and relying party checks — apply to the pages unchanged.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from ..services.identity.credentials import ENROLMENT, FIRST_FACTOR
from ..services.identity.users import User, get_user
from .portal import portal_page
from .render import page_headers, page_principal, render_page, static_file

router = APIRouter(include_in_schema=False)
NOT_FULL = frozenset({ENROLMENT, FIRST_FACTOR})
# Where /signin may send the buyer back to: a path on this site, never another host.
OVERVIEW_PAYMENTS_MAX = 50  # the overview counts shipped orders among the latest this many
LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/_.~-]{0,200}")


def signed_in_user(request: Request) -> User | None:
    """The user whose full session the cookie carries, or None (no, dead or partial session)."""
    principal = page_principal(request)
    if principal is None or principal.session_id is None or principal.auth_methods & NOT_FULL:
        return None
    platform = request.app.state.platform
    with platform.database.engine.connect() as conn:
        return get_user(conn, principal.id, keys=platform.keys)


def to_sign_in(back_to: str | None = None) -> RedirectResponse:
    """303 to /signin; ``back_to`` (a local path, e.g. a checkout page) is where it returns."""
    target = "/signin"
    if back_to is not None and LOCAL_PATH.fullmatch(back_to):
        target += "?next=" + quote(back_to, safe="/")
    return RedirectResponse(target, status_code=303, headers=page_headers(personal=True))


@router.get("/signup")
def sign_up_page() -> Response:
    return render_page("signup.html", personal=False, title="Create your PayWarden account")


@router.get("/signin")
def sign_in_page() -> Response:
    return render_page("signin.html", personal=False, title="Sign in to PayWarden")


@router.get("/account")
def account_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/account")
    platform = request.app.state.platform
    cards = platform.cards.list_for(user.id)
    recent = platform.payments.for_buyer(user.id, limit=OVERVIEW_PAYMENTS_MAX)
    to_confirm = sum(1 for view in recent if str(view.escrow.state) == "shipped")
    return portal_page(request, "account.html", section="overview",
                       title="Your PayWarden account", user=user, cards=cards,
                       to_confirm=to_confirm)


@router.get("/account/passkeys")
def passkeys_page() -> Response:
    """Passkeys are managed in the security centre now; old links still land there."""
    return RedirectResponse("/account/security#passkeys", status_code=303,
                            headers=page_headers(personal=True))


@router.get("/static/{name}")
def static(name: str) -> Response:
    found = static_file(name)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain",
                        headers=page_headers(personal=False))
    return found

"""The security centre (``/account/security``): devices and sessions, passkeys, recent
sign-ins and changes, and a few tips for this moment.

Read on the server from the signed-in user's own rows, like ``/account``; every change
(revoke a session, sign out the others, add, rename or revoke a passkey) is made by
``static/security.js`` through the same JSON API any client uses, which then reloads
the page with ``?done=<what>`` so that the tip for that moment is shown. ``done``
only picks one of a fixed set of tips; an unknown value shows none.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..services.identity import notifications
from .pages import NOT_FULL, signed_in_user, to_sign_in
from .portal import portal_page
from .render import page_principal
from .tips import describe_device, security_tips

router = APIRouter(include_in_schema=False)
NOTICES_SHOWN_MAX = 10


@router.get("/account/security")
def security_page(request: Request, done: str | None = None) -> Response:
    user = signed_in_user(request)
    principal = page_principal(request)
    if user is None or principal is None:
        return to_sign_in("/account/security")
    platform = request.app.state.platform
    now = platform.clock.now_ns()
    sessions = [{"info": s, "device": describe_device(s.user_agent),
                 "current": s.id == principal.session_id,
                 "partial": bool(s.auth_methods & NOT_FULL)}
                for s in platform.sessions.live_for(user.id)]
    sessions.sort(key=lambda s: not s["current"])  # this device first
    passkeys = platform.passkeys.list_for(principal)
    notices = notifications.list_for(platform.database, user.id, keys=platform.keys,
                                     limit=NOTICES_SHOWN_MAX)
    tips = security_tips(done=done, passkeys=len(passkeys),
                         has_phrase=bool(user.anti_phishing_phrase),
                         recent_kinds=[(n.kind, n.created_at) for n in notices], now_ns=now)
    return portal_page(request, "security.html", section="security",
                       title="Security centre", user=user, sessions=sessions,
                       passkeys=passkeys, notices=notices, tips=tips)

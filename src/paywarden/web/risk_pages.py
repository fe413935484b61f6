"""The analysts' pages: staff sign-in, the queue of review cases, one case.

Staff sign in on ``/staff/signin`` with password + TOTP through the same two-step
``/v1/auth/password`` API (the anti-phishing phrase shown before the code is asked for), or
with a passkey on ``/signin?next=/risk``: no weaker way in. The pages are read with the
session cookie and rendered server-side; every action (release, decline, label, re-run) is a
``fetch`` to the JSON API from ``static/risk.js``, so the API's Origin check and access
policy apply unchanged. Reading needs ``read`` on ``risk`` (risk, supervisor).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from ..domain.errors import DomainError
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.access import AccessDenied
from ..services.identity.credentials import ENROLMENT, FIRST_FACTOR
from .render import page_headers, page_principal, render_page

router = APIRouter(include_in_schema=False)
CASE_ID = re.compile(r"rsk_[0-9a-f]{24}")
NOT_FULL = frozenset({ENROLMENT, FIRST_FACTOR})


def _to_sign_in() -> RedirectResponse:
    return RedirectResponse("/staff/signin", status_code=303, headers=page_headers(personal=True))


def _analyst(request: Request) -> Principal | Response:
    """The signed-in staff member allowed to read cases, or the page to answer instead."""
    principal = page_principal(request)
    if principal is None or principal.session_id is None or principal.auth_methods & NOT_FULL:
        return _to_sign_in()
    denied = render_page("risk_denied.html", status_code=403, title="Not for this account",
                         staff=True)
    if principal.kind is not Kind.STAFF:
        return denied
    try:
        request.app.state.platform.guard.authorize(principal, Resource.RISK, Access.READ)
    except AccessDenied:
        return denied
    return principal


def _view(platform: Any, principal: Principal) -> dict[str, Any]:
    from ..domain.identity import decide

    return {"staff": True, "wide": True, "actor": principal.id,
            "may_act": bool(decide(principal, Resource.RISK, Access.MODIFY)),
            "now_ns": platform.clock.now_ns()}


@router.get("/staff/signin")
def staff_sign_in_page() -> Response:
    return render_page("risk_signin.html", personal=False, title="Staff sign-in", staff=True)


@router.get("/risk")
def queue_page(request: Request) -> Response:
    found = _analyst(request)
    if isinstance(found, Response):
        return found
    platform = request.app.state.platform
    groups = platform.risk_cases.queue(actor=found.actor)
    for group in groups:
        for case in group["cases"]:
            case["sla_text"] = duration(case["sla"]["left_s"])
    return render_page("risk_queue.html", title="Review cases", groups=groups,
                       open_count=sum(len(g["cases"]) for g in groups),
                       **_view(platform, found))


@router.get("/risk/cases/{case_id}")
def case_page(case_id: str, request: Request) -> Response:
    found = _analyst(request)
    if isinstance(found, Response):
        return found
    platform = request.app.state.platform
    if not CASE_ID.fullmatch(case_id):
        return render_page("risk_denied.html", status_code=404, title="No such case",
                           staff=True)
    try:
        case = platform.risk_cases.case(case_id, actor=found.actor)
    except DomainError:
        return render_page("risk_denied.html", status_code=404, title="No such case",
                           staff=True)
    case["sla_text"] = duration(case["sla"]["left_s"])
    return render_page("risk_case.html", title=f"Case {case_id}", case=case,
                       **_view(platform, found))


def duration(seconds: int) -> str:
    """``2 h 05 min`` left, or ``overdue by 12 min``: the SLA as an analyst reads it."""
    late = seconds < 0
    minutes = abs(seconds) // 60
    text = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    return f"overdue by {text}" if late else f"{text} left"

"""The staff back office: home, the approvals inbox, the audit-log browser, enrolment.

Passkeys only: a page is shown to a member of staff whose session was opened with a
passkey. A password + TOTP session (the analysts' older way in) is sent to the passkey
sign-in, because approving a command needs a passkey step-up anyway and a back office
reachable with a phishable factor is the way round it. Pages are read server-side with
the session cookie and the same access policy as the API; every action (approve, reject,
withdraw) is a ``fetch`` to the JSON API from a static script, so the API's Origin check,
four-eyes checks and step-up checks apply unchanged. The audit browser reads the log
through ``/v1/audit`` from the page and checks each inclusion proof there (decision 0045).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from ..api.auth import READ_ONLY_ROLES
from ..domain.approvals import APPROVERS, FINAL, NO_CURRENCY, SUBMITTERS, State
from ..domain.approvals import Kind as Command
from ..domain.identity import Access, Kind, Principal, Resource, decide
from ..services.approvals import Approval
from ..services.identity.credentials import ENROLMENT, FIRST_FACTOR
from ..services.identity.users import get_user
from ..services.staff.review import access_review
from . import staff_views as views
from .render import page_headers, page_principal, render_page

router = APIRouter(include_in_schema=False)
NOT_FULL = frozenset({ENROLMENT, FIRST_FACTOR})
INBOX_SIZE_MAX = 100  # requests one inbox tab lists, newest first
Tab = Literal["pending", "decided"]


@dataclass(frozen=True)
class Member:
    """The signed-in member of staff a page is for."""

    principal: Principal
    username: str
    display_name: str


def _to_passkey_sign_in(path: str) -> RedirectResponse:
    return RedirectResponse("/signin?next=" + quote(path, safe="/"), status_code=303,
                            headers=page_headers(personal=True))


def _denied(title: str, reason: str, status_code: int = 403) -> Response:
    return render_page("staff_denied.html", status_code=status_code, title=title,
                       reason=reason, staff=True)


def _member(request: Request, path: str) -> Member | Response:
    """The member of staff signed in with a passkey, or the page to answer instead."""
    principal = page_principal(request)
    if principal is None or principal.session_id is None or principal.auth_methods & NOT_FULL:
        return _to_passkey_sign_in(path)
    if principal.kind is not Kind.STAFF:
        return _denied("Not for this account", "These pages are for PayWarden staff.")
    if "passkey" not in principal.auth_methods:
        return _denied("Sign in with your passkey", "The back office takes passkeys only: "
                       "sign out, then sign in with your passkey.")
    platform = request.app.state.platform
    with platform.database.engine.connect() as conn:
        user = get_user(conn, principal.id, keys=platform.keys)
    if user is None:
        return _to_passkey_sign_in(path)
    return Member(principal, user.username, user.display_name)


def _may(principal: Principal, resource: Resource, access: Access = Access.READ) -> bool:
    return bool(decide(principal, resource, access))


def _view(member: Member, **more: Any) -> dict[str, Any]:
    return {"staff": True, "wide": True, "me": member,
            "roles": sorted(member.principal.roles), **_queue_access(member.principal), **more}


@router.get("/staff")
def home_page(request: Request) -> Response:
    member = _member(request, "/staff")
    if isinstance(member, Response):
        return member
    p = member.principal
    return render_page("staff_home.html", title="Back office", **_view(
        member, may_approvals=_may(p, Resource.APPROVALS),
        may_audit=_may(p, Resource.AUDIT), may_risk=_may(p, Resource.RISK),
        may_customers=_may(p, Resource.CUSTOMERS), may_people=_may(p, Resource.STAFF),
        may_alerts=_may(p, Resource.ALERTS), may_keys=_may(p, Resource.SETTINGS)))


def _names(request: Request, ids: set[str]) -> dict[str, str]:
    """``usr_…`` → ``Display Name (username)`` for the people an inbox names."""
    platform = request.app.state.platform
    found: dict[str, str] = {}
    with platform.database.engine.connect() as conn:
        for user_id in sorted(ids):
            user = get_user(conn, user_id, keys=platform.keys) if user_id.startswith(
                "usr_") else None
            found[user_id] = f"{user.display_name} ({user.username})" if user else user_id
    return found


def _row(a: Approval, me: Principal, names: dict[str, str]) -> dict[str, Any]:
    """One request as the inbox shows it, with what this member may do about it."""
    mine = a.submitted_by == me.id
    approvers = APPROVERS[a.kind]
    return {
        "a": a, "mine": mine, "moves_money": a.currency != NO_CURRENCY,
        "may_decide": a.state is State.PENDING and not mine and bool(me.roles & approvers),
        "approvers": ", ".join(sorted(approvers)),
        "submitter": names.get(a.submitted_by, a.submitted_by),
        "decider": names.get(a.decided_by or "", a.decided_by or ""),
        "params_json": json.dumps(a.params, indent=2, sort_keys=True, ensure_ascii=False),
        "result_json": (json.dumps(a.result, indent=2, sort_keys=True, ensure_ascii=False)
                        if a.result else ""),
    }


@router.get("/staff/approvals")
def approvals_page(request: Request, tab: Tab = "pending") -> Response:
    member = _member(request, "/staff/approvals")
    if isinstance(member, Response):
        return member
    p = member.principal
    if not _may(p, Resource.APPROVALS):
        return _denied("Not for this role", "Your role does not read approval requests.")
    platform = request.app.state.platform
    if tab == "pending":
        found = platform.approvals.list(state=str(State.PENDING), limit=INBOX_SIZE_MAX)
    else:
        found = [a for a in platform.approvals.list(limit=INBOX_SIZE_MAX) if a.state in FINAL]
    names = _names(request, {a.submitted_by for a in found}
                   | {a.decided_by for a in found if a.decided_by})
    rows = [_row(a, p, names) for a in found]
    return render_page("staff_approvals.html", title="Approvals", tab=tab, rows=rows,
                       may_write=_may(p, Resource.APPROVALS, Access.WRITE), **_view(member))


@router.get("/staff/audit")
def audit_page(request: Request) -> Response:
    member = _member(request, "/staff/audit")
    if isinstance(member, Response):
        return member
    return render_page("staff_audit.html", title="Audit log",
                       may_audit=_may(member.principal, Resource.AUDIT), **_view(member))


@router.get("/staff/enrol")
def enrol_page() -> Response:
    """A joiner's one-time link lands here (``/staff/enrol#<token>``): the token stays in
    the fragment, which browsers never send to a server or put in a Referer."""
    return render_page("staff_enrol.html", title="Set up your staff passkey", staff=True)


# -- Staff pages II (decision 0048): customers, people and roles, alerts, keys ---------------


@router.get("/staff/customers")
def customers_page(request: Request) -> Response:
    """The lookup is done by the page through the API, so each profile opened and each
    field revealed is the API's audited call, never a second path around it."""
    member = _member(request, "/staff/customers")
    if isinstance(member, Response):
        return member
    p = member.principal
    if not _may(p, Resource.CUSTOMERS):
        return _denied("Not for this role", "Customer lookup is for support, risk and "
                       "supervisors: your role does not look customers up.")
    return render_page("staff_customers.html", title="Customers", **_view(
        member, may_reveal=not p.roles <= READ_ONLY_ROLES))


@router.get("/staff/people")
def people_page(request: Request) -> Response:
    member = _member(request, "/staff/people")
    if isinstance(member, Response):
        return member
    p = member.principal
    if not _may(p, Resource.STAFF):
        return _denied("Not for this role", "Staff and their roles are kept by security "
                       "admins (supervisors may read them): your role cannot open this.")
    platform = request.app.state.platform
    holders = access_review(platform.database, platform.sessions, clock=platform.clock,
                            keys=platform.keys)
    pending = [{"id": a.id, **a.params} for a in platform.approvals.list(
        state=str(State.PENDING), kinds=[str(Command.ROLE_GRANT)], limit=INBOX_SIZE_MAX)]
    people = [views.person_row(h, pending, p.id) for h in holders if h.kind == "person"]
    return render_page("staff_people.html", title="Staff and roles", **_view(
        member, people=people, tokens=[h for h in holders if h.kind != "person"],
        may_change=_may(p, Resource.STAFF, Access.FULL_CONTROL),
        role_words=views.ROLE_WORDS, conflicts=views.conflict_table()))


@router.get("/staff/alerts")
def alerts_page(request: Request, tab: Literal["open", "all"] = "open") -> Response:
    member = _member(request, "/staff/alerts")
    if isinstance(member, Response):
        return member
    p = member.principal
    if not _may(p, Resource.ALERTS):
        return _denied("Not for this role", "Alerts are read by operators, support, risk "
                       "and supervisors: your role cannot open them.")
    platform = request.app.state.platform
    found, more = platform.alerts.page(actor=p.actor, open_only=tab == "open")
    names = _names(request, views.alert_people(found))
    return render_page("staff_alerts.html", title="Alerts", **_view(
        member, tab=tab, rows=[views.alert_row(a, names) for a in found], more=more is not None,
        may_acknowledge=_may(p, Resource.ALERTS, Access.MODIFY)))


@router.get("/staff/keys")
def keys_page(request: Request) -> Response:
    """Read server-side: no API lists key versions (the JWKS shows public keys only), and
    a version holds nothing secret once its wrapped secret is left out, as here."""
    member = _member(request, "/staff/keys")
    if isinstance(member, Response):
        return member
    p = member.principal
    if not _may(p, Resource.SETTINGS):
        return _denied("Not for this role", "Keys are looked after by security admins "
                       "(supervisors may read them): your role cannot open this.")
    platform = request.app.state.platform
    destroying = {a.params.get("kid", ""): a.id for a in platform.approvals.list(
        state=str(State.PENDING), kinds=[str(Command.KEY_DESTRUCTION)], limit=INBOX_SIZE_MAX)}
    now = platform.clock.now_ns()
    rows = [views.key_row(platform.keys, v, now_ns=now, destroying=destroying)
            for v in platform.keys.versions()]
    may_destroy = bool(p.roles & SUBMITTERS[Command.KEY_DESTRUCTION]) and _may(
        p, Resource.APPROVALS, Access.WRITE)
    return render_page("staff_keys.html", title="Keys", **_view(
        member, rows=rows, may_destroy=may_destroy))
def _queue_access(p: Principal) -> dict[str, bool]:
    """What the home page says of the queues and the supervisor portal (web/staff_queues)."""
    return {"may_disputes": _may(p, Resource.PAYMENTS, Access.MODIFY),
            "may_certification": _may(p, Resource.CERTIFICATION, Access.MODIFY),
            "may_supervision": bool(p.roles) and p.roles <= READ_ONLY_ROLES}

"""The merchant dashboard: a merchant's people at work under ``/merchant`` (decision 0052).

The same shape as the staff back office (web/staff_pages.py): passkeys only, a page is
read server-side with the session cookie and the same access policy as the API, and every
action (ship, refund, answer a dispute, approve, invite, settings) is a ``fetch`` from a
static script to the JSON API, so the API's Origin check, the merchant's own-data check,
the four-eyes engine and the step-up apply unchanged. A page only ever reads the signed-in
person's own merchant (``Principal.owner``): there is no merchant id in any address, so
there is none to change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from ..domain.approvals import APPROVERS, NO_CURRENCY, State
from ..domain.identity import Access, Kind, Principal, Resource, decide
from ..services import webhooks
from ..services.approvals import Approval
from ..services.identity.credentials import ENROLMENT, FIRST_FACTOR
from ..services.identity.users import get_user
from ..services.merchants.balance import balances
from ..services.merchants.users import role_of
from .render import page_headers, page_principal, render_page

router = APIRouter(include_in_schema=False)
NOT_FULL = frozenset({ENROLMENT, FIRST_FACTOR})
PAYMENTS_PAGE_SIZE = 50  # payments the payments page lists, newest first
INBOX_SIZE_MAX = 100  # requests the inbox lists, newest first
EVENTS_PAGE_SIZE = 20  # webhook events the webhooks page lists, newest first
OWNER = "merchant_owner"  # the role that reads the balance (as GET /v1/merchants/me/balance)
ROLE_WORDS = {"owner": "Owner", "developer": "Developer", "support": "Support"}


@dataclass(frozen=True)
class Person:
    """The merchant's person a page is for, and the merchant they act for."""

    principal: Principal
    username: str
    display_name: str
    role: str
    merchant_id: str
    merchant_name: str


def _denied(title: str, reason: str, status_code: int = 403) -> Response:
    return render_page("merchant_denied.html", status_code=status_code, title=title,
                       reason=reason, merchant=True)


def _person(request: Request, path: str) -> Person | Response:
    """The merchant's person signed in with a passkey, or the page to answer instead."""
    principal = page_principal(request)
    if principal is None or principal.session_id is None or principal.auth_methods & NOT_FULL:
        return RedirectResponse("/signin?next=" + quote(path, safe="/"), status_code=303,
                                headers=page_headers(personal=True))
    if principal.kind is not Kind.MERCHANT or principal.owner is None \
            or not principal.id.startswith("usr_"):
        return _denied("Not for this account", "These pages are for a merchant's people.")
    if "passkey" not in principal.auth_methods:
        return _denied("Sign in with your passkey", "The merchant dashboard takes passkeys "
                       "only: sign out, then sign in with your passkey.")
    platform = request.app.state.platform
    with platform.database.engine.connect() as conn:
        user = get_user(conn, principal.id, keys=platform.keys)
    merchant = platform.merchants.get(principal.owner)
    if user is None or merchant is None:
        return _denied("Not for this account", "This account acts for no merchant.")
    return Person(principal, user.username, user.display_name, role_of(user),
                  principal.owner, merchant.name)


def _may(person: Person, resource: Resource, access: Access = Access.READ) -> bool:
    p = person.principal
    return bool(decide(p, resource, access, owner=person.merchant_id))


def _view(person: Person, **more: Any) -> dict[str, Any]:
    return {"merchant": True, "wide": True, "me": person,
            "role_word": ROLE_WORDS.get(person.role, person.role),
            "may_people": _may(person, Resource.MERCHANT_USERS),
            "may_keys": _may(person, Resource.MERCHANT_KEYS),
            "may_approvals": _may(person, Resource.APPROVALS),
            "may_balance": OWNER in person.principal.roles,
            "may_certification": _may(person, Resource.CERTIFICATION),
            "may_webhooks": _may(person, Resource.MERCHANT_KEYS), **more}


def _gate(request: Request, path: str, resource: Resource,
          why: str) -> Person | Response:
    person = _person(request, path)
    if isinstance(person, Response) or _may(person, resource):
        return person
    return _denied("Not for your role", why)


@router.get("/merchant/join")
def join_page() -> Response:
    """An invitee's one-time link lands here (``/merchant/join#<token>``): the token stays
    in the fragment, which browsers never send to a server or put in a Referer."""
    return render_page("merchant_join.html", title="Join your team on PayWarden",
                       merchant=True)


@router.get("/merchant")
def home_page(request: Request) -> Response:
    person = _person(request, "/merchant")
    if isinstance(person, Response):
        return person
    return render_page("merchant_home.html", title=person.merchant_name, **_view(person))


@router.get("/merchant/payments")
def payments_page(request: Request) -> Response:
    person = _gate(request, "/merchant/payments", Resource.PAYMENTS,
                   "Your role does not read payments.")
    if isinstance(person, Response):
        return person
    found = request.app.state.platform.payments.for_merchant(person.merchant_id,
                                                            limit=PAYMENTS_PAGE_SIZE)
    return render_page("merchant_payments.html", title="Payments", rows=found, **_view(
        person, may_write=_may(person, Resource.PAYMENTS, Access.WRITE)))


def _row(a: Approval, me: Principal) -> dict[str, Any]:
    mine = a.submitted_by == me.id
    return {
        "a": a, "mine": mine, "moves_money": a.currency != NO_CURRENCY,
        "may_decide": a.state is State.PENDING and not mine and bool(me.roles & APPROVERS[a.kind]),
        "approvers": "an owner", "submitter": a.submitted_by, "decider": a.decided_by or "",
        "params_json": json.dumps(a.params, indent=2, sort_keys=True, ensure_ascii=False),
        "result_json": (json.dumps(a.result, indent=2, sort_keys=True, ensure_ascii=False)
                        if a.result else ""),
    }


def _names(request: Request, ids: set[str]) -> dict[str, str]:
    platform = request.app.state.platform
    found: dict[str, str] = {}
    with platform.database.engine.connect() as conn:
        for user_id in sorted(ids):
            user = get_user(conn, user_id, keys=platform.keys)
            found[user_id] = f"{user.display_name} ({user.username})" if user else user_id
    return found


@router.get("/merchant/approvals")
def approvals_page(request: Request, tab: str = "pending") -> Response:
    """The merchant's inbox: only its own requests (``Approvals.list(merchant_id=…)``)."""
    person = _gate(request, "/merchant/approvals", Resource.APPROVALS,
                   "Refund approvals are for owners and support: your role has none.")
    if isinstance(person, Response):
        return person
    tab = "decided" if tab == "decided" else "pending"
    approvals = request.app.state.platform.approvals
    if tab == "pending":
        found = approvals.list(state=str(State.PENDING), merchant_id=person.merchant_id,
                               limit=INBOX_SIZE_MAX)
    else:
        found = [a for a in approvals.list(merchant_id=person.merchant_id,
                                           limit=INBOX_SIZE_MAX)
                 if a.state is not State.PENDING]
    names = _names(request, {a.submitted_by for a in found}
                   | {a.decided_by for a in found if a.decided_by})
    rows = []
    for a in found:
        row = _row(a, person.principal)
        row["submitter"] = names.get(a.submitted_by, a.submitted_by)
        row["decider"] = names.get(a.decided_by or "", a.decided_by or "")
        rows.append(row)
    return render_page("merchant_approvals.html", title="Approvals", tab=tab, rows=rows,
                       may_write=True, **_view(person))


@router.get("/merchant/people")
def people_page(request: Request) -> Response:
    person = _gate(request, "/merchant/people", Resource.MERCHANT_USERS,
                   "Only the merchant's owners manage its people.")
    if isinstance(person, Response):
        return person
    users = request.app.state.platform.merchant_users.list(person.merchant_id)
    people = [{"id": u.id, "username": u.username, "display_name": u.display_name,
               "role": ROLE_WORDS.get(role_of(u), role_of(u)), "status": u.status,
               "me": u.id == person.principal.id} for u in users]
    return render_page("merchant_people.html", title="People", people=people,
                       roles=ROLE_WORDS, **_view(person))


@router.get("/merchant/settings")
def settings_page(request: Request) -> Response:
    person = _gate(request, "/merchant/settings", Resource.MERCHANTS,
                   "Your role does not read the merchant's settings.")
    if isinstance(person, Response):
        return person
    least = request.app.state.platform.merchant_users.refund_approval_min(person.merchant_id)
    return render_page("merchant_settings.html", title="Settings", least=least, **_view(
        person, may_change=_may(person, Resource.MERCHANT_USERS, Access.MODIFY)))


@router.get("/merchant/keys")
def keys_page(request: Request) -> Response:
    """The merchant's signing keys: public halves only, which is all the server ever has."""
    person = _gate(request, "/merchant/keys", Resource.MERCHANT_KEYS,
                   "API keys are for the merchant's owners and developers.")
    if isinstance(person, Response):
        return person
    merchant = request.app.state.platform.merchants.get(person.merchant_id)
    keys = sorted(merchant.keys, key=lambda k: (not k.active, -k.created_at)) if merchant else []
    return render_page("merchant_keys.html", title="API keys", keys=keys, **_view(person))


@router.get("/merchant/balance")
def balance_page(request: Request) -> Response:
    """The merchant's ledger balance per currency; payouts are not built, and it says so."""
    person = _person(request, "/merchant/balance")
    if isinstance(person, Response):
        return person
    if OWNER not in person.principal.roles:
        return _denied("Not for your role", "Only the merchant's owners read its balance.")
    platform = request.app.state.platform
    found = balances(platform.queries, person.merchant_id, now_ns=platform.clock.now_ns())
    return render_page("merchant_balance.html", title="Balance", balances=found, **_view(person))


@router.get("/merchant/certification")
def certification_page(request: Request) -> Response:
    """Certification status, each domain's token and state, and the certificate."""
    person = _gate(request, "/merchant/certification", Resource.CERTIFICATION,
                   "Certification is for the merchant's owners.")
    if isinstance(person, Response):
        return person
    cert = request.app.state.platform.certification
    return render_page("merchant_certification.html", title="Certification",
                       application=cert.application(person.merchant_id),
                       entry=cert.registry_entry(person.merchant_id), **_view(person))


@router.get("/merchant/certification/certificate.pem")
def certificate_download(request: Request) -> Response:
    """The merchant's certificate (PEM) as a file; it is public in the registry anyway, but
    this page serves only the signed-in person's own merchant."""
    person = _gate(request, "/merchant/certification", Resource.CERTIFICATION,
                   "Certification is for the merchant's owners.")
    if isinstance(person, Response):
        return person
    entry = request.app.state.platform.certification.registry_entry(person.merchant_id)
    if entry is None:
        return _denied("No certificate", "Your merchant holds no certificate yet.", 404)
    name = f"paywarden-{person.merchant_id}-{entry.certificate.serial}.pem"
    return Response(entry.certificate.pem, media_type="application/x-pem-file",
                    headers={**page_headers(personal=True),
                             "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/merchant/webhooks")
def webhooks_page(request: Request) -> Response:
    """The endpoint, the delivery log with each attempt, resend and a test event."""
    person = _gate(request, "/merchant/webhooks", Resource.MERCHANT_KEYS,
                   "Webhooks are for the merchant's owners and developers.")
    if isinstance(person, Response):
        return person
    platform = request.app.state.platform
    with platform.database.engine.connect() as conn:
        endpoint = webhooks.get_endpoint(conn, platform.keys, person.merchant_id)
        events, _ = webhooks.page(conn, person.merchant_id, limit=EVENTS_PAGE_SIZE)
    return render_page("merchant_webhooks.html", title="Webhooks", endpoint=endpoint,
                       events=events, **_view(person))

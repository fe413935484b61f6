"""The customer's cheque pages (decision 0026): write, read, hand over, stop and present.

- ``/bank/cheques``: the cheques the customer wrote and those made out to their accounts,
  newest first, each with its state in words (a bounce with its reason);
- ``/bank/cheques/write``: the form; its script asks the API for a draft (the serial and
  the exact step-up operation), has the customer approve that operation with a passkey,
  writes the cheque and opens its page;
- ``/bank/cheques/{id}``: one cheque — its text with a copy button and how to hand it to
  the payee, its presentations, and (for the drawer, while it is issued) stop, behind a
  confirmation;
- ``/bank/cheques/present``: paste a cheque's text, choose the account it is paid into.

Like the other bank pages these are thin: reads are rendered on the server from the
session's user (the same service calls as ``GET /v1/me/cheques``), and every change is
made by the page's script through the JSON API, so the API's checks apply unchanged.
Another customer's cheque is the same 404 page as a missing one, as in the API.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Request, Response

from ..domain.banking.cheques import DATE_AHEAD_DAYS_MAX, VALIDITY_DAYS_MAX, ChequeState
from ..domain.errors import DomainError
from ..services.banking import Product, State
from ..services.banking.cheque_views import ChequeView
from ..services.identity.users import User
from .bank_pages import account_view, grouped_iban
from .pages import signed_in_user, to_sign_in
from .portal import portal_page

router = APIRouter(include_in_schema=False)
CHEQUE_ID = re.compile(r"chq_[0-9a-f]{24}")
CURSOR = re.compile(r"(\d{1,19})\.(chq_[0-9a-f]{24})")
CHEQUES_PAGE_SIZE = 20
VALIDITY_DAYS_DEFAULT = 90  # what the form offers; the drawer may choose 1 to 180

# A state as a badge: its words and its colour (the words say it; the colour helps).
STATES = {
    ChequeState.ISSUED: ("Issued", "info"),
    ChequeState.PAID: ("Paid", "ok"),
    ChequeState.BOUNCED: ("Bounced", "warn"),
    ChequeState.STOPPED: ("Stopped", "neutral"),
    ChequeState.EXPIRED: ("Expired", "neutral"),
}
# Why a presentation bounced (a BounceReason's value), as the customer would say it.
REASONS = {
    "insufficient_funds": "not enough money in the drawer's account",
    "stopped": "the drawer stopped it",
    "stale": "presented after its expiry date",
    "altered": "the cheque's text was changed after it was signed",
    "duplicate": "it was presented before",
    "not_payee": "presented by someone who is not the payee",
    "expired": "it had expired",
}
DONE = {
    "written": "Your cheque is written and signed. Hand its text to the payee (see below).",
    "stopped": "The cheque is stopped. If anyone presents it, it bounces and nothing is paid.",
}


def _today(request: Request) -> dt.date:
    today: dt.date = request.app.state.platform.cheques.today()
    return today


def cheque_row(view: ChequeView, today: dt.date) -> dict[str, Any]:
    """What a page shows of a cheque: the API's fields, the state in words, IBANs grouped."""
    shown = view.public(today=today)
    words, kind = STATES[view.state]
    reason = REASONS.get(view.bounce_reason or "")
    return {**shown, "created_at_ns": view.created_at_ns, "state_words": words,
            "state_kind": kind, "reason_words": reason,
            "drawer_iban_grouped": grouped_iban(view.drawer_iban),
            "payee_iban_grouped": grouped_iban(view.payee_iban),
            "past_expiry": view.state is ChequeState.ISSUED
            and view.expires_on < today.isoformat(),
            "presentations": [{**p.public(), "created_at_ns": p.created_at_ns,
                               "reason_words": REASONS.get(p.reason or "")}
                              for p in view.presentations]}


def _cursor(text: str | None) -> tuple[int, str] | None:
    matched = CURSOR.fullmatch(text) if text else None
    return (int(matched[1]), matched[2]) if matched else None  # a bad cursor: page one


def _listed(request: Request, user: User, role: str, after: str | None
            ) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the cheques ``user`` wrote (``drawer``) or received (``payee``), and
    the cursor of the next page (None: this is the last)."""
    found = request.app.state.platform.cheques.list_for(
        user.id, role=role, limit=CHEQUES_PAGE_SIZE, before=_cursor(after))
    today = _today(request)
    more = f"{found[-1].created_at_ns}.{found[-1].id}" if len(found) == CHEQUES_PAGE_SIZE \
        else None
    return [cheque_row(v, today) for v in found], more


def _accounts(request: Request, user: User) -> list[dict[str, Any]]:
    platform = request.app.state.platform
    return [account_view(platform, a) for a in platform.banking.accounts.list_for(user.id)
            if a.state is not State.CLOSED]


def _page(request: Request, user: User, template: str, *, title: str, tab: str,
          **context: Any) -> Response:
    return portal_page(request, template, section="cheques", tab=tab, title=title, user=user,
                       **context)


@router.get("/bank/cheques")
def cheques_page(request: Request, written_after: str | None = None,
                 received_after: str | None = None) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/cheques")
    written, written_more = _listed(request, user, "drawer", written_after)
    received, received_more = _listed(request, user, "payee", received_after)
    return _page(request, user, "bank_cheques.html", title="Cheques", tab="cheques",
                 written=written, written_more=written_more, received=received,
                 received_more=received_more)


@router.get("/bank/cheques/write")
def write_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/cheques/write")
    today = _today(request)
    drawers = [a for a in _accounts(request, user)
               if a["state"] == State.OPEN and a["product"] == Product.CURRENT]
    return _page(request, user, "bank_cheques_write.html", title="Write a cheque",
                 tab="write", drawers=drawers, today=today.isoformat(),
                 date_max=(today + dt.timedelta(days=DATE_AHEAD_DAYS_MAX)).isoformat(),
                 expires_on=(today + dt.timedelta(days=VALIDITY_DAYS_DEFAULT)).isoformat(),
                 validity_days_max=VALIDITY_DAYS_MAX, date_ahead_days_max=DATE_AHEAD_DAYS_MAX)


@router.get("/bank/cheques/present")
def present_page(request: Request, cheque: str | None = None) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/cheques/present")
    text = ""
    if cheque is not None and CHEQUE_ID.fullmatch(cheque):  # "Present" on a received one
        try:
            found = request.app.state.platform.cheques.get_for(user.id, cheque)
        except DomainError:
            found = None  # missing or not theirs: an empty form, as for no cheque at all
        if found is not None and found.role == "payee":
            text = found.jws
    return _page(request, user, "bank_cheques_present.html", title="Present a cheque",
                 tab="present", accounts=_accounts(request, user), text=text)


@router.get("/bank/cheques/{cheque_id}")
def cheque_page(cheque_id: str, request: Request, done: str | None = None) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in(f"/bank/cheques/{cheque_id}")
    try:
        if not CHEQUE_ID.fullmatch(cheque_id):
            raise DomainError("not_found", "no such cheque")
        view = request.app.state.platform.cheques.get_for(user.id, cheque_id)
    except DomainError:  # missing, or someone else's: the same answer
        return _page(request, user, "bank_cheques_missing.html", title="No such cheque",
                     tab="cheques", status_code=404)
    cheque = cheque_row(view, _today(request))
    return _page(request, user, "bank_cheques_one.html",
                 title=f"Cheque no. {view.serial}", tab="cheques", cheque=cheque,
                 done=DONE.get(done or ""))

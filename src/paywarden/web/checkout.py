"""The hosted checkout page: what the buyer is about to pay, to whom, and their passkey.

It shows the certified merchant's legal name and verified domain (from the
platform's own certificate, not from anything the merchant sends), the exact
items and amount, and — once the buyer is signed in — their anti-phishing
phrase, so a copy of this page on another site cannot pass for it. Paying asks
for a step-up assertion over the exact order (amount, currency, merchant,
payment id) and sends its evidence with the payment (``static/checkout.js``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response

from ..domain.errors import DomainError
from ..services.ledger.currencies import currency
from .pages import signed_in_user, to_sign_in
from .render import render_page

router = APIRouter(include_in_schema=False)
SESSION = re.compile(r"cs_[0-9a-f]{24}")


def display(amount_minor: int, code: str) -> str:
    exponent = currency(code).exponent
    return f"{Decimal(amount_minor).scaleb(-exponent):,.{exponent}f} {code}"


@router.get("/pay/{session_id}")
def checkout_page(session_id: str, request: Request) -> Response:
    platform = request.app.state.platform
    session = platform.payments.checkout(session_id) if SESSION.fullmatch(session_id) else None
    if session is None:
        return render_page("checkout_gone.html", personal=False, status_code=404,
                           title="No such checkout")
    try:
        seller = platform.certification.check_can_sell(session.merchant_id)
        legal_name, domains = seller.legal_name, seller.domains
    except DomainError:
        return render_page("checkout_gone.html", personal=False, status_code=410,
                           title="This shop cannot take payments")
    user = signed_in_user(request)
    if user is None:
        return to_sign_in(f"/pay/{session_id}")
    payment = platform.payments.get(session.payment_id)
    cards = platform.cards.list_for(user.id)
    accounts = _funding_accounts(platform, user.id, session.amount.currency)
    items = [{**i, "total": display(i["quantity"] * i["unit_amount"],
                                     session.amount.currency)} for i in session.items]
    return render_page(
        "checkout.html", title=f"Pay {legal_name}", user=user, session=session,
        legal_name=legal_name, domain=domains[0] if domains else "", items=items,
        amount=display(session.amount.amount_minor, session.amount.currency),
        state=str(payment.escrow.state) if payment else "unknown", cards=cards,
        wallet=accounts["wallet"], current_accounts=accounts["current"])


def _funding_accounts(platform: Any, user_id: str, code: str) -> dict[str, Any]:
    """The buyer's open wallet and current accounts in the order's currency, with what
    each has available, for the "Pay with" choice."""
    found: dict[str, Any] = {"wallet": None, "current": []}
    for account in platform.banking.accounts.list_for(user_id):
        if account.currency != code or str(account.state) != "open":
            continue
        shown = {"id": account.id, "name": account.name, "iban_end": account.iban[-4:],
                 "available": display(platform.banking.accounts.balance(account)["available"],
                                      code)}
        if str(account.product) == "wallet":
            found["wallet"] = shown
        elif str(account.product) == "current":
            found["current"].append(shown)
    return found

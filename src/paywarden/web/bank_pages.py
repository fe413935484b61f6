"""The customer's bank pages: accounts, an account's details, moving money, wallet top-up.

Like the other pages these are thin: the server renders what the customer owns from the
session cookie, and one small module script per page (``static/bank_*.js``) calls the
same JSON API any client uses (``/v1/me/accounts``, ``/v1/me/transfers/own``,
``/v1/me/wallet/top-ups`` with a passkey step-up over the exact top-up), so every check
the API makes applies to the pages unchanged. Another customer's account id is the same
404 page as a missing one, as in the API.

Each page joins the portal (``portal.portal_page``: the section navigation) in its
section — accounts, transfers or payees — and shows its own tabs within it. Amounts
are shown with the portal's ``money`` filter. Amounts reach the scripts as integer minor units with the currency's exponent in
``data-*`` attributes; a script turns the customer's "12.34" into minor units by
splitting on the decimal point, never through floating point.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from ..domain.errors import DomainError
from ..services.banking import BankAccount, Product
from ..services.identity.users import User
from ..services.ledger.currencies import currency
from .pages import signed_in_user, to_sign_in
from .portal import portal_page

router = APIRouter(include_in_schema=False)
ACCOUNT_ID = re.compile(r"acc_[0-9a-f]{24}")
IBAN_GROUP_CHARS = 4
# Offered when opening an account; any other ISO 4217 code may be typed.
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "JPY")
# The portal section (portal.SECTIONS) each bank page's tab belongs to.
SECTION_OF_TAB = {"overview": "accounts", "move": "accounts", "top-up": "accounts",
                  "transfers": "transfers", "orders": "transfers", "limits": "transfers",
                  "files": "transfers",
                  "payees": "payees", "statements": "statements"}
PRODUCT_LABELS = {Product.CURRENT: "Current account", Product.SAVINGS: "Savings account",
                  Product.WALLET: "PayWarden wallet"}


def grouped_iban(iban: str) -> str:
    """An IBAN as it is printed: groups of four characters."""
    return " ".join(iban[i:i + IBAN_GROUP_CHARS] for i in range(0, len(iban), IBAN_GROUP_CHARS))


def duration_words(seconds: int) -> str:
    """A configured wait as a customer reads it: 86400 -> "24 hours", 90 -> "90 seconds"."""
    for unit_s, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= unit_s and seconds % unit_s == 0:
            count = seconds // unit_s
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "0 seconds"


def account_view(platform: Any, account: BankAccount) -> dict[str, Any]:
    """What a page shows of an account: its fields, balances, labels and the exponent."""
    balance = platform.banking.accounts.balance(account)
    return {**account.public(), **balance, "label": PRODUCT_LABELS[account.product],
            "iban_grouped": grouped_iban(account.iban),
            "exponent": currency(account.currency).exponent}


def _accounts(request: Request, user_id: str) -> list[dict[str, Any]]:
    platform = request.app.state.platform
    return [account_view(platform, a) for a in platform.banking.accounts.list_for(user_id)]


def _senders(request: Request, user_id: str) -> list[dict[str, Any]]:
    """The accounts that send money to others: open current and savings accounts."""
    return [a for a in _accounts(request, user_id)
            if a["state"] == "open" and a["product"] != "wallet"]


def _page(request: Request, user: User, template: str, *, title: str, tab: str,
          **context: Any) -> Response:
    """A bank page in its portal section, with its tab marked."""
    return portal_page(request, template, section=SECTION_OF_TAB[tab], tab=tab, title=title,
                       user=user, **context)


@router.get("/bank")
def overview_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank")
    return _page(request, user, "bank.html", title="Your accounts", tab="overview",
                 accounts=_accounts(request, user.id), currencies=CURRENCIES)


@router.get("/bank/accounts/{account_id}")
def account_page(account_id: str, request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in(f"/bank/accounts/{account_id}")
    platform = request.app.state.platform
    try:
        if not ACCOUNT_ID.fullmatch(account_id):
            raise DomainError("not_found", "no such account")
        account = platform.banking.accounts.get_for(user.id, account_id)
    except DomainError:  # missing, or someone else's: the same answer
        return _page(request, user, "bank_missing.html", title="No such account",
                     tab="overview", status_code=404)
    today = datetime.now(UTC).date()
    return _page(request, user, "bank_account.html", title=account.name, tab="overview",
                 account=account_view(platform, account), today=today.isoformat(),
                 month_start=today.replace(day=1).isoformat())


@router.get("/bank/move")
def move_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/move")
    accounts = [a for a in _accounts(request, user.id) if a["state"] != "closed"]
    return _page(request, user, "bank_move.html", title="Move money between your accounts",
                 tab="move", accounts=accounts)


@router.get("/bank/top-up")
def top_up_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/top-up")
    accounts = [a for a in _accounts(request, user.id) if a["state"] != "closed"]
    return _page(request, user, "bank_topup.html", title="Top up your wallet", tab="top-up",
                 wallets=[a for a in accounts if a["product"] == "wallet"],
                 sources=[a for a in accounts if a["product"] != "wallet"],
                 cards=request.app.state.platform.cards.list_for(user.id))


@router.get("/bank/transfers")
def transfers_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/transfers")
    frozen = [a["name"] for a in _accounts(request, user.id)
              if a["state"] == "frozen" and a["product"] != "wallet"]
    return _page(request, user, "bank_transfers.html", title="Send money", tab="transfers",
                 sources=_senders(request, user.id), frozen=frozen)


@router.get("/bank/payment-files")
def payment_files_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/payment-files")
    return _page(request, user, "bank_files.html", title="Payment files", tab="files",
                 sources=_senders(request, user.id))


@router.get("/bank/payees")
def payees_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/payees")
    senders = _senders(request, user.id)
    pay_currency = senders[0]["currency"] if senders else "EUR"
    book = request.app.state.platform.banking.payees
    return _page(request, user, "bank_payees.html", title="Your payees", tab="payees",
                 pay_currency=pay_currency, pay_exponent=currency(pay_currency).exponent,
                 cooling_words=duration_words(book.cooling_off_s),
                 cooling_amount_max=book.cooling_amount_max)


@router.get("/bank/limits")
def limits_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/limits")
    codes = sorted({a["currency"] for a in _accounts(request, user.id)})
    delay_s = request.app.state.platform.banking.limits.raise_delay_s
    return _page(request, user, "bank_limits.html", title="Your transfer limits", tab="limits",
                 exponents={c: currency(c).exponent for c in codes},
                 raise_words=duration_words(delay_s))


@router.get("/bank/standing-orders")
def standing_orders_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/standing-orders")
    today = datetime.now(UTC).date()
    return _page(request, user, "bank_orders.html", title="Standing orders", tab="orders",
                 sources=_senders(request, user.id), today=today.isoformat(),
                 tomorrow=(today + timedelta(days=1)).isoformat())


@router.get("/bank/statements")
def statements_page(request: Request) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/bank/statements")
    today = datetime.now(UTC).date()
    return _page(request, user, "bank_statements.html", title="Statements", tab="statements",
                 accounts=_accounts(request, user.id), today=today.isoformat(),
                 month_start=today.replace(day=1).isoformat())

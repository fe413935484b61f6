"""The buyer's payments (``/account/payments``): every escrow payment they made, where it
stands in plain words, and what they can do now — confirm delivery or open a dispute,
which until now only the API offered.

Read on the server (the same query as ``GET /v1/me/payments``); the two actions are
made by ``static/payments.js`` through ``POST /v1/payments/{id}/confirm`` and
``…/disputes``, which then reloads the page with ``?done=<what>#<payment id>``.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request, Response

from ..api.payment_routes import merchants_of
from ..domain.escrow import DisputeReason
from .pages import signed_in_user, to_sign_in
from .portal import portal_page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
CURSOR = re.compile(r"(\d{1,19})\.(pay_[0-9a-f]{24})")

# Where a payment stands, as the buyer would say it.
STATES = {
    "created": ("Not paid", "This checkout was never paid."),
    "under_review": ("Being checked",
                     ("We are making a routine security check of this payment. Your money is "
                      "set aside and the shop cannot take it yet; we will tell you when the "
                      "check is done. You need do nothing.")),
    "held": ("Paid, not shipped yet",
             "PayWarden holds your money. The shop ships next."),
    "shipped": ("Shipped",
                "PayWarden holds your money until you confirm the order arrived."),
    "disputed": ("In dispute",
                 "PayWarden holds your money until the dispute is decided."),
    "released": ("Complete", "The money was released to the shop."),
    "refunded": ("Refunded", "The money was returned to you."),
    "split": ("Settled", "The dispute was settled: part of the money was returned to you."),
    "cancelled": ("Cancelled", "Nothing was taken."),
    "expired": ("Expired", "The checkout expired before it was paid; nothing was taken."),
    "declined": ("Stopped", ("We stopped this payment after a security check. The money was "
                             "returned to you. If you made it, contact us and we will help.")),
}
REASONS = {
    DisputeReason.NOT_RECEIVED: "It never arrived",
    DisputeReason.NOT_AS_DESCRIBED: "It is not what the shop described",
    DisputeReason.DAMAGED: "It arrived damaged",
    DisputeReason.COUNTERFEIT: "It is counterfeit",
    DisputeReason.OTHER: "Something else",
}
DONE = {
    "confirmed": "Thank you. The money was released to the shop.",
    "disputed": "Your dispute is open. The shop may answer, then PayWarden staff decide; "
                "your money stays held until then, and you will be told the outcome.",
}


@router.get("/account/payments")
def payments_page(request: Request, after: str | None = None,
                  done: str | None = None) -> Response:
    user = signed_in_user(request)
    if user is None:
        return to_sign_in("/account/payments")
    platform = request.app.state.platform
    matched = CURSOR.fullmatch(after) if after else None
    before = (int(matched[1]), matched[2]) if matched else None  # a bad cursor: page one
    found = platform.payments.for_buyer(user.id, limit=PAGE_SIZE, before=before)
    payments = [{"view": view, "merchant": merchant,
                 "state": STATES.get(str(view.escrow.state), (str(view.escrow.state), ""))}
                for view, merchant in zip(found, merchants_of(platform, found), strict=True)]
    more = f"{found[-1].escrow.created_at_ns}.{found[-1].id}" if len(found) == PAGE_SIZE \
        else None
    return portal_page(request, "payments.html", section="payments", title="Your payments",
                       user=user, payments=payments, more=more, reasons=REASONS,
                       done=DONE.get(done or ""), first_page=before is None)

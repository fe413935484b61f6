"""``/staff/clearing``: transfers other banks paid this bank's customers, and sending one
back (decision 0060); ``/staff/clearing/sent``: transfers our customers sent to other
banks, and asking for one back (a recall, decision 0061).

Each settled transfer offers **Return**: a reason code and an amount (all of it unless
less is written), submitted as the four-eyes command ``clearing_return`` with a
``fetch`` to ``POST /v1/approvals``. Nothing moves until a member of risk approves it in
the inbox with a passkey; then the customer's account is debited and the pacs.004 goes to
the hub. A return the network rejected (the payer's bank did not answer in time) can be
submitted again. A transfer whose paying bank asks for it back (a recall) shows the
ask: **Agree** submits the same four-eyes return for the recalled amount (the yes goes
back once it is approved); **Refuse** answers no at once with a reason, moving nothing.
On the sent page, each settled transfer offers **Recall** (``POST
/v1/staff/clearing/recalls``): the other bank is asked; its answer shows on the card.
Passkey sessions only, as every back-office page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..domain.approvals import SUBMITTERS
from ..domain.approvals import Kind as Command
from ..domain.clearing.messages import RECALL_REASONS, RECALL_REFUSALS, RETURN_REASONS
from ..domain.identity import Access, Resource
from ..services.clearing.views import incoming, outgoing
from ..services.ledger.currencies import currency
from .render import render_page
from .staff_pages import _denied, _may, _member, _view

router = APIRouter(include_in_schema=False)

# What each ISO return reason means, as the form offers them (domain RETURN_REASONS).
REASON_WORDS = {
    "FR01": "Fraud: the money came from a fraud",
    "FOCR": "The paying bank asked for it back (recall)",
    "AM05": "Paid twice (duplicate)",
    "MD06": "The customer asked for a refund",
    "CUST": "Requested by our customer",
    "AC04": "The account is closed",
    "AC06": "The account is blocked",
    "MS03": "Other reason",
}
# Why a payer's bank recalls a transfer (domain RECALL_REASONS), and why a recall is
# refused (RECALL_REFUSALS), in words.
RECALL_WORDS = {
    "DUPL": "Paid twice",
    "FRAD": "Fraud: the payer was deceived",
    "TECH": "A technical error made it",
    "CUST": "The customer asks for it back",
    "AC03": "Paid to the wrong account",
    "AM09": "The wrong amount",
}
REFUSAL_WORDS = {
    "CUST": "Our customer does not agree",
    "LEGL": "A legal reason",
    "AGNT": "Our decision as the bank",
    "NOAS": "Our customer did not answer",
    "AC04": "The account is closed",
    "AM04": "The money is no longer there",
    "ARDT": "It was returned already",
    "NOOR": "We have no such transfer",
}
if set(REASON_WORDS) != RETURN_REASONS or set(RECALL_WORDS) != RECALL_REASONS \
        or set(REFUSAL_WORDS) != RECALL_REFUSALS:
    raise RuntimeError("every return, recall and refusal reason needs its words on the page")


@router.get("/staff/clearing")
def clearing_page(request: Request) -> Response:
    member = _member(request, "/staff/clearing")
    if isinstance(member, Response):
        return member
    p = member.principal
    if not _may(p, Resource.BANKING):
        return _denied("Not for this role", "Your role does not read bank transfers.")
    platform = request.app.state.platform
    if platform.clearing_bank is None:
        return render_page("staff_clearing.html", title="Transfers from other banks",
                           rows=[], in_network=False, **_view(member))
    may_return = bool(p.roles & SUBMITTERS[Command.CLEARING_RETURN]) and _may(
        p, Resource.APPROVALS, Access.WRITE)
    rows = [{**row, "exponent": currency(row["currency"]).exponent}  # the ledger's
            for row in incoming(platform.database)]
    return render_page("staff_clearing.html", title="Transfers from other banks",
                       rows=rows, in_network=True, may_return=may_return,
                       may_answer=_may(p, Resource.BANKING, Access.MODIFY),
                       reasons=REASON_WORDS, recall_words=RECALL_WORDS,
                       refusals=REFUSAL_WORDS, **_view(member))


@router.get("/staff/clearing/sent")
def sent_page(request: Request) -> Response:
    member = _member(request, "/staff/clearing/sent")
    if isinstance(member, Response):
        return member
    p = member.principal
    if not _may(p, Resource.BANKING):
        return _denied("Not for this role", "Your role does not read bank transfers.")
    platform = request.app.state.platform
    rows = [] if platform.clearing_bank is None else [
        {**row, "exponent": currency(row["currency"]).exponent}
        for row in outgoing(platform.database)]
    return render_page("staff_clearing_sent.html", title="Transfers to other banks",
                       rows=rows, in_network=platform.clearing_bank is not None,
                       may_recall=_may(p, Resource.BANKING, Access.MODIFY),
                       recall_words=RECALL_WORDS, refusals=REFUSAL_WORDS, **_view(member))

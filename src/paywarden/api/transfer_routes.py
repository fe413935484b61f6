"""Transfers to other parties over HTTP: payees, limits, transfers, standing orders.

Every route acts for the signed-in customer on their own things only: another customer's
account, payee or standing order is a 404, exactly like a missing one. What adds risk —
a payee, a raised limit, a transfer, a standing order — needs a passkey step-up over the
exact operation (services/banking/confirm.py); the answers say which operation to
confirm (``step_up``) and carry a security tip at the moments that matter. A transfer's
answer is rendered inside the movement's transaction (decision 0018), and a client ``id``
is scoped to the customer: a retry is answered with the first result.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from ..bootstrap import Platform
from ..domain.errors import DomainError
from ..domain.identity import Access
from ..domain.money import Money
from ..services.banking.cop import Answer as Cop
from ..services.banking.cop import Confirmation
from ..services.banking.limits import Limit, LimitKind
from ..services.banking.payees import Payee
from ..services.banking.schedules import Frequency
from ..services.banking.standing_orders import Run, StandingOrder
from ..services.banking.transfers import Order
from ..services.ledger.currencies import currency
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .banking_routes import customer, movement_answer, movement_id
from .deps import PlatformDep
from .ids import CURSOR_NS_PATTERN, rfc3339
from .problems import Refusals
from .schemas.transfers import (
    ORDER_ID,
    PAYEE_ID,
    LimitIn,
    LimitKindName,
    LimitOut,
    LimitsOut,
    PayeeCheckIn,
    PayeeCheckOut,
    PayeeIn,
    PayeeOut,
    PayeesOut,
    StandingOrderIn,
    StandingOrderOut,
    StandingOrderPreviewOut,
    StandingOrdersOut,
    TransferIn,
    TransfersOut,
)

router = APIRouter(prefix="/v1", tags=["transfers"])
PayeeId = Annotated[str, Path(pattern=PAYEE_ID)]
OrderId = Annotated[str, Path(pattern=ORDER_ID)]
HISTORY_CURSOR = rf"^{CURSOR_NS_PATTERN}\.[A-Za-z0-9_\-]{{1,64}}$"
HISTORY_PAGE_MAX = 100
refusals = Refusals(codes.Transfers, codes.Banking, codes.Money, codes.Ledger, codes.Passkeys,
                    codes.Idempotency)

NEVER_BY_PHONE = ("PayWarden will never ask you to add a payee, move money or raise a limit "
                  "by phone, e-mail or text. If someone asks, stop: it is a scam.")
TIPS = {
    Cop.MATCH: "The name matches the account. " + NEVER_BY_PHONE,
    Cop.CLOSE_MATCH: "The account is held in a similar name, shown here. If that is who you "
                     "mean, use it; if not, do not add this payee. " + NEVER_BY_PHONE,
    Cop.NO_MATCH: "The name does not match this account. Check the details with the payee "
                  "in a way you already trust: a scammer may have given you their own "
                  "account. " + NEVER_BY_PHONE,
    Cop.UNAVAILABLE: "We cannot check names at other banks. Be sure the IBAN came from the "
                     "payee themselves, not from an e-mail that asks you to change where to "
                     "pay. " + NEVER_BY_PHONE,
}
COOLING_TIP = ("A new payee receives only a small amount until its cooling-off ends: if your "
               "device has been tricked into adding it, you have time to delete it.")
RAISE_TIP = ("A raised limit starts only after a delay, and we tell you of it. If someone "
             "asked you to raise it, lower it again now: " + NEVER_BY_PHONE)


def payee_out(platform: Platform, payee: Payee, tip: str | None = None) -> dict[str, Any]:
    book = platform.banking.payees
    return {"id": payee.id, "name": payee.name, "iban": payee.iban,
            "bank": "paywarden" if book.bank.owns(payee.iban) else "other",
            "state": str(payee.state(platform.clock.now_ns())),
            "cooling_off_until": rfc3339(payee.cooling_until_ns),
            "cooling_amount_max": book.cooling_amount_max, "cop": str(payee.cop),
            "created_at": rfc3339(payee.created_at_ns), "tip": tip}


def check_out(platform: Platform, iban: str, name: str, found: Confirmation) -> dict[str, Any]:
    return {"result": str(found.answer), "name": name, "iban": iban,
            "bank": "paywarden" if platform.banking.payees.bank.owns(iban) else "other",
            "holder_name": found.holder_name, "tip": TIPS[found.answer],
            "step_up": {"type": "new_payee", "amount": 0, "currency": None, "payee": iban,
                        "reference": name}}


@router.post("/me/payees/check", response_model=PayeeCheckOut)
def check_payee(body: PayeeCheckIn, platform: PlatformDep,
                principal: CurrentPrincipal) -> dict[str, Any]:
    """Confirmation of payee: does this name belong to this IBAN?

    ``match``, ``close_match`` (with the name the account is held in), ``no_match`` (also
    for an IBAN of ours no account has), or ``unavailable`` for another bank's IBAN. Also
    the operation to confirm with a passkey to add the payee, and a security tip."""
    customer(platform, principal, Access.READ)
    with refusals():
        iban, name, found = platform.banking.payees.check(body.name, body.iban)
    return check_out(platform, iban, name, found)


@router.post("/me/payees", status_code=201, response_model=PayeeOut)
def add_payee(body: PayeeIn, platform: PlatformDep,
              principal: CurrentPrincipal) -> dict[str, Any]:
    """Add a payee.

    Confirmed with a passkey step-up over ``{type: "new_payee", amount: 0, currency,
    payee: <IBAN, electronic form>, reference: <name>}``. The payee then cools off: until
    ``cooling_off_until`` it receives at most ``cooling_amount_max`` in all."""
    user = customer(platform, principal, Access.WRITE)
    with refusals():
        currency(body.currency)
        payee, found = platform.banking.payees.add(
            user, name=body.name, iban=body.iban, currency=body.currency,
            evidence_id=body.evidence_id, actor=principal.actor)
    return payee_out(platform, payee, TIPS[found.answer] + " " + COOLING_TIP)


@router.get("/me/payees", response_model=PayeesOut)
def list_payees(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Your payees.

    Each with its state (``cooling`` until ``cooling_off_until``, then ``active``) and
    the confirmation-of-payee answer it was added with."""
    user = customer(platform, principal, Access.READ)
    return {"data": [payee_out(platform, p) for p in platform.banking.payees.list_for(user)]}


@router.get("/me/payees/{payee_id}", response_model=PayeeOut)
def get_payee(payee_id: PayeeId, platform: PlatformDep,
              principal: CurrentPrincipal) -> dict[str, Any]:
    """One of your payees.

    Another customer's payee, or a deleted one, is 404."""
    user = customer(platform, principal, Access.READ)
    with refusals():
        return payee_out(platform, platform.banking.payees.get_for(user, payee_id))


@router.delete("/me/payees/{payee_id}", response_model=PayeeOut)
def delete_payee(payee_id: PayeeId, platform: PlatformDep,
                 principal: CurrentPrincipal) -> dict[str, Any]:
    """Delete a payee.

    It takes risk away, so no step-up is needed; the payee's standing orders are
    cancelled with it."""
    user = customer(platform, principal, Access.WRITE)
    with refusals():
        payee, _ = platform.banking.payees.delete(user, payee_id, actor=principal.actor)
    return payee_out(platform, payee)


@router.post("/me/transfers", status_code=201)
def transfer(body: TransferIn, platform: PlatformDep,
             principal: CurrentPrincipal) -> JSONResponse:
    """Send money to a payee.

    Confirmed with a passkey step-up over ``{type: "transfer", amount, currency, payee:
    <the payee's IBAN>, reference}``; within your limits and the payee's cooling-off. To
    a PayWarden IBAN it is posted at once (``internal``); to another bank it is
    ``pending`` until the rail answers (``external``). 201 with the transfer; 200 with the
    first answer when ``id`` was used already with the same fields."""
    user = customer(platform, principal, Access.WRITE)
    answer = movement_answer(platform)
    with refusals():
        currency(body.currency)
        platform.banking.transfers.send(Order(
            user, movement_id("trf_", user, body.id), body.from_account, body.payee_id,
            Money(body.amount, body.currency), body.reference),
            evidence_id=body.evidence_id, finish=answer.record, actor=principal.actor)
    return answer.response


@router.get("/me/transfers", response_model=TransfersOut)
def list_transfers(platform: PlatformDep, principal: CurrentPrincipal,
                   limit: Annotated[int, Query(ge=1, le=HISTORY_PAGE_MAX)] = 50,
                   cursor: Annotated[str | None, Query(pattern=HISTORY_CURSOR)] = None
                   ) -> dict[str, Any]:
    """Your transfers, newest first.

    Every movement into or out of your accounts, with its state; pass ``next_cursor`` as
    ``cursor`` for the next page."""
    user = customer(platform, principal, Access.READ)
    before = None
    if cursor is not None:
        at, _, last = cursor.partition(".")
        before = (int(at), last)
    rows, mine = platform.banking.transfers.history(user, limit=limit, before=before)
    items = [_history_item(r, mine) for r in rows]
    return {"data": items, "next_cursor": f"{rows[-1]['created_at']}.{rows[-1]['id']}"
            if len(rows) == limit else None}


def _history_item(r: Any, mine: set[str]) -> dict[str, Any]:
    out, into = r["from_account"] in mine, r["to_account"] in mine
    return {"id": r["id"], "kind": r["kind"], "state": r["state"], "amount": r["amount"],
            "currency": r["currency"], "from_account": r["from_account"],
            "to_account": r["to_account"], "reference": r["reference"], "reason": r["reason"],
            "direction": "own" if out and into else "out" if out else "in",
            "counterparty_iban": r["counterparty_iban"] if out else None,
            "counterparty_name": r["counterparty_name"] if out else None,
            "created_at": rfc3339(r["created_at"])}


def limit_out(limit: Limit, tip: str | None = None) -> dict[str, Any]:
    return {"kind": str(limit.kind), "currency": limit.currency, "amount": limit.amount,
            "bank_max": limit.bank_max, "pending_amount": limit.pending_amount,
            "pending_from": None if limit.pending_from_ns is None
            else rfc3339(limit.pending_from_ns), "tip": tip}


@router.get("/me/limits", response_model=LimitsOut)
def list_limits(platform: PlatformDep, principal: CurrentPrincipal,
                currency_code: Annotated[str | None, Query(alias="currency",
                                                           pattern=r"^[A-Z]{3}$")] = None
                ) -> dict[str, Any]:
    """Your transfer limits.

    Per transfer, per 24 hours and per payee in 24 hours, in each currency of your
    accounts (or in ``currency``): the amount in force, the bank's maximum, and a raise
    still waiting (``pending_amount`` from ``pending_from``)."""
    user = customer(platform, principal, Access.READ)
    with refusals():
        if currency_code is not None:
            currency(currency_code)
            chosen = [currency_code]
        else:
            chosen = sorted({a.currency for a in platform.banking.accounts.list_for(user)})
    return {"data": [limit_out(limit) for c in chosen
                     for limit in platform.banking.limits.get(user, c)]}


@router.put("/me/limits/{kind}", response_model=LimitOut)
def set_limit(kind: LimitKindName, body: LimitIn, platform: PlatformDep,
              principal: CurrentPrincipal) -> dict[str, Any]:
    """Lower or raise a transfer limit.

    Lowering takes effect at once. Raising needs a passkey step-up over ``{type:
    "limit_change", amount: <the new limit>, currency, payee: <kind>, reference: ""}``
    and takes effect only after a delay: until then the answer shows it pending."""
    user = customer(platform, principal, Access.WRITE)
    with refusals():
        currency(body.currency)
        made = platform.banking.limits.set(user, LimitKind(kind), body.currency, body.amount,
                                           evidence_id=body.evidence_id, actor=principal.actor)
    return limit_out(made, RAISE_TIP if made.pending_amount is not None else None)


def order_out(order: StandingOrder, runs: list[Run] | None = None) -> dict[str, Any]:
    return {"id": order.id, "from_account": order.from_account, "payee_id": order.payee_id,
            "payee_iban": order.payee_iban, "amount": order.amount.amount_minor,
            "currency": order.amount.currency, "reference": order.reference,
            "frequency": str(order.frequency), "start_on": order.start_on.isoformat(),
            "end_on": order.end_on.isoformat(),
            "next_on": None if order.next_on is None else order.next_on.isoformat(),
            "state": order.state, "reason": order.reason, "schedule": order.schedule,
            "runs": [{"on": r.on_date.isoformat(), "movement_id": r.movement_id,
                      "state": r.state, "reason": r.reason} for r in runs or []]}


def _plan(platform: Platform, user: str, body: StandingOrderIn) -> StandingOrder:
    currency(body.currency)
    try:
        start = date.fromisoformat(body.start_on)
        end = start if body.end_on is None else date.fromisoformat(body.end_on)
    except ValueError:
        raise DomainError("schedule_invalid", "a date is YYYY-MM-DD") from None
    return platform.banking.standing_orders.plan(
        user, from_account=body.from_account, payee_id=body.payee_id,
        amount=Money(body.amount, body.currency), reference=body.reference,
        frequency=Frequency(body.frequency), start_on=start, end_on=end)


@router.post("/me/standing-orders/preview", response_model=StandingOrderPreviewOut)
def preview_standing_order(body: StandingOrderIn, platform: PlatformDep,
                           principal: CurrentPrincipal) -> dict[str, Any]:
    """Check a standing order or scheduled transfer before making it.

    The schedule in words and the operation to confirm with a passkey: ``{type:
    "standing_order", amount, currency, payee: <the payee's IBAN>, reference: <the
    schedule in words>}``. Nothing is stored."""
    user = customer(platform, principal, Access.READ)
    with refusals():
        plan = _plan(platform, user, body)
    return {"schedule": plan.schedule, "first_on": plan.start_on.isoformat(),
            "step_up": {"type": "standing_order", "amount": plan.amount.amount_minor,
                        "currency": plan.amount.currency, "payee": plan.payee_iban,
                        "reference": plan.schedule}}


@router.post("/me/standing-orders", status_code=201, response_model=StandingOrderOut)
def create_standing_order(body: StandingOrderIn, platform: PlatformDep,
                          principal: CurrentPrincipal) -> dict[str, Any]:
    """Make a standing order (weekly, monthly) or a scheduled one-off transfer.

    Confirmed with the step-up the preview names. Each occurrence runs once, through the
    same limits and cooling-off checks as a transfer; a failed one is kept with its
    reason, and a closed account ends the order."""
    user = customer(platform, principal, Access.WRITE)
    with refusals():
        plan = _plan(platform, user, body)
        if body.evidence_id is None:
            raise DomainError("step_up_required", "confirm the standing order with your "
                              "passkey")
        made = platform.banking.standing_orders.create(plan, evidence_id=body.evidence_id,
                                                       actor=principal.actor)
    return order_out(made)


@router.get("/me/standing-orders", response_model=StandingOrdersOut)
def list_standing_orders(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Your standing orders and scheduled transfers.

    Active, ended and cancelled, newest first; each with its next date, its state and its
    latest three occurrences (``GET`` one order for more)."""
    user = customer(platform, principal, Access.READ)
    return {"data": [order_out(o, runs)
                     for o, runs in platform.banking.standing_orders.list_for(user)]}


@router.get("/me/standing-orders/{order_id}", response_model=StandingOrderOut)
def get_standing_order(order_id: OrderId, platform: PlatformDep,
                       principal: CurrentPrincipal) -> dict[str, Any]:
    """One of your standing orders.

    With its latest occurrences: each one's movement and state, or why it failed."""
    user = customer(platform, principal, Access.READ)
    with refusals():
        order, runs = platform.banking.standing_orders.get_for(user, order_id)
    return order_out(order, runs)


@router.delete("/me/standing-orders/{order_id}", response_model=StandingOrderOut)
def cancel_standing_order(order_id: OrderId, platform: PlatformDep,
                          principal: CurrentPrincipal) -> dict[str, Any]:
    """Cancel a standing order.

    No more occurrences run; those that ran stay in its history."""
    user = customer(platform, principal, Access.WRITE)
    with refusals():
        return order_out(platform.banking.standing_orders.cancel(user, order_id,
                                                                 actor=principal.actor))

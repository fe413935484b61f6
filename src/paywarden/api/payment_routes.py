"""Checkout sessions and escrow payments over HTTP.

Merchants (signed requests) create checkout sessions, ship, refund, answer
disputes; buyers (customer sessions) pay with a step-up confirmation over the
exact order, confirm receipt, open disputes; staff decide disputes and refund.
Who may send which event is enforced in :mod:`paywarden.services.payments`;
here a principal becomes a party and domain refusals become problems.

Every route that changes a payment renders its answer inside the service's
transaction (:class:`~paywarden.api.idempotency.Answer`), so that the answer
recorded under the Idempotency-Key commits with the effect (decision 0018). A
checkout session is also matched by its (merchant, ``order_ref``) and a refund
by its ``refund_id``: a second request for the same returns the first (200),
one for something else under the same id is refused (409).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from ..bootstrap import Platform
from ..domain.errors import DomainError
from ..domain.escrow import (
    AnswerDispute,
    Cancel,
    ConfirmReceipt,
    DisputeReason,
    EscrowTerms,
    OpenDispute,
    PartyRole,
    Pay,
    Ship,
)
from ..domain.identity import Access, Kind, Principal, Resource
from ..domain.ledger.chart import AccountKind
from ..domain.money import Money
from ..services import receipts
from ..services.approvals.disputes import decision_event
from ..services.banking import Product, State
from ..services.identity.stepup import approved_operation
from ..services.ledger.accounts import AccountRef, platform_account
from ..services.ledger.currencies import currency
from ..services.payments import (
    Checkout,
    Party,
    PaymentView,
    RefundDone,
    buyers,
)
from . import problem_codes as codes
from .approval_routes import refusals as approval_refusals
from .approval_routes import submitted
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .idempotency import Answer
from .ids import CURSOR_NS_PATTERN, rfc3339
from .problems import Problem, Refusals
from .schemas.payments import (
    AnswerIn,
    CheckoutIn,
    DecisionIn,
    DisputeIn,
    PayIn,
    RefundIn,
    ShipmentIn,
)

router = APIRouter(prefix="/v1", tags=["payments"])
PaymentId = Annotated[str, Path(pattern=r"^pay_[0-9a-f]{24}$")]
SessionId = Annotated[str, Path(pattern=r"^cs_[0-9a-f]{24}$")]
PARKED_CURSOR = rf"^{CURSOR_NS_PATTERN}\.pay_[0-9a-f]{{24}}$"
BUYER_CURSOR = PARKED_CURSOR  # (created_at, id) of the last payment of the page before


_refusals = Refusals(codes.Payments, codes.Escrow, codes.Money, codes.Cards, codes.Banking,
                     codes.Certification, codes.Passkeys, codes.Idempotency)


def _party(principal: Principal) -> Party:
    if principal.kind is Kind.MERCHANT and principal.owner:
        return Party(PartyRole.MERCHANT, principal.owner)
    if principal.kind is Kind.CUSTOMER and principal.owner:
        return Party(PartyRole.BUYER, principal.owner)
    return Party(PartyRole.STAFF, principal.actor)


def _out(view: PaymentView) -> dict[str, Any]:
    body = view.public()
    for key in ("ship_by", "release_at", "expires_at"):
        body[key] = rfc3339(body[key]) if body[key] is not None else None
    return body


def _payment_answer(platform: Platform, status: int, **extra: Any) -> Answer[PaymentView]:
    return Answer(platform, lambda view: JSONResponse({**_out(view), **extra},
                                                      status_code=status))


def _visible(platform: Platform, principal: Principal, payment_id: str,
             access: Access) -> PaymentView:
    """The payment, if this principal may see it; 404 alike for missing and foreign."""
    view = platform.payments.get(payment_id)
    owner = None
    if view is not None and principal.kind is Kind.MERCHANT:
        owner = view.merchant_id
    elif view is not None and principal.kind is Kind.CUSTOMER:
        owner = view.buyer_id or "nobody"
    platform.guard.authorize(principal, Resource.PAYMENTS, access, owner=owner,
                             object_id=payment_id)
    if view is None:
        raise Problem(codes.Edge.NOT_FOUND, "no such payment")
    return view


# -- merchants: checkout sessions ---------------------------------------------------------


@router.post("/checkout/sessions", status_code=201)
def create_checkout(body: CheckoutIn, platform: PlatformDep,
                    principal: CurrentPrincipal) -> JSONResponse:
    """Create a checkout session.

    201 with a new session; 200 with the first one when this order_ref already has a
    session with the same fields; 409 ``checkout_order_ref_reused`` with other fields."""
    if principal.kind is not Kind.MERCHANT or principal.owner is None:
        raise Problem(codes.Edge.FORBIDDEN, "checkout sessions are created by merchants")
    platform.guard.authorize(principal, Resource.PAYMENTS, Access.WRITE, owner=principal.owner)
    if sum(i.quantity * i.unit_amount for i in body.items) != body.amount:
        raise Problem(codes.Payments.AMOUNT_MISMATCH, "the items do not add up to the amount")
    base = platform.settings.public_url.rstrip("/")

    def render(made: Checkout) -> JSONResponse:
        return JSONResponse({"id": made.id, "payment_id": made.payment_id,
                             "order_ref": made.order_ref, "url": f"{base}/pay/{made.id}",
                             "expires_at": rfc3339(made.expires_at_ns)},
                            status_code=201 if made.created else 200)

    answer = Answer(platform, render)
    with _refusals():
        currency(body.currency)
        _check_can_sell(platform, principal.owner, body.return_url)
        if platform.queries.ledger_by_currency(body.currency) is None:
            platform.queries.create_ledger(body.currency, now_ns=platform.clock.now_ns())
        platform.payments.create_checkout(
            merchant_id=principal.owner, order_ref=body.order_ref,
            items=[i.model_dump() for i in body.items], amount=Money(body.amount, body.currency),
            return_url=body.return_url, terms=EscrowTerms(body.escrow.days_to_ship,
                                                          body.escrow.release_after_days),
            actor=principal.actor, finish=answer.record)
    return answer.response


def _check_can_sell(platform: Platform, merchant_id: str, return_url: str) -> None:
    """A suspended, revoked or uncertified merchant, or a return URL off its verified
    domains, is refused (merchant certification)."""
    platform.certification.check_can_sell(merchant_id, return_url)


# -- buyers ---------------------------------------------------------------------------------


@router.post("/checkout/sessions/{session_id}/pay")
def pay(session_id: SessionId, body: PayIn, platform: PlatformDep,
        principal: CurrentPrincipal) -> JSONResponse:
    """Pay a checkout session.

    The signed-in buyer pays from their wallet or a stored card, with the step-up evidence of a
    passkey assertion over this exact order. The money is held in escrow.
    """
    if principal.kind is not Kind.CUSTOMER or principal.owner is None:
        raise Problem(codes.Edge.FORBIDDEN, "a buyer pays with their own session")
    platform.guard.authorize(principal, Resource.PAYMENTS, Access.WRITE, owner=principal.owner)
    session = platform.payments.checkout(session_id)
    if session is None:
        raise Problem(codes.Edge.NOT_FOUND, "no such checkout session")
    buyer = principal.owner

    def approved(conn: Connection) -> Any:
        """The operation the buyer's passkey confirmed, if it is exactly this order."""
        operation = approved_operation(conn, buyer, body.evidence_id)
        if (operation is None or operation.type != "payment"
                or operation.amount != session.amount.amount_minor
                or operation.currency != session.amount.currency
                or operation.payee != session.merchant_id
                or operation.reference != session.payment_id):
            raise DomainError(codes.Passkeys.STEP_UP_MISMATCH,
                              "the passkey confirmed another operation than this order")
        return operation

    with _refusals(), platform.database.engine.connect() as conn:
        approved(conn)  # before the card issuer sees the card: nothing happens unconfirmed
    funding = _funding(platform, buyer, body, session.amount)

    def confirmed(conn: Connection) -> None:  # in the payment's transaction: used once
        platform.step_up.require(conn, buyer, approved(conn), body.evidence_id)

    answer = _payment_answer(platform, 200, return_url=session.return_url)
    with _refusals():
        platform.payments.apply(session.payment_id, Pay(session.amount),
                                party=Party(PartyRole.BUYER, buyer), funding=funding,
                                method=body.method, precondition=confirmed,
                                finish=answer.record)
    return answer.response


def _bank_account(platform: Platform, buyer: str, account_id: str | None,
                  amount: Money) -> AccountRef:
    """The buyer's own open current account in the order's currency."""
    if account_id is None:
        raise Problem(codes.Payments.PAYMENT_FUNDING_MISSING,
                      "a bank payment names your current account (account_id)")
    with _refusals():
        account = platform.banking.accounts.get_for(buyer, account_id)
    if account.product is not Product.CURRENT or account.currency != amount.currency:
        raise Problem(codes.Payments.PAYMENT_FUNDING_MISSING,
                      f"pay from a current account in {amount.currency}")
    if account.state is not State.OPEN:
        raise Problem(codes.Banking.ACCOUNT_FROZEN if account.state is State.FROZEN
                      else codes.Banking.ACCOUNT_CLOSED, f"the account is {account.state}")
    return account.ref


def _funding(platform: Platform, buyer: str, body: PayIn, amount: Money) -> AccountRef:
    if body.method == "wallet":
        return AccountRef(AccountKind.WALLET, buyer, amount.currency)
    if body.method == "bank":
        return _bank_account(platform, buyer, body.account_id, amount)
    if not body.card_token:
        raise Problem(codes.Payments.CARD_TOKEN_REQUIRED, "a card payment names a stored card")
    with _refusals():
        platform.card_issuer.authorise(body.card_token, owner=buyer, amount=amount)
    return platform_account(AccountKind.CARD_ISSUER, amount.currency)


@router.post("/payments/{payment_id}/confirm")
def confirm_receipt(payment_id: PaymentId, platform: PlatformDep,
                    principal: CurrentPrincipal) -> JSONResponse:
    """Confirm the goods arrived.

    The buyer confirms receipt; the held money is released to the merchant, less the fee.
    """
    return _apply(platform, principal, payment_id, ConfirmReceipt())


@router.post("/payments/{payment_id}/disputes", status_code=201)
def open_dispute(payment_id: PaymentId, body: DisputeIn, platform: PlatformDep,
                 principal: CurrentPrincipal) -> JSONResponse:
    """Open a dispute.

    The buyer disputes a held payment: the automatic release stops until staff decide.
    """
    with _refusals():
        try:
            reason = DisputeReason(body.reason)
        except ValueError:
            raise DomainError(codes.Escrow.DISPUTE_INPUT_INVALID,
                              "unknown dispute reason") from None
        event = OpenDispute(reason, body.detail, tuple(body.evidence_refs))
    return _apply(platform, principal, payment_id, event, status=201)


@router.get("/me/payments")
def my_payments(platform: PlatformDep, principal: CurrentPrincipal,
                limit: Annotated[int, Query(ge=1, le=buyers.PAGE_SIZE_MAX)] = 20,
                cursor: Annotated[str | None, Query(pattern=BUYER_CURSOR)] = None
                ) -> dict[str, Any]:
    """List my payments.

    The signed-in buyer's escrow payments, newest first: state, amounts, deadlines and the
    certified merchant's legal name. ``next_cursor`` fetches the next (older) page."""
    if principal.kind is not Kind.CUSTOMER or not principal.owner:
        raise Problem(codes.Callers.NO_USER, "only a signed-in buyer has payments")
    platform.guard.authorize(principal, Resource.PAYMENTS, Access.READ, owner=principal.owner,
                             object_id=principal.owner)
    before = None
    if cursor is not None:
        at, _, last_id = cursor.partition(".")
        before = (int(at), last_id)
    found = platform.payments.for_buyer(principal.owner, limit=limit, before=before)
    return {"data": [{**_out(view), **_dates(view), "merchant": merchant}
                     for view, merchant in zip(found, merchants_of(platform, found),
                                               strict=True)],
            "next_cursor": f"{found[-1].escrow.created_at_ns}.{found[-1].id}"
            if len(found) == limit else None}


def _dates(view: PaymentView) -> dict[str, str]:
    return {"created": rfc3339(view.escrow.created_at_ns),
            "updated": rfc3339(view.escrow.updated_at_ns or view.escrow.created_at_ns)}


def merchants_of(platform: Platform, views: list[PaymentView]) -> list[dict[str, Any]]:
    """Each payment's merchant as the registry names it (one look-up per merchant)."""
    named: dict[str, dict[str, Any]] = {}
    for mid in {v.merchant_id for v in views}:
        entry = platform.certification.registry_entry(mid)
        named[mid] = {"id": mid, "name": entry.legal_name if entry else None,
                      "domain": entry.domains[0] if entry and entry.domains else None}
    return [named[v.merchant_id] for v in views]


# -- merchants and staff ------------------------------------------------------------------------


@router.get("/payments/parked")
def parked_payments(platform: PlatformDep, principal: CurrentPrincipal,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100,
                    cursor: Annotated[str | None, Query(pattern=PARKED_CURSOR)] = None
                    ) -> dict[str, Any]:
    """List parked payments.

    Staff: payments whose timer event was refused (e.g. a release to a suspended
    merchant), with the reason and when it is tried again; longest parked first."""
    platform.guard.authorize(principal, Resource.PAYMENTS, Access.READ, owner="platform",
                             object_id="payments/parked")
    after = None
    if cursor is not None:
        at, _, last_id = cursor.partition(".")
        after = (int(at), last_id)
    with _refusals():
        found = platform.payments.parked(limit=limit, after=after)
    return {"data": [{"id": p.id, "merchant_id": p.merchant_id, "state": p.state,
                      "amount": p.amount_minor, "currency": p.currency, "reason": p.reason,
                      "parked_at": rfc3339(p.parked_at_ns), "attempts": p.attempts,
                      "retry_at": rfc3339(p.retry_at_ns)} for p in found],
            "next_cursor": f"{found[-1].parked_at_ns}.{found[-1].id}" if len(found) == limit
            else None}


@router.get("/payments/{payment_id}")
def get_payment(payment_id: PaymentId, platform: PlatformDep,
                principal: CurrentPrincipal) -> dict[str, Any]:
    """Read a payment.

    The payment's state, amounts and escrow deadlines, to its buyer, its merchant or staff.
    """
    return _out(_visible(platform, principal, payment_id, Access.READ))


@router.get("/payments/{payment_id}/receipts")
def payment_receipts(payment_id: PaymentId, platform: PlatformDep,
                     principal: CurrentPrincipal) -> dict[str, Any]:
    """List a payment's signed receipts.

    Signed receipts (JWS, alg Ed25519), checkable against /.well-known/jwks.json."""
    view = _visible(platform, principal, payment_id, Access.READ)
    audience = {Kind.CUSTOMER: "buyer", Kind.MERCHANT: "merchant"}.get(principal.kind)
    with platform.database.engine.connect() as conn:
        found = receipts.list_for_payment(conn, view.id)
    return {"data": [{"id": r.id, "audience": r.audience, "audit_index": r.audit_index,
                      "jws": r.jws} for r in found if audience in (None, r.audience)]}


@router.post("/payments/{payment_id}/shipments", status_code=201)
def ship(payment_id: PaymentId, body: ShipmentIn, platform: PlatformDep,
         principal: CurrentPrincipal) -> JSONResponse:
    """Record a shipment.

    The merchant records that the order shipped (carrier, tracking); the release timer starts.
    """
    return _apply(platform, principal, payment_id, Ship(body.carrier, body.tracking),
                  status=201)


@router.post("/payments/{payment_id}/refunds", status_code=201,
             responses={202: {"description": "A staff refund, waiting for a second member "
                              "of staff (the body names the approval)"}})
def refund(payment_id: PaymentId, body: RefundIn, platform: PlatformDep,
           principal: CurrentPrincipal) -> JSONResponse:
    """Refund a payment.

    201 with a new refund; 200 with the first one when this refund_id was already used
    for the same amount; 409 ``refund_id_reused`` for another amount. A refund by staff,
    of any amount, is a four-eyes command: 202 with the approval's id, and nothing moves
    until another member of staff approves it (`POST /v1/approvals/{id}/approve`). A
    merchant user's refund of at least the merchant's ``refund_approval_min`` is one too
    (kind ``merchant_refund``), approved by another owner of the same merchant; a signed
    backend's refund is its own, as before (decision 0051)."""
    view = _visible(platform, principal, payment_id, Access.WRITE)
    kind = "refund" if principal.kind is Kind.STAFF else None
    if principal.kind is Kind.MERCHANT and principal.id.startswith("usr_"):
        least = platform.merchant_users.refund_approval_min(view.merchant_id)
        kind = "merchant_refund" if least is not None and body.amount >= least else None
    if kind is not None:
        with approval_refusals():
            made = platform.approvals.submit(principal, kind, {
                "payment_id": view.id, "amount": body.amount, "refund_id": body.refund_id})
        return submitted(made)

    def render(done: RefundDone) -> JSONResponse:
        r = done.refund
        return JSONResponse({**_out(done.payment), "refund": {
            "id": r.refund_id, "amount": r.amount.amount_minor, "currency": r.amount.currency,
            "created_at": rfc3339(r.created_at_ns)}}, status_code=201 if done.created else 200)

    answer = Answer(platform, render)
    with _refusals():
        platform.payments.refund(payment_id, Money(body.amount, view.escrow.currency),
                                 refund_id=body.refund_id, party=_party(principal),
                                 finish=answer.record)
    return answer.response


@router.post("/payments/{payment_id}/cancel")
def cancel(payment_id: PaymentId, platform: PlatformDep,
           principal: CurrentPrincipal) -> JSONResponse:
    """Cancel a payment.

    The merchant cancels a held payment before shipping; the buyer gets the money back.
    """
    return _apply(platform, principal, payment_id, Cancel())


@router.post("/payments/{payment_id}/disputes/answer")
def answer_dispute(payment_id: PaymentId, body: AnswerIn, platform: PlatformDep,
                   principal: CurrentPrincipal) -> JSONResponse:
    """Answer a dispute.

    The merchant answers the buyer's dispute with their account and evidence.
    """
    return _apply(platform, principal, payment_id,
                  AnswerDispute(body.statement, tuple(body.evidence_refs)))


@router.post("/payments/{payment_id}/disputes/decision",
             responses={202: {"description": "A decision over the four-eyes threshold, "
                              "waiting for a second member of staff (the body names the "
                              "approval)"}})
def decide_dispute(payment_id: PaymentId, body: DecisionIn, platform: PlatformDep,
                   principal: CurrentPrincipal) -> JSONResponse:
    """Decide a dispute.

    Staff decide a dispute: the held money goes to the buyer or to the merchant. A
    decision over what the dispute holds of at least the setting
    ``dispute_approval_min`` (0: every one) is a four-eyes command: 202 with the approval
    (kind ``dispute_decision``), and nothing moves until another risk member approves it
    (`POST /v1/approvals/{id}/approve`).
    """
    view = _visible(platform, principal, payment_id, Access.MODIFY)
    cur = view.escrow.currency
    split = body.resolution == "split"
    if view.escrow.held_minor >= platform.settings.dispute_approval_min:
        with approval_refusals(), _refusals():
            made = platform.approvals.submit(principal, "dispute_decision", {
                "payment_id": payment_id, "resolution": body.resolution,
                "refund": (body.refund or 0) if split else None,
                "release": (body.release or 0) if split else None})
        return submitted(made)
    with _refusals():
        event = decision_event(body.resolution, body.refund, body.release, cur)
    return _apply(platform, principal, payment_id, event, checked=True)


def _apply(platform: Platform, principal: Principal, payment_id: str, event: Any, *,
           checked: bool = False, status: int = 200) -> JSONResponse:
    """``checked``: the route has already authorised the caller for this payment."""
    if not checked:
        _visible(platform, principal, payment_id, Access.WRITE)
    answer = _payment_answer(platform, status)
    with _refusals():
        platform.payments.apply(payment_id, event, party=_party(principal),
                                finish=answer.record)
    return answer.response

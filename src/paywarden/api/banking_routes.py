"""Bank accounts and the customer's own transfers over HTTP (services/banking).

Customers see and move only their own accounts: another customer's account id is a
404, exactly like a missing one. Every route that moves money renders its answer inside
the movement's transaction (:class:`~paywarden.api.idempotency.Answer`, decision 0018),
and a transfer is also matched by its id: a client-chosen ``id`` is scoped to the
customer, so a retry with it is answered with the first result, never applied twice.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from ..bootstrap import Platform
from ..domain.errors import DomainError
from ..domain.identity import Access, Kind, Principal, Resource
from ..domain.money import Money
from ..services.banking import BankAccount, MovementResult, Product
from ..services.banking.limits import LimitKind
from ..services.identity.stepup import approved_operation
from ..services.ledger.currencies import currency
from . import problem_codes as codes
from .approval_routes import submitted
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .idempotency import Answer
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.banking import (
    AccountOut,
    AccountsOut,
    AccountStateOut,
    CardTopUpIn,
    DepositIn,
    LimitOverrideIn,
    OpenAccountIn,
    OwnTransferIn,
    StaffReasonIn,
)

router = APIRouter(prefix="/v1", tags=["banking"])
AccountId = Annotated[str, Path(pattern=r"^acc_[0-9a-f]{24}$")]
CustomerId = Annotated[str, Path(pattern=r"^usr_[0-9a-f]{16}$")]
refusals = Refusals(codes.Banking, codes.Money, codes.Ledger, codes.Cards, codes.Passkeys,
                    codes.Idempotency)
submit_refusals = Refusals(codes.Approvals, codes.Banking, codes.Money)  # four-eyes


def customer(platform: Platform, principal: Principal, access: Access) -> str:
    """The signed-in customer's user id, allowed ``access`` to their own banking."""
    if principal.kind is not Kind.CUSTOMER or principal.owner is None:
        raise Problem(codes.Edge.FORBIDDEN, "banking is for signed-in customers")
    platform.guard.authorize(principal, Resource.BANKING, access, owner=principal.owner)
    return principal.owner


def movement_id(prefix: str, user_id: str, client_id: str | None) -> str:
    """A movement id: the client's id scoped to the customer, or a fresh one."""
    if client_id is None:
        return prefix + secrets.token_hex(12)
    return prefix + hashlib.sha256(f"{user_id}|{client_id}".encode()).hexdigest()[:32]


def account_out(platform: Platform, account: BankAccount) -> dict[str, Any]:
    return {**account.public(), **platform.banking.accounts.balance(account),
            "opened_at": rfc3339(account.created_at_ns)}


def movement_answer(platform: Platform) -> Answer[MovementResult]:
    return Answer(platform, lambda done: JSONResponse(
        done.public(), status_code=201 if done.created else 200))


@router.get("/me/accounts", response_model=AccountsOut)
def list_accounts(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Your accounts and their balances.

    ``booked`` is the posted balance; ``available`` is booked less outgoing money on hold
    (transfers to other banks not yet confirmed, transfers held for review)."""
    user = customer(platform, principal, Access.READ)
    return {"data": [account_out(platform, a) for a in platform.banking.accounts.list_for(user)]}


@router.post("/me/accounts", status_code=201, response_model=AccountOut)
def open_account(body: OpenAccountIn, platform: PlatformDep,
                 principal: CurrentPrincipal) -> dict[str, Any]:
    """Open an account: a current or savings account, or a wallet (e-money, one per
    currency), each with its own IBAN."""
    user = customer(platform, principal, Access.WRITE)
    with refusals():
        currency(body.currency)
        made = platform.banking.accounts.open(user, Product(body.product), body.currency,
                                              body.name, actor=principal.actor)
    return account_out(platform, made)


@router.get("/me/accounts/{account_id}", response_model=AccountOut)
def get_account(account_id: AccountId, platform: PlatformDep,
                principal: CurrentPrincipal) -> dict[str, Any]:
    """One of your accounts.

    Its IBAN, state and balances; another customer's account is 404, like a missing one."""
    user = customer(platform, principal, Access.READ)
    with refusals():
        account = platform.banking.accounts.get_for(user, account_id)
    return account_out(platform, account)


@router.post("/me/transfers/own", status_code=201)
def transfer_own(body: OwnTransferIn, platform: PlatformDep,
                 principal: CurrentPrincipal) -> JSONResponse:
    """Move money between two of your own accounts.

    No payee and no passkey step-up: the money stays yours. Into your wallet it is a
    top-up. 201 with the transfer; 200 with the first answer when ``id`` was used
    already with the same fields; 409 ``transfer_exists_with_different_fields`` if not."""
    user = customer(platform, principal, Access.WRITE)
    answer = movement_answer(platform)
    with refusals():
        platform.banking.transfer_own(
            user, movement_id=movement_id("own_", user, body.id), from_account=body.from_account,
            to_account=body.to_account, amount=Money(body.amount, body.currency),
            reference=body.reference, finish=answer.record)
    return answer.response


@router.post("/me/wallet/top-ups", status_code=201)
def top_up_by_card(body: CardTopUpIn, platform: PlatformDep,
                   principal: CurrentPrincipal) -> JSONResponse:
    """Top up your wallet from a stored card.

    Confirmed with a passkey step-up over the operation ``{type: "top_up", amount,
    currency, payee: <wallet account id>, reference: <card token>}``."""
    user = customer(platform, principal, Access.WRITE)
    amount = Money(body.amount, body.currency)
    answer = movement_answer(platform)
    mid = movement_id("top_", user, body.id)

    def confirmed(conn: Connection) -> None:
        operation = approved_operation(conn, user, body.evidence_id)
        if (operation.type != "top_up" or operation.amount != body.amount
                or operation.currency != body.currency or operation.payee != body.wallet
                or operation.reference != body.card_token):
            raise DomainError(codes.Passkeys.STEP_UP_MISMATCH,
                              "the passkey confirmed another operation than this top-up")
        platform.step_up.require(conn, user, operation, body.evidence_id)

    with refusals():
        with platform.database.engine.connect() as conn:
            approved_operation(conn, user, body.evidence_id)  # before the card issuer sees the card
        platform.banking.accounts.get_for(user, body.wallet)
        platform.card_issuer.authorise(body.card_token, owner=user, amount=amount)
        platform.banking.top_up_from_card(user, movement_id=mid, wallet=body.wallet,
                                          amount=amount, precondition=confirmed,
                                          finish=answer.record)
    return answer.response


# -- staff ------------------------------------------------------------------------------


def _staff(platform: Platform, principal: Principal, access: Access) -> None:
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, Resource.BANKING, access)


@router.post("/staff/bank-accounts/{account_id}/freeze", response_model=AccountStateOut)
def freeze(account_id: AccountId, body: StaffReasonIn, platform: PlatformDep,
           principal: CurrentPrincipal) -> dict[str, Any]:
    """Freeze an account.

    A frozen account receives money but sends none. Audited with the reason."""
    _staff(platform, principal, Access.MODIFY)
    with refusals():
        done = platform.banking.accounts.freeze(account_id, actor=principal.actor,
                                                reason=body.reason)
    return done.public()


@router.post("/staff/bank-accounts/{account_id}/unfreeze", status_code=202)
def unfreeze(account_id: AccountId, body: StaffReasonIn, platform: PlatformDep,
             principal: CurrentPrincipal) -> JSONResponse:
    """Ask to unfreeze an account.

    A four-eyes command (kind ``account_unfreeze``): 202 with the approval; the account
    sends money again once another member of the risk team approves it with their
    passkey. Freezing stays one person's act: it stops money."""
    _staff(platform, principal, Access.MODIFY)
    with submit_refusals():
        made = platform.approvals.submit(principal, "account_unfreeze",
                                         {"account_id": account_id, "reason": body.reason})
    return submitted(made)


@router.post("/staff/bank-accounts/{account_id}/close", response_model=AccountStateOut)
def close(account_id: AccountId, body: StaffReasonIn, platform: PlatformDep,
          principal: CurrentPrincipal) -> dict[str, Any]:
    """Close an account.

    Only at a zero balance with nothing pending; a closed account neither sends nor
    receives. Audited with the reason."""
    _staff(platform, principal, Access.MODIFY)
    with refusals():
        done = platform.banking.accounts.close(account_id, actor=principal.actor,
                                               reason=body.reason)
    return done.public()


@router.post("/staff/rail/deposits", status_code=201)
def rail_deposit(body: DepositIn, platform: PlatformDep,
                 principal: CurrentPrincipal) -> JSONResponse:
    """An incoming credit from another bank (the simulated rail's inbound side).

    Once per ``rail_id``; for development, tests and the demo until the settlement
    issue's hub delivers real pacs.008 messages. Only a machine principal (a service
    token) books it: a person crediting an account alone would mint money, so people
    are refused with 403 ``machine_principal_required`` (decision 0044)."""
    if principal.kind is not Kind.SERVICE:
        raise Problem(codes.FourEyesCommands.MACHINE_PRINCIPAL_REQUIRED,
                      "the rail's credits are booked by a machine principal, not a person")
    platform.guard.authorize(principal, Resource.RAIL, Access.WRITE)
    with refusals():
        done = platform.banking.rail.deposit(
            rail_id=body.rail_id, iban=body.iban, amount=Money(body.amount, body.currency),
            debtor_iban=body.debtor_iban, debtor_name=body.debtor_name,
            reference=body.reference)
    return JSONResponse(done.public(), status_code=201 if done.created else 200)


@router.post("/staff/customers/{customer_id}/limits/{kind}", status_code=202,
             responses={202: {"description": "The override, waiting for a second member of "
                              "staff (the body names the approval)"}})
def override_limit(customer_id: CustomerId, kind: LimitKind, body: LimitOverrideIn,
                   platform: PlatformDep, principal: CurrentPrincipal) -> JSONResponse:
    """Override a customer's transfer limit.

    Sets the limit at once, above the bank's maximum if need be and without the
    customer's raise delay: a four-eyes command (decision 0044). Submitted by support or
    risk with a reason; 202 with the approval's id, and the limit changes only once a
    second member of risk approves it. Both steps are in the audit log."""
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, Resource.BANKING, Access.MODIFY, object_id=customer_id)
    with submit_refusals():
        made = platform.approvals.submit(principal, "limit_override", {
            "customer_id": customer_id, "kind": str(kind), "currency": body.currency,
            "amount": body.amount, "reason": body.reason})
    return submitted(made)

"""What an analyst's outcome does to the money a ``review`` decision held.

A case's decision names an operation (``bank.internal``, ``payment.pay`` …); the resolver
registered for the operation's prefix (``bank.``, ``payment.``) carries the outcome out:
release lets the held money go on, decline voids it. Banking's is here, and the escrow
pay's (:class:`PaymentResolver`, decision 0039): both are registered at bootstrap in the
same ``dict[str, Resolver]``.

A resolver is called again for a case whose outcome was claimed but not carried out (a
crash in between), so ``resolve`` must answer the first result when asked twice — banking's
``Movements.settle`` does, and a payment answers its state once it left ``under_review``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select

from ...adapters.store import Database
from ...adapters.store.schema import bank_transfers
from ...domain.errors import DomainError
from ...domain.escrow import DeclineReview, PartyRole, ReleaseReview, State
from ..banking.movements import Movements
from ..ledger.currencies import amount_words
from ..payments.service import Party, Payments, PaymentView

ABSENT = "absent"  # nothing is held under the case's object id (the movement never ran)
# What the movement's own row says (the customer may read it on a statement): a code, never
# the analyst's free text.
SETTLE_REASONS = {True: "review_released", False: "review_declined"}


class Resolver(Protocol):
    def resolve(self, object_id: str, *, release: bool, reason: str, actor: str) -> str:
        """Release or decline the held object, once; its state afterwards."""


@runtime_checkable
class Describer(Protocol):
    def describe(self, object_id: str) -> dict[str, Any] | None:
        """The held object as evidence (amount, accounts, counterparty), or None."""


class BankResolver:
    """Held banking movements: release posts them (or sends them on to the rail), decline
    voids them (``Movements.settle``)."""

    def __init__(self, database: Database, movements: Movements) -> None:
        self._database = database
        self._movements = movements

    def resolve(self, object_id: str, *, release: bool, reason: str, actor: str) -> str:
        try:
            done = self._movements.settle(object_id, post=release,
                                          reason=SETTLE_REASONS[release], actor=actor)
        except DomainError as exc:
            if exc.code == "not_found":
                return ABSENT
            raise
        return str(done.state)

    def describe(self, object_id: str) -> dict[str, Any] | None:
        with self._database.engine.connect() as conn:
            row = conn.execute(select(bank_transfers).where(
                bank_transfers.c.id == object_id)).mappings().first()
        if row is None:
            return None
        return {"id": row["id"], "kind": row["kind"], "state": row["state"],
                "amount": row["amount"], "currency": row["currency"],
                "amount_text": amount_words(row["amount"], row["currency"]),
                "from_account": row["from_account"], "to_account": row["to_account"],
                "counterparty_iban": row["counterparty_iban"],
                "counterparty_name": row["counterparty_name"], "reference": row["reference"],
                "reason": row["reason"], "created_at": row["created_at"]}


# A payment in these states holds nothing a case could answer: the reviewed pay never ran
# (its transaction failed after the screening, e.g. the buyer's balance was too low).
_NEVER_PAID = frozenset({State.CREATED, State.EXPIRED})


class PaymentResolver:
    """Escrow pays under review (``payment.pay``): release sends ``review_release`` (held,
    the ship-by clock starts), decline ``review_decline`` (everything back to the buyer).
    The analyst is the staff party who sends it; the payment's own transition tells the
    merchant (webhook) and signs the receipts, as every payment event does."""

    def __init__(self, payments: Payments, *,
                 staff_decisions: Callable[[str, bool, str], str] | None = None) -> None:
        self._payments = payments
        self._staff_decisions = staff_decisions

    def resolve(self, object_id: str, *, release: bool, reason: str, actor: str) -> str:
        """Apply the outcome once. Asked again (a crash between the case's claim and its
        completion), or after the payment left review otherwise (a cancel), it answers
        the payment's state instead: the machine refuses a second outcome, and nothing
        moves twice. A staff dispute decision's case (``pay_…:<decision>``) goes to the
        approvals it holds (services/approvals/disputes.py)."""
        payment_id, staff, _ = object_id.partition(":")
        if staff and self._staff_decisions is not None:
            return self._staff_decisions(payment_id, release, actor) or ABSENT
        view = self._payments.get(object_id)
        if view is None or view.escrow.state in _NEVER_PAID:
            return ABSENT
        if view.escrow.state is State.UNDER_REVIEW:
            event = ReleaseReview() if release else DeclineReview()
            try:
                view = self._payments.apply(object_id, event,
                                            party=Party(PartyRole.STAFF, actor))
            except DomainError as exc:
                if exc.code != "escrow_transition_not_allowed":
                    raise
                view = self._payments.get(object_id) or view  # another call answered first
        return str(view.escrow.state)

    def describe(self, object_id: str) -> dict[str, Any] | None:
        """The payment; for a staff member's dispute decision (``pay_…:<decision>``, decision
        0040) the payment it would move, and the decision."""
        payment_id, _, decision = object_id.partition(":")
        view = self._payments.get(object_id) or self._payments.get(payment_id)
        if view is None or view.escrow.state in _NEVER_PAID:
            return None
        found = payment_evidence(view)
        if decision and view.id == payment_id:
            found["decision"] = decision
        return found


def payment_evidence(view: PaymentView) -> dict[str, Any]:
    """A payment as the case page shows a held movement: from the buyer's funding into the
    payment's escrow, for the shop."""
    e = view.escrow
    return {"id": view.id, "kind": "escrow_pay", "state": str(e.state),
            "amount": e.amount.amount_minor, "currency": e.currency,
            "amount_text": amount_words(e.amount.amount_minor, e.currency),
            "held_minor": e.held_minor, "merchant": view.merchant_id,
            "buyer": view.buyer_id, "method": view.method,
            "from_account": view.funding, "to_account": f"escrow of {view.id}",
            "counterparty_name": f"shop {view.merchant_id}", "counterparty_iban": None,
            "reference": view.id, "created_at": e.created_at_ns}

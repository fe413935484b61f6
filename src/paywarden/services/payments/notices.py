"""What a payment transition tells the parties, in the transition's own transaction: one
webhook to the merchant for every transition, and a signed receipt each for the buyer and
the merchant whenever money moved. Rows are handed to ``later`` (the group commit's
queue), so a batch's outbox and receipts are written with one insert each.

The webhook's row is made when the transition is prepared (:func:`outbox`, on the
caller's thread); only its audit index is filled in inside the batch. Receipts are
signed inside the batch: they carry the audit index."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable

from .. import receipts
from ..webhooks.events import INSERT as OUTBOX_INSERT
from ..webhooks.events import outbox_row

if TYPE_CHECKING:
    from ..keys import Keys
    from .service import Notify, PaymentView

Later = Callable[[Executable, dict[str, Any]], None]


def outbox(view: PaymentView, event: str, now: int) -> dict[str, Any]:
    """The merchant's webhook for ``event``, without its audit index yet."""
    return outbox_row(merchant_id=view.merchant_id, event_type=f"payment.{event}",
                      payload={"event": event, "payment": view.public()}, at_ns=now,
                      audit_index=None)


def notifier(keys: Keys) -> Notify:
    def notify(later: Later, view: PaymentView, event: str, now: int, moved: bool,
               webhook: dict[str, Any]) -> None:
        index = view.audit_index if view.audit_index is not None else -1
        later(OUTBOX_INSERT, {**webhook, "audit_index": view.audit_index})
        if not moved or view.buyer_id is None:
            return
        e = view.escrow
        claims = {"state": str(e.state), "currency": e.currency,
                  "amount_minor": e.amount.amount_minor, "buyer_id": view.buyer_id,
                  "merchant_id": view.merchant_id, "held_minor": e.held_minor,
                  "refunded_minor": e.refunded_minor, "released_minor": e.released_minor,
                  "fee_minor": e.fee_minor, "event": event}
        for audience in ("buyer", "merchant"):
            later(receipts.INSERT, receipts.row(receipts.sign(
                keys, payment_id=view.id, audience=audience, claims=claims, at_ns=now,
                audit_index=index)))

    return notify

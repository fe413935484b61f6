"""What a payment transition tells the parties, in the transition's own transaction: one
webhook to the merchant for every transition, and a signed receipt each for the buyer and
the merchant whenever money moved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from .. import receipts, webhooks

if TYPE_CHECKING:
    from ..keys import Keys
    from .service import Notify, PaymentView


def notifier(keys: Keys) -> Notify:
    def notify(conn: Connection, view: PaymentView, event: str, now: int, moved: bool) -> None:
        index = view.audit_index if view.audit_index is not None else -1
        webhooks.enqueue(conn, merchant_id=view.merchant_id, event_type=f"payment.{event}",
                         payload={"event": event, "payment": view.public()}, at_ns=now,
                         audit_index=view.audit_index)
        if not moved or view.buyer_id is None:
            return
        e = view.escrow
        claims = {"state": str(e.state), "currency": e.currency,
                  "amount_minor": e.amount.amount_minor, "buyer_id": view.buyer_id,
                  "merchant_id": view.merchant_id, "held_minor": e.held_minor,
                  "refunded_minor": e.refunded_minor, "released_minor": e.released_minor,
                  "fee_minor": e.fee_minor, "event": event}
        for audience in ("buyer", "merchant"):
            receipts.issue(conn, keys, payment_id=view.id, audience=audience, claims=claims,
                           at_ns=now, audit_index=index)

    return notify

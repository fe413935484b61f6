"""A merchant user's refund at or over the merchant's threshold: the ``merchant_refund``
command, approved by a second person of the same merchant (decision 0051).

Shaped like the staff refund (services/approvals/money.py): the ``refund_id`` is fixed at
submission, so the effect run again after a crash answers the first refund, never a
second one. The refund is the merchant's own (party ``merchant``), as if its backend had
asked: the four eyes are two of its people.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from ...domain.approvals import Kind
from ...domain.errors import DomainError
from ...domain.escrow import PartyRole
from ...domain.identity import Principal
from ...domain.money import Money
from ..approvals.executors import Approval, Checked, Executor
from ..ledger.currencies import amount_words
from ..payments import Party, Payments
from ..payments.refunds import check_refund_id


class MerchantRefund(Executor):
    """Params ``{"merchant_id", "payment_id", "amount", "refund_id"}``; the merchant is
    always the submitter's own, and the payment must be that merchant's."""

    kind = Kind.MERCHANT_REFUND

    def __init__(self, payments: Payments) -> None:
        self._payments = payments

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        payment_id, amount = params.get("payment_id"), params.get("amount")
        if not isinstance(payment_id, str) or type(amount) is not int or amount <= 0:
            raise DomainError("approval_command_invalid", "a refund names a payment_id and a "
                              "positive amount in minor units")
        refund_id = params.get("refund_id") or "mrf_" + secrets.token_hex(12)
        check_refund_id(refund_id)
        view = self._payments.get(payment_id)
        if view is None or submitter.owner is None or view.merchant_id != submitter.owner:
            raise DomainError("not_found", f"no payment {payment_id}")
        currency = view.escrow.currency
        return Checked({"merchant_id": view.merchant_id, "payment_id": payment_id,
                        "amount": amount, "refund_id": refund_id},
                       f"Refund {amount_words(amount, currency)} of payment {payment_id}",
                       amount=amount, currency=currency)

    def effect(self, approval: Approval) -> dict[str, Any]:
        p = approval.params
        view = self._payments.get(p["payment_id"])
        if view is None or view.merchant_id != p["merchant_id"] \
                or approval.merchant_id != p["merchant_id"]:
            raise DomainError("not_found", f"no payment {p['payment_id']} of this merchant")
        done = self._payments.refund(p["payment_id"], Money(p["amount"], approval.currency),
                                     refund_id=p["refund_id"],
                                     party=Party(PartyRole.MERCHANT, p["merchant_id"]))
        return {"payment_id": done.payment.id, "refund_id": done.refund.refund_id,
                "amount": done.refund.amount.amount_minor,
                "state": str(done.payment.escrow.state)}

"""Executors of commands that move money: a person's ledger transfers, a staff refund.

Both commit through writers of their own (the ledger's group commit, the payments'
write path), so both run as an :meth:`~.executors.Executor.effect`, idempotent by ids
fixed at submission: each transfer's client id, the refund's ``refund_id``. Executed
again after a crash, the ledger answers ``exists`` and the payments answer the first
refund: never a second movement.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from ...domain.approvals import NO_CURRENCY, Kind
from ...domain.errors import DomainError
from ...domain.escrow import PartyRole
from ...domain.identity import Principal
from ...domain.ledger import Transfer
from ...domain.money import Money
from ..ledger import LedgerEngine
from ..ledger.currencies import amount_words
from ..payments import Party, Payments
from ..payments.refunds import check_refund_id
from .executors import Approval, Checked, Executor

TRANSFERS_MAX = 100  # one approval is one reviewable batch, not a bulk feed
RESULT_WAIT_S = 30
TRANSFER_FIELDS = ("id", "debit_account_id", "credit_account_id", "amount", "ledger", "code",
                   "flags", "pending_id", "timeout_s", "user_data")


def _invalid(detail: str) -> DomainError:
    return DomainError("approval_command_invalid", detail)


def transfer_params(transfer: Transfer) -> dict[str, Any]:
    """A transfer as a command stores it: account ids as decimal text (they exceed the
    integers every JSON reader keeps exactly), the rest as it is."""
    values = transfer._asdict()
    values["debit_account_id"] = str(transfer.debit_account_id)
    values["credit_account_id"] = str(transfer.credit_account_id)
    return values


def _transfer(value: Any) -> Transfer:
    if not isinstance(value, Mapping) or set(value) != set(TRANSFER_FIELDS):
        raise _invalid(f"a transfer has exactly the fields {', '.join(TRANSFER_FIELDS)}")
    ints = ("ledger", "code", "flags", "timeout_s")
    if any(type(value[k]) is not int for k in ints) or not (
            value["amount"] is None or type(value["amount"]) is int):
        raise _invalid("a transfer's amount, ledger, code, flags and timeout are integers")
    try:
        debit, credit = int(value["debit_account_id"]), int(value["credit_account_id"])
    except (TypeError, ValueError):
        raise _invalid("account ids are decimal text") from None
    texts = ("id", "pending_id", "user_data")
    if not isinstance(value["id"], str) or any(
            value[k] is not None and not isinstance(value[k], str) for k in texts):
        raise _invalid("a transfer's id, pending_id and user_data are text")
    return Transfer(id=value["id"], debit_account_id=debit, credit_account_id=credit,
                    amount=value["amount"], ledger=value["ledger"], code=value["code"],
                    flags=value["flags"], pending_id=value["pending_id"],
                    timeout_s=value["timeout_s"], user_data=value["user_data"])


class LedgerTransfers(Executor):
    """A person's manual ledger transfers: params ``{"transfers": [...], "currency"}``."""

    kind = Kind.LEDGER_TRANSFERS

    def __init__(self, engine: LedgerEngine) -> None:
        self._engine = engine

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        raw = params.get("transfers")
        if not isinstance(raw, list) or not 0 < len(raw) <= TRANSFERS_MAX:
            raise _invalid(f"a ledger command holds 1 to {TRANSFERS_MAX} transfers")
        transfers = [_transfer(t) for t in raw]
        ids = [t.id for t in transfers]
        if len(set(ids)) != len(ids):
            raise _invalid("a transfer id is repeated within the command")
        code = params.get("currency", NO_CURRENCY)
        if not isinstance(code, str) or len(code) != 3 or not code.isupper():
            raise _invalid("currency is a three-letter code")
        total = sum(t.amount or 0 for t in transfers)
        shown = amount_words(total, code) if code != NO_CURRENCY else f"{total} minor units"
        count = "1 ledger transfer" if len(transfers) == 1 else f"{len(transfers)} ledger transfers"
        return Checked({"transfers": [transfer_params(t) for t in transfers], "currency": code},
                       f"{count}, {shown} in all", amount=total, currency=code)

    def effect(self, approval: Approval) -> dict[str, Any]:
        transfers = [_transfer(t) for t in approval.params["transfers"]]
        results = self._engine.submit(transfers).result(timeout=RESULT_WAIT_S)
        return {"results": [{"id": t.id, "result": str(r)}
                            for t, r in zip(transfers, results, strict=True)]}


class StaffRefund(Executor):
    """A refund by staff: params ``{"payment_id", "amount", "refund_id"}``."""

    kind = Kind.REFUND

    def __init__(self, payments: Payments) -> None:
        self._payments = payments

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        payment_id, amount = params.get("payment_id"), params.get("amount")
        if not isinstance(payment_id, str) or type(amount) is not int or amount <= 0:
            raise _invalid("a refund names a payment_id and a positive amount in minor units")
        refund_id = params.get("refund_id") or "stf_" + secrets.token_hex(12)
        check_refund_id(refund_id)
        view = self._payments.get(payment_id)
        if view is None:
            raise DomainError("not_found", f"no payment {payment_id}")
        currency = view.escrow.currency
        return Checked({"payment_id": payment_id, "amount": amount, "refund_id": refund_id},
                       f"Refund {amount_words(amount, currency)} of payment {payment_id}",
                       amount=amount, currency=currency, subject=view.buyer_id)

    def effect(self, approval: Approval) -> dict[str, Any]:
        p = approval.params
        party = Party(PartyRole.STAFF, f"{approval.submitted_by}+{approval.decided_by}")
        done = self._payments.refund(p["payment_id"], Money(p["amount"], approval.currency),
                                     refund_id=p["refund_id"], party=party)
        return {"payment_id": done.payment.id, "refund_id": done.refund.refund_id,
                "amount": done.refund.amount.amount_minor, "state": str(done.payment.escrow.state)}

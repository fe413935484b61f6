"""The executor of a return: a transfer another bank paid one of our customers, sent back
through the clearing network (pacs.004, decision 0060).

A return takes money out of a customer's account without the customer: alone, an
insider could "return" a payment to an accomplice's bank. Support or risk submit it
with a reason code; another member of risk approves.

It runs as an :meth:`~.executors.Executor.effect` (the write path commits the debit and
the stored pacs.004 together). Its return id is derived from the approval's id, so run
again after a crash it finds the return it made and answers it.

With a ``case_id`` it is the yes to a recall another bank asked of us (camt.056,
decision 0061): the reason is FOCR, the amount the recalled one, and the recall is
answered (camt.029) once the return is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ...adapters.store import Database
from ...adapters.store.schema import bank_accounts, bank_clearing_in, bank_transfers
from ...domain.approvals import Kind
from ...domain.clearing.messages import RETURN_REASONS, return_id_for
from ...domain.errors import DomainError
from ...domain.identity import Principal
from ..clearing.bank.recalls import ACCEPT_REASON, Recalls
from ..clearing.bank.returns import Returns
from ..ledger.currencies import amount_words
from .executors import Approval, Checked, Executor


class ClearingReturn(Executor):
    """Params ``{"uetr", "reason", "amount"}``: the incoming transfer, an ISO return
    reason code and the amount (at most the transfer's); or ``{"case_id"}``: the recall
    to say yes to."""

    kind = Kind.CLEARING_RETURN

    def __init__(self, database: Database, returns: Returns, recalls: Recalls) -> None:
        self._database = database
        self._returns = returns
        self._recalls = recalls

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        if "case_id" in params:
            return self._check_recall(params, submitter)
        uetr, reason = params.get("uetr"), params.get("reason")
        if not isinstance(uetr, str) or not isinstance(reason, str):
            raise DomainError("approval_command_invalid", "a return names a uetr and reason")
        if reason not in RETURN_REASONS:
            raise DomainError("return_reason_invalid", "a return reason is one of "
                              + ", ".join(sorted(RETURN_REASONS)))
        with self._database.engine.connect() as conn:
            row = conn.execute(
                select(bank_clearing_in.c.state, bank_transfers.c.amount,
                       bank_transfers.c.currency, bank_accounts.c.user_id)
                .join(bank_transfers, bank_transfers.c.id == bank_clearing_in.c.movement_id)
                .join(bank_accounts, bank_accounts.c.id == bank_transfers.c.to_account)
                .where(bank_clearing_in.c.uetr == uetr,
                       bank_clearing_in.c.original_uetr.is_(None))).mappings().first()
        if row is None:
            raise DomainError("not_found", "no transfer from another bank with this UETR")
        if row["state"] != "settled":
            raise DomainError("return_not_settled", "only a settled transfer is returned")
        amount = params.get("amount", row["amount"])
        if not isinstance(amount, int) or isinstance(amount, bool) \
                or not 0 < amount <= row["amount"]:
            raise DomainError("return_amount_invalid",
                              "a return is more than zero and at most the transfer")
        return Checked({"uetr": uetr, "reason": reason, "amount": amount},
                       f"Return {amount_words(amount, row['currency'])} of transfer {uetr} "
                       f"({reason})",
                       amount=amount, currency=row["currency"], subject=row["user_id"])

    def _check_recall(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        case = self._recalls.received(params["case_id"])
        if case.state != "open":
            raise DomainError("recall_answered", "this recall was answered already")
        checked = self.check({"uetr": case.original_uetr, "reason": ACCEPT_REASON,
                              "amount": case.amount.amount_minor}, submitter)
        return Checked({**checked.params, "case_id": case.case_id},
                       f"{checked.summary}, recalled by the payer's bank ({case.reason})",
                       amount=checked.amount, currency=checked.currency,
                       subject=checked.subject)

    def effect(self, approval: Approval) -> dict[str, Any]:
        p = approval.params
        actor = f"{approval.submitted_by}+{approval.decided_by}"
        if "case_id" in p:
            return self._recalls.accept(p["case_id"], actor=actor,
                                        return_id=return_id_for(approval.id)).public()
        done = self._returns.start(p["uetr"], reason=p["reason"], amount_minor=p["amount"],
                                   actor=f"{approval.submitted_by}+{approval.decided_by}",
                                   return_id=return_id_for(approval.id))
        return done.public()

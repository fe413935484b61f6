"""Recalls at a participant bank (camt.056 / camt.029, decision 0061): asking another
bank for a transfer back, and answering when another bank asks us.

As the payer's bank, :meth:`Recalls.request` opens a case for one of our settled
transfers out (paid twice, fraud, the wrong account...) and sends the camt.056 to our
hub, which passes it along the transfer's path. The answer comes back as a camt.029;
a yes is followed by the money itself, a return (pacs.004) credited to the customer
by :meth:`.incoming.Incoming.on_pacs004`.

As the payee's bank, a camt.056 from our hub opens a case for a transfer we settled
into a customer's account, or is refused at once (NOOR: no such settled transfer here;
ARDT: it is returned already). Staff answer it:

- :meth:`Recalls.accept` returns the money (a return, reason FOCR) and answers yes. It
  takes money out of a customer's account, so it runs only as the effect of an approved
  ``clearing_return`` (four eyes, decision 0060) naming the case;
- :meth:`Recalls.refuse` answers no, with an ISO reason; no money moves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ....adapters.clock import Clock
from ....adapters.store import Database
from ....adapters.store.schema import bank_clearing_in, bank_clearing_out, bank_transfers
from ....domain.clearing.messages import (
    RECALL_REASONS,
    RECALL_REFUSALS,
    Camt029,
    Camt056,
    Header,
    Message,
    Recall,
    RecallAnswer,
    is_case_id,
    new_case_id,
)
from ....domain.errors import DomainError
from ....domain.money import Money
from ... import audit
from ..recall_cases import ACCEPTED, OPEN, RECEIVED, REQUESTED, Case, Cases
from ..transport import new_msg_id
from .incoming import SETTLED as IN_SETTLED
from .outgoing import REJECTED as OUT_REJECTED
from .outgoing import SETTLED as OUT_SETTLED
from .returns import Returns, Started

ACCEPT_REASON = "FOCR"  # the return's reason: following a cancellation request


class Recalls:
    def __init__(self, database: Database, *, clock: Clock, cases: Cases, returns: Returns,
                 hub_bic: str) -> None:
        self._database = database
        self._clock = clock
        self._cases = cases
        self._returns = returns
        self._hub_bic = hub_bic
        self.bic = cases.bic

    # -- asking --------------------------------------------------------------------------

    def request(self, original_uetr: str, *, reason: str, actor: str,
                amount_minor: int | None = None, case_id: str | None = None) -> Case:
        """Recall our settled transfer ``original_uetr`` (all of it unless
        ``amount_minor``); the case as it stands. ``case_id`` makes a retry find its own."""
        if reason not in RECALL_REASONS:
            raise DomainError("recall_reason_invalid", "a recall reason is one of "
                              + ", ".join(sorted(RECALL_REASONS)))
        case_id = case_id or new_case_id()
        if not is_case_id(case_id):
            raise DomainError("recall_case_invalid", "a case id is 32 hex digits")
        found = self._cases.get(case_id)
        if found is not None:
            if found.role != REQUESTED or found.original_uetr != original_uetr:
                raise DomainError("recall_case_invalid", "this case id names another case")
            return found
        with self._database.engine.connect() as conn:
            original = conn.execute(
                select(bank_clearing_out, bank_transfers.c.amount, bank_transfers.c.currency)
                .join(bank_transfers, bank_transfers.c.id == bank_clearing_out.c.movement_id)
                .where(bank_clearing_out.c.uetr == original_uetr,
                       bank_clearing_out.c.original_uetr.is_(None))).mappings().first()
        if original is None:
            raise DomainError("not_found", "no transfer of ours to another bank has this UETR")
        if original["state"] != OUT_SETTLED:
            raise DomainError("recall_not_settled", "only a settled transfer is recalled; "
                              "one in flight is decided within its deadline")
        amount = original["amount"] if amount_minor is None else amount_minor
        if not 0 < amount <= original["amount"]:
            raise DomainError("recall_amount_invalid",
                              "a recall is more than zero and at most the transfer")
        if self._cases.list(role=REQUESTED, state=OPEN, original_uetr=original_uetr, limit=1):
            raise DomainError("recall_exists", "this transfer is being recalled already")
        recall = Recall(case_id, original["msg_id"], original_uetr,
                        original["end_to_end_id"] or "", Money(amount, original["currency"]),
                        reason)
        case = self._cases.open(recall, role=REQUESTED, from_bic=None, to_bic=self._hub_bic,
                                actor=actor, after=self._audit("clearing.recall_requested",
                                                               actor))
        found = case or self._cases.get(case_id)
        if found is None:
            raise DomainError("not_found", "the recall was not stored")
        return found

    def cases(self) -> list[Case]:
        """This bank's recall cases, asked and received, newest first."""
        return self._cases.list()

    # -- answering -----------------------------------------------------------------------

    def on_camt056(self, message: Message, sender: str) -> Camt029 | None:
        """Cases opened for staff to answer, or refused at once (the refusals answer the
        message)."""
        if not isinstance(message, Camt056):
            raise DomainError("message_type_unexpected", "this handler takes a camt.056")
        if sender != self._hub_bic:
            raise DomainError("message_sender_not_hub", "a bank takes recalls from its own "
                              "hub only")
        answers: list[RecallAnswer] = []
        for recall in message.recalls:
            known = self._cases.known(recall, sender)
            if isinstance(known, RecallAnswer):
                answers.append(known)
                continue
            if known:
                continue
            refusal = self._refusal(recall)
            if refusal is not None:
                answers.append(RecallAnswer(recall.case_id, recall.original_uetr, False,
                                            refusal))
                continue
            self._cases.open(recall, role=RECEIVED, from_bic=sender, to_bic=None,
                             actor=f"clearing:{sender}")
        if not answers:
            return None
        return Camt029(Header(new_msg_id(), self._clock.now_ns(), self.bic, sender),
                       tuple(answers))

    def on_camt029(self, message: Message, sender: str) -> None:
        """The answer to a recall we asked for (taken from our hub only)."""
        self._cases.on_camt029(message, sender)

    def received(self, case_id: str) -> Case:
        """A recall another bank asked of us, still to be answered."""
        case = self._cases.get(case_id) if isinstance(case_id, str) else None
        if case is None or case.role != RECEIVED:
            raise DomainError("not_found", "no recall was asked of this bank with this case")
        return case

    def accept(self, case_id: str, *, actor: str, return_id: str) -> Started:
        """Return the recalled amount (reason FOCR) and answer yes; run again (after a
        crash) it finds its return and answers once."""
        case = self.received(case_id)
        if case.state not in (OPEN, ACCEPTED):
            raise DomainError("recall_answered", "this recall was answered already")
        started = self._returns.start(case.original_uetr, reason=ACCEPT_REASON, actor=actor,
                                      amount_minor=case.amount.amount_minor,
                                      return_id=case.return_id or return_id)
        self._cases.answer(case_id, accepted=True, reason=None, return_id=started.return_id,
                           after=self._audit("clearing.recall_accepted", actor))
        return started

    def refuse(self, case_id: str, *, reason: str, actor: str) -> Case:
        """Answer no, with an ISO reason; no money moves."""
        if reason not in RECALL_REFUSALS:
            raise DomainError("recall_refusal_invalid", "a refusal reason is one of "
                              + ", ".join(sorted(RECALL_REFUSALS)))
        case = self.received(case_id)
        if case.state != OPEN or not self._cases.answer(
                case_id, accepted=False, reason=reason,
                after=self._audit("clearing.recall_refused", actor)):
            raise DomainError("recall_answered", "this recall was answered already")
        return self.received(case_id)

    def _refusal(self, recall: Recall) -> str | None:
        """Why a recall is refused at once: NOOR (no such settled transfer into an
        account here, or more than it), ARDT (returned already); None: a case to answer."""
        if not is_case_id(recall.case_id) or recall.reason not in RECALL_REASONS:
            return "NOOR"
        with self._database.engine.connect() as conn:
            original = conn.execute(
                select(bank_clearing_in.c.state, bank_transfers.c.amount,
                       bank_transfers.c.currency)
                .join(bank_transfers, bank_transfers.c.id == bank_clearing_in.c.movement_id)
                .where(bank_clearing_in.c.uetr == recall.original_uetr,
                       bank_clearing_in.c.original_uetr.is_(None))).mappings().first()
            returned = conn.execute(select(bank_clearing_out.c.uetr).where(
                bank_clearing_out.c.original_uetr == recall.original_uetr,
                bank_clearing_out.c.state != OUT_REJECTED)).first()
        if original is None or original["state"] != IN_SETTLED \
                or recall.amount.currency != original["currency"] \
                or not 0 < recall.amount.amount_minor <= original["amount"]:
            return "NOOR"
        return "ARDT" if returned is not None else None

    def _audit(self, action: str, actor: str) -> Any:
        def record(conn: Connection, case: Case) -> None:
            audit.record(conn, at_ns=self._clock.now_ns(), actor=actor, action=action,
                         object_id=case.case_id,
                         detail={"uetr": case.original_uetr, "amount": case.amount.amount_minor,
                                 "currency": case.amount.currency, "reason": case.reason,
                                 "answer": case.answer_reason})
        return record

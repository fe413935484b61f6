"""Cheques between banks of the clearing network: presented, honoured, collected
(decision 0064).

A cheque is its drawer's signed order to the drawer's bank. The payee's bank delivers
it there as a **presentment**: a pain.001 of one payment, from the drawer's account to
the payee's, carrying the cheque as the payee holds it (``SplmtryData``), sent to its
hub and relayed hop by hop (services/clearing/hub_cheques.py) to the debtor agent.

- :class:`ChequeCollector`, the payee's bank: :meth:`present_cheque` sends the
  presentment and reads the answer: ACCP, the drawer's bank pays (the money comes as a
  pacs.008 whose end-to-end id is the presentment's, and the cheque turns paid when it
  settles here, :data:`collected`); RJCT, a bounce with the drawer's bank's reason; no
  answer, or AB08 from a hub, ``cheque_bank_unreachable``, nothing recorded.
- :class:`ChequeDesk`, the drawer's bank: takes a presentment from its hub only and
  answers with a pacs.002 from ``Collections.honour``.

The presentment's end-to-end id is the same for the same cheque (``chqc:`` and 30
characters of a digest of its drawer's IBAN and serial): asked again, the drawer's bank
answers as it did, and pays once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, update

from ....adapters.clock import Clock
from ....adapters.rail import ChequeItem, RailAnswer
from ....adapters.store.schema import cheques
from ....domain.banking.cheques import BounceReason, ChequeState
from ....domain.clearing.messages import (
    CreditTransfer,
    Header,
    Message,
    MessageType,
    Pacs002,
    Pain001,
    Party,
    Reason,
    Status,
    TxStatus,
)
from ....domain.errors import DomainError
from ....domain.money import Money
from ...banking.cheque_collection import PREFIX, Collections, Presentment
from ...crashpoints import CrashPoints
from ..bank_ports import HubLink, HubUnreachable
from ..transport import new_msg_id
from .directory import Directory

NS = 1_000_000_000
PRESENTMENT_DEADLINE_S = 60  # ReqdExctnDt: the drawer's bank pays at once or not at once
DRAWER = "Drawer of the cheque"  # pain.001 requires a debtor name; the cheque has none
CODES: dict[BounceReason, Reason] = {
    BounceReason.INSUFFICIENT_FUNDS: Reason.AM04, BounceReason.STOPPED: Reason.CUST,
    BounceReason.DUPLICATE: Reason.DUPL, BounceReason.STALE: Reason.DT01,
    BounceReason.EXPIRED: Reason.DT01}
_BY_CODE = {Reason.AM04: BounceReason.INSUFFICIENT_FUNDS, Reason.CUST: BounceReason.STOPPED,
            Reason.DUPL: BounceReason.DUPLICATE, Reason.DT01: BounceReason.STALE}
_NOT_YET = frozenset({Reason.AB08, Reason.AB05})  # the drawer's bank was not reached

# The payee's credit settled: a cheque collected through it is paid (one statement, run
# in the settlement's own transaction for an end-to-end id of a presentment; every value
# a parameter, as the write path batches these statements).
_collected = update(cheques).where(
    cheques.c.id == bindparam("cheque_id"), cheques.c.state == bindparam("was"),
    cheques.c.transfer_id == bindparam("e2e"),
).values(state=bindparam("now_state"), updated_at=bindparam("updated_at"))


def collected(end_to_end_id: str, now_ns: int) -> tuple[Any, dict[str, Any]]:
    """The statement, and its values, that mark paid the cheque a presentment collects."""
    return _collected, {"cheque_id": cheque_row_id(end_to_end_id), "e2e": end_to_end_id,
                        "was": str(ChequeState.ISSUED), "now_state": str(ChequeState.PAID),
                        "updated_at": now_ns}


def presentment_id(item: ChequeItem) -> str:
    """The presentment's end-to-end id (cheque_collection.presentment_id: ``item.id`` is
    the cheque's collection key)."""
    return PREFIX + item.id[:30]


def cheque_row_id(end_to_end_id: str) -> str:
    """The payee's bank's row of the cheque a presentment collects (cheques.py names a
    cheque of another bank ``chq_`` and 24 characters of the same digest)."""
    return "chq_" + end_to_end_id[len(PREFIX):len(PREFIX) + 24]


class ChequeCollector:
    def __init__(self, hub: HubLink, *, clock: Clock, bic: str, hub_bic: str,
                 directory: Directory) -> None:
        self._hub = hub
        self._clock = clock
        self._bic = bic
        self._hub_bic = hub_bic
        self._directory = directory

    def present_cheque(self, item: ChequeItem) -> RailAnswer:
        drawer_bic = self._directory.bic_for(item.drawer_iban)
        if drawer_bic is None:  # no bank of the network: its signature cannot be asked
            return RailAnswer(False, str(BounceReason.ALTERED))
        e2e = presentment_id(item)
        now = self._clock.now_ns()
        drawer = Party(DRAWER, item.drawer_iban, drawer_bic)
        payment = CreditTransfer(
            uetr=str(uuid.uuid4()), end_to_end_id=e2e, tx_id="",
            amount=Money(item.amount_minor, item.currency), debtor=drawer,
            creditor=Party(item.payee_name or item.payee_iban, item.payee_iban, self._bic),
            deadline_ns=now + PRESENTMENT_DEADLINE_S * NS, remittance=f"cheque {item.serial}")
        message = Pain001(new_msg_id(), now, item.payee_name or item.payee_iban, drawer,
                          (payment,), sender=self._bic, receiver=self._hub_bic,
                          cheque=item.text)
        try:
            answer = self._hub.send(message)
        except HubUnreachable:
            answer = None
        status = _status_of(answer, e2e)
        if status is None or (status.status is Status.RJCT and status.reason in _NOT_YET):
            raise DomainError("cheque_bank_unreachable", "the drawer's bank cannot be "
                              "reached now; nothing was paid: present the cheque again later")
        if status.status is Status.RJCT:
            return RailAnswer(False, str(_bounce_reason(status)))
        return RailAnswer(True, collecting=e2e)


class ChequeDesk:
    def __init__(self, collections: Collections, *, clock: Clock, bic: str,
                 hub_bic: str, crash_at: str | None = None) -> None:
        self._collections = collections
        self._clock = clock
        self._bic = bic
        self._hub_bic = hub_bic
        self._crash = CrashPoints(crash_at, prefix="clearing.cheque.")

    def on_pain001(self, message: Message, sender: str) -> Pacs002:
        if not isinstance(message, Pain001) or not message.cheque:
            raise DomainError("message_type_unexpected", "this handler takes presentments")
        if sender != self._hub_bic:
            raise DomainError("message_sender_not_hub", "a bank takes presentments from its "
                              "own hub only")
        tx = message.payments[0]
        if tx.debtor.agent != self._bic:
            raise DomainError("message_misaddressed", "the cheque is drawn on another bank")
        done = self._collections.honour(Presentment(
            tx.end_to_end_id, message.cheque, tx.creditor.iban, tx.creditor.name, tx.amount,
            presenter=tx.creditor.agent))
        self._crash.reached("clearing.cheque.honoured")  # paid (or bounced), not answered
        status = TxStatus(tx.uetr, tx.end_to_end_id, tx.tx_id, Status.ACCP) if done.paid \
            else TxStatus(tx.uetr, tx.end_to_end_id, tx.tx_id, Status.RJCT,
                          CODES.get(done.reason, Reason.NARR),  # type: ignore[arg-type]
                          str(done.reason))
        return Pacs002(Header(new_msg_id(), self._clock.now_ns(), self._bic, sender),
                       message.msg_id, MessageType.PAIN_001, (status,))


def _status_of(answer: Message | None, e2e: str) -> TxStatus | None:
    if not isinstance(answer, Pacs002):
        return None
    return next((s for s in answer.statuses if s.end_to_end_id == e2e), None)


def _bounce_reason(status: TxStatus) -> BounceReason:
    """The drawer's bank's reason: its stable name when it gave one, else by ISO code."""
    if status.detail in set(BounceReason):
        return BounceReason(status.detail)
    if status.reason is not None and status.reason in _BY_CODE:
        return _BY_CODE[status.reason]
    return BounceReason.ALTERED

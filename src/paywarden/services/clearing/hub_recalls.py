"""A recall (camt.056) at a hub: passed on along the recalled transfer's own path, and its
answer (camt.029) passed back (decision 0061).

A hub relays a recall only:

- from the party the transfer came from (its payer bank, or the peer hub of its
  region), for a transfer this hub **settled** (not a return), in its currency, for at
  most its amount;
- to the party the hub paid it to (the payee bank, or the peer hub it forwarded to).

Anything else is answered at once with a camt.029 refusing it, NOOR (no such original
transaction): no bank can ask another for money it was never paid by the asker. The
case's answer comes back from the party it was passed to, and only from it
(recall_cases.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import hub_transfers
from ...domain.clearing.messages import (
    RECALL_REASONS,
    Camt029,
    Camt056,
    Header,
    Message,
    MessageType,
    Recall,
    RecallAnswer,
    is_case_id,
)
from ...domain.errors import DomainError
from .hub_units import SETTLED
from .peers import Peers, PeerState
from .recall_cases import ACCEPTED, REFUSED, RELAYED, Cases
from .transport import Transport, new_msg_id


class HubRecalls:
    def __init__(self, database: Database, *, clock: Clock, peers: Peers,
                 cases: Cases) -> None:
        self._database = database
        self._clock = clock
        self._peers = peers
        self._cases = cases
        self.bic = cases.bic

    def install(self, transport: Transport) -> None:
        transport.register(MessageType.CAMT_056, self.on_camt056)
        transport.register(MessageType.CAMT_029, self.on_camt029)

    def on_camt056(self, message: Message, sender: str) -> Camt029 | None:
        """Each recall relayed (answered later) or refused now; the refusals, and the
        answers of cases decided already, are the answer to this message."""
        if not isinstance(message, Camt056):
            raise DomainError("message_type_unsupported", "a Camt056 was expected")
        answers: list[RecallAnswer] = []
        for recall in message.recalls:
            known = self._cases.known(recall, sender)
            if isinstance(known, RecallAnswer):
                answers.append(known)
                continue
            if known:
                continue  # open: what it owes was sent again
            to_bic = self._relay_to(recall, sender)
            if to_bic is None:
                answers.append(RecallAnswer(recall.case_id, recall.original_uetr, False,
                                            "NOOR"))
                continue
            case = self._cases.open(recall, role=RELAYED, from_bic=sender, to_bic=to_bic,
                                    actor=f"clearing:{sender}")
            if case is not None and case.state in (ACCEPTED, REFUSED):
                answers.append(case.answer())  # the next hop refused at once
        if not answers:
            return None
        return Camt029(Header(new_msg_id(), self._clock.now_ns(), self.bic, sender),
                       tuple(answers))

    def on_camt029(self, message: Message, sender: str) -> None:
        self._cases.on_camt029(message, sender)

    def _relay_to(self, recall: Recall, sender: str) -> str | None:
        """The party the recalled transfer was paid to, or None: not this sender's to
        recall (see the module's docstring)."""
        if not is_case_id(recall.case_id) or recall.reason not in RECALL_REASONS:
            return None
        with self._database.engine.connect() as conn:
            original: Any = conn.execute(select(hub_transfers).where(
                hub_transfers.c.uetr == recall.original_uetr)).mappings().first()
        if original is None or original["state"] != SETTLED \
                or original["original_uetr"] is not None or original["payer"] != sender \
                or original["payee"] is None:
            return None
        if recall.amount.currency != original["currency"] \
                or not 0 < recall.amount.amount_minor <= original["amount"]:
            return None
        payee = self._peers.get(original["payee"])
        if payee is None or payee.state is PeerState.REVOKED:
            return None
        return str(payee.bic)


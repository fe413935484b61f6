"""The bank side as one part: the outgoing link and the inbound handlers the transport
dispatches to (decision 0056)."""

from __future__ import annotations

from dataclasses import dataclass

from ....domain.clearing.messages import MessageType
from ...banking.cheque_collection import Following
from ..bank_ports import Handler
from .cheques import ChequeDesk
from .incoming import Incoming
from .outgoing import ClearingLink
from .recalls import Recalls
from .returns import Returns


@dataclass(frozen=True)
class ClearingBank:
    link: ClearingLink  # transfers out: the maintenance chore runs ``link.run_due``
    incoming: Incoming
    returns: Returns  # sending back what other banks paid our customers (pacs.004)
    recalls: Recalls  # asking for ours back, answering others' asks (camt.056 / camt.029)
    desk: ChequeDesk | None = None  # our cheques other banks present (pain.001)
    following: Following | None = None  # others' cheques we collect, asked about again

    def handlers(self) -> dict[MessageType, Handler]:
        """What the transport dispatches, by type, to a participant bank."""
        return {MessageType.PACS_008: self.incoming.on_pacs008,
                MessageType.PACS_004: self.incoming.on_pacs004,
                MessageType.PACS_002: self.incoming.on_pacs002,
                MessageType.CAMT_056: self.recalls.on_camt056,
                MessageType.CAMT_029: self.recalls.on_camt029,
                **({MessageType.PAIN_001: self.desk.on_pain001} if self.desk else {})}

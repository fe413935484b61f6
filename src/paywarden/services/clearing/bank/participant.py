"""The bank side as one part: the outgoing link and the inbound handlers the transport
dispatches to (decision 0056)."""

from __future__ import annotations

from dataclasses import dataclass

from ....domain.clearing.messages import MessageType
from ..bank_ports import Handler
from .incoming import Incoming
from .outgoing import ClearingLink


@dataclass(frozen=True)
class ClearingBank:
    link: ClearingLink  # transfers out: the maintenance chore runs ``link.run_due``
    incoming: Incoming

    def handlers(self) -> dict[MessageType, Handler]:
        """What the transport dispatches, by type, to a participant bank."""
        return {MessageType.PACS_008: self.incoming.on_pacs008,
                MessageType.PACS_002: self.incoming.on_pacs002}

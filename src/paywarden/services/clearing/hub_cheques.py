"""A cheque's presentment (a pain.001 carrying the cheque, decision 0064) at a hub:
relayed to the drawer's bank, and its answer relayed back, within the one request.

The hub keeps no state for it: the drawer's bank answers the same presentment (its
end-to-end id) the same way every time, so the payee's bank may simply ask again after
a crash or a lost answer. The hub relays only from an active participant of its own
(or a peer hub) to the debtor agent: a participant of this region, or the hub of the
drawer's bank's region. Its answer is a pacs.002 from this hub to the sender with the
next hop's statuses; when the next hop cannot be reached, RJCT AB08 (nothing happened:
ask again later); for a debtor agent the network does not know, RJCT RC01.
"""

from __future__ import annotations

from dataclasses import replace

from ...adapters.clock import Clock
from ...domain.clearing.messages import (
    Header,
    Message,
    MessageType,
    Pacs002,
    Pain001,
    Reason,
    Status,
    TxStatus,
)
from ...domain.errors import DomainError
from .peers import Peers, Role
from .transport import PeerRefused, PeerUnavailable, Transport, new_msg_id


class HubCheques:
    def __init__(self, *, clock: Clock, peers: Peers, transport: Transport) -> None:
        self._clock = clock
        self._peers = peers
        self._transport = transport
        self.bic = transport.bic

    def install(self) -> None:
        self._transport.register(MessageType.PAIN_001, self.on_pain001)

    def on_pain001(self, message: Message, sender: str) -> Pacs002:
        if not isinstance(message, Pain001) or not message.cheque:
            raise DomainError("message_type_unsupported", "a hub relays presentments only")
        peer = self._peers.get(sender)
        if peer is None or not peer.active:
            raise DomainError("message_sender_unknown", "the sender is not an active peer")
        tx = message.payments[0]
        if peer.role is Role.PARTICIPANT and tx.creditor.agent != sender:
            return self._answer(message, sender, Reason.RC01,
                                "a bank presents only its own customers' cheques")
        hop = self._next_hop(tx.debtor.agent, sender)
        if hop is None:
            return self._answer(message, sender, Reason.RC01,
                                "the drawer's bank is not in the network")
        relayed = replace(message, msg_id=new_msg_id(), created_ns=self._clock.now_ns(),
                          sender=self.bic, receiver=hop)
        try:
            answer = self._transport.send(hop, relayed)
        except (PeerUnavailable, PeerRefused):
            return self._answer(message, sender, Reason.AB08, f"{hop} is not answering")
        statuses = answer.statuses if isinstance(answer, Pacs002) else ()
        if not statuses:
            return self._answer(message, sender, Reason.AB08, f"{hop} did not answer")
        return Pacs002(Header(new_msg_id(), self._clock.now_ns(), self.bic, sender),
                       message.msg_id, MessageType.PAIN_001, statuses)

    def _next_hop(self, bic: str, sender: str) -> str | None:
        drawer_bank = self._peers.get(bic)
        if drawer_bank is None or not drawer_bank.active or bic == sender:
            return None
        if drawer_bank.role is Role.PARTICIPANT:
            return bic
        if drawer_bank.role is Role.CORRESPONDENT and drawer_bank.via:
            via = self._peers.get(drawer_bank.via)
            if via is not None and via.role is Role.HUB and via.active and via.bic != sender:
                return via.bic
        return None

    def _answer(self, message: Pain001, sender: str, reason: Reason, detail: str) -> Pacs002:
        tx = message.payments[0]
        return Pacs002(Header(new_msg_id(), self._clock.now_ns(), self.bic, sender),
                       message.msg_id, MessageType.PAIN_001,
                       (TxStatus(tx.uetr, tx.end_to_end_id, tx.tx_id, Status.RJCT, reason,
                                 detail),))

"""A hub relays a cheque's presentment (services/clearing/hub_cheques.py, decision 0064):
to the drawer's bank in its region or to the hub of the drawer's bank's region, one hop
at a time with its own header, and passes the answer back; it refuses what no bank may
ask, and answers AB08 when the next hop is down (nothing happened: ask again)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.domain.clearing.messages import (
    Channel,
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
from paywarden.domain.errors import DomainError
from paywarden.domain.money import Money
from paywarden.services.clearing.hub_cheques import HubCheques
from paywarden.services.clearing.peers import Peer, PeerState, Role
from paywarden.services.clearing.transport import PeerUnavailable

HUB, PEER_HUB = "PAYHNL2A", "PAYHDEFF"
PAYEE_BANK, DRAWER_BANK, FAR_BANK = "PAYBNL2A", "PAYANL2A", "PAYCDEFF"


def peer(bic: str, role: Role, *, via: str | None = None,
         state: PeerState = PeerState.ACTIVE) -> Peer:
    return Peer(bic, bic, role, "http://x.test", "", state, "eu", Channel.RTGS, 0, "EUR", via)


@dataclass
class Wire:
    bic: str = HUB
    down: set[str] = field(default_factory=set)
    sent: list[tuple[str, Pain001]] = field(default_factory=list)

    def register(self, *_: Any) -> None: ...

    def send(self, receiver: str, message: Message) -> Message | None:
        if receiver in self.down:
            raise PeerUnavailable(receiver, "connection refused")
        assert isinstance(message, Pain001)
        self.sent.append((receiver, message))
        tx = message.payments[0]
        return Pacs002(Header("ans" + uuid.uuid4().hex[:8], message.created_ns, receiver, HUB),
                       message.msg_id, MessageType.PAIN_001,
                       (TxStatus(tx.uetr, tx.end_to_end_id, "", Status.ACCP),))


class Directory:
    def __init__(self, *peers: Peer) -> None:
        self._peers = {p.bic: p for p in peers}

    def get(self, bic: str) -> Peer | None:
        return self._peers.get(bic)


@pytest.fixture
def wire() -> Wire:
    return Wire()


def relay(wire: Wire, *extra: Peer) -> HubCheques:
    peers = Directory(peer(PAYEE_BANK, Role.PARTICIPANT), peer(DRAWER_BANK, Role.PARTICIPANT),
                      peer(PEER_HUB, Role.HUB), peer(FAR_BANK, Role.CORRESPONDENT, via=PEER_HUB),
                      *extra)
    return HubCheques(clock=FakeClock(), peers=peers, transport=wire)  # type: ignore[arg-type]


def presentment(drawer_bank: str = DRAWER_BANK, payee_bank: str = PAYEE_BANK,
                sender: str = PAYEE_BANK) -> Pain001:
    now = FakeClock().now_ns()
    drawer = Party("Drawer", "NL91ABNA0417164300", drawer_bank)
    tx = CreditTransfer(str(uuid.uuid4()), "chqc:" + "a" * 30, "", Money(70_00, "EUR"), drawer,
                        Party("Payee", "NL02ABNA0123456789", payee_bank), now + 60 * 10**9)
    return Pain001("pre" + uuid.uuid4().hex[:8], now, "Payee", drawer, (tx,), sender=sender,
                   receiver=HUB, cheque="a.b.c")


@pytest.mark.parametrize(("drawer_bank", "hop"), [(DRAWER_BANK, DRAWER_BANK),
                                                  (FAR_BANK, PEER_HUB)])
def test_a_presentment_goes_to_the_drawers_bank_or_its_regions_hub_and_back(
        wire: Wire, drawer_bank: str, hop: str) -> None:
    asked = presentment(drawer_bank)
    answer = relay(wire).on_pain001(asked, PAYEE_BANK)
    ((receiver, relayed),) = wire.sent
    assert receiver == hop and (relayed.sender, relayed.receiver) == (HUB, hop)
    assert relayed.msg_id != asked.msg_id and relayed.cheque == asked.cheque
    assert relayed.payments == asked.payments
    assert (answer.header.sender, answer.header.receiver) == (HUB, PAYEE_BANK)
    assert answer.original_msg_id == asked.msg_id
    assert [s.status for s in answer.statuses] == [Status.ACCP]


@pytest.mark.parametrize(("asked", "sender", "reason"), [
    (presentment("UNKNDEFF"), PAYEE_BANK, Reason.RC01),  # no such bank
    (presentment(payee_bank=FAR_BANK), PAYEE_BANK, Reason.RC01),  # for another bank's payee
    (presentment(PAYEE_BANK), PAYEE_BANK, Reason.RC01),  # a bank presenting to itself
])
def test_what_no_bank_may_ask_is_refused_rc01_and_goes_nowhere(
        wire: Wire, asked: Pain001, sender: str, reason: Reason) -> None:
    answer = relay(wire).on_pain001(asked, sender)
    assert [(s.status, s.reason) for s in answer.statuses] == [(Status.RJCT, reason)]
    assert wire.sent == []


def test_a_drawers_bank_that_is_down_is_answered_ab08_to_ask_again(wire: Wire) -> None:
    wire.down.add(DRAWER_BANK)
    answer = relay(wire).on_pain001(presentment(), PAYEE_BANK)
    assert [(s.status, s.reason) for s in answer.statuses] == [(Status.RJCT, Reason.AB08)]


def test_an_unknown_or_suspended_sender_and_a_plain_payment_order_are_refused(
        wire: Wire) -> None:
    hub = relay(wire, peer("SUSPNL2A", Role.PARTICIPANT, state=PeerState.SUSPENDED))
    for sender in ("STRANL2A", "SUSPNL2A"):
        with pytest.raises(DomainError) as refused:
            hub.on_pain001(presentment(sender=sender), sender)
        assert refused.value.code == "message_sender_unknown"
    plain = Pain001("ord1", 1, "Payee", presentment().debtor, presentment().payments)
    with pytest.raises(DomainError) as refused:
        hub.on_pain001(plain, PAYEE_BANK)
    assert refused.value.code == "message_type_unsupported"
    assert wire.sent == []
